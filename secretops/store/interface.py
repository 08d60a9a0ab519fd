"""The `Store` seam: versioned values with labels, and rotation metadata without values.

A secret's history is a list of versions. Labels move between versions: a rotation stages a
new version as `pending`; `promote` makes it `current` and the old current `previous`, in one
check-and-set step, so two writers cannot both promote. Metadata (`Version`, `SecretState`)
carries fingerprints and attributes (non-secret parts such as a username or an access key id),
never a value; only `StoredValue.value` holds one, as a `SecretValue`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from secretops.errors import AuthError, StoreError, UnavailableError
from secretops.values import SecretValue

__all__ = [
    "Label",
    "SecretState",
    "Store",
    "StoreAuthError",
    "StoreConflictError",
    "StoreError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "StoredValue",
    "Version",
]


class Label(StrEnum):
    """Where a version stands in the rotation lifecycle. At most one version carries each label."""

    PENDING = "pending"
    CURRENT = "current"
    PREVIOUS = "previous"


class StoreConflictError(StoreError):
    """A check-and-set failed: someone else changed the labels first. Re-read and retry."""


class StoreNotFoundError(StoreError):
    """No such secret or version."""


class StoreAuthError(StoreError, AuthError):
    """The store refused our credentials or our permissions (exit code 3)."""


class StoreUnavailableError(StoreError, UnavailableError):
    """The store cannot be reached, or is sealed (exit code 4)."""


@dataclass(frozen=True, slots=True)
class Version:
    """One version's metadata. `revoked_at` is set once the value was revoked at the issuer."""

    number: int
    fingerprint: str
    created_at: datetime
    labels: frozenset[Label] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    run_id: str | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A version with its value."""

    version: Version
    value: SecretValue


@dataclass(frozen=True, slots=True)
class SecretState:
    """Everything the store knows about a secret except values."""

    name: str
    versions: tuple[Version, ...]
    rotated_at: datetime | None = None
    last_run_id: str | None = None

    def labelled(self, label: Label) -> Version | None:
        """The version carrying `label`, if any."""
        for version in self.versions:
            if label in version.labels:
                return version
        return None


class Store(ABC):
    """Versioned secret values with labels. Implementations: `LocalStore`, `VaultStore`.

    Every method that changes state is atomic; the label methods are check-and-set on the
    version numbers they are given.
    """

    id: str

    @abstractmethod
    def put(
        self,
        name: str,
        value: SecretValue,
        *,
        attributes: Mapping[str, str] | None = None,
        labels: frozenset[Label] = frozenset({Label.PENDING}),
        run_id: str | None = None,
    ) -> Version:
        """Add a new version holding `value` and give it `labels` (moved from older versions).

        Staging a pending version when another version is already pending raises
        `StoreConflictError` unless that version belongs to the same `run_id` (then it is replaced).
        `labels={Label.CURRENT}` is for adopting an existing value (`store import`).
        """

    @abstractmethod
    def get(self, name: str, label: Label = Label.CURRENT) -> StoredValue | None:
        """The version carrying `label` with its value, or None."""

    @abstractmethod
    def get_version(self, name: str, number: int) -> StoredValue:
        """A version by number with its value (`StoreNotFoundError` if absent)."""

    @abstractmethod
    def state(self, name: str) -> SecretState | None:
        """Metadata of every version of `name`, or None if the store has never seen it."""

    @abstractmethod
    def names(self) -> list[str]:
        """Every secret name the store holds, sorted."""

    @abstractmethod
    def promote(self, name: str, number: int, *, expected_current: int | None, run_id: str | None = None) -> None:
        """Make version `number` (the pending one) current, and the old current previous.

        Check-and-set: raises `StoreConflictError` unless the current version is still
        `expected_current` (None: no current version) and `number` is still pending. Calling it
        again after it succeeded (same `number` already current, `expected_current` previous)
        is a no-op, so a resumed run converges. Records `rotated_at` and `last_run_id`.
        """

    @abstractmethod
    def discard_pending(self, name: str, number: int) -> None:
        """Drop the pending label from version `number` (rollback). No-op if already dropped."""

    @abstractmethod
    def mark_revoked(self, name: str, number: int) -> None:
        """Record that version `number` was revoked at the issuer. Idempotent."""

    @abstractmethod
    def set_attributes(
        self, name: str, number: int, attributes: Mapping[str, str], *, run_id: str | None = None
    ) -> Version:
        """Replace the attributes of pending version `number` in place; its value and number stay.

        For what an issuer decides while applying a staged value (the account `alternate` reset,
        a key id), so one rotation stages exactly one version. Raises `StoreConflictError` unless
        `number` is pending (and staged by `run_id`, when both are known). Idempotent.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
