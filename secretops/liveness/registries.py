"""Package registries: npm, and PyPI (which documents no way to check a token).

- npm: `GET https://registry.npmjs.org/-/whoami` with the token as a bearer (what `npm whoami`
  calls); 200 `{"username"}`, 401 for a bad or revoked token. Only `npm_` tokens are checked: an
  `.npmrc` `_authToken` may belong to another registry, where npmjs.org's "no" proves nothing.
  https://docs.npmjs.com/cli/commands/npm-whoami
- PyPI: its JSON, Simple and stats APIs are anonymous; the only request that authenticates an
  API token is an upload (https://docs.pypi.org/api/upload/), which is not read-only. PyPI
  documents no identity or token-introspection endpoint, so the verdict is `unknown`, saying so.
"""

from __future__ import annotations

from typing import Any

import httpx

from secretops.liveness._http import HttpVerifier, Probe
from secretops.liveness.interface import Leak, LivenessResult, Verifier

__all__ = ["NpmVerifier", "PypiVerifier"]


class NpmVerifier(HttpVerifier):
    """npm access tokens (`npm_`) by `GET /-/whoami` on registry.npmjs.org."""

    id = "npm"
    hosts = frozenset({"registry.npmjs.org"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /-/whoami`."""
        return Probe(
            "GET", "https://registry.npmjs.org/-/whoami", headers={"Authorization": f"Bearer {leak.value.reveal()}"}
        )

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The npm `username`."""
        return body.get("username") if isinstance(body, dict) else None


class PypiVerifier(Verifier):
    """PyPI and TestPyPI upload tokens: no documented read-only check exists, so never a request."""

    id = "pypi"

    def verify(self, leak: Leak) -> LivenessResult:
        """Always `unknown`: revoke it at https://pypi.org/manage/account/token/ to be sure."""
        return LivenessResult.unknown(
            self.id,
            "PyPI documents no read-only way to check a token (only an upload authenticates); "
            "treat it as live and revoke it in the account's API tokens page",
        )
