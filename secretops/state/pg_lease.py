"""A per-secret lease on the PostgreSQL state: a session advisory lock plus a lease row with a heartbeat.

`PgLease.acquire` opens a connection of its own and, on it:

1. takes `pg_try_advisory_lock(key)` (`key`: 64 bits of SHA-256 of the secret's name). The lock
   belongs to that session: if the process dies, its connection closes and the server drops the
   lock at once;
2. claims the row `secretops_leases(secret)`: inserts it, or takes it over only when its
   `expires_at < now()`, on the database's clock (never the runner's, which may be skewed).

Both must be free; when either is held, it raises `RotationLockedError` naming the holder
(`hostname:pid:random`, never a secret). While held, a daemon thread renews `expires_at` every
third of the lease; `check` raises `LeaseLostError` once a renewal failed, the row expired or
names another holder, or the connection (and so the advisory lock) is gone. `release` stops the
heartbeat, deletes the row (only its own) and unlocks.

So a runner killed with SIGKILL frees the advisory lock at once, but its row keeps the secret
`alive` until it expires: only then does the run read `interrupted` and can another runner take
the secret (and resume the run). See docs/state.md for the timing.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from secretops.rotate.lock import RotationLockedError
from secretops.state.interface import LeaseLostError, SecretLease
from secretops.state.pg_conn import advisory_key, connect, translating

if TYPE_CHECKING:
    import psycopg

__all__ = ["LeaseSessions", "PgLease", "holder_id", "lease_key"]

log = logging.getLogger(__name__)


def holder_id() -> str:
    """`hostname:pid:random`: who holds a lease (the random part tells two leases of one process apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_key(secret: str) -> int:
    """The advisory lock key of `secret`'s lease."""
    return advisory_key("lease", secret)


_CLAIM = """
INSERT INTO secretops_leases AS l (secret, holder, run_id, acquired_at, expires_at, heartbeat_at)
VALUES (%(secret)s, %(holder)s, NULL, now(), now() + %(lease)s, now())
ON CONFLICT (secret) DO UPDATE
    SET holder = EXCLUDED.holder, run_id = NULL, acquired_at = now(),
        expires_at = EXCLUDED.expires_at, heartbeat_at = now()
    WHERE l.expires_at < now()
RETURNING holder
"""

_RENEW = """
UPDATE secretops_leases SET expires_at = now() + %(lease)s, heartbeat_at = now()
WHERE secret = %(secret)s AND holder = %(holder)s
RETURNING holder
"""

_OTHER = """
SELECT holder, greatest(0, ceil(extract(epoch FROM expires_at - now())))::int
FROM secretops_leases WHERE secret = %(secret)s
"""


class LeaseSessions:
    """Idle lease sessions of one state, for the next lease to take instead of connecting again.

    A lease gives its session back only once it deleted its row and released every advisory
    lock of the session (`pg_advisory_unlock_all`); a session idle longer than `max_idle`
    seconds (it may have died meanwhile) or beyond `size` is closed instead. Connecting costs
    a server process and a round trip or three per lease, at every rotation.
    """

    def __init__(self, size: int = 16, max_idle: float = 5.0) -> None:
        self._size = size
        self._max_idle = max_idle
        self._idle: list[tuple[psycopg.Connection[Any], float]] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> psycopg.Connection[Any] | None:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since <= self._max_idle and not (conn.closed or conn.broken):
                    return conn
                conn.close()
        return None

    def give(self, conn: psycopg.Connection[Any]) -> bool:
        """Keep `conn` for the next lease (False: the caller closes it)."""
        from psycopg.pq import TransactionStatus

        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            return False
        with self._lock:
            if self._closed or len(self._idle) >= self._size:
                return False
            self._idle.append((conn, time.monotonic()))
        return True

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._closed = True
        for conn, _since in idle:
            conn.close()


class PgLease(SecretLease):
    """Exclusive right to rotate one secret, shared through PostgreSQL by every runner."""

    def __init__(
        self,
        url: str,
        secret: str,
        lease: timedelta,
        *,
        ready: Callable[[], None] | None = None,
        on_change: Callable[[PgLease, bool], None] | None = None,
        pool: LeaseSessions | None = None,
    ) -> None:
        self.secret = secret
        self.holder = holder_id()
        self._url = url
        self._lease = lease
        self._ready = ready
        self._on_change = on_change
        self._pool = pool
        self._key = lease_key(secret)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()  # the lease's connection: heartbeat thread vs check/release
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost: str | None = None
        self._renewed = 0.0  # time.monotonic() of the last successful claim or renewal

    @property
    def held(self) -> bool:
        """Whether `acquire` succeeded and `release` has not run since."""
        return self._conn is not None

    @property
    def period(self) -> float:
        """Seconds between heartbeats: a third of the lease."""
        return self._lease.total_seconds() / 3

    def _params(self) -> dict[str, Any]:
        return {"secret": self.secret, "holder": self.holder, "lease": self._lease}

    # ------------------------------------------------------------ acquire / release

    def acquire(self) -> None:
        """Take the advisory lock and the lease row, or raise `RotationLockedError` naming the holder."""
        if self._conn is not None:
            raise RotationLockedError(
                f"secret {self.secret!r}: this lease is already held",
                hint="release it before acquiring it again",
            )
        if self._ready is not None:
            self._ready()  # the schema is there (migrated on first use)
        conn, row = self._pooled_lock()
        if conn is None:
            conn = connect(self._url, timeout=self._lease.total_seconds())
        try:
            with translating(self._url, f"take the lease on {self.secret!r}"):
                if row is None:
                    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
                if row is None or not row[0]:
                    raise self._locked(conn, "its lock is held")
                claimed = conn.execute(_CLAIM, self._params()).fetchone()
                if claimed is None:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
                    raise self._locked(conn, "its lease has not expired")
        except BaseException:
            conn.close()  # the session ends: the server drops the advisory lock, if we took it
            raise
        self._conn = conn
        self._lost = None
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"secretops-lease-{self.holder}", daemon=True)
        self._thread.start()
        log.debug("lease on %s taken by %s for %s", self.secret, self.holder, self._lease)
        if self._on_change is not None:
            self._on_change(self, True)

    def _pooled_lock(self) -> tuple[psycopg.Connection[Any] | None, tuple[Any, ...] | None]:
        """A kept session and its answer to `pg_try_advisory_lock`, or `(None, None)`.

        A kept session may have died while idle (a server restart, an idle-session timeout):
        then it is closed and the caller connects afresh, instead of failing the lease.
        """
        import psycopg

        while self._pool is not None:
            conn = self._pool.take()
            if conn is None:
                break
            try:
                return conn, conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
            except psycopg.OperationalError:
                log.debug("a kept state session went away while idle; connecting afresh")
                conn.close()
        return None, None

    def _locked(self, conn: psycopg.Connection[Any], why: str) -> RotationLockedError:
        row = conn.execute(_OTHER, self._params()).fetchone()
        if row is None:
            other = "another runner (starting or ending right now)"
        else:
            other = f"{row[0]}, lease expires in {row[1]} s"
        return RotationLockedError(
            f"secret {self.secret!r} is being rotated by another runner ({other}): {why}",
            hint="wait for it to finish; if that runner died, the next `rotate --due` or `secretops resume` "
            f"takes its run over once its lease expires (at most {int(self._lease.total_seconds())} s)",
        )

    def release(self) -> None:
        """Stop the heartbeat, delete our row and unlock (idempotent; a dead connection is just closed)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            clean = False
            try:
                conn.execute(
                    "DELETE FROM secretops_leases WHERE secret = %(secret)s AND holder = %(holder)s", self._params()
                )
                conn.execute("SELECT pg_advisory_unlock_all()")  # the session's only lock is this lease's
                clean = True
            except Exception as exc:  # closing below frees the lock; the row expires by itself
                log.debug(
                    "lease on %s: release incomplete (%s); the row expires on its own", self.secret, type(exc).__name__
                )
            finally:
                # A session that holds no lock any more serves the next lease; any doubt closes it.
                if not (clean and self._pool is not None and self._pool.give(conn)):
                    conn.close()
        log.debug("lease on %s released by %s", self.secret, self.holder)
        if self._on_change is not None:
            self._on_change(self, False)

    # ------------------------------------------------------------ heartbeat / check

    def _beat(self) -> None:
        stop = self._stop
        while not stop.wait(self.period):
            with self._lock:
                conn = self._conn
                if conn is None or stop.is_set():
                    return
                try:
                    row = conn.execute(_RENEW, self._params()).fetchone()
                except Exception as exc:  # any failure means the lease is no longer sure
                    self._lost = f"renewing it failed ({type(exc).__name__})"
                    log.warning("lease on %s: %s", self.secret, self._lost)
                    return
                if row is None:
                    self._lost = "another runner took it over"
                    log.warning("lease on %s: %s", self.secret, self._lost)
                    return
                self._renewed = time.monotonic()

    def check(self) -> None:
        """Raise `LeaseLostError` unless the row still names us, unexpired, and our session is alive."""
        reason = self._why_lost()
        if reason is not None:
            raise self._lost_error(reason)

    def _lost_error(self, reason: str) -> LeaseLostError:
        return LeaseLostError(
            f"lost the lease on secret {self.secret!r}: {reason}",
            hint="this run stops at a step boundary; `secretops resume` finishes it once no other runner holds it",
        )

    def _why_lost_here(self) -> str | None:
        """What this process knows without asking the database (not held, a failed heartbeat, none for a lease)."""
        if self._conn is None:
            return "it is not held"
        if self._lost is not None:
            return self._lost
        if time.monotonic() - self._renewed >= self._lease.total_seconds():
            return "no renewal for a whole lease period"
        return None

    def write_guarded(self, sql: str, params: dict[str, Any], doing: str) -> None:
        """Run `sql`, a write that takes effect only while our lease row holds, on this lease's session.

        `sql` must write nothing unless `secretops_leases` has the row of `%(lease_secret)s` naming
        `%(lease_holder)s`, unexpired on the database's clock (`WHERE EXISTS (...)`): the check
        `check` makes and the write are one statement, and running it on the session that holds
        the advisory lock proves that session alive too. `LeaseLostError` when it wrote nothing
        (or the session failed); other driver errors are translated as `doing`.
        """
        import psycopg

        reason = self._why_lost_here()
        wrote = False
        if reason is None:
            # The heartbeat may be stuck on a dead network, holding the connection: do not wait long.
            if not self._lock.acquire(timeout=self.period):
                reason = "its connection is not answering"
            else:
                try:
                    conn = self._conn
                    if conn is None:
                        reason = "it is not held"
                    else:
                        try:
                            cur = conn.execute(
                                sql, {**params, "lease_secret": self.secret, "lease_holder": self.holder}
                            )
                            wrote = cur.rowcount > 0
                        except Exception as exc:
                            if not (conn.broken or conn.closed or isinstance(exc, psycopg.OperationalError)):
                                with translating(self._url, doing):
                                    raise
                            self._lost = f"its connection failed ({type(exc).__name__})"
                            reason = self._lost
                finally:
                    self._lock.release()
        if wrote:
            return
        if reason is None:  # the row did not hold: say why, as `check` would
            reason = self._why_lost() or "its lease expired"
        raise self._lost_error(reason)

    def _why_lost(self) -> str | None:
        reason = self._why_lost_here()
        if reason is not None:
            return reason
        # The heartbeat may be stuck on a dead network, holding the connection: do not wait long.
        if not self._lock.acquire(timeout=self.period):
            return "its connection is not answering"
        try:
            conn = self._conn
            if conn is None:
                return "it is not held"
            try:
                row = conn.execute(
                    "SELECT holder, expires_at > now() FROM secretops_leases WHERE secret = %(secret)s",
                    self._params(),
                ).fetchone()
            except Exception as exc:  # without our session, the advisory lock is gone too
                self._lost = f"its connection failed ({type(exc).__name__})"
                return self._lost
        finally:
            self._lock.release()
        if row is None:
            return "its lease row is gone"
        if row[0] != self.holder:
            self._lost = f"{row[0]} holds it now"
            return self._lost
        if not row[1]:
            return "its lease expired"
        return None

    def __repr__(self) -> str:
        return f"PgLease(secret={self.secret!r}, holder={self.holder!r}, held={self.held})"
