"""The audit log in PostgreSQL: the local log's SHA-256 hash chain, one row per entry.

Each row of `secretops_audit` holds the fields of a `secretops.audit.local` line (`seq`, `ts`,
`action`, `user`, `secret`, `detail`, `prev`, `hash`) with the same meaning: `hash` is the
SHA-256 of the entry's canonical JSON without `hash`, and `prev` the SHA-256 of the previous
entry's canonical line (64 zeros for the first). `secretops_audit_head` holds the last `seq`
and line hash, as `audit.head` does. So `verify` finds an altered row (its own hash), a removed
or reordered one (`seq` and `prev`), and rows cut off the end (the head), exactly as for the
file. Appends are serialised by a transaction-level advisory lock, so `seq` has no gaps.

The detail goes through the server's `jsonb` once before it is hashed: the hash covers the
detail as PostgreSQL will give it back (numbers and key order normalised), so reading it
later reproduces the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from secretops.audit.interface import ACTIONS, AuditEntry, AuditError, AuditLog, AuditVerdict, check_detail
from secretops.audit.local import GENESIS, _canonical, _self_hash, line_hash
from secretops.state.pg_conn import advisory_key, storable, translating
from secretops.store.access_log import current_user

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgAuditLog"]

_APPEND_KEY = advisory_key("audit-append")

_COLUMNS = 'seq, ts, action, "user", secret, detail, prev, hash'
_LAST = f"SELECT {_COLUMNS} FROM secretops_audit ORDER BY seq DESC LIMIT 1"  # noqa: S608 - constants only
_ALL = f"SELECT {_COLUMNS} FROM secretops_audit ORDER BY seq"  # noqa: S608 - constants only
_INSERT = f"INSERT INTO secretops_audit ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608


def _obj(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row as the canonical JSON object the local log writes (with `hash`)."""
    seq, ts, action, user, secret, detail, prev, digest = row
    return {
        "seq": seq,
        "ts": ts.astimezone(UTC).isoformat(),
        "action": action,
        "user": user,
        "secret": secret,
        "detail": detail,
        "prev": prev,
        "hash": digest,
    }


class PgAuditLog(AuditLog):
    """The hash-chained audit log of a `PostgresState`."""

    def __init__(
        self,
        url: str,
        connection: Callable[[], Any],
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._url = url
        self._connection = connection  # a context manager yielding the state's locked connection
        self._clock = clock

    def append(self, action: str, *, secret: str | None = None, **detail: object) -> AuditEntry:
        """Append one entry in one transaction (committed before returning), after the last one."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        clean = check_detail(detail)
        storable("audit entry", secret, clean)
        with self._connection() as conn, translating(self._url, "write the audit log", AuditError):
            from psycopg.types.json import Jsonb

            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_APPEND_KEY,))
                last = conn.execute(_LAST).fetchone()
                seq, prev = (0, GENESIS) if last is None else (int(last[0]), line_hash(_canonical(_obj(last))))
                normal = conn.execute("SELECT %s::jsonb", (Jsonb(clean),)).fetchone()
                stored = dict(normal[0]) if normal is not None else {}
                ts = self._clock().astimezone(UTC)
                user = current_user()
                obj: dict[str, Any] = {
                    "seq": seq + 1,
                    "ts": ts.isoformat(),
                    "action": action,
                    "user": user,
                    "secret": secret,
                    "detail": stored,
                    "prev": prev,
                }
                obj["hash"] = _self_hash(obj)
                conn.execute(
                    _INSERT,
                    (seq + 1, ts, action, user, secret, Jsonb(stored), prev, obj["hash"]),
                )
                conn.execute(
                    "INSERT INTO secretops_audit_head (id, seq, sha256) VALUES (1, %s, %s) "
                    "ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, sha256 = EXCLUDED.sha256",
                    (seq + 1, line_hash(_canonical(obj))),
                )
        return AuditEntry(seq + 1, ts, action, user, secret, stored, prev)

    def _rows(self, conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        return conn.execute(_ALL).fetchall()

    def entries(self) -> list[AuditEntry]:
        """Every entry, oldest first."""
        with self._connection() as conn, translating(self._url, "read the audit log", AuditError):
            rows = self._rows(conn)
        return [
            AuditEntry(
                seq=int(seq),
                ts=ts.astimezone(UTC),
                action=str(action),
                user=str(user),
                secret=secret,
                detail=dict(detail or {}),
                prev=str(prev),
            )
            for seq, ts, action, user, secret, detail, prev, _ in rows
        ]

    def head(self) -> tuple[int, str] | None:
        """The recorded head (last `seq`, its line hash), or None before the first entry."""
        with self._connection() as conn, translating(self._url, "read the audit head", AuditError):
            row = conn.execute("SELECT seq, sha256 FROM secretops_audit_head WHERE id = 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def verify(self) -> AuditVerdict:
        """Check every row's own hash, its `seq` and `prev` link, and the head; the first bad row wins.

        `bad_line` is the 1-based position of the row in `seq` order, as for the local file.
        """
        with self._connection() as conn, translating(self._url, "read the audit log", AuditError):
            rows = self._rows(conn)
            head_row = conn.execute("SELECT seq, sha256 FROM secretops_audit_head WHERE id = 1").fetchone()
        n = len(rows)
        prev = GENESIS
        for number, row in enumerate(rows, 1):
            obj = _obj(row)
            if obj["hash"] != _self_hash(obj):
                return AuditVerdict(False, n, number, "its content does not match its hash (altered)")
            if obj["seq"] != number:
                return AuditVerdict(
                    False,
                    n,
                    number,
                    f"holds entry {obj['seq']} where entry {number} belongs (a row was removed or reordered)",
                )
            if obj["prev"] != prev:
                return AuditVerdict(
                    False, n, number, "does not chain to the row before it (removed, reordered or replaced)"
                )
            prev = line_hash(_canonical(obj))
        if head_row is None:
            if rows:
                return AuditVerdict(False, n, n + 1, "the audit head row is missing (rows may be cut)")
            return AuditVerdict(True, 0)
        seq, digest = int(head_row[0]), str(head_row[1])
        if seq > n:
            return AuditVerdict(
                False, n, n + 1, f"missing: the head records {seq} entries but the log ends at row {n} (rows removed)"
            )
        if seq < n:
            return AuditVerdict(False, n, max(seq, 0) + 1, f"beyond the head, which records {max(seq, 0)} entries")
        if rows and digest != prev:
            return AuditVerdict(False, n, n, "does not match the hash the head records (last row or head altered)")
        return AuditVerdict(True, n)
