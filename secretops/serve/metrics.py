"""`/metrics`: Prometheus text from `prometheus_client`, in the service's own `CollectorRegistry`.

The registry is per service (never the process-global one), so two apps in one process (tests)
do not collide, and nothing else registered globally leaks into the scrape.

- `secretops_rotations_total{outcome}`: runs by outcome (`secretops.rotate.engine.Outcome`:
  complete, awaiting-revoke, rolled-back, failed, incomplete, skipped, ...);
- `secretops_rotation_last_success_timestamp_seconds{secret}`: when the store's current version
  was made by a rotation;
- `secretops_rotation_next_due_timestamp_seconds{secret}`;
- `secretops_secrets_overdue`: past their period, or never rotated;
- `secretops_due_run_duration_seconds`: histogram of one scheduled run (resumes + due rotations);
- `secretops_scheduler_last_tick_timestamp_seconds`, `secretops_scheduler_run_in_progress`;
- `secretops_webhook_deliveries_total{hook,result}`: accepted, ignored, replayed, unauthorized,
  malformed, too-large;
- `secretops_state_backend_up{backend}`: the last `/healthz` probe.

Schedule gauges (last success, next due, overdue) are refreshed from the store after each due
run and at most every `refresh` seconds on a scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from secretops.errors import SecretOpsError
from secretops.inventory.status import SecretStatus, State
from secretops.rotate.engine import Outcome, RunResult

__all__ = ["CONTENT_TYPE", "ServiceMetrics"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, float("inf"))


class ServiceMetrics:
    """The service's metrics; `schedule()` gives the rows the schedule gauges are set from."""

    def __init__(
        self,
        schedule: Callable[[], Sequence[SecretStatus]],
        *,
        backend: str = "files",
        refresh: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._schedule = schedule
        self._refresh = refresh
        self._monotonic = monotonic
        self._refreshed_at: float | None = None
        self._lock = threading.Lock()
        self.backend = backend
        reg = self.registry
        self.rotations = Counter("secretops_rotations", "Rotation runs by outcome.", ["outcome"], registry=reg)
        self.last_success = Gauge(
            "secretops_rotation_last_success_timestamp_seconds",
            "When each secret's current value was made by a rotation (Unix time).",
            ["secret"],
            registry=reg,
        )
        self.next_due = Gauge(
            "secretops_rotation_next_due_timestamp_seconds",
            "When each secret is due for rotation (Unix time).",
            ["secret"],
            registry=reg,
        )
        self.overdue = Gauge(
            "secretops_secrets_overdue", "Secrets past their rotation period or never rotated.", registry=reg
        )
        self.duration = Histogram(
            "secretops_due_run_duration_seconds",
            "Duration of one scheduled due run (resumes and every due rotation).",
            buckets=_DURATION_BUCKETS,
            registry=reg,
        )
        self.last_tick = Gauge(
            "secretops_scheduler_last_tick_timestamp_seconds",
            "When the scheduler last ticked (Unix time).",
            registry=reg,
        )
        self.in_progress = Gauge(
            "secretops_scheduler_run_in_progress", "1 while a due run is in progress.", registry=reg
        )
        self.deliveries = Counter(
            "secretops_webhook_deliveries", "Webhook requests by hook and result.", ["hook", "result"], registry=reg
        )
        self.state_up = Gauge(
            "secretops_state_backend_up",
            "1 when the state backend answered the last health check.",
            ["backend"],
            registry=reg,
        )
        for outcome in Outcome:
            self.rotations.labels(outcome=outcome.value)

    def observe_run(self, results: Sequence[RunResult], seconds: float) -> None:
        """Count a due run's results and its duration, then refresh the schedule gauges."""
        for result in results:
            self.rotations.labels(outcome=result.outcome.value).inc()
        self.duration.observe(seconds)
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> None:
        """Set the schedule gauges from `schedule()` (unless done within `refresh` seconds)."""
        with self._lock:
            now = self._monotonic()
            if not force and self._refreshed_at is not None and now - self._refreshed_at < self._refresh:
                return
            self._refreshed_at = now
            try:
                rows = list(self._schedule())
            except SecretOpsError as exc:
                log.warning("metrics: schedule not refreshed: %s", exc.message)
                return
            except Exception as exc:  # a store outage must not break the scrape
                log.warning("metrics: schedule not refreshed (%s)", type(exc).__name__)
                return
            self.last_success.clear()
            self.next_due.clear()
            overdue = 0
            for row in rows:
                if row.last_rotated is not None:
                    self.last_success.labels(secret=row.name).set(row.last_rotated.timestamp())
                if row.next_due is not None:
                    self.next_due.labels(secret=row.name).set(row.next_due.timestamp())
                if row.state in (State.OVERDUE, State.NEVER_ROTATED):
                    overdue += 1
            self.overdue.set(overdue)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
