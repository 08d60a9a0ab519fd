"""DigitalOcean, Render, Vercel and Heroku: the account a platform token belongs to.

- DigitalOcean: `GET https://api.digitalocean.com/v2/account`; 200 `{"account": {"email",
  "uuid", "status"}}`, 401 `{"id": "unauthorized"}`, 429 with `ratelimit-reset`/`Retry-After`.
  https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account
- Render: `GET https://api.render.com/v1/owners?limit=1` (list workspaces); 200 a list of
  `{"owner": {"id", "name", "email", "type"}, "cursor"}`, 401 for a bad key.
  https://api-docs.render.com/reference/list-owners
- Vercel: `GET https://api.vercel.com/v2/user`; 200 `{"user": {"username", "email"}}`; a bad
  token is answered 403 with `error.invalidToken: true` (or 401), which is dead; any other 403 is
  an authenticated token that may not read the user (live).
  https://vercel.com/docs/rest-api/reference/endpoints/user/get-the-user
- Heroku: `GET https://api.heroku.com/account` with `Accept: application/vnd.heroku+json;
  version=3`; 200 the account `email`, 401 `{"id": "unauthorized"}`, 429 `{"id": "rate_limit"}`.
  https://devcenter.heroku.com/articles/platform-api-reference#account-info
"""

from __future__ import annotations

from typing import Any

import httpx

from secretops.liveness._http import HttpVerifier, Probe, json_body
from secretops.liveness.interface import Leak, LivenessResult

__all__ = ["DigitaloceanVerifier", "HerokuVerifier", "RenderVerifier", "VercelVerifier"]


def _bearer(leak: Leak) -> dict[str, str]:
    return {"Authorization": f"Bearer {leak.value.reveal()}"}


class DigitaloceanVerifier(HttpVerifier):
    """DigitalOcean personal access and OAuth tokens (`dop_v1_`, `doo_v1_`)."""

    id = "digitalocean"
    hosts = frozenset({"api.digitalocean.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v2/account`."""
        return Probe("GET", "https://api.digitalocean.com/v2/account", headers=_bearer(leak))

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The account's e-mail."""
        account = body.get("account") if isinstance(body, dict) else None
        return account.get("email") or account.get("uuid") if isinstance(account, dict) else None


class RenderVerifier(HttpVerifier):
    """Render API keys (`rnd_`)."""

    id = "render"
    hosts = frozenset({"api.render.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v1/owners?limit=1`."""
        return Probe("GET", "https://api.render.com/v1/owners?limit=1", headers=_bearer(leak))

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The first workspace: `<name> (<email>)`."""
        if not isinstance(body, list) or not body or not isinstance(body[0], dict):
            return None
        owner = body[0].get("owner")
        if not isinstance(owner, dict):
            return None
        name, email = owner.get("name"), owner.get("email")
        return f"{name} ({email})" if name and email else (name or email or owner.get("id"))


class VercelVerifier(HttpVerifier):
    """Vercel access tokens."""

    id = "vercel"
    hosts = frozenset({"api.vercel.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v2/user`."""
        return Probe("GET", "https://api.vercel.com/v2/user", headers=_bearer(leak))

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """403 with `invalidToken` dead, other 403s live."""
        if response.status_code == 403:
            body = json_body(response)
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict) and error.get("invalidToken"):
                return LivenessResult.dead(self.id, "refused by api.vercel.com: invalid token (HTTP 403)")
            return LivenessResult.live_as(self.id, None, "authenticated, but may not read the user (HTTP 403)")
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """`<username> (<email>)`."""
        user = body.get("user") if isinstance(body, dict) else None
        if not isinstance(user, dict):
            return None
        name, email = user.get("username"), user.get("email")
        return f"{name} ({email})" if name and email else (name or email)


class HerokuVerifier(HttpVerifier):
    """Heroku API keys (`HRKU-` and legacy UUIDs)."""

    id = "heroku"
    hosts = frozenset({"api.heroku.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /account` with the Platform API version 3 media type."""
        return Probe(
            "GET",
            "https://api.heroku.com/account",
            headers={**_bearer(leak), "Accept": "application/vnd.heroku+json; version=3"},
        )

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The account's e-mail."""
        return body.get("email") if isinstance(body, dict) else None
