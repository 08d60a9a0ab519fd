"""The state seam (see `secretops.state.interface`): `open_state` picks the backend from the settings.

`SECRETOPS_STATE` (`Settings.state`) says where rotation state lives:

- unset or `files`: `FileState` under `SECRETOPS_STATE_DIR` (default `.secretops/`);
- `postgresql://...` or `postgres://...`: `secretops.state.postgres.PostgresState`, imported only
  then (it needs the `[postgres]` extra);
- anything else is a usage error (exit 2) naming the setting.

The URL may hold a password: every message and `describe()` shows it masked (`mask_url`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from secretops.errors import ConfigError
from secretops.state.interface import (
    DEFAULT_LEASE,
    LeaseLostError,
    MigrationReport,
    RunLog,
    SecretLease,
    StateBackend,
    StateSchemaError,
)

if TYPE_CHECKING:
    from secretops.settings import Settings

__all__ = [
    "DEFAULT_LEASE",
    "POSTGRES_SCHEMES",
    "LeaseLostError",
    "MigrationReport",
    "RunLog",
    "SecretLease",
    "StateBackend",
    "StateSchemaError",
    "mask_url",
    "open_state",
]

#: URL schemes that select the PostgreSQL backend.
POSTGRES_SCHEMES = ("postgresql", "postgres")

_SECRET_PARAMS = frozenset({"password", "passfile", "sslpassword", "sslkey"})


def mask_url(url: str) -> str:
    """`url` with its password (and `password=` style query parameters) replaced by `***`.

    Anything that does not parse as a URL with a scheme is shown as `***` in full: it may be a
    password pasted into the wrong variable.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "***"
    if not parts.scheme or "://" not in url:
        return "***"
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        user = parts.username or ""
        netloc = f"{user}{':***' if parts.password is not None else ''}@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def open_state(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> StateBackend:
    """The state backend `settings` name (`SECRETOPS_STATE`); the caller closes it.

    `clock` stamps journal and audit entries (tests move time with it).
    """
    raw = settings.state.reveal().strip() if settings.state is not None else ""
    lease = settings.state_lease
    if not raw:  # no SECRETOPS_STATE: the policies may say (`state:`), else files
        raw, policy_lease = _from_policies(settings)
        lease = lease or policy_lease
    if not raw or raw == "files":
        from secretops.state.files import FileState

        return FileState(settings.state_dir, clock=clock)
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme in POSTGRES_SCHEMES:
        return _postgres(raw, clock, lease)
    shown = mask_url(raw)
    raise ConfigError(
        f"SECRETOPS_STATE={shown}: not a state backend secretops knows",
        hint="leave SECRETOPS_STATE unset (or `files`) for the files under SECRETOPS_STATE_DIR, "
        "or set it to postgresql://<user>:<password>@<host>/<database>",
    )


def _from_policies(settings: Settings) -> tuple[str, timedelta | None]:
    """The state URL (and lease) a policy's `state:` declares, or `("", None)` when none does."""
    import os

    from secretops.inventory.state_decl import declared_state

    declared = declared_state(settings.policies_dir)
    if declared is None or declared.spec.backend == "files":
        return "", None
    where = f"{declared.file}:{declared.line}"
    if declared.spec.url_env is not None:
        url = os.environ.get(declared.spec.url_env, "").strip()
        if not url:
            raise ConfigError(
                f"{where}: state.url_env names {declared.spec.url_env}, which is not set",
                hint=f"export {declared.spec.url_env}=postgresql://<user>:<password>@<host>/<database> "
                "(or set SECRETOPS_STATE, which wins over the policy)",
            )
        return url, declared.spec.lease
    assert declared.spec.url is not None  # StateSpec: url or url_env
    return declared.spec.url, declared.spec.lease


def _postgres(url: str, clock: Callable[[], datetime] | None, lease: timedelta | None = None) -> StateBackend:
    import importlib

    from secretops.extras import missing_extra

    what = f"SECRETOPS_STATE={mask_url(url)} (PostgreSQL state)"
    try:
        postgres = importlib.import_module("secretops.state.postgres")
    except ModuleNotFoundError as exc:
        error = missing_extra(exc, what)
        if error is not None:
            raise error from None
        if exc.name == "secretops.state.postgres":
            raise ConfigError(
                f"{what}: this secretops has no PostgreSQL state backend",
                hint="upgrade secretops, or leave SECRETOPS_STATE unset to keep state in files",
            ) from None
        raise
    if lease is None:
        backend: StateBackend = postgres.PostgresState(url, clock=clock)
    else:
        backend = postgres.PostgresState(url, clock=clock, lease=lease)
    return backend
