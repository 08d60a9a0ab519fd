"""A stateful fake of GitHub Actions secrets (platform-apis.md §5).

Each repository and each environment has its own Curve25519 key pair; a PUT must carry the
`key_id` of its scope and a value sealed to that key (else 422). The fake decrypts and keeps
the plaintext so tests can check it; the API never returns values. PUT answers 201 when the
secret is new, 204 when it replaced one. Requests need the GitHub `Accept` and API version
headers.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx
from nacl import public
from nacl.exceptions import CryptoError

from tests.fakes.platforms.base import FakePlatform, Handler, body_of, reply


class _Scope:
    def __init__(self, key_id: str) -> None:
        self.private = public.PrivateKey.generate()
        self.key_id = key_id
        self.secrets: dict[str, str] = {}


class FakeGitHub(FakePlatform):
    """Repositories with Actions secrets, and environments with their own."""

    token = "ghp_fakeTokenForTestsOnly0000000000000"

    def __init__(self) -> None:
        super().__init__()
        self.scopes: dict[tuple[str, str | None], _Scope] = {}
        self._ids = itertools.count(1000)

    def error(self, status: int, ident: str, message: str) -> httpx.Response:
        return reply(status, {"message": message, "documentation_url": "https://docs.github.com/rest"})

    def check_request(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("accept") != "application/vnd.github+json":
            return self.error(415, "media", "Unsupported Accept header")
        if request.headers.get("x-github-api-version") != "2022-11-28":
            return self.error(400, "version", "Missing X-GitHub-Api-Version")
        return None

    def routes(self) -> list[tuple[str, str, Handler]]:
        repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        scopes = [(repo + r"/actions/secrets", False), (repo + r"/environments/(?P<env>[^/]+)/secrets", True)]
        out: list[tuple[str, str, Handler]] = []
        for base, _ in scopes:
            out += [
                ("GET", base + "/public-key", self._public_key),
                ("GET", base, self._list),
                ("PUT", base + r"/(?P<name>[^/]+)", self._put),
            ]
        return out

    def add_repo(self, repo: str, environments: tuple[str, ...] = ()) -> None:
        """A repository (and environments), each with a fresh key pair."""
        self.scopes[(repo, None)] = _Scope(str(next(self._ids)))
        for env in environments:
            self.scopes[(repo, env)] = _Scope(str(next(self._ids)))

    def secret(self, repo: str, name: str, env: str | None = None) -> str | None:
        """The decrypted value stored for `name` (tests only: GitHub never returns it)."""
        return self.scopes[(repo, env)].secrets.get(name)

    def _scope(self, repo: str, env: str | None) -> _Scope | None:
        return self.scopes.get((repo, env))

    def _public_key(self, request: httpx.Request, repo: str, env: str | None = None) -> httpx.Response:
        scope = self._scope(repo, env)
        if scope is None:
            return self.error(404, "not_found", "Not Found")
        key = base64.b64encode(bytes(scope.private.public_key)).decode()
        return reply(200, {"key_id": scope.key_id, "key": key})

    def _list(self, request: httpx.Request, repo: str, env: str | None = None) -> httpx.Response:
        scope = self._scope(repo, env)
        if scope is None:
            return self.error(404, "not_found", "Not Found")
        items = [{"name": n, "created_at": "2025-01-01T00:00:00Z"} for n in sorted(scope.secrets)]
        return reply(200, {"total_count": len(items), "secrets": items})

    def _put(self, request: httpx.Request, repo: str, name: str, env: str | None = None) -> httpx.Response:
        scope = self._scope(repo, env)
        if scope is None:
            return self.error(404, "not_found", "Not Found")
        body: Any = body_of(request)
        if body.get("key_id") != scope.key_id:
            return self.error(422, "invalid", "Bad request - key_id does not match")
        try:
            plain = public.SealedBox(scope.private).decrypt(base64.b64decode(body["encrypted_value"])).decode()
        except (CryptoError, ValueError, KeyError):
            return self.error(422, "invalid", "Bad request - could not decrypt")
        name = name.upper()
        existed = name in scope.secrets
        scope.secrets[name] = plain
        return reply(204 if existed else 201)
