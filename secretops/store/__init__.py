"""The secret store: the source of truth for values and their rotation state.

`open_store(settings)` picks the implementation: `VaultStore` when `settings.vault` is set
(Vault or OpenBao KV v2), else the embedded, encrypted `LocalStore` under `settings.state_dir`.
Both are imported on first use: `LocalStore` needs cryptography (the `rotate` extra), `VaultStore`
hvac (the `vault` extra); a missing one is a `MissingExtraError` naming the extra.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from secretops.extras import import_optional
from secretops.settings import Settings
from secretops.store.interface import (
    Label,
    SecretState,
    Store,
    StoreAuthError,
    StoreConflictError,
    StoredValue,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
    Version,
)

if TYPE_CHECKING:
    from secretops.store.local import LocalStore
    from secretops.store.vault import VaultStore

__all__ = [
    "STORES",
    "Label",
    "LocalStore",
    "SecretState",
    "Store",
    "StoreAuthError",
    "StoreConflictError",
    "StoreError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "StoredValue",
    "VaultStore",
    "Version",
    "open_store",
]

#: store id -> (module, class, what needs it). `LocalStore.id` and `VaultStore.id`.
_IMPLS: dict[str, tuple[str, str, str]] = {
    "local": ("secretops.store.local", "LocalStore", "the local store"),
    "vault": ("secretops.store.vault", "VaultStore", "the Vault/OpenBao store"),
}


def _load(store_id: str) -> type[Store]:
    module, name, what = _IMPLS[store_id]
    cls: type[Store] = getattr(import_optional(module, what), name)
    return cls


class _Registry(Mapping[str, "type[Store]"]):
    """`STORES`: id -> implementation, importing each on first access."""

    def __getitem__(self, store_id: str) -> type[Store]:
        return _load(store_id)

    def __iter__(self) -> Iterator[str]:
        return iter(_IMPLS)

    def __len__(self) -> int:
        return len(_IMPLS)


STORES: Mapping[str, type[Store]] = _Registry()


def __getattr__(name: str) -> Any:
    """`LocalStore`, `VaultStore`: imported on first use."""
    for store_id, (_module, cls_name, _what) in _IMPLS.items():
        if cls_name == name:
            return _load(store_id)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(settings: Settings) -> Store:
    """The store `settings` point at: `VaultStore` if `settings.vault` is set, else `LocalStore`.

    `MissingExtraError` (exit code 2) when its driver is not installed.
    """
    key = settings.fingerprint_key()
    if settings.vault is not None:
        vault: Any = _load("vault")
        store: Store = vault(settings.vault, fingerprint_key=key)
        return store
    local: Any = _load("local")
    store = local(settings.state_dir, fingerprint_key=key)
    return store
