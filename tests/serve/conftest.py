"""Fakes for the service tests: an `Operations` that records every call, and an app around it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from starlette.applications import Starlette

from secretops.incident.findings import LeakedFinding
from secretops.inventory.status import SecretStatus
from secretops.rotate.engine import Outcome, RunResult
from secretops.serve.app import Service, build_app
from secretops.serve.config import ServeConfig
from secretops.serve.interface import DueReport, GitHubAlert, IncidentReport, Match, Operations
from secretops.values import SecretValue

HOOK_SECRET = "whsec-test-0123456789"
FINDINGS_TOKEN = "findings-token-test-0123456789"


class FakeOps(Operations):
    """Records calls; `gate` (when set) holds each rotation mid-run until it is set."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.alerts: list[GitHubAlert] = []
        self.responded: list[Match] = []
        self.due_names: list[str] = ["shop/db"]
        self.state_problem: str | None = None
        self.rows: list[SecretStatus] = []
        self.gate: threading.Event | None = None
        self.mid_run = threading.Event()
        self.finished: list[str] = []
        self.alert_match: Callable[[GitHubAlert], Match] = lambda a: Match(
            f"github alert {a.number}", "provider-and-repository", ("shop/stripe",)
        )

    def run_due(self, should_stop: Callable[[], bool]) -> DueReport:
        self.calls.append("run_due")
        results, left = [], []
        for name in self.due_names:
            if should_stop():
                left.append(name)
                continue
            if self.gate is not None:
                self.mid_run.set()
                assert self.gate.wait(10), "the test never released the rotation"
            self.finished.append(name)
            results.append(RunResult(name, f"r-{len(self.finished)}", Outcome.COMPLETE))
        return DueReport(tuple(results), tuple(left))

    def schedule(self) -> Sequence[SecretStatus]:
        self.calls.append("schedule")
        return self.rows

    def check_state(self) -> str | None:
        return self.state_problem

    def match_alert(self, alert: GitHubAlert) -> Match:
        self.calls.append("match_alert")
        self.alerts.append(alert)
        return self.alert_match(alert)

    def match_findings(self, findings: Sequence[LeakedFinding], source: str) -> Match:
        self.calls.append("match_findings")
        fps = tuple(f.fingerprint for f in findings)
        return Match(source, "fingerprint", ("shop/db",), fps, findings=tuple(findings))

    def respond(self, match: Match) -> IncidentReport:
        self.calls.append("respond")
        self.responded.append(match)
        return IncidentReport(match.source, 0, match.secrets, True)

    def changes(self) -> list[str]:
        """Calls that act on (or look into) the inventory: none may follow a refused request."""
        return [c for c in self.calls if c in ("run_due", "match_alert", "match_findings", "respond")]


def config(**kw: Any) -> ServeConfig:
    base: dict[str, Any] = {
        "github_webhook_secret": SecretValue(HOOK_SECRET),
        "findings_token": SecretValue(FINDINGS_TOKEN),
        "max_body_bytes": 4096,
        "interval_minutes": 1,
        "jitter_minutes": 0,
        "shutdown_timeout_seconds": 5,
    }
    base.update(kw)
    return ServeConfig(**base)


def sign(body: bytes, secret: str = HOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alert_body(action: str = "created", number: int = 7, **alert: Any) -> bytes:
    doc = {
        "action": action,
        "alert": {"number": number, "secret_type": "stripe_api_key", **alert},
        "repository": {"full_name": "acme/shop"},
    }
    return json.dumps(doc).encode()


class Client:
    """A synchronous client over `httpx.ASGITransport`, running the app's lifespan (start, shutdown).

    (starlette's TestClient warns about httpx in starlette 1.x; this is httpx's own ASGI transport.)
    """

    def __init__(self, app: Starlette) -> None:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self._lifespan = self.portal.wrap_async_context_manager(app.router.lifespan_context(app))
        self._lifespan.__enter__()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve.test")

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self.http.get(url, **kw))

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self.http.post(url, **kw))

    def close(self) -> None:
        self.portal.call(self.http.aclose)
        self._lifespan.__exit__(None, None, None)
        self._portal_cm.__exit__(None, None, None)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Harness:
    ops: FakeOps
    service: Service
    client: Client
    tmp: Path
    sent: list[str] = field(default_factory=list)

    def github(
        self, body: bytes, *, event: str = "secret_scanning_alert", delivery: str = "d-1", signature: str | None = ""
    ) -> Any:
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}
        if signature == "":
            signature = sign(body)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.post("/hooks/github-secret-scanning", content=body, headers=headers)

    def findings(self, body: bytes, token: str | None = FINDINGS_TOKEN) -> Any:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post("/hooks/findings", content=body, headers=headers)

    def replay_file(self) -> Path:
        return self.tmp / "state" / "serve" / "github-deliveries"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    ops = FakeOps()
    service = Service(config(), ops, state_dir=tmp_path / "state", start_scheduler=False)
    with Client(build_app(service)) as client:
        yield Harness(ops, service, client, tmp_path)
