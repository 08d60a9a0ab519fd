"""The common part of the HTTP verifiers: an allowlisted request, bounded retries, a verdict.

An `HttpVerifier` says which request proves a value (`probe`) and what the answer means
(`judge`). This module sends it, and only if its URL is `https` to one of the verifier's own
`hosts` (the URLs are constants in each module; nothing from the scanned text becomes a host).
Redirects are never followed. A rate-limited answer (429, or what `rate_limited` recognises)
is retried only when the provider says when (`Retry-After`, seconds or an HTTP date) and that
is within `VerifyContext.max_retry_after`; otherwise, and on 5xx, timeouts and connection
errors, the verdict is `unknown`. Response bodies are never logged.
"""

from __future__ import annotations

import email.utils
import logging
import time
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from secretops.liveness.interface import Leak, LivenessResult, Verifier

__all__ = ["HttpVerifier", "Probe", "json_body", "retry_after"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Probe:
    """One request that proves a value. `headers` and `auth` carry the value: never log them."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    data: Mapping[str, str] | None = field(default=None, repr=False)


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds the provider asks us to wait (`Retry-After`), or None when it does not say."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when there is none or it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


class HttpVerifier(Verifier):
    """A verifier that proves a value with one HTTPS request to its provider's own host."""

    @abstractmethod
    def probe(self, leak: Leak) -> Probe | LivenessResult:
        """The request for `leak`, or a verdict when none can be made (a missing account id)."""

    def rate_limited(self, response: httpx.Response) -> bool:
        """Whether `response` means "slow down" rather than "no" (429 by default)."""
        return response.status_code == 429

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """The verdict for a final (not rate-limited) answer: 2xx live, 401 dead, else unknown."""
        if response.is_success:
            return LivenessResult.live_as(self.id, self.identity(json_body(response), response))
        if response.status_code == 401:
            return LivenessResult.dead(self.id, "refused as invalid, revoked or expired (HTTP 401)")
        return self.unexpected(response)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """Who the value belongs to, from a successful answer (None when the provider does not say)."""
        return None

    def unexpected(self, response: httpx.Response) -> LivenessResult:
        """`unknown` for an answer that proves neither way."""
        status = response.status_code
        if status >= 500:
            return LivenessResult.unknown(self.id, f"provider error (HTTP {status}); try again later")
        if 300 <= status < 400:
            return LivenessResult.unknown(self.id, f"unexpected redirect (HTTP {status}), not followed")
        return LivenessResult.unknown(self.id, f"unexpected answer (HTTP {status})")

    def verify(self, leak: Leak) -> LivenessResult:
        """Send the probe (allowlisted host only), retry a bounded rate limit, judge the answer."""
        probe = self.probe(leak)
        if isinstance(probe, LivenessResult):
            return probe
        url = httpx.URL(probe.url)
        if url.scheme != "https" or url.host not in self.hosts:
            # A programming error, never a path taken from the scanned text: refuse loudly.
            log.error("%s: refused a request to a host outside its allowlist", self.id)
            return LivenessResult.unknown(self.id, "refused: host not on this provider's allowlist")
        ctx = self.ctx
        attempt = 0
        while True:
            try:
                response = ctx.client.request(
                    probe.method,
                    url,
                    headers=dict(probe.headers),
                    auth=probe.auth,
                    data=dict(probe.data) if probe.data is not None else None,
                    timeout=ctx.timeout,
                    follow_redirects=False,
                )
            except httpx.TimeoutException:
                return LivenessResult.unknown(self.id, f"no answer within {ctx.timeout:g} s")
            except httpx.HTTPError as exc:
                return LivenessResult.unknown(self.id, f"cannot reach {url.host} ({type(exc).__name__})")
            log.debug("%s: %s %s -> %d", self.id, probe.method, url.path, response.status_code)
            if not self.rate_limited(response):
                return self.judge(response, leak)
            wait = retry_after(response)
            if wait is None:
                return LivenessResult.unknown(self.id, "rate limited, and the provider did not say for how long")
            if attempt >= ctx.max_retries or wait > ctx.max_retry_after:
                return LivenessResult.unknown(self.id, f"rate limited (retry after {wait:.0f} s); try again later")
            attempt += 1
            ctx.sleep(wait)
