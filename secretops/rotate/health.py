"""HTTP health checks run after a change: the consumer must answer with the expected status/body.

A check is retried until its `timeout` runs out (a restarted app takes a moment to come up).
The result is a `HealthResult` whose `detail` names the URL and what was wrong (for a request
that cannot connect: the URL and the connection error, e.g. `ConnectError: [Errno 111]
Connection refused`); response bodies are never echoed (they could hold anything), only whether
the expected text was there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from secretops.inventory.models import HealthCheck

__all__ = ["HealthResult", "check_health"]


@dataclass(frozen=True, slots=True)
class HealthResult:
    """The outcome of one health check."""

    ok: bool
    url: str
    detail: str
    attempts: int


def _reason(exc: httpx.HTTPError) -> str:
    """`ConnectError: [Errno 111] Connection refused`: the class and the innermost OS message."""
    cause: BaseException | None = exc
    text = str(exc)
    while cause is not None:  # httpx wraps httpcore, which wraps the socket's OSError
        if isinstance(cause, OSError) and cause.strerror:
            text = f"[Errno {cause.errno}] {cause.strerror}"
            break
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {text or 'no detail'}"[:300]


def check_health(
    client: httpx.Client,
    check: HealthCheck,
    *,
    interval: float = 0.5,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> HealthResult:
    """GET `check.url` until it answers `check.status` (and contains `check.contains`) or time is up."""
    deadline = monotonic() + check.timeout.total_seconds()
    attempts = 0
    detail = "not tried"
    while True:
        attempts += 1
        remaining = max(0.1, deadline - monotonic())
        try:
            response = client.get(check.url, timeout=min(remaining, 10.0))
        except httpx.HTTPError as exc:
            detail = f"cannot connect to {check.url}: {_reason(exc)}"
        else:
            if response.status_code != check.status:
                detail = f"status {response.status_code}, expected {check.status}"
            elif check.contains is not None and check.contains not in response.text:
                detail = f"status {response.status_code} but the body lacks {check.contains!r}"
            else:
                return HealthResult(True, check.url, f"status {response.status_code}", attempts)
        if monotonic() + interval > deadline:
            return HealthResult(False, check.url, detail, attempts)
        sleep(interval)
