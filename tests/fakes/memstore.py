"""An in-memory `Store` that follows the ABC's contract exactly (check-and-set included)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from secretops.store.interface import (
    Label,
    SecretState,
    Store,
    StoreConflictError,
    StoredValue,
    StoreNotFoundError,
    Version,
)
from secretops.values import FingerprintKey, SecretValue, fingerprint


class MemStore(Store):
    """Versions and labels in dicts, guarded by one lock."""

    id = "memory"

    def __init__(self, key: FingerprintKey | None = None) -> None:
        self.key = key or FingerprintKey(b"m" * 32)
        self._values: dict[str, dict[int, SecretValue]] = {}
        self._versions: dict[str, dict[int, Version]] = {}
        self._meta: dict[str, tuple[datetime | None, str | None]] = {}
        self._lock = threading.RLock()
        self.calls: list[str] = []

    def _relabel(self, name: str, number: int, add: frozenset[Label], remove: frozenset[Label] = frozenset()) -> None:
        versions = self._versions[name]
        for n, v in list(versions.items()):
            if n != number and v.labels & add:
                versions[n] = replace(v, labels=v.labels - add)
        v = versions[number]
        versions[number] = replace(v, labels=(v.labels | add) - remove)

    def put(
        self,
        name: str,
        value: SecretValue,
        *,
        attributes: Mapping[str, str] | None = None,
        labels: frozenset[Label] = frozenset({Label.PENDING}),
        run_id: str | None = None,
    ) -> Version:
        with self._lock:
            self.calls.append(f"put {name}")
            versions = self._versions.setdefault(name, {})
            values = self._values.setdefault(name, {})
            if Label.PENDING in labels:
                for n, v in list(versions.items()):
                    if Label.PENDING in v.labels:
                        if v.run_id is None or v.run_id != run_id:
                            raise StoreConflictError(f"{name}: version {n} is already pending (run {v.run_id})")
                        versions[n] = replace(v, labels=v.labels - {Label.PENDING})
            number = max(versions, default=0) + 1
            version = Version(
                number=number,
                fingerprint=fingerprint(self.key, value),
                created_at=datetime.now(UTC),
                attributes=dict(attributes or {}),
                run_id=run_id,
            )
            versions[number] = version
            values[number] = value
            self._relabel(name, number, frozenset(labels))
            self._meta.setdefault(name, (None, None))
            return versions[number]

    def get(self, name: str, label: Label = Label.CURRENT) -> StoredValue | None:
        with self._lock:
            for n, v in self._versions.get(name, {}).items():
                if label in v.labels:
                    return StoredValue(v, self._values[name][n])
            return None

    def get_version(self, name: str, number: int) -> StoredValue:
        with self._lock:
            try:
                return StoredValue(self._versions[name][number], self._values[name][number])
            except KeyError:
                raise StoreNotFoundError(f"{name}: no version {number}") from None

    def state(self, name: str) -> SecretState | None:
        with self._lock:
            if name not in self._versions:
                return None
            rotated_at, last_run = self._meta[name]
            versions = tuple(self._versions[name][n] for n in sorted(self._versions[name]))
            return SecretState(name, versions, rotated_at, last_run)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._versions)

    def promote(self, name: str, number: int, *, expected_current: int | None, run_id: str | None = None) -> None:
        with self._lock:
            self.calls.append(f"promote {name} {number}")
            versions = self._versions.get(name)
            if not versions or number not in versions:
                raise StoreNotFoundError(f"{name}: no version {number}")
            current = next((n for n, v in versions.items() if Label.CURRENT in v.labels), None)
            target = versions[number]
            if current == number and Label.PENDING not in target.labels:
                previous = next((n for n, v in versions.items() if Label.PREVIOUS in v.labels), None)
                if previous == expected_current:
                    return  # already promoted: a resumed run converges
            if current != expected_current or Label.PENDING not in target.labels:
                raise StoreConflictError(f"{name}: current is {current}, expected {expected_current}")
            if current is not None:
                self._relabel(name, current, frozenset({Label.PREVIOUS}), frozenset({Label.CURRENT}))
            else:
                for n, v in list(versions.items()):
                    versions[n] = replace(v, labels=v.labels - {Label.PREVIOUS})
            self._relabel(name, number, frozenset({Label.CURRENT}), frozenset({Label.PENDING}))
            self._meta[name] = (datetime.now(UTC), run_id)

    def discard_pending(self, name: str, number: int) -> None:
        with self._lock:
            self.calls.append(f"discard {name} {number}")
            v = self._versions.get(name, {}).get(number)
            if v is not None and Label.PENDING in v.labels:
                self._versions[name][number] = replace(v, labels=v.labels - {Label.PENDING})

    def mark_revoked(self, name: str, number: int) -> None:
        with self._lock:
            self.calls.append(f"revoked {name} {number}")
            v = self._versions[name][number]
            if v.revoked_at is None:
                self._versions[name][number] = replace(v, revoked_at=datetime.now(UTC))

    def set_attributes(
        self, name: str, number: int, attributes: Mapping[str, str], *, run_id: str | None = None
    ) -> Version:
        with self._lock:
            self.calls.append(f"attributes {name} {number}")
            v = self._versions.get(name, {}).get(number)
            if v is None:
                raise StoreNotFoundError(f"{name}: no version {number}")
            if Label.PENDING not in v.labels or (run_id is not None and v.run_id not in (None, run_id)):
                raise StoreConflictError(f"{name}: version {number} is not pending for run {run_id}")
            self._versions[name][number] = replace(v, attributes=dict(attributes))
            return self._versions[name][number]
