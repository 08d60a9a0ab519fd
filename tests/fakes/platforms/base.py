"""The common part of the platform fakes: routing, bearer auth, call log, injected 429s and outages.

A fake is used through `httpx.Client(transport=httpx.MockTransport(fake.handle))`. Each
platform subclass lists its routes as `(method, regex on the URL path, handler)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[..., httpx.Response]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response (no body when `body` is None)."""
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def body_of(request: httpx.Request) -> Any:
    """The decoded JSON body of `request` (None when empty)."""
    return json.loads(request.content) if request.content else None


class FakePlatform:
    """Routes requests, checks the bearer token, records calls, injects 429s and outages.

    `calls` holds `(method, path)` of every request that reached the fake (after the outage
    check); `rate_limited` lists header sets for the next requests, each answered 429 with them;
    `down` makes every request raise `httpx.ConnectError`.
    """

    token = "fake-platform-token"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.requests: list[httpx.Request] = []
        self.rate_limited: list[dict[str, str]] = []
        self.down = False
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(f"^{pattern}$"), handler) for method, pattern, handler in self.routes()
        ]

    def routes(self) -> list[tuple[str, str, Handler]]:
        """`(method, path regex with named groups, handler(request, **groups))`."""
        raise NotImplementedError

    def error(self, status: int, ident: str, message: str) -> httpx.Response:
        """The platform's error body (overridden where the shape differs)."""
        return reply(status, {"id": ident, "message": message})

    def check_request(self, request: httpx.Request) -> httpx.Response | None:
        """Platform-specific header checks; a response refuses the request."""
        return None

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The `httpx.MockTransport` handler."""
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.calls.append((request.method, request.url.path))
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "unauthorized", "Unable to authenticate you")
        if self.rate_limited:
            err = self.error(429, "too_many_requests", "API rate limit exceeded")
            headers = {"content-type": "application/json", **self.rate_limited.pop(0)}
            return httpx.Response(429, content=err.content, headers=headers)
        refused = self.check_request(request)
        if refused is not None:
            return refused
        for method, pattern, handler in self._routes:
            if method == request.method:
                m = pattern.match(request.url.path)
                if m:
                    return handler(request, **m.groupdict())
        return self.error(404, "not_found", "The resource you were accessing could not be found.")

    def count(self, method: str, path: str) -> int:
        """How many `method path` requests arrived."""
        return self.calls.count((method, path))
