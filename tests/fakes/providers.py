"""Stateful fakes of the providers `scan --verify` asks, each answering as its documentation says.

Use through `httpx.Client(transport=httpx.MockTransport(internet.handle))` where `internet` is a
`FakeInternet`: it routes each request by host to the provider's fake and records every host
asked (`hosts`); a request to any other host is recorded in `stray` and fails to connect.

Each `FakeProvider` holds `valid` (token -> identity fields), `revoked` (tokens once valid),
`rate_limited` (header sets: the next requests are answered with the provider's rate-limit
reply carrying them), and `outage` (a 5xx status for every request). `calls` counts requests.
"""

from __future__ import annotations

import base64
import re
from typing import Any, ClassVar

import httpx


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response (no body when `body` is None)."""
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


class FakeProvider:
    """One provider's identity endpoint: `method` on a path matching `path`, at `host`."""

    host: ClassVar[str]
    method: ClassVar[str] = "GET"
    path: ClassVar[str]

    def __init__(self) -> None:
        self.valid: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()
        self.rate_limited: list[dict[str, str]] = []
        self.outage: int | None = None
        self.calls = 0
        self.requests: list[httpx.Request] = []

    def add(self, token: str, /, **identity: Any) -> None:
        """A working token belonging to `identity`."""
        self.valid[token] = identity

    def revoke(self, token: str) -> None:
        """The token stops working."""
        self.valid.pop(token, None)
        self.revoked.add(token)

    # -- what a provider overrides ---------------------------------------------------------------

    def credential(self, request: httpx.Request) -> str | None:
        """The token the request carries (a bearer by default)."""
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def check(self, request: httpx.Request) -> httpx.Response | None:
        """A refusal for a malformed request (a missing version header), or None."""
        return None

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        raise NotImplementedError

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"message": "Unauthorized"})

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"message": "rate limited"}, headers)

    # -- routing ----------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.requests.append(request)
        if self.rate_limited:
            return self.throttled(self.rate_limited.pop(0))
        if self.outage is not None:
            return reply(self.outage, {"message": "internal error"})
        if request.method != self.method or not re.fullmatch(self.path, request.url.path):
            return reply(404, {"message": "Not Found"})
        bad = self.check(request)
        if bad is not None:
            return bad
        token = self.credential(request)
        if token is not None and token in self.valid:
            return self.ok(request, self.valid[token])
        return self.refused(request, revoked=token in self.revoked)


class FakeGithub(FakeProvider):
    """`GET /user`: 200 `{"login"}`, 401 Bad credentials, rate limits as 403/429 with headers."""

    host = "api.github.com"
    path = "/user"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        if who.get("installation"):  # a ghs_ token: authenticated, but /user is not for it
            return reply(403, {"message": "Resource not accessible by integration"})
        return reply(200, {"login": who["login"], "id": 583231, "type": "User"})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0", **headers})


class FakeGitlab(FakeProvider):
    """`GET /api/v4/personal_access_tokens/self` with `PRIVATE-TOKEN`."""

    host = "gitlab.com"
    path = "/api/v4/personal_access_tokens/self"

    def credential(self, request: httpx.Request) -> str | None:
        return request.headers.get("private-token")

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(
            200,
            {
                "id": 42,
                "name": who["name"],
                "revoked": False,
                "active": True,
                "user_id": who["user_id"],
                "scopes": ["read_api"],
            },
        )

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"message": "401 Unauthorized"})


class FakeSlack(FakeProvider):
    """`POST /api/auth.test`: always 200, `ok` true or false with an `error` code."""

    host = "slack.com"
    method = "POST"
    path = "/api/auth.test"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(
            200,
            {
                "ok": True,
                "url": "https://example-team.slack.com/",
                "team": who["team"],
                "user": who["user"],
                "team_id": "T12345678",
                "user_id": "W12345678",
            },
        )

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(200, {"ok": False, "error": "token_revoked" if revoked else "invalid_auth"})

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"ok": False, "error": "ratelimited"}, headers)


class FakeStripe(FakeProvider):
    """`GET /v1/account`; a bad key is 401 with a message that echoes the key, masked."""

    host = "api.stripe.com"
    path = "/v1/account"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        if who.get("restricted"):
            return reply(403, {"error": {"type": "invalid_request_error", "message": "permission required"}})
        return reply(
            200,
            {
                "id": who["account"],
                "object": "account",
                "email": who.get("email"),
                "settings": {"dashboard": {"display_name": who.get("name")}},
            },
        )

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        token = self.credential(request) or ""
        return reply(
            401,
            {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {token[:8]}****"}},
        )

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"error": {"type": "rate_limit_error", "code": "rate_limit"}}, headers)


class FakeOpenai(FakeProvider):
    """`GET /v1/models`; 401 `invalid_api_key`; 429 `rate_limit_exceeded` or `insufficient_quota`."""

    host = "api.openai.com"
    path = "/v1/models|/v1/organization/projects"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        headers = {"openai-organization": who["org"]}
        if who.get("no_quota"):
            return reply(429, {"error": {"code": "insufficient_quota", "type": "insufficient_quota"}}, headers)
        return reply(200, {"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]}, headers)

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        token = self.credential(request) or ""
        return reply(
            401,
            {
                "error": {
                    "message": f"Incorrect API key provided: {token[:8]}***. You can find your API key at ...",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
        )

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"error": {"code": "rate_limit_exceeded", "type": "requests"}}, headers)


class FakeAnthropic(FakeProvider):
    """`GET /v1/models` with `x-api-key` and `anthropic-version` (400 without it)."""

    host = "api.anthropic.com"
    path = "/v1/models|/v1/organizations/users"

    def credential(self, request: httpx.Request) -> str | None:
        return request.headers.get("x-api-key")

    def check(self, request: httpx.Request) -> httpx.Response | None:
        if not request.headers.get("anthropic-version"):
            return reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "version"}})
        return None

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(200, {"data": [], "has_more": False}, {"anthropic-organization-id": who["org"]})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}, headers)


class FakeSendgrid(FakeProvider):
    """`GET /v3/scopes`."""

    host = "api.sendgrid.com"
    path = "/v3/scopes"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(200, {"scopes": who["scopes"]})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"errors": [{"field": None, "message": "authorization required"}]})


class FakeTwilio(FakeProvider):
    """`GET /2010-04-01/Accounts/{Sid}.json` with basic auth (SID or key SID, and the secret)."""

    host = "api.twilio.com"
    path = r"/2010-04-01/Accounts/AC[0-9a-f]{32}\.json"

    def credential(self, request: httpx.Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return None
        return base64.b64decode(auth[6:]).decode()  # "user:secret"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        sid = request.url.path.rsplit("/", 1)[1].removesuffix(".json")
        if sid != who["account"]:
            return reply(404, {"code": 20404, "message": "not found", "status": 404})
        return reply(200, {"sid": sid, "friendly_name": who["name"], "status": who.get("status", "active")})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(
            401,
            {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003"},
        )

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, headers)


class FakeDigitalocean(FakeProvider):
    """`GET /v2/account`; 429s carry `ratelimit-*` headers (and `Retry-After` only when given)."""

    host = "api.digitalocean.com"
    path = "/v2/account"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(200, {"account": {"email": who["email"], "uuid": "b6fr89dbf6d9156cace5f3c78dc9851d957381ef"}})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"id": "Unauthorized", "message": "Unable to authenticate you"})

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(
            429,
            {"id": "too_many_requests", "message": "API Rate limit exceeded."},
            {"ratelimit-limit": "5000", "ratelimit-remaining": "0", **headers},
        )


class FakeRender(FakeProvider):
    """`GET /v1/owners`: a list of `{"owner": ..., "cursor": ...}`."""

    host = "api.render.com"
    path = "/v1/owners"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        owner = {"id": "tea-c0ffee", "name": who["name"], "email": who["email"], "type": "team"}
        return reply(200, [{"owner": owner, "cursor": "c1"}])


class FakeVercel(FakeProvider):
    """`GET /v2/user`; a bad token is 403 with `invalidToken: true`."""

    host = "api.vercel.com"
    path = "/v2/user"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(200, {"user": {"id": "u1", "username": who["username"], "email": who["email"]}})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}})


class FakeHeroku(FakeProvider):
    """`GET /account` (version 3 media type required), 429 `{"id": "rate_limit"}`."""

    host = "api.heroku.com"
    path = "/account"

    def check(self, request: httpx.Request) -> httpx.Response | None:
        if "version=3" not in request.headers.get("accept", ""):
            return reply(400, {"id": "bad_request", "message": "Please specify a version"})
        return None

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(200, {"email": who["email"], "id": "01234567-89ab-cdef-0123-456789abcdef"})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"id": "unauthorized", "message": "Invalid credentials provided."})

    def throttled(self, headers: dict[str, str]) -> httpx.Response:
        return reply(429, {"id": "rate_limit", "message": "Your account reached the API rate limit"}, headers)


class FakeNpm(FakeProvider):
    """`GET /-/whoami` on the npm registry."""

    host = "registry.npmjs.org"
    path = "/-/whoami"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(200, {"username": who["username"]})

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"error": "Unauthorized"})


class FakeHuggingface(FakeProvider):
    """`GET /api/whoami-v2`."""

    host = "huggingface.co"
    path = "/api/whoami-v2"

    def ok(self, request: httpx.Request, who: dict[str, Any]) -> httpx.Response:
        return reply(
            200,
            {
                "type": "user",
                "name": who["name"],
                "auth": {"type": "access_token", "accessToken": {"displayName": who["token"], "role": "read"}},
            },
        )

    def refused(self, request: httpx.Request, revoked: bool) -> httpx.Response:
        return reply(401, {"error": "Invalid credentials in Authorization header"})


ALL: tuple[type[FakeProvider], ...] = (
    FakeGithub,
    FakeGitlab,
    FakeSlack,
    FakeStripe,
    FakeOpenai,
    FakeAnthropic,
    FakeSendgrid,
    FakeTwilio,
    FakeDigitalocean,
    FakeRender,
    FakeVercel,
    FakeHeroku,
    FakeNpm,
    FakeHuggingface,
)


class FakeInternet:
    """Every provider fake, routed by host; any other host is a `stray` and fails to connect."""

    def __init__(self) -> None:
        self.providers: dict[str, FakeProvider] = {cls.host: cls() for cls in ALL}
        self.hosts: list[str] = []
        self.stray: list[str] = []

    def __getitem__(self, host: str) -> FakeProvider:
        return self.providers[host]

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.hosts.append(host)
        provider = self.providers.get(host)
        if provider is None:
            self.stray.append(host)
            raise httpx.ConnectError(f"no route to {host}", request=request)
        return provider.handle(request)

    def client(self) -> httpx.Client:
        """An `httpx.Client` whose requests all land here."""
        return httpx.Client(transport=httpx.MockTransport(self.handle), follow_redirects=False)
