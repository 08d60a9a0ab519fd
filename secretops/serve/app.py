"""The `secretops serve` ASGI app (Starlette) and the `Service` behind it.

Routes:

- `GET /healthz`: 200 when the scheduler's loop beats and the state backend answers, else 503
  with the reason (and 503 while shutting down, so a load balancer drains this replica).
- `GET /metrics`: Prometheus text (`secretops.serve.metrics`).
- `POST /hooks/github-secret-scanning`: GitHub `secret_scanning_alert` deliveries.
- `POST /hooks/findings`: a `secretops scan --format json` report, with `Authorization: Bearer`.

Every hook reads at most `max_body_bytes` (413 past it), checks the signature or token before
parsing anything (401), then parses (400); none of these, nor an ignored event (202), changes
anything (an ignored delivery's id is not even remembered). An accepted delivery is answered
202 with what matched (secret names and fingerprints); the on-compromise flow then runs in the
service's incident worker, one incident at a time.

`Service.shutdown` (the app's lifespan end, or the CLI after a signal) stops scheduling, stops
accepting hooks, and waits for the run in progress and the incident in progress to finish; on
timeout or `abandon()` it logs what is left (runs stay resumable: `secretops resume`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from secretops.errors import SecretOpsError
from secretops.serve.config import ServeConfig
from secretops.serve.interface import DueReport, Match, Operations
from secretops.serve.metrics import CONTENT_TYPE, ServiceMetrics
from secretops.serve.scheduler import Scheduler, TickInfo
from secretops.serve.webhooks import (
    BadPayload,
    DeliveryLog,
    bearer_ok,
    parse_findings_report,
    parse_github_alert,
    verify_github_signature,
)

__all__ = ["Service", "build_app"]

log = logging.getLogger(__name__)

GITHUB_HOOK = "/hooks/github-secret-scanning"
FINDINGS_HOOK = "/hooks/findings"


class _TooLarge(Exception):
    pass


class Service:
    """The scheduler, the metrics, the delivery log and the incident worker of one `serve` process.

    `scheduler_options` go to `Scheduler` (tests pass `first_delay`, `monotonic`, `wait`);
    `start_scheduler=False` leaves ticking to the caller (`scheduler.run_now()`).
    """

    def __init__(
        self,
        config: ServeConfig,
        ops: Operations,
        *,
        state_dir: Path | None = None,
        scheduler_options: dict[str, Any] | None = None,
        start_scheduler: bool = True,
        incident_retry_delay: float = 30.0,
        incident_retries: int = 20,
    ) -> None:
        self.config = config
        self.ops = ops
        self.metrics = ServiceMetrics(ops.schedule, backend=ops.state_backend)
        replay_file = Path(state_dir) / "serve" / "github-deliveries" if state_dir is not None else None
        self.deliveries = DeliveryLog(replay_file, config.replay_cache_size)
        self.scheduler = Scheduler(
            self._due_job,
            interval=config.interval_minutes * 60,
            jitter=config.jitter_minutes * 60,
            on_tick=self._ticked,
            on_done=self._run_done,
            **(scheduler_options or {}),
        )
        self.start_scheduler = start_scheduler
        self.accepting = True
        self.abandoned = threading.Event()
        self.incident_retry_delay = incident_retry_delay
        self.incident_retries = incident_retries
        self._incidents: queue.Queue[tuple[Match, int] | None] = queue.Queue()
        self._incident_worker: threading.Thread | None = None
        self.incident_in_progress: str | None = None
        self.incidents_done = 0
        self._shutdown_lock = threading.Lock()
        self._shutdown_result: bool | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the incident worker and (unless told not to) the scheduler."""
        if self._incident_worker is None:
            self._incident_worker = threading.Thread(
                target=self._incident_loop, name="secretops-incidents", daemon=True
            )
            self._incident_worker.start()
        if self.start_scheduler:
            self.scheduler.start()
        log.info("serve: %s", self.config.describe())

    def begin_shutdown(self) -> None:
        """Stop scheduling and stop accepting hooks (what is running goes on)."""
        if self.accepting:
            log.info("serve: shutting down: no new rotation or incident starts")
        self.accepting = False
        self.scheduler.stop()

    def abandon(self) -> None:
        """Stop waiting for what is in progress (a second signal): `shutdown` logs what is left."""
        if not self.abandoned.is_set():
            log.warning("serve: second signal: not waiting for runs in progress")
        self.abandoned.set()

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop, wait up to `timeout` for the run and the incident in progress; True when nothing was left."""
        with self._shutdown_lock:
            if self._shutdown_result is not None:
                return self._shutdown_result
            self.begin_shutdown()
            timeout = self.config.shutdown_timeout_seconds if timeout is None else timeout
            started = time.monotonic()
            if self.scheduler.running:
                log.info("serve: waiting up to %.0fs for the due run in progress to finish", timeout)
            clean = self.scheduler.drain(timeout, abandon=self.abandoned)
            self._incidents.put(None)
            worker = self._incident_worker
            while clean and worker is not None and worker.is_alive():
                left = timeout - (time.monotonic() - started)
                if left <= 0 or self.abandoned.is_set():
                    clean = False
                    break
                worker.join(min(0.5, left))
            if clean:
                log.info("serve: stopped cleanly")
            else:
                self._log_left()
            self._shutdown_result = clean
            return clean

    def _log_left(self) -> None:
        if self.scheduler.running:
            log.warning("serve: left running: the due run (its runs are journaled step by step)")
        if self.incident_in_progress:
            log.warning("serve: left running: the on-compromise flow for %s", self.incident_in_progress)
        queued = []
        while True:
            try:
                item = self._incidents.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                queued.append(item[0].source)
        for source in queued:
            log.warning("serve: not started: the on-compromise flow for %s (run secretops compromised)", source)
        try:
            left = self.ops.unfinished_runs()
        except Exception:  # the log above still stands
            left = []
        for run in left:
            log.warning("serve: unfinished run %s: resumable with `secretops resume`", run)
        log.warning("serve: exiting with work in progress: `secretops resume` (or the next tick) finishes it")

    # ------------------------------------------------------------ work

    def _due_job(self, should_stop: Callable[[], bool]) -> DueReport:
        self.metrics.in_progress.set(1)
        try:
            return self.ops.run_due(should_stop)
        finally:
            self.metrics.in_progress.set(0)

    def _ticked(self, info: TickInfo) -> None:
        self.metrics.last_tick.set(info.at)

    def _run_done(self, result: object, seconds: float) -> None:
        if isinstance(result, DueReport):
            self.metrics.observe_run(result.results, seconds)

    def submit(self, match: Match, attempt: int = 0) -> None:
        """Queue the on-compromise flow for `match` (the incident worker runs one at a time)."""
        self._incidents.put((match, attempt))

    def _retry_later(self, match: Match, attempt: int) -> None:
        if attempt >= self.incident_retries:
            log.error(
                "%s: matched secrets stayed held by other runs; run `secretops compromised` by hand", match.source
            )
            return
        timer = threading.Timer(self.incident_retry_delay, self._requeue, args=(match, attempt + 1))
        timer.daemon = True
        timer.start()

    def _requeue(self, match: Match, attempt: int) -> None:
        if self.accepting:
            self.submit(match, attempt)
        else:
            log.warning("%s: not retried (shutting down): run `secretops compromised` by hand", match.source)

    def _incident_loop(self) -> None:
        while True:
            item = self._incidents.get()
            if item is None:
                return
            match, attempt = item
            self.incident_in_progress = match.source
            try:
                report = self.ops.respond(match)
                if report.retry:
                    self._retry_later(match, attempt)
            except SecretOpsError as exc:
                log.error("%s: the on-compromise flow failed: %s", match.source, exc.message)
            except Exception as exc:  # a bug: the next incident must still run
                log.error("%s: the on-compromise flow failed (unexpected %s)", match.source, type(exc).__name__)
            finally:
                self.incident_in_progress = None
                self.incidents_done += 1
                self._incidents.task_done()

    def wait_incidents(self) -> None:
        """Block until every queued incident has run (tests)."""
        self._incidents.join()


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _TooLarge
        except ValueError:
            raise BadPayload("bad Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def build_app(service: Service) -> Starlette:
    """The Starlette app for `service` (its lifespan starts the service and shuts it down)."""
    config = service.config
    metrics = service.metrics

    async def healthz(request: Request) -> Response:
        alive, why = service.scheduler.alive()
        if not service.start_scheduler and service.accepting:
            alive, why = True, "scheduler not started (manual ticks)"
        problem = await run_in_threadpool(service.ops.check_state)
        metrics.state_up.labels(backend=service.ops.state_backend).set(0 if problem else 1)
        ok = alive and problem is None and service.accepting
        body = {
            "status": "ok" if ok else "unavailable",
            "scheduler": why if service.accepting else "shutting down",
            "state": problem or "ok",
            "state_backend": service.ops.state_backend,
            "run_in_progress": service.scheduler.running,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        await run_in_threadpool(metrics.refresh)
        return Response(metrics.render(), headers={"content-type": CONTENT_TYPE})

    def count(hook: str, result: str) -> None:
        metrics.deliveries.labels(hook=hook, result=result).inc()

    async def read_body(request: Request, hook: str) -> bytes | Response:
        """The request's body, or the 413/400 answer (counted) when it is too large or unreadable."""
        try:
            return await _read_body(request, config.max_body_bytes)
        except _TooLarge:
            count(hook, "too-large")
            return _error(413, f"body over {config.max_body_bytes} bytes")
        except BadPayload as exc:
            count(hook, "malformed")
            return _error(400, str(exc))

    async def github_hook(request: Request) -> Response:
        hook = "github"
        secret = config.github_webhook_secret
        if secret is None:
            return _error(404, "this hook is off: set SECRETOPS_GITHUB_WEBHOOK_SECRET(_FILE)")
        body = await read_body(request, hook)
        if isinstance(body, Response):
            return body
        if not verify_github_signature(secret, body, request.headers.get("x-hub-signature-256")):
            count(hook, "unauthorized")
            log.warning("github hook: refused a delivery with a missing or wrong signature")
            return _error(401, "missing or wrong X-Hub-Signature-256")
        delivery = request.headers.get("x-github-delivery", "")
        event = request.headers.get("x-github-event", "")
        if not DeliveryLog.valid(delivery):
            count(hook, "malformed")
            return _error(400, "missing or malformed X-GitHub-Delivery")
        if not service.accepting:
            return _error(503, "shutting down; deliver again later")
        if service.deliveries.seen(delivery):
            count(hook, "replayed")
            log.info("github hook: delivery %s already handled: ignored", delivery)
            return JSONResponse({"ignored": "replayed delivery", "delivery": delivery}, status_code=202)
        if event == "ping":
            count(hook, "ignored")
            return JSONResponse({"pong": True, "delivery": delivery}, status_code=200)
        if event != "secret_scanning_alert":
            count(hook, "ignored")
            return JSONResponse({"ignored": f"event {event or '(none)'}", "delivery": delivery}, status_code=202)
        try:
            action, alert = parse_github_alert(body, delivery)
        except BadPayload as exc:
            count(hook, "malformed")
            return _error(400, str(exc))
        if alert is None:
            count(hook, "ignored")
            return JSONResponse({"ignored": f"action {action}", "delivery": delivery}, status_code=202)
        try:
            match = await run_in_threadpool(service.ops.match_alert, alert)
        except SecretOpsError as exc:
            log.error("github hook: delivery %s not matched: %s", delivery, exc.message)
            return _error(503, f"cannot match the alert now: {exc.message}")
        try:  # with PostgreSQL state, every replica's record: a redelivery to another one is a replay too
            claimed = await run_in_threadpool(service.ops.claim_delivery, delivery)
        except SecretOpsError as exc:  # nothing recorded: GitHub's redelivery will be handled
            log.error("github hook: delivery %s: cannot claim it in the state: %s", delivery, exc.message)
            return _error(503, f"cannot record the delivery now: {exc.message}")
        if claimed is False:
            service.deliveries.remember(delivery)
            count(hook, "replayed")
            log.info("github hook: delivery %s already handled by another replica: ignored", delivery)
            return JSONResponse({"ignored": "replayed delivery", "delivery": delivery}, status_code=202)
        if not service.deliveries.remember(delivery):
            count(hook, "replayed")
            return JSONResponse({"ignored": "replayed delivery", "delivery": delivery}, status_code=202)
        if not match.empty:
            service.submit(match)
        count(hook, "accepted")
        log.info(
            "github hook: delivery %s: %s matched %s by %s",
            delivery,
            match.source,
            ", ".join(match.secrets) or "nothing",
            match.matched_by,
        )
        return JSONResponse({"accepted": not match.empty, "delivery": delivery, **match.to_json()}, status_code=202)

    async def findings_hook(request: Request) -> Response:
        hook = "findings"
        token = config.findings_token
        if token is None:
            return _error(404, "this hook is off: set SECRETOPS_FINDINGS_TOKEN(_FILE)")
        body = await read_body(request, hook)
        if isinstance(body, Response):
            return body
        if not bearer_ok(token, request.headers.get("authorization")):
            count(hook, "unauthorized")
            log.warning("findings hook: refused a request with a missing or wrong bearer token")
            return _error(401, "missing or wrong bearer token")
        if not service.accepting:
            return _error(503, "shutting down; send it again later")
        try:
            findings = await run_in_threadpool(parse_findings_report, body)
        except BadPayload as exc:
            count(hook, "malformed")
            return _error(400, str(exc))
        try:
            match = await run_in_threadpool(
                service.ops.match_findings, findings, f"findings report ({len(findings)} leak finding(s))"
            )
        except SecretOpsError as exc:
            log.error("findings hook: not matched: %s", exc.message)
            return _error(503, f"cannot match the report now: {exc.message}")
        if not match.empty:
            service.submit(match)
        count(hook, "accepted")
        log.info("findings hook: %s matched %s", match.source, ", ".join(match.secrets) or "nothing")
        return JSONResponse({"accepted": not match.empty, **match.to_json()}, status_code=202)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.shutdown)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route(GITHUB_HOOK, github_hook, methods=["POST"]),
        Route(FINDINGS_HOOK, findings_hook, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
