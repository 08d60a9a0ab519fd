"""The `Issuer` seam: mint, check and revoke a credential where it is issued.

An issuer works on `Credential`s: a value plus its non-secret attributes (`username` for a
database role, `access_key_id` for AWS). Each operation is idempotent, because a rotation run
may be resumed after a crash at any point: `apply` for a credential that already works returns
it unchanged; `revoke` of a revoked credential does nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from secretops.errors import AuthError, IssuerError, UnavailableError
from secretops.inventory.models import SecretSpec, Strategy
from secretops.values import SecretValue

__all__ = [
    "Credential",
    "Endpoint",
    "Issuer",
    "IssuerAuthError",
    "IssuerError",
    "IssuerUnavailableError",
    "PlanStep",
    "host_matches",
]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _norm_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return "localhost" if host in _LOOPBACK else host


def host_matches(host: str, allowed: frozenset[str]) -> bool:
    """True when `host` names one of `allowed` (case-insensitive; `localhost`, `127.0.0.1`, `::1` are one).

    Names are compared, never resolved: a consumer check connects only to a host the policy
    or the admin DSN names, whatever DNS says.
    """
    return bool(host) and _norm_host(host) in {_norm_host(a) for a in allowed if a}


class IssuerAuthError(IssuerError, AuthError):
    """The issuer refused our admin credentials (exit code 3)."""


class IssuerUnavailableError(IssuerError, UnavailableError):
    """The issuer cannot be reached (exit code 4)."""


@dataclass(frozen=True, slots=True)
class Credential:
    """A secret value and the non-secret parts that go with it."""

    value: SecretValue
    attributes: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, str]:
        """Template fields: `value` plus every attribute (see `inventory/templates.py`)."""
        return {**self.attributes, "value": self.value.reveal()}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and as whom a consumer's client connects, as parsed from its connection string.

    Built by `secretops.rotate.connstrings.parse` from a rendered `DATABASE_URL`/`REDIS_URL`
    exactly as the consumer's client library reads it (libpq, SQLAlchemy, redis-py, urllib).
    `hosts`/`ports` are aligned (libpq and SQLAlchemy allow several hosts); an empty `hosts`
    means the client's default (a local Unix socket for libpq). `options` holds the non-secret
    query options that change how the client connects (`sslmode`, `target_session_attrs`,
    `ssl`); the password is never in it and never in the repr.
    """

    dialect: str  # "libpq-uri", "libpq-conninfo", "sqlalchemy", "redis-py", "url"
    scheme: str  # "postgresql", "mysql", "redis", "rediss", "unix", "amqp", "amqps", "conninfo"
    hosts: tuple[str, ...] = ()
    ports: tuple[int | None, ...] = ()
    user: str | None = None
    password: SecretValue | None = None
    database: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str | None:
        """The first host, None for the client's default."""
        return self.hosts[0] if self.hosts else None

    @property
    def port(self) -> int | None:
        """The first port, None for the client's default."""
        return self.ports[0] if self.ports else None

    @property
    def service(self) -> str:
        """`postgres`, `mysql`, `redis` or `amqp`: which kind of server the client talks to."""
        if self.dialect.startswith("libpq") or self.scheme.startswith("postgres"):
            return "postgres"
        if self.scheme in ("redis", "rediss", "unix"):
            return "redis"
        if self.scheme in ("amqp", "amqps"):
            return "amqp"
        if self.scheme.startswith(("mysql", "mariadb")):
            return "mysql"
        return self.scheme.split("+", 1)[0]

    def where(self) -> str:
        """`host:port/database` as far as known (no user, no password)."""
        pairs = []
        for i, host in enumerate(self.hosts or ("(default socket)",)):
            port = self.ports[i] if i < len(self.ports) else None
            pairs.append(f"[{host}]" if ":" in host and port is not None else host)
            if port is not None:
                pairs[-1] += f":{port}"
        text = ",".join(pairs)
        return text + (f"/{self.database}" if self.database else "")


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One call a run would make, for `--dry-run`: who, what, and a masked description."""

    actor: str  # "issuer:postgres" / "target:web"
    action: str  # "ALTER ROLE app_b PASSWORD" ...
    detail: str = ""  # masked: fingerprints and previews only


class Issuer(ABC):
    """A place where credentials of one kind are issued.

    Constructed from its spec (`inventory/models.py`) and an environment mapping that holds the
    admin credentials the spec names (`admin_dsn_env`...). `generates_value` issuers (AWS IAM,
    manual) mint the value themselves: `apply` ignores `proposed` and returns what they minted,
    which the engine must store at once.
    """

    kind: ClassVar[str]
    strategies: ClassVar[frozenset[Strategy]]
    generates_value: ClassVar[bool] = False
    # False when `check` cannot really log in (manual, app): it then always says True, and the
    # engine must rely on health checks and cannot prove a revoked value dead.
    verifiable: ClassVar[bool] = True

    @abstractmethod
    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """The calls `apply`, `verify` and `revoke` would make, in order, without making them."""

    @abstractmethod
    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """Make the new credential valid at the issuer and return it (with its attributes).

        overlap: add the new value beside the current one. alternate: set `proposed` on the idle
        account (the one of `secret.accounts` that `current` does not use). replace: change the
        one value. Must be idempotent: if the credential it would produce already works, return it.
        """

    @abstractmethod
    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """True when `credential` authenticates now (log in, `AUTH`, `GetCallerIdentity`)."""

    def consumer_hosts(self) -> frozenset[str] | None:
        """The hosts a consumer check may connect to (the issuer's and its admin DSN's).

        None: this issuer has no network address (AWS IAM, app, manual); consumer values are then
        verified by comparing their fields with the new credential, and `check`.
        """
        return None

    def host_aliases(self) -> frozenset[str]:
        """Other names consumers use for this server (`aliases` in the spec), checked at its own address."""
        return frozenset()

    def check_endpoint(self, secret: SecretSpec, endpoint: Endpoint) -> bool:
        """True when the user and password `endpoint` carries authenticate where it points.

        The engine calls this for each consumer with what the consumer's client would send
        (`secretops.rotate.consumer_check`), after it made sure `endpoint` points at one of
        `consumer_hosts()`. Issuers with a network address override it and connect to the
        endpoint's host and port, refusing any other host. Default: `check` of a credential made
        of the endpoint's user and password.
        """
        if endpoint.password is None:
            return False
        attributes = {"username": endpoint.user} if endpoint.user else {}
        return self.check(secret, Credential(endpoint.password, attributes))

    @abstractmethod
    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """Make `old` stop working while `keep` goes on working. Idempotent.

        alternate: lock the retired account (`NOLOGIN` or a random password). overlap: remove the
        old password or deactivate the old key.
        """

    def rollback(self, secret: SecretSpec, new: Credential, keep: Credential | None) -> None:  # noqa: B027
        """Undo `apply` for a run that failed before promote: `new` stops working, `keep` works.

        Default: nothing (alternate leaves the idle account with a value nobody holds).
        """

    def reconcile(self, secret: SecretSpec, known: Sequence[Credential]) -> list[str]:
        """Remove issuer-side leftovers not in `known` (an AWS key minted before a crash).

        Returns a description of each thing removed. Default: nothing to do.
        """
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def admin_secret(env: Mapping[str, str], name: str, what: str) -> SecretValue:
    """The admin credential in env var `name`, or an `IssuerError` saying how to provide it."""
    raw = env.get(name)
    if not raw:
        raise IssuerError(
            f"{what}: environment variable {name} is not set", hint=f"export {name}=... (an admin DSN/URL)"
        )
    return SecretValue(raw)
