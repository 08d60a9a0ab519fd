"""The label rules every store shares, applied to a plain, value-free record of one secret.

`LocalStore` and `VaultStore` differ in how they keep a record safe (a file lock, a Vault
check-and-set write), not in what a `put` or a `promote` means: both load a `SecretRecord`,
call one of its methods here, and write it back only if it changed. The record never holds a
value; stores keep values elsewhere (encrypted beside it, or in KV versions).

Every timestamp a store keeps is UTC to the second and written in one ISO 8601 form,
`2026-12-01T21:30:00+00:00` (`stamp`, `iso`), in the record and in Vault's custom metadata alike.
"""

from __future__ import annotations

import logging
import re
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from secretops.store.interface import (
    Label,
    SecretState,
    Store,
    StoreConflictError,
    StoreError,
    StoreNotFoundError,
    Version,
)

__all__ = ["RecordStore", "SecretRecord", "VersionRecord", "check_name", "iso", "stamp"]

log = logging.getLogger(__name__)

# Same shape as `SecretSpec.name`, with no empty, `.` or `..` path segment.
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")


def check_name(name: str) -> str:
    """`name` if it is a valid secret name, else `StoreError` (the name is not secret)."""
    if not isinstance(name, str) or len(name) > 200 or not _NAME.match(name) or ".." in name.split("/"):
        raise StoreError(
            f"invalid secret name {name!r}",
            hint="secret names are lowercase letters, digits, '.', '_', '-', separated by '/'",
        )
    return name


def stamp(moment: datetime) -> datetime:
    """`moment` as stores keep it: UTC, whole seconds (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """The one text form of a stored timestamp: `2026-12-01T21:30:00+00:00`."""
    return stamp(moment).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return stamp(datetime.fromisoformat(value)) if value else None


def _iso(value: datetime | None) -> str | None:
    return iso(value) if value else None


@dataclass(slots=True)
class VersionRecord:
    """Mutable metadata of one version (no value)."""

    number: int
    fingerprint: str
    created_at: datetime
    attributes: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    revoked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "number": self.number,
            "fingerprint": self.fingerprint,
            "created_at": _iso(self.created_at),
            "attributes": dict(self.attributes),
            "run_id": self.run_id,
            "revoked_at": _iso(self.revoked_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VersionRecord:
        """The inverse of `to_json`."""
        created = _dt(data["created_at"])
        assert created is not None
        return cls(
            number=int(data["number"]),
            fingerprint=str(data["fingerprint"]),
            created_at=created,
            attributes={str(k): str(v) for k, v in dict(data.get("attributes") or {}).items()},
            run_id=data.get("run_id"),
            revoked_at=_dt(data.get("revoked_at")),
        )


@dataclass(slots=True)
class SecretRecord:
    """Everything a store knows about one secret except its values, with the label rules."""

    name: str
    versions: list[VersionRecord] = field(default_factory=list)
    labels: dict[Label, int] = field(default_factory=dict)
    rotated_at: datetime | None = None
    last_run_id: str | None = None

    # ------------------------------------------------------------ (de)serialisation

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (no value in it)."""
        return {
            "name": self.name,
            "versions": [v.to_json() for v in self.versions],
            "labels": {label.value: number for label, number in sorted(self.labels.items())},
            "rotated_at": _iso(self.rotated_at),
            "last_run_id": self.last_run_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretRecord:
        """The inverse of `to_json`."""
        return cls(
            name=str(data["name"]),
            versions=[VersionRecord.from_json(v) for v in data.get("versions") or []],
            labels={Label(k): int(v) for k, v in dict(data.get("labels") or {}).items()},
            rotated_at=_dt(data.get("rotated_at")),
            last_run_id=data.get("last_run_id"),
        )

    # ------------------------------------------------------------ queries

    def version(self, number: int) -> VersionRecord | None:
        """The record of version `number`, if the store has it."""
        for v in self.versions:
            if v.number == number:
                return v
        return None

    def require(self, number: int) -> VersionRecord:
        """The record of version `number`, else `StoreNotFoundError`."""
        found = self.version(number)
        if found is None:
            raise StoreNotFoundError(f"secret {self.name!r} has no version {number}")
        return found

    def labels_of(self, number: int) -> frozenset[Label]:
        """The labels version `number` carries."""
        return frozenset(label for label, n in self.labels.items() if n == number)

    def public(self, v: VersionRecord) -> Version:
        """The frozen `Version` the interface hands out."""
        return Version(
            number=v.number,
            fingerprint=v.fingerprint,
            created_at=v.created_at,
            labels=self.labels_of(v.number),
            attributes=dict(v.attributes),
            run_id=v.run_id,
            revoked_at=v.revoked_at,
        )

    def state(self) -> SecretState:
        """The frozen `SecretState` the interface hands out."""
        return SecretState(
            name=self.name,
            versions=tuple(self.public(v) for v in sorted(self.versions, key=lambda v: v.number)),
            rotated_at=self.rotated_at,
            last_run_id=self.last_run_id,
        )

    # ------------------------------------------------------------ changes

    def check_put(self, labels: frozenset[Label], run_id: str | None) -> None:
        """Raise `StoreConflictError` if staging `labels` now would clobber another run's pending."""
        if Label.PENDING not in labels:
            return
        pending = self.labels.get(Label.PENDING)
        if pending is None:
            return
        owner = self.require(pending).run_id
        if run_id is not None and owner == run_id:
            return  # the same run staging again (a resume): its new version replaces the old one
        raise StoreConflictError(
            f"secret {self.name!r} already has pending version {pending} (run {owner or 'unknown'})",
            hint="finish or roll back that rotation first (secretops rotate --resume), or discard its pending version",
        )

    def add(self, version: VersionRecord, labels: frozenset[Label]) -> None:
        """Append `version` and move `labels` onto it (after `check_put`)."""
        if self.version(version.number) is not None:
            raise StoreConflictError(f"secret {self.name!r} already has a version {version.number}")
        self.versions.append(version)
        for label in labels:
            self.labels[label] = version.number

    def promote(self, number: int, expected_current: int | None, run_id: str | None, now: datetime) -> bool:
        """Pending `number` becomes current, the old current previous. False when already done.

        "Already done" means: `number` is current, `expected_current` previous, and the run
        that promoted it is `run_id` (or either run id is unknown). A different run finding the
        promotion done lost a race, and gets `StoreConflictError` like any stale writer.
        """
        self.require(number)
        current = self.labels.get(Label.CURRENT)
        pending = self.labels.get(Label.PENDING)
        previous = self.labels.get(Label.PREVIOUS)
        if current == number and pending != number:
            same_run = run_id is None or self.last_run_id is None or run_id == self.last_run_id
            if previous == expected_current and same_run:
                return False
            raise StoreConflictError(
                f"secret {self.name!r}: version {number} was already promoted"
                + ("" if same_run else f" by run {self.last_run_id}"),
                hint="another rotation got there first; re-read the store state",
            )
        if pending != number:
            raise StoreConflictError(
                f"secret {self.name!r}: version {number} is not pending (pending: {pending})",
                hint="another rotation changed the labels; re-read the store state",
            )
        if current != expected_current:
            raise StoreConflictError(
                f"secret {self.name!r}: current version is {current}, expected {expected_current}",
                hint="another writer changed the current version; re-read the store state",
            )
        del self.labels[Label.PENDING]
        if current is None:
            self.labels.pop(Label.PREVIOUS, None)
        else:
            self.labels[Label.PREVIOUS] = current
        self.labels[Label.CURRENT] = number
        self.rotated_at = stamp(now)
        self.last_run_id = run_id
        return True

    def discard_pending(self, number: int) -> bool:
        """Drop the pending label from `number`. False when it does not carry it."""
        self.require(number)
        if self.labels.get(Label.PENDING) != number:
            return False
        del self.labels[Label.PENDING]
        return True

    def mark_revoked(self, number: int, now: datetime) -> bool:
        """Record that `number` was revoked. False when already recorded."""
        v = self.require(number)
        if v.revoked_at is not None:
            return False
        v.revoked_at = stamp(now)
        return True

    def set_attributes(self, number: int, attributes: Mapping[str, str], run_id: str | None) -> bool:
        """Replace the attributes of pending version `number` (staged by `run_id`). False when unchanged."""
        v = self.require(number)
        if self.labels.get(Label.PENDING) != number:
            raise StoreConflictError(
                f"secret {self.name!r}: version {number} is not pending; only a pending version's attributes change",
                hint="another rotation changed the labels; re-read the store state",
            )
        if run_id is not None and v.run_id is not None and v.run_id != run_id:
            raise StoreConflictError(
                f"secret {self.name!r}: pending version {number} belongs to run {v.run_id}, not {run_id}",
                hint="finish or roll back that rotation first",
            )
        new = {str(k): str(val) for k, val in attributes.items()}
        if new == v.attributes:
            return False
        v.attributes = new
        return True


class RecordStore(Store):
    """A store that keeps one `SecretRecord` per secret and changes it under its own guard.

    Subclasses say how a record is changed safely (`_mutate`: a file lock, a Vault
    check-and-set write); the label operations are the same for every store and live here.
    """

    _clock: Callable[[], datetime]

    @abstractmethod
    def _mutate(self, name: str, change: Callable[[SecretRecord], bool]) -> None:
        """Load the record of `name`, apply `change`, and write it back if it returned True."""

    def promote(self, name: str, number: int, *, expected_current: int | None, run_id: str | None = None) -> None:
        """Check-and-set promote (see `Store.promote`)."""
        now = self._clock()
        self._mutate(name, lambda r: r.promote(number, expected_current, run_id, now))
        log.debug("%s: promoted %s version %d (expected current %s)", self.id, name, number, expected_current)

    def discard_pending(self, name: str, number: int) -> None:
        """Drop the pending label from `number` (no-op if already dropped)."""
        self._mutate(name, lambda r: r.discard_pending(number))

    def mark_revoked(self, name: str, number: int) -> None:
        """Record the revocation time of `number` (idempotent)."""
        now = self._clock()
        self._mutate(name, lambda r: r.mark_revoked(number, now))

    def set_attributes(
        self, name: str, number: int, attributes: Mapping[str, str], *, run_id: str | None = None
    ) -> Version:
        """Replace pending version `number`'s attributes in place (see `Store.set_attributes`)."""
        holder: list[Version] = []

        def change(record: SecretRecord) -> bool:
            changed = record.set_attributes(number, attributes, run_id)
            holder[:] = [record.public(record.require(number))]
            return changed

        self._mutate(name, change)
        return holder[0]
