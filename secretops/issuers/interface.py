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
    "Issuer",
    "IssuerAuthError",
    "IssuerError",
    "IssuerUnavailableError",
    "PlanStep",
]


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
