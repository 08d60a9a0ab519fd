"""Store fixtures: a factory of stores under test (`LocalStore`, `VaultStore` on OpenBao, and
`PostgresStore` on the shared PostgreSQL at 127.0.0.1:5432).

`store_pg` gives each test a fresh schema (a connection URL whose `search_path` points at it) in
one database made for the session, dropped at the end.

The OpenBao dev server itself (`bao_server`, `start_bao`) lives in `tests/store/openbao.py`, a
plugin registered in `tests/conftest.py` so that CLI and engine tests can use it too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from secretops.store import LocalStore, Store, VaultStore
from secretops.values import FingerprintKey
from tests.helpers import port_open, service_unavailable
from tests.store.openbao import BaoServer, start_bao

__all__ = ["FP_KEY", "LOCAL_KEY", "PG_KEY", "BaoServer", "PgStoreDatabase", "start_bao"]

LOCAL_KEY = bytes(range(32))
PG_KEY = bytes(range(32, 64))
FP_KEY = FingerprintKey(b"\x07" * 32)
PG_HOST, PG_PORT = "127.0.0.1", 5432


@dataclass(frozen=True)
class PgStoreDatabase:
    """A database on the shared PostgreSQL made for this session (user `postgres`, trust auth)."""

    name: str

    def url(self, schema: str | None = None, *, user: str = "postgres", password: str | None = None) -> str:
        """A connection URL; with `schema`, its `search_path` is that schema."""
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        url = f"postgresql://{auth}@{PG_HOST}:{PG_PORT}/{self.name}"
        return url + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def admin(self) -> object:
        """An autocommit psycopg connection to this database as `postgres`."""
        import psycopg

        return psycopg.connect(self.url(), autocommit=True, connect_timeout=5)

    def new_schema(self) -> str:
        """A fresh, empty schema's name."""
        schema = f"s_{secrets.token_hex(6)}"
        with self.admin() as conn:  # type: ignore[attr-defined]
            conn.execute(f"CREATE SCHEMA {schema}")
        return schema


@pytest.fixture(scope="session")
def store_pg_database() -> Iterator[PgStoreDatabase]:
    """A uniquely named database on 127.0.0.1:5432, dropped at the end of the session."""
    if not port_open(PG_HOST, PG_PORT):
        service_unavailable(f"PostgreSQL is not listening on {PG_HOST}:{PG_PORT}")
    try:
        import psycopg
    except ImportError:
        service_unavailable("psycopg is not installed (the postgres extra)")
    name = f"secretops_store_test_{secrets.token_hex(4)}"
    admin = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        service_unavailable(f"cannot create a database on {PG_HOST}:{PG_PORT} as postgres: {exc}")
    try:
        yield PgStoreDatabase(name)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def store_pg(store_pg_database: PgStoreDatabase) -> str:
    """The URL of a fresh schema for one test's PostgresStore."""
    return store_pg_database.url(store_pg_database.new_schema())


@pytest.fixture(
    params=[
        "local",
        pytest.param("vault", marks=pytest.mark.vault),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of store instances sharing one backend: call it twice for two racing clients."""
    made: list[Store] = []
    if request.param == "local":

        def make() -> Store:
            store = LocalStore(tmp_path / ".secretops", key=LOCAL_KEY, fingerprint_key=FP_KEY)
            made.append(store)
            return store

    elif request.param == "postgres":
        from secretops.store import PostgresStore

        url: str = request.getfixturevalue("store_pg")

        def make() -> Store:
            store = PostgresStore(url, key=PG_KEY, fingerprint_key=FP_KEY)
            made.append(store)
            return store

    else:
        server: BaoServer = request.getfixturevalue("bao_server")
        settings = server.settings()

        def make() -> Store:
            store = VaultStore(settings, fingerprint_key=FP_KEY)
            made.append(store)
            return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Store:
    """One store under test (LocalStore, VaultStore and PostgresStore in turn)."""
    return store_factory()
