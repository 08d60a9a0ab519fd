"""The state seam: run records, the step journal, per-secret exclusivity and the audit log.

The rotation engine keeps everything it must remember between steps and between runners here,
and talks to this interface only. Two backends implement it:

- `secretops.state.files.FileState` (the embedded default): append-only JSON lines under
  `state_dir/journal/`, an `fcntl.flock` lock file per secret under `state_dir/locks/`, and the
  hash-chained audit file. One machine.
- `secretops.state.postgres.PostgresState` (`SECRETOPS_STATE=postgresql://...`): runs and steps
  in append-only tables, exclusivity by a session advisory lock plus a lease row with a
  heartbeat, versioned schema migrations. Several runners (CI jobs, `secretops serve` replicas)
  at once: each secret is rotated by one of them, and a run whose runner died is `interrupted`
  once its lease has expired, so the next `rotate --due` or `resume` finishes it.

Nothing here ever holds a value: step details are plain scalars (names, fingerprints, version
numbers, timestamps, messages); a `SecretValue` in a detail is a `TypeError`.

The data types (`Entry`, `RunRecord`, `RunState`) live in `secretops.rotate.journal` and are
re-exported here, so the engine and `status` read one record type whatever the backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from secretops.audit.interface import AuditLog
from secretops.errors import ExitCode, RotationError
from secretops.rotate.journal import Entry, RunRecord, RunState, new_run_id

__all__ = [
    "DEFAULT_LEASE",
    "Entry",
    "LeaseLostError",
    "MigrationReport",
    "RunLog",
    "RunRecord",
    "RunState",
    "SecretLease",
    "StateBackend",
    "StateSchemaError",
    "new_run_id",
]

#: How long a lease lasts without a heartbeat. The holder renews it every third of this.
DEFAULT_LEASE = timedelta(seconds=30)


class LeaseLostError(RotationError):
    """This runner could not renew its lease: another runner may take the secret over.

    The engine checks the lease before every step that changes the world; on this error it
    stops at the step boundary (the run stays resumable and no step is left half-done).
    """


class StateSchemaError(RotationError):
    """The state's schema is newer than this secretops knows, or migrating it failed (exit 2)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What `migrate` did: the schema version before and after, and the migrations applied."""

    backend: str
    before: int
    after: int
    applied: tuple[str, ...] = ()


class RunLog(ABC):
    """The append-only journal of one run (a new run, or a resumed one: same id, same log)."""

    run_id: str
    secret: str

    @abstractmethod
    def append(self, step: str, status: str, *, target: str | None = None, **detail: Any) -> Entry:
        """Write one event durably before returning. Details must be plain scalars or lists of them.

        A step's closing line (`done`/`skipped`, not of step `run`) may be held back until the
        run's next line, `record()` or `flush()` (PostgreSQL: it goes in the same statement):
        lost in a crash, the step reads as started only, and the resume redoes it.
        """

    @abstractmethod
    def record(self) -> RunRecord:
        """This run's events as they stand now."""

    def flush(self) -> None:  # noqa: B027 - for backends that hold a line back
        """Write any line `append` held back (the PostgreSQL journal holds back a step's closing line)."""

    def append_guarded(
        self, lease: SecretLease, step: str, status: str, *, target: str | None = None, **detail: Any
    ) -> Entry:
        """The journal line before a step that changes the world: `lease.check()`, then `append`.

        `LeaseLostError`, and nothing written, when the lease is lost. A backend may do both in
        one atomic write (PostgreSQL: the insert takes effect only while the lease row holds).
        """
        lease.check()
        return self.append(step, status, target=target, **detail)


class SecretLease(ABC):
    """Exclusive right to rotate one secret. A context manager: `with state.exclusive(name): ...`.

    `acquire` raises `secretops.rotate.lock.RotationLockedError` at once when another runner
    holds it (it never waits). While held, the backend keeps the lease alive (the Postgres
    backend renews it from a heartbeat thread); `check` raises `LeaseLostError` once it could
    not. Releasing is idempotent.
    """

    secret: str

    @abstractmethod
    def acquire(self) -> None:
        """Take the secret, or raise `RotationLockedError` naming the holder."""

    @abstractmethod
    def release(self) -> None:
        """Give the secret up (idempotent)."""

    @abstractmethod
    def check(self) -> None:
        """Raise `LeaseLostError` when this runner no longer holds the secret for sure."""

    def __enter__(self) -> SecretLease:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class StateBackend(ABC):
    """Where runs, their journals, exclusivity and the audit log are kept."""

    #: "files" or "postgresql": shown by `status`, `state migrate` and `serve`'s metrics.
    name: str

    @abstractmethod
    def start_run(self, run_id: str, secret: str) -> RunLog:
        """The journal of run `run_id` of `secret`; for a resumed run, appends to its log."""

    @abstractmethod
    def runs(self, secret: str | None = None) -> list[RunRecord]:
        """Every run (of `secret`, if given), oldest first. Unreadable events are skipped."""

    @abstractmethod
    def load(self, run_id: str) -> RunRecord:
        """One run by id; `RotationError` with a hint to `secretops history` when unknown."""

    @abstractmethod
    def alive(self, secret: str) -> bool:
        """Whether some runner holds `secret` now (a live lock, or a lease not yet expired)."""

    def state(self, record: RunRecord, now: datetime) -> RunState:
        """Where `record` stands at `now` (`interrupted` once no runner holds its secret)."""
        return record.state(now, self.alive(record.secret))

    @abstractmethod
    def exclusive(self, secret: str) -> SecretLease:
        """A lease on `secret` (not yet acquired): use it as a context manager."""

    @abstractmethod
    def audit(self) -> AuditLog:
        """The hash-chained audit log kept with this state."""

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version the state holds now (0 before the first migration)."""

    @abstractmethod
    def migrate(self) -> MigrationReport:
        """Apply pending schema migrations (idempotent; `StateSchemaError` on a newer schema)."""

    def claim_once(self, kind: str, key: str) -> bool | None:
        """Claim `key` (an id, never a value) of `kind` for good: True the first time any runner
        sharing this state claims it, False after; None when this backend keeps no shared record
        (the files: one machine, where the caller's own record is the whole truth)."""
        return None

    def describe(self) -> str:
        """Where the state is, with no credentials (a path, or a URL with the password masked)."""
        return self.name

    def close(self) -> None:  # noqa: B027 - optional for backends that hold no connection
        """Release connections and heartbeats (idempotent)."""

    def __enter__(self) -> StateBackend:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
