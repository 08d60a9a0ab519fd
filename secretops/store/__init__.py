"""The secret store: the source of truth for values and their rotation state.

`open_store(settings)` picks the implementation: `PostgresStore` when `settings.store`
(`SECRETOPS_STORE`) is a `postgresql://` URL, `VaultStore` when `settings.vault` is set (Vault or
OpenBao KV v2), else the embedded, encrypted `LocalStore` under `settings.state_dir`
(`SECRETOPS_STORE=local` or `vault` forces one). Each is imported on first use: `LocalStore`
needs cryptography (the `rotate` extra), `VaultStore` hvac (the `vault` extra), `PostgresStore`
psycopg (the `postgres` extra); a missing one is a `MissingExtraError` naming the extra.
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
    from secretops.store.postgres import PostgresStore
    from secretops.store.vault import VaultStore

__all__ = [
    "STORES",
    "Label",
    "LocalStore",
    "PostgresStore",
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

#: store id -> (module, class, what needs it). `LocalStore.id`, `VaultStore.id`, `PostgresStore.id`.
_IMPLS: dict[str, tuple[str, str, str]] = {
    "local": ("secretops.store.local", "LocalStore", "the local store"),
    "vault": ("secretops.store.vault", "VaultStore", "the Vault/OpenBao store"),
    "postgres": ("secretops.store.postgres", "PostgresStore", "the PostgreSQL store"),
}

#: URL schemes of `SECRETOPS_STORE` that select `PostgresStore`.
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


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
    """`LocalStore`, `VaultStore`, `PostgresStore`: imported on first use."""
    for store_id, (_module, cls_name, _what) in _IMPLS.items():
        if cls_name == name:
            return _load(store_id)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(settings: Settings) -> Store:
    """The store `settings` point at (see the module docstring); the caller closes it.

    `MissingExtraError` (exit code 2) when its driver is not installed; `ConfigError` for a
    `SECRETOPS_STORE` secretops does not know (not echoed: it may hold a password).
    """
    key = settings.fingerprint_key()
    chosen = settings.store.reveal().strip() if settings.store is not None else ""
    store: Store
    if chosen.lower().startswith(_POSTGRES_SCHEMES):
        postgres: Any = _load("postgres")
        store = postgres(chosen, fingerprint_key=key, vault=settings.vault)
        return store
    if chosen not in ("", "local", "vault"):
        from secretops.errors import ConfigError

        raise ConfigError(
            "SECRETOPS_STORE is not a store secretops knows (its value is not shown: it may hold a password)",
            hint="use a postgresql:// URL (PostgresStore), `vault` (VAULT_ADDR) or `local`; unset picks Vault "
            "when VAULT_ADDR is set, else the local store",
        )
    if chosen == "vault" and settings.vault is None:
        from secretops.errors import ConfigError

        raise ConfigError("SECRETOPS_STORE=vault but no Vault is configured", hint="set VAULT_ADDR (or BAO_ADDR)")
    if settings.vault is not None and chosen != "local":
        vault: Any = _load("vault")
        store = vault(settings.vault, fingerprint_key=key)
        return store
    local: Any = _load("local")
    store = local(settings.state_dir, fingerprint_key=key)
    return store
