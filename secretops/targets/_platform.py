"""What the HTTP platform targets share: the API client, polling with a deadline, closing.

Each platform target (`RenderTarget`, `DigitalOceanTarget`, ...) takes its token as a
`SecretValue` and, optionally, an `httpx.Client` (tests pass one on `httpx.MockTransport`);
without one it builds its own with `secretops._http.build_client` and closes it in `close()`.
Those clients share one TLS context (`tls_context`): building one loads the CA bundle, about
20 ms of CPU, which every target of every rotation paid (80 ms of a four-target rotation).
`sleep` and `monotonic` drive retries and deploy polling, so tests never wait.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

import httpx

from secretops._http import ApiClient, ErrorKinds, RetryPolicy, build_client
from secretops.targets.interface import (
    Deployment,
    DeployState,
    Target,
    TargetAuthError,
    TargetError,
    TargetUnavailableError,
)
from secretops.values import SecretValue

__all__ = ["TARGET_ERRORS", "PlatformTarget", "tls_context"]

TARGET_ERRORS = ErrorKinds(base=TargetError, auth=TargetAuthError, unavailable=TargetUnavailableError)

_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every platform client of this process uses (made on first use).

    The same as each `httpx.Client` would build for itself (certifi's CA bundle, or
    `SSL_CERT_FILE`/`SSL_CERT_DIR`), once: an `SSLContext` may be shared by connections and threads.
    """
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls


class PlatformTarget(Target):
    """Base of the HTTP targets: an `ApiClient` in `self.api`, and `_poll` for `wait`."""

    base_url: str
    default_headers: Mapping[str, str] = {}

    def __init__(
        self,
        name: str,
        token: SecretValue,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        poll_interval: float = 5.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self._own_client = client is None
        self.client = (
            client if client is not None else build_client(transport=httpx.HTTPTransport(verify=tls_context()))
        )
        self.sleep = sleep
        self.monotonic = monotonic
        self.poll_interval = poll_interval
        self.api = ApiClient(
            self.client,
            platform=self.kind,
            base_url=self.base_url,
            token=token,
            errors=TARGET_ERRORS,
            headers=self.default_headers,
            retry=retry,
            sleep=sleep,
        )

    def _poll(
        self, deployment: Deployment, timeout: timedelta, check: Callable[[Deployment], Deployment]
    ) -> Deployment:
        """Call `check` until it returns a non-pending deployment; `TargetError` after `timeout`."""
        deadline = self.monotonic() + timeout.total_seconds()
        current = deployment
        while True:
            current = check(current)
            if current.state is not DeployState.PENDING:
                return current
            if self.monotonic() >= deadline:
                raise TargetError(
                    f"{self.describe()}: deployment {current.id} still pending after {timeout}"
                    + (f" ({current.detail})" if current.detail else ""),
                    hint="look at the platform's dashboard; resume the rotation once the deploy is live",
                )
            self.sleep(self.poll_interval)

    def close(self) -> None:
        """Close the HTTP client if this target built it."""
        if self._own_client:
            self.client.close()
