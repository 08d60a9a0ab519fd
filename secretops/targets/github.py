"""`GitHubTarget`: GitHub Actions secrets of a repository or one of its environments (§5).

`set_env` fetches the public key of the scope (`.../actions/secrets/public-key` for the
repository, `.../environments/{env}/secrets/public-key` for an environment: each environment has
its own key), seals the value with it (libsodium sealed box, PyNaCl) and sends
`PUT .../secrets/{NAME}` with `encrypted_value` and `key_id`; GitHub answers 201 (created) or
204 (updated). The key is fetched on every write, so a rotated key is never used stale.

GitHub never returns secret values: `read_fingerprint` always returns None, and the engine
relies on the write's status plus its own health checks. Workflows read secrets on their next
run, so `redeploy` has nothing to do (`DeployState.NONE`).
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from nacl import encoding, public
from nacl.exceptions import CryptoError

from secretops.inventory.models import GitHubTargetSpec
from secretops.targets._platform import PlatformTarget
from secretops.targets.interface import Deployment, DeployState, EnvRef, TargetError
from secretops.values import FingerprintKey, SecretValue

__all__ = ["GitHubTarget", "seal"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def seal(public_key_b64: str, value: SecretValue) -> str:
    """`value` encrypted to the base64 Curve25519 key with a sealed box, as base64."""
    key = public.PublicKey(public_key_b64.encode(), encoding.Base64Encoder)
    return base64.b64encode(public.SealedBox(key).encrypt(value.reveal().encode())).decode()


class GitHubTarget(PlatformTarget):
    """A repository's (or one environment's) Actions secrets."""

    kind = "github"
    base_url = "https://api.github.com"
    default_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

    def __init__(self, name: str, spec: GitHubTargetSpec, token: SecretValue, **kw: Any) -> None:
        super().__init__(name, token, **kw)
        self.spec = spec

    def describe(self) -> str:
        """`github:<owner/repo>` or `github:<owner/repo>@<environment>`."""
        return f"github:{self.spec.repo}" + (f"@{self.spec.environment}" if self.spec.environment else "")

    def _base(self) -> str:
        base = f"/repos/{self.spec.repo}"
        if self.spec.environment:
            return f"{base}/environments/{quote(self.spec.environment, safe='')}/secrets"
        return f"{base}/actions/secrets"

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Seal the value with the scope's public key and PUT it (201 or 204)."""
        if ref.component is not None:
            raise TargetError(f"{self.describe()}: GitHub secrets have no components (got {ref})")
        if not _NAME.match(ref.key) or ref.key.upper().startswith("GITHUB_"):
            raise TargetError(
                f"{self.describe()}: {ref.key!r} is not a valid Actions secret name",
                hint="use letters, digits and underscores, not starting with a digit or GITHUB_",
            )
        body = self.api.json("GET", f"{self._base()}/public-key")
        if not isinstance(body, dict) or not body.get("key") or not body.get("key_id"):
            raise TargetError(f"{self.describe()}: the public key answer has no key")
        try:
            sealed = seal(str(body["key"]), value)
        except (CryptoError, ValueError, TypeError) as exc:
            raise TargetError(f"{self.describe()}: the public key is not a valid Curve25519 key") from exc
        response = self.api.request(
            "PUT",
            f"{self._base()}/{ref.key}",
            json={"encrypted_value": sealed, "key_id": str(body["key_id"])},
            redact=[value],
        )
        if response.status_code not in (201, 204):
            raise TargetError(f"{self.describe()}: saving {ref.key} answered {response.status_code}, not 201/204")

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """Always None: GitHub never returns secret values."""
        return None

    def redeploy(self) -> Deployment:
        """Nothing to deploy: workflows read secrets on their next run."""
        return Deployment("none", DeployState.NONE, "workflows read the secret on their next run")

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """Nothing to wait for."""
        return deployment
