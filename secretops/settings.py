"""Runtime settings: built once at the command line, then passed down.

Precedence, written down here once: command-line flag > environment variable > defaults.
Nothing reads settings from a module global; `Settings.from_env()` is called by `cli/` only.
Tokens are `SecretValue`s so a settings object can be printed safely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from secretops.values import FingerprintKey, SecretValue

__all__ = ["Settings", "VaultSettings"]


class VaultSettings(BaseModel):
    """How to reach HashiCorp Vault / OpenBao. `addr` unset means: use the embedded LocalStore."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    addr: str
    mount: str = "secret"
    prefix: str = "secretops"
    namespace: str | None = None
    auth: Literal["token", "approle", "kubernetes"] = "token"
    token: SecretValue | None = None
    role_id: str | None = None
    secret_id: SecretValue | None = None
    k8s_role: str | None = None
    k8s_jwt_path: Path = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
    verify: bool | str = True
    timeout: float = 10.0


class Settings(BaseModel):
    """Everything a command needs to know about its environment."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    state_dir: Path = Field(default=Path(".secretops"))
    fingerprint_key_path: Path = Field(default=Path.home() / ".config" / "secretops" / "fingerprint.key")
    policies_dir: Path = Field(default=Path("policies"))
    vault: VaultSettings | None = None
    require_services: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `SECRETOPS_*` and `VAULT_*`/`BAO_*` variables, then `overrides` (flags)."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        if env.get("SECRETOPS_STATE_DIR"):
            values["state_dir"] = Path(env["SECRETOPS_STATE_DIR"])
        if env.get("SECRETOPS_FINGERPRINT_KEY_FILE"):
            values["fingerprint_key_path"] = Path(env["SECRETOPS_FINGERPRINT_KEY_FILE"])
        if env.get("SECRETOPS_POLICIES"):
            values["policies_dir"] = Path(env["SECRETOPS_POLICIES"])
        values["require_services"] = env.get("SECRETOPS_REQUIRE_SERVICES") == "1"
        addr = env.get("VAULT_ADDR") or env.get("BAO_ADDR")
        if addr:
            token = env.get("VAULT_TOKEN") or env.get("BAO_TOKEN")
            secret_id = env.get("VAULT_SECRET_ID")
            vault: dict[str, Any] = {
                "addr": addr,
                "mount": env.get("SECRETOPS_VAULT_MOUNT", "secret"),
                "prefix": env.get("SECRETOPS_VAULT_PREFIX", "secretops"),
                "namespace": env.get("VAULT_NAMESPACE") or env.get("BAO_NAMESPACE") or None,
                "auth": env.get("SECRETOPS_VAULT_AUTH", "token"),
                "token": SecretValue(token) if token else None,
                "role_id": env.get("VAULT_ROLE_ID"),
                "secret_id": SecretValue(secret_id) if secret_id else None,
                "k8s_role": env.get("VAULT_K8S_ROLE"),
            }
            if env.get("VAULT_SKIP_VERIFY") in ("1", "true"):
                vault["verify"] = False
            elif env.get("VAULT_CACERT"):
                vault["verify"] = env["VAULT_CACERT"]
            values["vault"] = VaultSettings(**vault)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def fingerprint_key(self) -> FingerprintKey:
        """The installation's fingerprint key (created on first use, mode 0600)."""
        return FingerprintKey.load(self.fingerprint_key_path)
