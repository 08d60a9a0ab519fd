"""The rotation journal: append-only JSON lines, one file per run, every line fsynced.

A run's file is `state_dir/journal/<run_id>.jsonl`. Each line is one event:

```json
{"ts": "2025-05-01T12:00:00.123456+00:00", "run": "r-20250501T120000Z-1a2b3c4d",
 "secret": "shop/db", "step": "distribute", "status": "done", "target": "web",
 "detail": {"env": "DATABASE_URL", "fingerprint": "hmac-sha256:..."}}
```

Lines hold step names, statuses, target names, fingerprints, version numbers, timestamps and
error messages, never a value: `append` refuses anything that is not a plain str, number, bool
or None (a `SecretValue` is a `TypeError`). The journal is evidence and the index of runs
(`secretops history`); the source of truth for values and labels is the store, and each step
re-checks the world before acting, so a torn last line (a crash mid-write) is skipped on read.

`RunRecord.state(now, alive)` says where a run stands for `status` and `history`: a run whose
last run-level event is `started` or `resumed` is `running` while its process holds the
secret's lock and `interrupted` once it is gone; `awaiting-revoke` becomes `revoke-due` when its
grace is over. `Journal.state(record, now)` asks the lock itself (`secretops.rotate.lock`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from secretops.errors import RotationError

__all__ = ["Entry", "Journal", "RunJournal", "RunRecord", "RunState", "new_run_id"]

Scalar = str | int | float | bool | None


def new_run_id(now: datetime) -> str:
    """A run id that sorts by start time: `r-20250501T120000Z-1a2b3c4d`."""
    return f"r-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


class RunState(StrEnum):
    """Where a run stands, as `status` and `history` show it (`RunRecord.state`)."""

    RUNNING = "running"  # in progress: its process holds the secret's lock
    INTERRUPTED = "interrupted"  # no end recorded and no process holds the lock: it died
    AWAITING_REVOKE = "awaiting-revoke"  # promoted; the grace runs, both values work
    REVOKE_DUE = "revoke-due"  # promoted; the grace is over, `rotate --due` or `resume` revokes
    COMPLETE = "complete"
    ROLLED_BACK = "rolled-back"
    FAILED = "failed"  # rolled back only in part
    INCOMPLETE = "incomplete"  # promoted, but revoke or proof failed: both values work


#: Run-level events that mean "the run is (again) in progress", not how it ended.
_IN_PROGRESS = frozenset({"started", "resumed"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal line."""

    ts: datetime
    run: str
    secret: str
    step: str
    status: str
    target: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything the journal knows about one run."""

    run_id: str
    secret: str
    entries: tuple[Entry, ...]

    @property
    def started_at(self) -> datetime:
        """When the first event was written."""
        return self.entries[0].ts

    @property
    def outcome(self) -> str:
        """The last run-level status: `running`, `complete`, `rolled-back`, `failed`, ..."""
        for entry in reversed(self.entries):
            if entry.step == "run" and entry.status != "started" and entry.status != "resumed":
                return entry.status
        return "running"

    @property
    def revoke_after(self) -> datetime | None:
        """When the grace of an `awaiting-revoke` run ends (None for any other outcome)."""
        last = self._last_run_event()
        if last is None or last.status != RunState.AWAITING_REVOKE.value:
            return None
        raw = last.detail.get("revoke_after")
        try:
            return datetime.fromisoformat(str(raw)) if raw else None
        except ValueError:
            return None

    def _last_run_event(self) -> Entry | None:
        for entry in reversed(self.entries):
            if entry.step == "run":
                return entry
        return None

    def state(self, now: datetime, alive: bool) -> RunState:
        """Where the run stands at `now`; `alive`: a process holds this secret's rotation lock.

        A run that has recorded no end since it (re)started is `running` while `alive` and
        `interrupted` otherwise (killed, power cut: `secretops resume` finishes it). An
        `awaiting-revoke` run whose grace is over is `revoke-due`. An unknown status (a newer
        secretops wrote it) reads as `failed`, never as an all-clear.
        """
        last = self._last_run_event()
        if last is None or last.status in _IN_PROGRESS:
            return RunState.RUNNING if alive else RunState.INTERRUPTED
        if last.status == RunState.AWAITING_REVOKE.value:
            after = self.revoke_after
            if after is not None and now >= after:
                return RunState.REVOKE_DUE
            return RunState.AWAITING_REVOKE
        try:
            return RunState(last.status)
        except ValueError:
            return RunState.FAILED

    def started(self) -> Entry | None:
        """The `run`/`started` event (it carries the strategy and the old version)."""
        for entry in self.entries:
            if entry.step == "run" and entry.status == "started":
                return entry
        return None

    def done(self, step: str, target: str | None = None) -> Entry | None:
        """The last `done` event of `step` (for `target`), if any."""
        for entry in reversed(self.entries):
            if entry.step == step and entry.status == "done" and entry.target == target:
                return entry
        return None


def _check(detail: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in detail.items():
        if isinstance(val, list | tuple):
            if not all(isinstance(v, Scalar) for v in val):
                raise TypeError(f"journal detail {key!r} must hold only plain scalars")
            out[key] = list(val)
        elif isinstance(val, Scalar):
            out[key] = val
        else:
            raise TypeError(f"journal detail {key!r} must be a plain scalar, not {type(val).__name__}")
    return out


class RunJournal:
    """The append-only journal of one run."""

    def __init__(self, path: Path, run_id: str, secret: str, clock: Callable[[], datetime]) -> None:
        self.path = path
        self.run_id = run_id
        self.secret = secret
        self._clock = clock

    def append(self, step: str, status: str, *, target: str | None = None, **detail: Any) -> Entry:
        """Write one event and fsync it before returning."""
        entry = Entry(self._clock(), self.run_id, self.secret, step, status, target, _check(detail))
        line: dict[str, Any] = {
            "ts": entry.ts.isoformat(),
            "run": entry.run,
            "secret": entry.secret,
            "step": step,
            "status": status,
        }
        if target is not None:
            line["target"] = target
        if entry.detail:
            line["detail"] = entry.detail
        data = (json.dumps(line, sort_keys=True) + "\n").encode()
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return entry

    def record(self) -> RunRecord:
        """Re-read this run's events."""
        return _read(self.path)


def _read(path: Path) -> RunRecord:
    entries: list[Entry] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(raw)
            entries.append(
                Entry(
                    ts=datetime.fromisoformat(obj["ts"]),
                    run=obj["run"],
                    secret=obj["secret"],
                    step=obj["step"],
                    status=obj["status"],
                    target=obj.get("target"),
                    detail=obj.get("detail", {}),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line from a crash mid-write
    if not entries:
        raise RotationError(f"journal {path.name} holds no readable events")
    return RunRecord(entries[0].run, entries[0].secret, tuple(entries))


class Journal:
    """All runs' journals under one directory (`state_dir/journal`)."""

    def __init__(self, directory: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.directory = Path(directory)
        self._clock = clock or (lambda: datetime.now(UTC))
        # path -> ((mtime_ns, size), record): `runs` re-reads only the journals that changed, so
        # a rotation's look at its secret's runs costs a stat per run, not a parse per run.
        self._parsed: dict[Path, tuple[tuple[int, int], RunRecord | None]] = {}

    def start(self, run_id: str, secret: str) -> RunJournal:
        """The journal of a new (or resumed) run; creates the directory (0700) on first use."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return RunJournal(self.directory / f"{run_id}.jsonl", run_id, secret, self._clock)

    def _paths(self) -> Iterator[Path]:
        if self.directory.is_dir():
            yield from sorted(self.directory.glob("r-*.jsonl"))

    def runs(self, secret: str | None = None) -> list[RunRecord]:
        """Every run (of `secret`, if given), oldest first."""
        out = []
        seen: set[Path] = set()
        for path in self._paths():
            seen.add(path)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            stamp = (st.st_mtime_ns, st.st_size)
            cached = self._parsed.get(path)
            if cached is not None and cached[0] == stamp:
                record = cached[1]
            else:
                try:
                    record = _read(path)
                except (RotationError, OSError):
                    record = None
                self._parsed[path] = (stamp, record)
            if record is not None and (secret is None or record.secret == secret):
                out.append(record)
        for gone in set(self._parsed) - seen:
            del self._parsed[gone]
        return out

    def state(self, record: RunRecord, now: datetime) -> RunState:
        """`record.state(now, alive)`, with `alive` read from the secret's lock (`state_dir/locks`)."""
        from secretops.rotate.lock import lock_held

        return record.state(now, lock_held(self.directory.parent / "locks", record.secret))

    def load(self, run_id: str) -> RunRecord:
        """One run by id (`RotationError` if unknown)."""
        path = self.directory / f"{run_id}.jsonl"
        if "/" in run_id or not path.is_file():
            raise RotationError(f"no run {run_id!r} in the journal", hint="list runs with: secretops history")
        return _read(path)
