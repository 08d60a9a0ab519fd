"""Runtime settings: built once at the command line, then passed down.

Precedence, written down here once: command-line flag > environment variable > defaults.
Nothing reads settings from a module global; `Settings.from_env()` is called by `cli/` only.
Tokens are `SecretValue`s so a settings object can be printed safely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from secretops.errors import ConfigError
from secretops.values import FingerprintKey, FingerprintKeyError, SecretValue

__all__ = ["Settings", "VaultSettings", "default_key_path"]

_KEY_FILE = ("secretops", "fingerprint.key")


def default_key_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the fingerprint key file lives when `SECRETOPS_FINGERPRINT_KEY_FILE` does not say.

    `$XDG_CONFIG_HOME/secretops/fingerprint.key` (an absolute `XDG_CONFIG_HOME` only, as the XDG
    spec says), else `~/.config/secretops/fingerprint.key`; None when there is no home folder.
    """
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg).joinpath(*_KEY_FILE)
    home = env.get("HOME")
    if home:
        return Path(home).joinpath(".config", *_KEY_FILE)
    try:
        return Path.home().joinpath(".config", *_KEY_FILE)
    except (RuntimeError, KeyError):  # no HOME and no password entry
        return None


_M = TypeVar("_M", bound=BaseModel)


def _validated(model: type[_M], values: dict[str, Any]) -> _M:
    """`model(**values)`, or a `ConfigError` naming the field without the value.

    pydantic's own message quotes the input, and an environment variable may hold a token.
    """
    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(
            f"invalid settings from the environment: {problems}", hint="check the SECRETOPS_* and VAULT_* variables"
        ) from None


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
    #: Where rotation state lives (`SECRETOPS_STATE`): unset or `files` for the files under
    #: `state_dir`, or a `postgresql://` URL (it may hold a password, hence a `SecretValue`).
    state: SecretValue | None = None
    #: Where values live (`SECRETOPS_STORE`): unset for Vault when `vault` is set, else the local
    #: store; `local`, `vault`, or a `postgresql://` URL for `PostgresStore` (may hold a password).
    store: SecretValue | None = None
    #: How long a PostgreSQL state lease outlives its runner's last heartbeat
    #: (`SECRETOPS_STATE_LEASE`, a duration such as `30s` or `2m`; default 30 s).
    state_lease: timedelta | None = None
    fingerprint_key_path: Path | None = Field(default_factory=default_key_path)
    policies_dir: Path = Field(default=Path("policies"))
    vault: VaultSettings | None = None
    require_services: bool = False

    @field_validator("state", "store", mode="before")
    @classmethod
    def _state_as_secret(cls, value: object) -> object:
        """A plain string (a flag, a test) is wrapped: the URL may hold a password."""
        return SecretValue(value) if isinstance(value, str) else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `SECRETOPS_*` and `VAULT_*`/`BAO_*` variables, then `overrides` (flags)."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        if env.get("SECRETOPS_STATE_DIR"):
            values["state_dir"] = Path(env["SECRETOPS_STATE_DIR"])
        if env.get("SECRETOPS_STATE"):
            values["state"] = SecretValue(env["SECRETOPS_STATE"])
        if env.get("SECRETOPS_STATE_LEASE"):
            values["state_lease"] = _lease(env["SECRETOPS_STATE_LEASE"])
        if env.get("SECRETOPS_STORE"):
            values["store"] = SecretValue(env["SECRETOPS_STORE"])
        if env.get("SECRETOPS_FINGERPRINT_KEY_FILE"):
            values["fingerprint_key_path"] = Path(env["SECRETOPS_FINGERPRINT_KEY_FILE"])
        else:
            values["fingerprint_key_path"] = default_key_path(env)
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
            values["vault"] = _validated(VaultSettings, vault)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return _validated(cls, values)

    def fingerprint_key(self, *, allow_ephemeral: bool = False) -> FingerprintKey:
        """The installation's fingerprint key (created on first use, mode 0600).

        When no key is set and no key file exists or can be created (a read-only or missing
        home), `allow_ephemeral` gives a random key for this process (`FingerprintKey.ephemeral`);
        otherwise, and for a key file that is unreadable or malformed, a `ConfigError` (exit 2).
        """
        try:
            return FingerprintKey.load(self.fingerprint_key_path)
        except FingerprintKeyError as exc:
            if allow_ephemeral and exc.can_fall_back:
                return FingerprintKey.ephemeral_key()
            raise ConfigError(exc.message, hint=exc.hint) from exc


#: A lease shorter than this is renewed too often to survive a slow database; longer than the
#: maximum, a dead runner's run waits too long for its takeover.
_LEASE_RANGE = (timedelta(seconds=5), timedelta(hours=1))


def _lease(raw: str) -> timedelta:
    """`SECRETOPS_STATE_LEASE` as a duration between 5 s and 1 h (`ConfigError` otherwise, naming the variable)."""
    from secretops.errors import ConfigError
    from secretops.inventory.models import parse_duration

    try:
        lease = parse_duration(raw.strip())
    except ValueError as exc:
        raise ConfigError(
            f"SECRETOPS_STATE_LEASE={raw.strip()!r}: {exc}",
            hint="a duration such as 30s or 2m (renewed every third of it)",
        ) from None
    low, high = _LEASE_RANGE
    if not low <= lease <= high:
        raise ConfigError(
            f"SECRETOPS_STATE_LEASE={raw.strip()!r}: must be between 5s and 1h",
            hint="30s (the default) suits most runners; a takeover waits about one lease after a runner dies",
        )
    return lease
