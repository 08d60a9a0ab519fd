"""Fakes of the providers' documented revocation endpoints, on top of `FakeInternet`.

- GitHub `POST /credentials/revoke` (https://docs.github.com/en/rest/credentials/revoke):
  unauthenticated, JSON `{"credentials": [...]}` of at most 1000 tokens; `202 Accepted` with `{}`;
  `422` for a malformed body. Every listed token that works stops working.
- Slack `POST /api/auth.revoke` (https://api.slack.com/methods/auth.revoke): the token as bearer;
  `{"ok": true, "revoked": true}`, or `{"ok": false, "error": "invalid_auth"}`.
- GitLab `DELETE /api/v4/personal_access_tokens/self`
  (https://docs.gitlab.com/ee/api/personal_access_tokens.html): `PRIVATE-TOKEN`; `204`, or `401`.

`revocations` records (provider, token) for each accepted request; `async_github` keeps GitHub
tokens working after a 202 (GitHub revokes asynchronously), to test "not yet proven dead".
Identity checks (`GET /user` ...) fall through to the `FakeInternet` providers.
"""

from __future__ import annotations

import json

import httpx

from tests.fakes.providers import FakeInternet, reply

__all__ = ["RevocationInternet"]


class RevocationInternet(FakeInternet):
    """`FakeInternet` plus the revocation endpoints of GitHub, Slack and GitLab."""

    def __init__(self) -> None:
        super().__init__()
        self.revocations: list[tuple[str, str]] = []
        self.async_github = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        host, path, method = request.url.host, request.url.path, request.method
        if (host, method, path) == ("api.github.com", "POST", "/credentials/revoke"):
            self.hosts.append(host)
            try:
                body = json.loads(request.content)
                tokens = body["credentials"]
                assert isinstance(tokens, list) and 0 < len(tokens) <= 1000
            except (ValueError, KeyError, AssertionError):
                return reply(422, {"message": "Validation Failed"})
            for token in tokens:
                self.revocations.append(("github", token))
                if not self.async_github:
                    self["api.github.com"].revoke(token)
            return reply(202, {})
        if (host, method, path) == ("slack.com", "POST", "/api/auth.revoke"):
            self.hosts.append(host)
            auth = request.headers.get("authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            slack = self["slack.com"]
            if token not in slack.valid:
                return reply(200, {"ok": False, "error": "invalid_auth"})
            slack.revoke(token)
            self.revocations.append(("slack", token))
            return reply(200, {"ok": True, "revoked": True})
        if (host, method, path) == ("gitlab.com", "DELETE", "/api/v4/personal_access_tokens/self"):
            self.hosts.append(host)
            token = request.headers.get("private-token", "")
            gitlab = self["gitlab.com"]
            if token not in gitlab.valid:
                return reply(401, {"message": "401 Unauthorized"})
            gitlab.revoke(token)
            self.revocations.append(("gitlab", token))
            return httpx.Response(204)
        return super().handle(request)
