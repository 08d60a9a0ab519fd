"""The embedded state backend: JSON lines journal, `flock` locks and the audit file under one directory.

The on-disk layout is the one every secretops before the state seam wrote, byte for byte, so an
existing `.secretops/` keeps working:

- `state_dir/journal/r-<...>.jsonl`: one append-only, fsynced journal per run
  (`secretops.rotate.journal`);
- `state_dir/locks/<secret>-<hash>.lock`: an `fcntl.flock` lock per secret
  (`secretops.rotate.lock`);
- `state_dir/journal/audit.jsonl` and `audit.head`: the hash-chained audit log
  (`secretops.audit.local`).

One machine only: a lock is held by an open file description, so it vanishes when its process
dies and can never be lost while the process lives (`SecretLease.check` is a no-op). The schema
is the file layout itself: version 1, nothing to migrate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from secretops.audit.interface import AuditLog
from secretops.audit.local import LocalAuditLog
from secretops.rotate.journal import Entry, Journal, RunJournal, RunRecord
from secretops.rotate.lock import SecretLock, lock_held
from secretops.state.interface import MigrationReport, RunLog, SecretLease, StateBackend

__all__ = ["FILES_SCHEMA_VERSION", "FileLease", "FileRunLog", "FileState"]

#: The file layout's version: there has only ever been one.
FILES_SCHEMA_VERSION: Final = 1


class FileRunLog(RunLog):
    """One run's JSON lines journal (`RunJournal`) behind the `RunLog` interface."""

    def __init__(self, journal: RunJournal) -> None:
        self._journal = journal
        self.run_id = journal.run_id
        self.secret = journal.secret

    @property
    def path(self) -> Path:
        """The run's journal file."""
        return self._journal.path

    def append(self, step: str, status: str, *, target: str | None = None, **detail: Any) -> Entry:
        """Write one event and fsync it before returning (plain scalars only)."""
        return self._journal.append(step, status, target=target, **detail)

    def record(self) -> RunRecord:
        """Re-read this run's events from its file."""
        return self._journal.record()


class FileLease(SecretLease):
    """A secret's `flock` lock (`SecretLock`) as a lease. It cannot be lost while held."""

    def __init__(self, lock: SecretLock) -> None:
        self._lock = lock
        self.secret = lock.secret

    def acquire(self) -> None:
        """Take the lock at once, or raise `RotationLockedError` naming the holder's pid."""
        self._lock.acquire()

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        self._lock.release()

    def check(self) -> None:
        """Nothing to check: a `flock` lock lasts as long as the open file, which this process holds."""


class FileState(StateBackend):
    """Runs, locks and the audit log under `state_dir` (default `.secretops/`)."""

    name = "files"

    def __init__(self, state_dir: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.journal = Journal(self.state_dir / "journal", clock=self._clock)
        self._locks = self.state_dir / "locks"

    def start_run(self, run_id: str, secret: str) -> RunLog:
        """The journal file of run `run_id` (appended to when the run is resumed)."""
        return FileRunLog(self.journal.start(run_id, secret))

    def runs(self, secret: str | None = None) -> list[RunRecord]:
        """Every readable run (of `secret`), oldest first."""
        return self.journal.runs(secret)

    def load(self, run_id: str) -> RunRecord:
        """One run by id (`RotationError` with a hint to `secretops history` when unknown)."""
        return self.journal.load(run_id)

    def alive(self, secret: str) -> bool:
        """Whether some process holds `secret`'s lock file now."""
        return lock_held(self._locks, secret)

    def exclusive(self, secret: str) -> SecretLease:
        """A lease over `secret`'s lock file (not yet acquired)."""
        return FileLease(SecretLock(self._locks, secret))

    def audit(self) -> AuditLog:
        """The hash-chained `journal/audit.jsonl`."""
        return LocalAuditLog(self.state_dir, clock=self._clock)

    def schema_version(self) -> int:
        """Always 1: the file layout has no other version."""
        return FILES_SCHEMA_VERSION

    def migrate(self) -> MigrationReport:
        """Nothing to do: files are created on first use."""
        return MigrationReport(self.name, FILES_SCHEMA_VERSION, FILES_SCHEMA_VERSION)

    def describe(self) -> str:
        """`files at <state_dir>`."""
        return f"files at {self.state_dir}"
