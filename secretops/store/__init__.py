"""The secret store: the source of truth for values and their rotation state.

`open_store(settings)` picks the implementation: `VaultStore` when `settings.vault` is set
(Vault or OpenBao KV v2), else the embedded, encrypted `LocalStore` under `settings.state_dir`.
"""

from __future__ import annotations

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

STORES: dict[str, type[Store]] = {
    LocalStore.id: LocalStore,
    VaultStore.id: VaultStore,
}


def open_store(settings: Settings) -> Store:
    """The store `settings` point at: `VaultStore` if `settings.vault` is set, else `LocalStore`."""
    key = settings.fingerprint_key()
    if settings.vault is not None:
        return VaultStore(settings.vault, fingerprint_key=key)
    return LocalStore(settings.state_dir, fingerprint_key=key)
