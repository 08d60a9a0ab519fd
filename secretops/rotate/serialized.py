"""`SerializedStore`: a `Store` proxy whose calls from several threads (`--concurrency`) run one at a time."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from secretops.store.interface import Label, SecretState, Store, StoredValue, Version
from secretops.values import SecretValue

__all__ = ["SerializedStore"]


class SerializedStore(Store):
    """A `Store` proxy that serializes calls from threads (`--concurrency`) in this process."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.id = inner.id
        self._lock = threading.RLock()

    def put(
        self,
        name: str,
        value: SecretValue,
        *,
        attributes: Mapping[str, str] | None = None,
        labels: frozenset[Label] = frozenset({Label.PENDING}),
        run_id: str | None = None,
    ) -> Version:
        """See `Store.put`."""
        with self._lock:
            return self.inner.put(name, value, attributes=attributes, labels=labels, run_id=run_id)

    def get(self, name: str, label: Label = Label.CURRENT) -> StoredValue | None:
        """See `Store.get`."""
        with self._lock:
            return self.inner.get(name, label)

    def get_version(self, name: str, number: int) -> StoredValue:
        """See `Store.get_version`."""
        with self._lock:
            return self.inner.get_version(name, number)

    def state(self, name: str) -> SecretState | None:
        """See `Store.state`."""
        with self._lock:
            return self.inner.state(name)

    def names(self) -> list[str]:
        """See `Store.names`."""
        with self._lock:
            return self.inner.names()

    def promote(self, name: str, number: int, *, expected_current: int | None, run_id: str | None = None) -> None:
        """See `Store.promote`."""
        with self._lock:
            self.inner.promote(name, number, expected_current=expected_current, run_id=run_id)

    def discard_pending(self, name: str, number: int) -> None:
        """See `Store.discard_pending`."""
        with self._lock:
            self.inner.discard_pending(name, number)

    def mark_revoked(self, name: str, number: int) -> None:
        """See `Store.mark_revoked`."""
        with self._lock:
            self.inner.mark_revoked(name, number)

    def set_attributes(
        self, name: str, number: int, attributes: Mapping[str, str], *, run_id: str | None = None
    ) -> Version:
        """See `Store.set_attributes`."""
        with self._lock:
            return self.inner.set_attributes(name, number, attributes, run_id=run_id)

    def close(self) -> None:
        """See `Store.close`."""
        self.inner.close()
