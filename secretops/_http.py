"""HTTP plumbing for platform APIs: client construction, auth, 429 retries, error translation.

`build_client` makes an `httpx.Client` with sane timeouts (and, optionally, the bearer token as
a default header). `ApiClient` wraps any client (tests pass one on `httpx.MockTransport`) and
adds what every platform target needs:

- the `Authorization: Bearer` header, taken from a `SecretValue` at request time;
- retries on 429 (and on 403 carrying `Retry-After`, GitHub's secondary limit), honouring
  `Retry-After` first, then a rate-limit reset header, else capped exponential backoff with
  jitter (platform-apis.md §0); idempotent requests (GET, PUT, DELETE) also retry 502/503/504;
- translation of failures into the target seam's errors: 401/403 → `TargetAuthError` (exit 3),
  connection errors, timeouts, 5xx and exhausted retries → `TargetUnavailableError` (exit 4),
  anything else → `TargetError` carrying the platform's short error message.

Bodies are never logged: a debug line names the method, the path and the status only. Error
messages quote the platform's `message`, cut short, with any value the caller passes in
`redact` replaced by `***` (a platform echoing a rejected value back must not leak it).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from secretops.errors import SecretOpsError
from secretops.values import SecretValue

__all__ = ["ApiClient", "ErrorKinds", "RetryPolicy", "build_client", "retry_delay"]

log = logging.getLogger(__name__)

#: Connect quickly, allow slow platform responses.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_RESET_HEADERS = ("ratelimit-reset", "x-ratelimit-reset")
_EPOCH_THRESHOLD = 1_000_000_000  # a reset value above this is epoch seconds, below it a delay


def build_client(
    *,
    token: SecretValue | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An `httpx.Client` with timeouts, no redirects, and `token` as a bearer header if given."""
    merged = dict(headers or {})
    if token is not None:
        merged["Authorization"] = f"Bearer {token.reveal()}"
    return httpx.Client(headers=merged, timeout=timeout, transport=transport, follow_redirects=False)


@dataclass(frozen=True, slots=True)
class ErrorKinds:
    """The error classes a seam raises (`_http` sits below the seams, so they are passed in)."""

    base: type[SecretOpsError]
    auth: type[SecretOpsError]
    unavailable: type[SecretOpsError]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a rate-limited or briefly failing request."""

    max_retries: int = 5
    base: float = 1.0  # first backoff delay, seconds
    cap: float = 60.0  # no backoff delay exceeds this
    max_wait: float = 300.0  # a server-requested wait above this is not honoured: give up instead


def _parse_retry_after(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def retry_delay(
    response: httpx.Response,
    attempt: int,
    policy: RetryPolicy,
    *,
    now: float,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (0-based) after `response`.

    `Retry-After` (seconds or an HTTP date) wins; then a reset header (`ratelimit-reset`,
    `x-ratelimit-reset`: epoch seconds, or a delay when small); else `base * 2**attempt`,
    capped at `cap`, with full jitter over its upper half.
    """
    header = response.headers.get("retry-after")
    if header is not None:
        parsed = _parse_retry_after(header, now)
        if parsed is not None:
            return parsed
    for name in _RESET_HEADERS:
        raw = response.headers.get(name)
        if raw is None:
            continue
        try:
            reset = float(raw.strip())
        except ValueError:
            continue
        return max(0.0, reset - now) if reset > _EPOCH_THRESHOLD else max(0.0, reset)
    ceiling = min(policy.cap, policy.base * (2.0**attempt))
    return ceiling / 2 + rng() * ceiling / 2


def _platform_message(response: httpx.Response) -> str:
    """The platform's short error text (`message`, `error.message`, `id`), never the whole body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    parts: list[str] = []
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            for field in ("code", "message"):
                if isinstance(err.get(field), str):
                    parts.append(err[field])
        for field in ("id", "code", "message"):
            if isinstance(body.get(field), str) and body[field] not in parts:
                parts.append(body[field])
    text = ": ".join(parts)
    return text if len(text) <= 200 else text[:197] + "..."


def _scrub(text: str, redact: Iterable[SecretValue]) -> str:
    for value in redact:
        raw = value.reveal()
        if len(raw) >= 4:
            text = text.replace(raw, "***")
    return text


class ApiClient:
    """One platform's API over an `httpx.Client`: auth header, retries, translated errors.

    `platform` names it in messages (`render`, `digitalocean`). `sleep`, `clock` and `rng`
    are injectable so tests run retries instantly and deterministically.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        platform: str,
        base_url: str,
        token: SecretValue,
        errors: ErrorKinds,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.errors = errors
        self._headers = dict(headers or {})
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        allow: Iterable[int] = (),
        redact: Iterable[SecretValue] = (),
    ) -> httpx.Response:
        """Send `method path` (relative to the platform's base URL) and return a 2xx response.

        Statuses in `allow` (e.g. 404 for "not set") are returned too. Everything else raises:
        `TargetAuthError`, `TargetUnavailableError` or `TargetError`, never quoting a body.
        """
        url = self.base_url + path
        allowed = set(allow)
        redact = list(redact)
        sent_headers = {**self._headers, **(headers or {}), "Authorization": f"Bearer {self._token.reveal()}"}
        attempt = 0
        while True:
            try:
                response = self.client.request(method, url, json=json, params=params, headers=sent_headers)
            except httpx.TimeoutException as exc:
                raise self.errors.unavailable(
                    f"{self.platform}: {method} {path} timed out", hint="check connectivity to the platform's API"
                ) from exc
            except httpx.TransportError as exc:
                raise self.errors.unavailable(
                    f"{self.platform}: cannot reach the API ({type(exc).__name__})",
                    hint="check network access to the platform and its status page",
                ) from exc
            status = response.status_code
            log.debug("%s %s %s -> %s", self.platform, method, path, status)
            if status < 400 or status in allowed:
                return response
            retryable = status == 429 or (status == 403 and "retry-after" in response.headers)
            retryable = retryable or (status in (502, 503, 504) and method.upper() in _IDEMPOTENT)
            if retryable and attempt < self.retry.max_retries:
                delay = retry_delay(response, attempt, self.retry, now=self.clock(), rng=self.rng)
                if delay <= self.retry.max_wait:
                    log.debug("%s: %s, retrying in %.1fs (attempt %d)", self.platform, status, delay, attempt + 1)
                    self.sleep(delay)
                    attempt += 1
                    continue
            raise self._error(method, path, response, redact, retried=attempt)

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """`request(...)` and its decoded JSON body (None for an empty body)."""
        response = self.request(method, path, **kw)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise self.errors.base(
                f"{self.platform}: {method} {path} answered {response.status_code} with a body that is not JSON",
                hint="the API may have changed; report this",
            ) from exc

    def _error(
        self, method: str, path: str, response: httpx.Response, redact: list[SecretValue], *, retried: int
    ) -> SecretOpsError:
        status = response.status_code
        detail = _scrub(_platform_message(response), redact)
        text = f"{self.platform}: {method} {path} answered {status}" + (f": {detail}" if detail else "")
        if status == 429 or (status == 403 and "retry-after" in response.headers):
            return self.errors.unavailable(
                text + f" (rate limited; gave up after {retried} retries)",
                hint="the platform's rate limit is exhausted; retry later",
            )
        if status in (401, 403):
            return self.errors.auth(text, hint="check the token: is it valid, unexpired, and allowed to do this?")
        if status >= 500:
            return self.errors.unavailable(text, hint="the platform is failing; retry later or check its status page")
        if status == 404:
            return self.errors.base(text, hint="check the id or name in the policy (and that the token can see it)")
        return self.errors.base(text, hint="the platform refused the request; see its message")
