"""The PostgreSQL state backend (`SECRETOPS_STATE=postgresql://...`), for several runners at once.

Runs, their step journals, per-secret leases and the audit log live in `secretops_*` tables
(the schema is `secretops.state.migrations`, applied on first use or by `secretops state
migrate`). Steps and audit entries are append-only: the code only inserts them, and triggers
refuse UPDATE, DELETE and TRUNCATE. No value is ever stored: step and audit details are plain
scalars (`TypeError` otherwise, as for the file journal).

Exclusivity per secret is `secretops.state.pg_lease.PgLease` (a session advisory lock plus a
lease row renewed by a heartbeat); `alive(secret)` is true while some runner holds the lock or
its lease row has not expired on the database's clock. The audit log is
`secretops.state.pg_audit.PgAuditLog`, the same hash chain as the local file.

psycopg (the `postgres` extra) is imported when the state first connects, not when this
module is imported. Each thread that uses the state has its own connection; each held lease
has its own too (a session released cleanly serves the next lease: `pg_lease.LeaseSessions`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from secretops.audit.interface import AuditLog
from secretops.errors import RotationError
from secretops.extras import require
from secretops.rotate.journal import _check as check_detail
from secretops.state.interface import (
    DEFAULT_LEASE,
    Entry,
    LeaseLostError,
    MigrationReport,
    RunLog,
    RunRecord,
    SecretLease,
    StateBackend,
    StateSchemaError,
)
from secretops.state.migrations import LATEST, MIGRATIONS
from secretops.state.pg_audit import PgAuditLog
from secretops.state.pg_conn import (
    StateAuthError,
    StateUnavailableError,
    advisory_key,
    connect,
    storable,
    translating,
    where,
)
from secretops.state.pg_lease import LeaseSessions, PgLease, lease_key

if TYPE_CHECKING:
    import psycopg

__all__ = ["LeaseInfo", "PostgresState", "StateAuthError", "StateUnavailableError"]

log = logging.getLogger(__name__)

_MIGRATE_KEY = advisory_key("migrate")

#: Seconds a connection may sit idle before it is probed again on reuse.
_PROBE_AFTER = 10.0

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS secretops_schema_version (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""

_STEP_COLUMNS = "s.run_id, s.secret, s.ts, s.step, s.status, s.target, s.detail"
_RUNS = f"SELECT {_STEP_COLUMNS} FROM secretops_steps s JOIN secretops_runs r USING (run_id)"  # noqa: S608
_LOAD = f"SELECT {_STEP_COLUMNS} FROM secretops_steps s WHERE s.run_id = %s ORDER BY s.id"  # noqa: S608

# A lease row not yet expired, or the advisory lock held by some session of this database.
_ALIVE = """
SELECT EXISTS (SELECT 1 FROM secretops_leases WHERE secret = %(secret)s AND expires_at > now())
    OR EXISTS (
        SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = %(hi)s::bigint::oid AND objid = %(lo)s::bigint::oid
    )
"""


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """One lease row, for `secretops state show`: who holds which secret until when (db clock)."""

    secret: str
    holder: str
    run_id: str | None
    acquired_at: datetime
    expires_at: datetime
    expires_in: float  # seconds left on the database's clock (negative once expired)

    @property
    def expired(self) -> bool:
        """Whether the lease row has expired (another runner may take the secret once its lock is free)."""
        return self.expires_in <= 0


def _runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _entry(row: tuple[Any, ...]) -> Entry:
    run_id, secret, ts, step, status, target, detail = row
    return Entry(ts.astimezone(UTC), run_id, secret, step, status, target, dict(detail or {}))


def _records(rows: list[tuple[Any, ...]]) -> list[RunRecord]:
    """Rows ordered by run then step id, grouped into records (in the same order)."""
    out: list[RunRecord] = []
    current: list[Entry] = []
    for row in rows:
        entry = _entry(row)
        if current and current[0].run != entry.run:
            out.append(RunRecord(current[0].run, current[0].secret, tuple(current)))
            current = []
        current.append(entry)
    if current:
        out.append(RunRecord(current[0].run, current[0].secret, tuple(current)))
    return out


class PgRunLog(RunLog):
    """The journal of one run, as rows of `secretops_steps`.

    A step's closing line (`done` or `skipped`) is held back and written in the same statement
    as the run's next line, which comes before anything else happens to the world (the next
    step's `start`, or the run's outcome): one durable commit fewer per step. A runner that dies
    in between leaves that step `start`ed only, as if it had died just after the step's action,
    and the resume redoes it (each step first checks whether it is already done). Every other
    line is written before `append` returns; `record()` and `flush()` write what is held back.
    """

    def __init__(self, state: PostgresState, run_id: str, secret: str) -> None:
        self.run_id = run_id
        self.secret = secret
        self._state = state
        self._held_back: list[Entry] = []

    def _entry(self, step: str, status: str, target: str | None, detail: dict[str, Any]) -> Entry:
        clean = check_detail(detail)
        storable("journal entry", step, status, target, clean)
        return Entry(self._state.now(), self.run_id, self.secret, step, status, target, clean)

    def append(self, step: str, status: str, *, target: str | None = None, **detail: Any) -> Entry:
        """Insert one step row (committed before returning, or with the next line when it closes a step).

        Details must be plain scalars or lists of them.
        """
        entry = self._entry(step, status, target, detail)
        if status in _CLOSING and step != "run":
            self._held_back.append(entry)
            return entry
        self._state._insert_steps([*self._held_back, entry])
        self._held_back.clear()
        return entry

    def flush(self) -> None:
        """Write the closing line held back, if any."""
        if self._held_back:
            self._state._insert_steps(list(self._held_back))
            self._held_back.clear()

    def record(self) -> RunRecord:
        """This run's events as they stand now."""
        self.flush()
        return self._state.load(self.run_id)

    def append_guarded(
        self, lease: SecretLease, step: str, status: str, *, target: str | None = None, **detail: Any
    ) -> Entry:
        """Insert one step row only while `lease` (this state's, on this run's secret) holds.

        One statement on the lease's own session (`PgLease.write_guarded`): the lease check and
        the journal line (with the previous step's closing line) are atomic, and a round trip
        cheaper than `check` then `append`. When the lease is lost, the closing line held back
        is still written (that step did finish), then `LeaseLostError`. Any other lease goes the
        default way.
        """
        if (
            not isinstance(lease, PgLease)
            or lease.secret != self.secret
            or self._state._held.get(self.secret) is not lease
        ):
            return super().append_guarded(lease, step, status, target=target, **detail)
        entry = self._entry(step, status, target, detail)
        entries = [*self._held_back, entry]
        self._state.ensure_schema()
        try:
            lease.write_guarded(
                _guarded_steps(len(entries)), _step_params(entries), f"journal step {step} of run {self.run_id}"
            )
        except LeaseLostError:
            self.flush()
            raise
        self._held_back.clear()
        return entry


#: Statuses that close a step: their line may wait for the run's next line.
_CLOSING = frozenset({"done", "skipped"})

_STEP_ROW = (
    "(%(o{i})s::int, %(r{i})s::text, %(t{i})s::timestamptz, %(s{i})s::text,"
    " %(p{i})s::text, %(st{i})s::text, %(g{i})s::text, %(d{i})s::jsonb)"
)


def _step_params(entries: list[Entry]) -> dict[str, Any]:
    from psycopg.types.json import Jsonb

    params: dict[str, Any] = {}
    for i, e in enumerate(entries):
        params.update(
            {
                f"o{i}": i,
                f"r{i}": e.run,
                f"t{i}": e.ts,
                f"s{i}": e.secret,
                f"p{i}": e.step,
                f"st{i}": e.status,
                f"g{i}": e.target,
                f"d{i}": Jsonb(dict(e.detail)),
            }
        )
    return params


def _step_rows(n: int) -> str:
    return ", ".join(_STEP_ROW.format(i=i) for i in range(n))


def _plain_steps(n: int) -> str:
    """`n` step rows in one insert, in order."""
    return (
        "INSERT INTO secretops_steps (run_id, ts, secret, step, status, target, detail) "  # noqa: S608
        f"SELECT r, t, s, p, st, g, d FROM (VALUES {_step_rows(n)}) AS v (o, r, t, s, p, st, g, d) ORDER BY o"
    )


def _guarded_steps(n: int) -> str:
    """`n` step rows, written only while the lease row names its holder, unexpired (`PgLease.write_guarded`)."""
    return (
        "INSERT INTO secretops_steps (run_id, ts, secret, step, status, target, detail) "  # noqa: S608
        f"SELECT r, t, s, p, st, g, d FROM (VALUES {_step_rows(n)}) AS v (o, r, t, s, p, st, g, d) "
        "WHERE EXISTS (SELECT 1 FROM secretops_leases WHERE secret = %(lease_secret)s "
        "AND holder = %(lease_holder)s AND expires_at > now()) ORDER BY o"
    )


class PostgresState(StateBackend):
    """Runs, steps, leases and the audit log in one PostgreSQL database, shared by many runners.

    `url` is a libpq connection string (`postgresql://user:<password>@host:5432/dbname`, or
    `key=value` pairs); the password never appears in `describe()` or in any error. `clock`
    stamps journal and audit entries (lease expiry always uses the database's clock); `lease`
    is how long a lease outlives its last heartbeat (renewed every third of it).
    """

    name = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("the lease must be a positive duration")
        require(["psycopg"], "the PostgreSQL state (SECRETOPS_STATE=postgresql://...)")
        self._url = url
        self.lease = lease
        self.runner = _runner_id()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._ready_checked = False
        self._held: dict[str, PgLease] = {}
        self._audit: PgAuditLog | None = None
        # One connection per thread that uses the state (`--concurrency N` runs N at once): each
        # journal line is a durable commit, and commits from several sessions are flushed
        # together, where one shared connection would queue every run's steps behind each other.
        self._local = threading.local()
        self._opened: list[psycopg.Connection[Any]] = []
        self._lease_sessions = LeaseSessions()

    @property
    def _conn(self) -> psycopg.Connection[Any] | None:
        """This thread's connection, if it has one."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        return conn

    def _drop(self, conn: psycopg.Connection[Any]) -> None:
        conn.close()
        with self._lock:
            if conn in self._opened:
                self._opened.remove(conn)
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    # ------------------------------------------------------------ plumbing

    def now(self) -> datetime:
        """The state's clock (for entry timestamps), in UTC."""
        return self._clock().astimezone(UTC)

    def describe(self) -> str:
        """`postgresql://user:***@host:port/dbname`: where the state is, without the password."""
        return where(self._url)

    def __repr__(self) -> str:
        return f"PostgresState({self.describe()!r}, lease={self.lease})"

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection; reconnects when its last one broke.

        A connection idle for a while (`secretops serve` between ticks) is probed first, so a
        server restart or an idle-session timeout in between costs a reconnect, not an error.
        """
        slot = self._local
        conn: psycopg.Connection[Any] | None = getattr(slot, "conn", None)
        if conn is not None and time.monotonic() - getattr(slot, "used", 0.0) > _PROBE_AFTER:
            conn = self._probe(conn)
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                self._drop(conn)
            conn = connect(self._url)
            slot.conn = conn
            with self._lock:
                self._opened.append(conn)
        try:
            yield conn
        finally:
            slot.used = time.monotonic()
            if conn.broken:
                self._drop(conn)

    def _probe(self, conn: psycopg.Connection[Any]) -> psycopg.Connection[Any] | None:
        import psycopg

        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            log.debug("state connection to %s went away while idle; reconnecting", self.describe())
            self._drop(conn)
            return None
        return conn

    @contextmanager
    def _ready(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection, once the schema is known to be current (migrating on first use)."""
        self.ensure_schema()
        with self._connection() as conn:
            yield conn

    def ensure_schema(self) -> None:
        """Migrate on first use; `StateSchemaError` when the database is newer than this secretops."""
        if self._ready_checked:
            return
        with self._lock:
            if self._ready_checked:
                return
            version = self.schema_version()
            if version > LATEST:
                raise self._newer(version)
            if version < LATEST:
                self.migrate()
            self._ready_checked = True

    def close(self) -> None:
        """Release every lease this state holds, then its connection (idempotent)."""
        for lease in list(self._held.values()):
            lease.release()
        self._lease_sessions.close()
        self._lease_sessions = LeaseSessions()
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------ schema

    def schema_version(self) -> int:
        """The newest migration applied (0 before the first)."""
        with self._connection() as conn, translating(self._url, "read the schema version", StateSchemaError):
            return self._version(conn)

    @staticmethod
    def _version(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT to_regclass('secretops_schema_version') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return 0
        row = conn.execute("SELECT coalesce(max(version), 0) FROM secretops_schema_version").fetchone()
        return int(row[0]) if row is not None else 0

    def _newer(self, version: int) -> StateSchemaError:
        return StateSchemaError(
            f"the state database {self.describe()} is at schema {version}, newer than this secretops knows ({LATEST})",
            hint="upgrade secretops (a newer version migrated this state; every runner sharing it must upgrade)",
        )

    def migrate(self) -> MigrationReport:
        """Apply pending migrations in one transaction, under an advisory lock (safe to race).

        The lock is a session lock taken *before* the transaction begins: a backend that waited
        for it inside a transaction could still see its cached "no such table" from before the
        wait (catalog invalidations are processed at transaction start), and fail with
        "relation already exists" on the tables the other runner had just committed.
        """
        with self._connection() as conn, translating(self._url, "migrate the state schema", StateSchemaError):
            # Two runners migrating at once: the second waits here, then finds nothing to do.
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_KEY,))
            try:
                with conn.transaction():
                    before = self._version(conn)
                    if before > LATEST:
                        raise self._newer(before)
                    if before == 0:
                        conn.execute(_VERSION_TABLE)
                    applied: list[str] = []
                    for migration in MIGRATIONS:
                        if migration.version <= before:
                            continue
                        conn.execute(migration.sql)
                        conn.execute(
                            "INSERT INTO secretops_schema_version (version, name) VALUES (%s, %s)",
                            (migration.version, migration.name),
                        )
                        applied.append(migration.label)
            finally:
                if not conn.broken:  # a broken session has lost the lock already
                    conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_KEY,))
        if applied:
            log.info("state %s migrated from schema %d to %d", self.describe(), before, LATEST)
        self._ready_checked = True
        return MigrationReport(self.name, before, LATEST, tuple(applied))

    # ------------------------------------------------------------ runs and steps

    def start_run(self, run_id: str, secret: str) -> RunLog:
        """Record run `run_id` of `secret` (once), and tag our lease on `secret` with it."""
        storable("run", run_id, secret)
        with self._ready() as conn, translating(self._url, f"start run {run_id}"):
            row = conn.execute(
                "INSERT INTO secretops_runs (run_id, secret, started_at, runner) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (run_id) DO NOTHING RETURNING secret",
                (run_id, secret, self.now(), self.runner),
            ).fetchone()
            if row is None:  # a resumed run: it keeps its row, and must be of the same secret
                row = conn.execute("SELECT secret FROM secretops_runs WHERE run_id = %s", (run_id,)).fetchone()
            if row is not None and row[0] != secret:
                raise RotationError(
                    f"run {run_id!r} belongs to secret {row[0]!r}, not {secret!r}",
                    hint="list runs with: secretops history",
                )
            lease = self._held.get(secret)
            if lease is not None:
                conn.execute(
                    "UPDATE secretops_leases SET run_id = %s WHERE secret = %s AND holder = %s",
                    (run_id, secret, lease.holder),
                )
        return PgRunLog(self, run_id, secret)

    def _insert_steps(self, entries: list[Entry]) -> None:
        """Insert `entries` in order, in one statement (one commit)."""
        if len(entries) == 1:
            from psycopg.types.json import Jsonb

            e = entries[0]
            sql = (
                "INSERT INTO secretops_steps (run_id, ts, secret, step, status, target, detail) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)"
            )
            params: Any = (e.run, e.ts, e.secret, e.step, e.status, e.target, Jsonb(dict(e.detail)))
        else:
            sql, params = _plain_steps(len(entries)), _step_params(entries)
        last = entries[-1]
        with self._ready() as conn, translating(self._url, f"journal step {last.step} of run {last.run}"):
            conn.execute(sql, params)

    def runs(self, secret: str | None = None) -> list[RunRecord]:
        """Every run with at least one event (of `secret`, if given), oldest first (by run id)."""
        query = _RUNS
        params: tuple[Any, ...] = ()
        if secret is not None:
            query += " WHERE r.secret = %s"
            params = (secret,)
        query += ' ORDER BY s.run_id COLLATE "C", s.id'
        with self._ready() as conn, translating(self._url, "list runs"):
            rows = conn.execute(query, params).fetchall()
        return _records(rows)

    def load(self, run_id: str) -> RunRecord:
        """One run by id; `RotationError` with a hint to `secretops history` when unknown."""
        with self._ready() as conn, translating(self._url, f"read run {run_id}"):
            rows = conn.execute(_LOAD, (run_id,)).fetchall()
        records = _records(rows)
        if not records:
            raise RotationError(f"no run {run_id!r} in the state", hint="list runs with: secretops history")
        return records[0]

    def count_runs(self) -> int:
        """How many runs the state holds (for `secretops state show`)."""
        with self._ready() as conn, translating(self._url, "count runs"):
            row = conn.execute(
                "SELECT count(*) FROM secretops_runs r WHERE EXISTS "
                "(SELECT 1 FROM secretops_steps s WHERE s.run_id = r.run_id)"
            ).fetchone()
        return int(row[0]) if row is not None else 0

    # ------------------------------------------------------------ exclusivity

    def alive(self, secret: str) -> bool:
        """Whether some runner holds `secret`: its advisory lock is held, or its lease row has not expired."""
        key = lease_key(secret)
        params = {"secret": secret, "hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF}
        with self._ready() as conn, translating(self._url, f"check whether {secret!r} is held"):
            row = conn.execute(_ALIVE, params).fetchone()
        return bool(row and row[0])

    def claim_once(self, kind: str, key: str) -> bool:
        """See `StateBackend.claim_once`: one row per `(kind, key)`, the first insert wins."""
        storable("once", kind, key)
        with self._ready() as conn, translating(self._url, f"claim {kind}"):
            row = conn.execute(
                "INSERT INTO secretops_once (kind, key, runner) VALUES (%s, %s, %s) "
                "ON CONFLICT (kind, key) DO NOTHING RETURNING 1",
                (kind, key, self.runner),
            ).fetchone()
        return row is not None

    def exclusive(self, secret: str) -> SecretLease:
        """A lease on `secret` (not yet acquired), on a connection of its own."""
        return PgLease(
            self._url,
            secret,
            self.lease,
            ready=self.ensure_schema,
            on_change=self._lease_changed,
            pool=self._lease_sessions,
        )

    def _lease_changed(self, lease: PgLease, held: bool) -> None:
        with self._lock:
            if held:
                self._held[lease.secret] = lease
            elif self._held.get(lease.secret) is lease:
                del self._held[lease.secret]

    def leases(self) -> list[LeaseInfo]:
        """Every lease row, expired or not (the database's clock decides `expired`)."""
        with self._ready() as conn, translating(self._url, "list leases"):
            rows = conn.execute(
                "SELECT secret, holder, run_id, acquired_at, expires_at, extract(epoch FROM expires_at - now()) "
                'FROM secretops_leases ORDER BY secret COLLATE "C"'
            ).fetchall()
        return [LeaseInfo(r[0], r[1], r[2], r[3].astimezone(UTC), r[4].astimezone(UTC), float(r[5])) for r in rows]

    # ------------------------------------------------------------ audit

    def audit(self) -> AuditLog:
        """The hash-chained audit log in `secretops_audit`."""
        if self._audit is None:
            self._audit = PgAuditLog(self._url, self._ready, clock=self._clock)
        return self._audit
