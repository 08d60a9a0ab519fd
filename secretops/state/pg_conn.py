"""Connections to the PostgreSQL state: connecting, masking the URL, and translating driver errors.

Shared by `secretops.state.postgres` (the state's own connection), `secretops.state.pg_lease`
(one dedicated connection per held lease) and `secretops.state.pg_audit`. psycopg is imported
only inside functions, so importing the state package never needs the `postgres` extra.

No message built here holds the password: `where(url)` rebuilds the URL from its parts with the
password masked, and the driver's text is scrubbed of it before it is quoted.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlsplit

from secretops.errors import AuthError, ConfigError, RotationError, SecretOpsError, UnavailableError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CONNECT_TIMEOUT",
    "StateAuthError",
    "StateUnavailableError",
    "advisory_key",
    "connect",
    "password_of",
    "storable",
    "translating",
    "where",
]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5

# libpq phrases that mean "the server answered and refused these credentials".
_AUTH_PHRASES = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "is not permitted to log in",
    "password is required",
    "no password supplied",
)


class StateUnavailableError(UnavailableError, RotationError):
    """The PostgreSQL state cannot be reached, or its connection was lost (exit code 4)."""


class StateAuthError(AuthError, RotationError):
    """The PostgreSQL state refused the credentials or a privilege (exit code 3)."""


def advisory_key(namespace: str, name: str = "") -> int:
    """A signed 64-bit advisory lock key: the first 8 bytes of SHA-256(`namespace` NUL `name`).

    Namespaced so that secretops' keys do not collide with another application's advisory locks
    in the same database (a collision would only make one of them wait, never corrupt anything).
    """
    digest = hashlib.sha256(f"secretops:{namespace}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def storable(what: str, *values: object) -> None:
    """`ValueError` for what PostgreSQL cannot store as given: a NUL character in text (text and
    jsonb refuse it) or a non-finite number (JSON has no NaN or infinity). Checked before writing,
    so the caller sees a plain error rather than a driver message quoting the data."""
    for value in values:
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, list | tuple):
                storable(what, *item)
            elif isinstance(item, str) and "\0" in item:
                raise ValueError(f"{what}: text with a NUL character cannot be stored in PostgreSQL")
            elif isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{what}: {item} cannot be stored (JSON has no NaN or infinity)")


def _params(url: str) -> dict[str, Any]:
    """The connection parameters of `url` (a `postgresql://` URL or a libpq `key=value` string)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        return dict(conninfo_to_dict(url))
    except psycopg.Error:
        # The driver's message may quote the string, password and all: do not chain it.
        raise ConfigError(
            "SECRETOPS_STATE is not a valid PostgreSQL connection string",
            hint="use postgresql://user:<password>@host:5432/dbname",
        ) from None


def password_of(url: str) -> str | None:
    """The password inside `url`, if any (only to scrub it from driver messages)."""
    if "://" in url:
        try:
            raw = urlsplit(url).password
        except ValueError:
            raw = None
        if raw:
            return unquote(raw)
    try:
        value = _params(url).get("password")
    except ConfigError:
        return None
    return str(value) if value else None


def where(url: str) -> str:
    """`postgresql://user:***@host:port/dbname`: `url` without its password or other options."""
    try:
        params = _params(url)
    except ConfigError:
        return "postgresql://<unparsable connection string>"
    user = params.get("user") or ""
    auth = f"{user}{':***' if params.get('password') else ''}@" if user or params.get("password") else ""
    host = params.get("host") or "localhost"
    port = params.get("port") or 5432
    dbname = params.get("dbname") or user or "postgres"
    return f"postgresql://{auth}{host}:{port}/{dbname}"


def _scrub(text: str, url: str) -> str:
    password = password_of(url)
    if password:
        text = text.replace(password, "***")
    return text


def _reason(exc: BaseException, url: str) -> str:
    """The first line of a driver message (libpq puts its own hint on the next), scrubbed."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0]
    if first.endswith(":") and len(lines) > 1:
        first = f"{first} {lines[1]}"
    return _scrub(first, url)


def connect(url: str, *, timeout: float | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection to the state database, or `StateAuthError`/`StateUnavailableError`.

    With `timeout` (a lease's connection), a dead network is noticed within about that many
    seconds instead of the kernel's minutes: TCP keepalives and `tcp_user_timeout` (unless the
    URL sets them), and a `statement_timeout` of the same length.
    """
    import psycopg

    params = _params(url)
    defaults: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "application_name": "secretops"}
    if timeout is not None:
        seconds = max(1, int(timeout))
        defaults.update(keepalives=1, keepalives_idle=seconds, keepalives_interval=1, keepalives_count=3)
        if psycopg.pq.version() >= 120000:  # libpq 12 added tcp_user_timeout
            defaults["tcp_user_timeout"] = seconds * 1000
    try:
        conn = psycopg.connect(**{**defaults, **params}, autocommit=True)
        if timeout is not None:
            conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{max(1, int(timeout * 1000))}ms",))
    except psycopg.OperationalError as exc:
        text = str(exc).lower()
        if any(p in text for p in _AUTH_PHRASES):
            raise StateAuthError(
                f"PostgreSQL at {where(url)} refused the state's credentials",
                hint="check the user and password in SECRETOPS_STATE (or `state:` in the policy)",
            ) from None
        if "database" in text and "does not exist" in text:
            raise StateUnavailableError(
                f"the state database of {where(url)} does not exist",
                hint="create it (CREATE DATABASE ...) and grant the runner's role CREATE on it, then run "
                "`secretops state migrate`",
            ) from None
        raise StateUnavailableError(
            f"cannot reach the PostgreSQL state at {where(url)}: {_reason(exc, url)}",
            hint="check host, port and network access; is the server running?",
        ) from None
    return conn


@contextmanager
def translating(url: str, doing: str, error: type[SecretOpsError] = RotationError) -> Iterator[None]:
    """Turn psycopg errors raised inside into secretops errors naming what we were `doing`.

    A lost connection is `StateUnavailableError`, a refused privilege `StateAuthError`, anything
    else the driver raises becomes `error` with the server's primary message and SQLSTATE.
    """
    import psycopg

    try:
        yield
    except psycopg.errors.InsufficientPrivilege as exc:
        _privilege(url, doing, exc)
    except psycopg.OperationalError as exc:
        raise StateUnavailableError(
            f"lost the PostgreSQL state at {where(url)} while trying to {doing}: {_reason(exc, url)}",
            hint="retry; every rotation step is idempotent and `secretops resume` finishes a run",
        ) from None
    except psycopg.Error as exc:
        primary = _scrub(exc.diag.message_primary or type(exc).__name__, url)
        state = f" (SQLSTATE {exc.sqlstate})" if exc.sqlstate else ""
        raise error(f"PostgreSQL state at {where(url)}: cannot {doing}: {primary}{state}") from None


def _privilege(url: str, doing: str, exc: psycopg.Error) -> NoReturn:
    primary = _scrub(exc.diag.message_primary or "permission denied", url)
    raise StateAuthError(
        f"PostgreSQL state at {where(url)}: cannot {doing}: {primary}",
        hint="docs/state.md lists the privileges the runner's role needs",
    ) from None
