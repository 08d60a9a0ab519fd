"""State fixtures: a factory of backends under test (`FileState`, and `PostgresState` on 127.0.0.1:5432).

Every PostgreSQL test gets a schema of its own in one database created for this test module's
session (`pg_state_db`) and dropped at the end: the URL selects the schema through libpq's
`options=-csearch_path=...`, so each test starts from an empty, unmigrated state. Advisory
locks are per database, so tests use secret names of their own (`tag`).

`StateHarness` adds what a contract test needs beyond the interface: more instances on the same
storage (two runners) and ways to tamper with the audit log behind the backend's back.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from secretops.state.interface import StateBackend
from tests.helpers import port_open, service_unavailable

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"

#: Short leases keep the takeover tests fast (the heartbeat runs every third of it).
TEST_LEASE = timedelta(seconds=1.5)


def admin_connect(dbname: str = "postgres", **kwargs: Any) -> Any:
    """An autocommit superuser connection to the shared server (trust auth)."""
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True, connect_timeout=5, **kwargs
    )


@pytest.fixture(scope="module")
def pg_state_db() -> Iterator[str]:
    """A database unique to this test module on the shared server, dropped (with its sessions) at the end."""
    try:
        import psycopg
    except ImportError:
        service_unavailable("psycopg is not installed (the postgres extra)")
    if not port_open(PG_HOST, PG_PORT):
        service_unavailable(f"PostgreSQL is not listening on {PG_HOST}:{PG_PORT}")
    name = f"secretops_state_test_{secrets.token_hex(4)}"
    try:
        with admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        service_unavailable(f"cannot create a database as {PG_USER} on {PG_HOST}:{PG_PORT}: {exc}")
    try:
        yield name
    finally:
        with admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class PgSchema:
    """One test's schema in `pg_state_db`: its state URL, and an admin connection set to it."""

    dbname: str
    schema: str
    _admin: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The state URL: `postgresql://postgres@127.0.0.1:5432/<db>?options=-csearch_path%3D<schema>`."""
        options = quote(f"-csearch_path={self.schema}", safe="")
        return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.dbname}?options={options}"

    def admin(self) -> Any:
        """A superuser connection whose search_path is this schema (kept open for the test)."""
        if self._admin is None:
            self._admin = admin_connect(self.dbname, options=f"-csearch_path={self.schema}")
        return self._admin

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of `sql` run as the superuser in this schema."""
        cur = self.admin().execute(sql, params)
        return cur.fetchall() if cur.description else []

    def tamper(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run `sql` with triggers off (`session_replication_role = replica`), as an attacker with superuser would."""
        conn = self.admin()
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(sql, params)

    def close(self) -> None:
        """Close the admin connection."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None


@pytest.fixture
def pg_schema(pg_state_db: str) -> Iterator[PgSchema]:
    """A fresh, empty schema for one test (dropped afterwards)."""
    schema = PgSchema(pg_state_db, f"t_{secrets.token_hex(4)}")
    with admin_connect(pg_state_db) as conn:
        conn.execute(f'CREATE SCHEMA "{schema.schema}"')
    try:
        yield schema
    finally:
        schema.close()
        with admin_connect(pg_state_db) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema.schema}" CASCADE')


@dataclass
class StateHarness:
    """Backends sharing one storage, plus audit tampering, for the contract suite."""

    kind: str
    make: Callable[..., StateBackend]
    tamper_detail: Callable[[int, str, object], None]
    remove_entry: Callable[[int], None]
    swap_entries: Callable[[int, int], None]


def _file_harness(root: Path, made: list[StateBackend]) -> StateHarness:
    from secretops.state.files import FileState

    audit = root / "journal" / "audit.jsonl"

    def make(**kwargs: Any) -> StateBackend:
        state = FileState(root, **kwargs)
        made.append(state)
        return state

    def lines() -> list[str]:
        return audit.read_text().splitlines()

    def write(new: list[str]) -> None:
        audit.write_text("".join(line + "\n" for line in new))

    def tamper_detail(seq: int, key: str, value: object) -> None:
        rows = lines()
        obj = json.loads(rows[seq - 1])
        obj["detail"][key] = value
        rows[seq - 1] = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        write(rows)

    def remove_entry(seq: int) -> None:
        rows = lines()
        del rows[seq - 1]
        write(rows)

    def swap_entries(a: int, b: int) -> None:
        rows = lines()
        rows[a - 1], rows[b - 1] = rows[b - 1], rows[a - 1]
        write(rows)

    return StateHarness("files", make, tamper_detail, remove_entry, swap_entries)


def _pg_harness(schema: PgSchema, made: list[StateBackend]) -> StateHarness:
    from psycopg.types.json import Jsonb

    from secretops.state.postgres import PostgresState

    def make(**kwargs: Any) -> StateBackend:
        kwargs.setdefault("lease", TEST_LEASE)
        state = PostgresState(schema.url, **kwargs)
        made.append(state)
        return state

    def tamper_detail(seq: int, key: str, value: object) -> None:
        schema.tamper("UPDATE secretops_audit SET detail = detail || %s WHERE seq = %s", (Jsonb({key: value}), seq))

    def remove_entry(seq: int) -> None:
        schema.tamper("DELETE FROM secretops_audit WHERE seq = %s", (seq,))

    def swap_entries(a: int, b: int) -> None:
        # Row by row: a primary key is checked at each row, so a one-statement swap would collide.
        parked = 10**9
        for old, new in ((a, parked), (b, a), (parked, b)):
            schema.tamper("UPDATE secretops_audit SET seq = %s WHERE seq = %s", (new, old))

    return StateHarness("postgresql", make, tamper_detail, remove_entry, swap_entries)


@pytest.fixture(params=["files", pytest.param("postgresql", marks=pytest.mark.postgres)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateHarness]:
    """A harness over one storage: `FileState` under tmp_path, `PostgresState` in a fresh schema."""
    made: list[StateBackend] = []
    if request.param == "files":
        try:
            built = _file_harness(tmp_path / ".secretops", made)
        except ImportError as exc:
            pytest.skip(f"FileState is not importable yet: {exc}")
    else:
        built = _pg_harness(request.getfixturevalue("pg_schema"), made)
    yield built
    for state in made:
        with contextlib.suppress(Exception):
            state.close()


@pytest.fixture
def state(harness: StateHarness) -> StateBackend:
    """One backend under test (FileState and PostgresState in turn)."""
    return harness.make()


@pytest.fixture
def tag() -> str:
    """A suffix for secret names unique to this test (advisory locks are per database)."""
    return secrets.token_hex(3)
