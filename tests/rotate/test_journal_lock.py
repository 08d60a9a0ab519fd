"""Journal (append-only, no values, torn lines) and the per-secret lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secretops.errors import RotationError
from secretops.rotate.journal import Journal, new_run_id
from secretops.rotate.lock import RotationLockedError, SecretLock
from secretops.values import SecretValue


def test_append_and_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    run_id = new_run_id(datetime(2025, 5, 1, 12, tzinfo=UTC))
    assert run_id.startswith("r-20250501T120000Z-")
    run = journal.start(run_id, "shop/db")
    run.append("run", "started", strategy="overlap", old_version=3)
    run.append("distribute", "done", target="web", env="DATABASE_URL", fingerprint="hmac-sha256:ab")
    run.append("run", "complete")
    lines = run.path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[1])["target"] == "web"
    assert stat.S_IMODE(run.path.stat().st_mode) == 0o600
    record = journal.load(run_id)
    assert record.secret == "shop/db" and record.outcome == "complete"
    assert record.started() is not None and record.started().detail["old_version"] == 3  # type: ignore[union-attr]
    assert record.done("distribute", "web") is not None and record.done("distribute") is None
    assert [r.run_id for r in journal.runs("shop/db")] == [run_id]
    assert journal.runs("other") == []


def test_refuses_values(tmp_path: Path) -> None:
    run = Journal(tmp_path).start("r-1", "s")
    with pytest.raises(TypeError):
        run.append("generate", "done", value=SecretValue("hunter2"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        run.append("generate", "done", values=[SecretValue("hunter2")])


def test_torn_line_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    run = journal.start("r-20250101T000000Z-00000000", "s")
    run.append("run", "started")
    with run.path.open("a") as fh:
        fh.write('{"ts": "2025-01-')
    assert journal.load(run.run_id).outcome == "running"


def test_unknown_run(tmp_path: Path) -> None:
    with pytest.raises(RotationError, match="no run"):
        Journal(tmp_path).load("r-nope")


def test_lock_excludes_second_holder(tmp_path: Path) -> None:
    with SecretLock(tmp_path, "shop/db"):
        with pytest.raises(RotationLockedError, match=f"pid {os.getpid()}"):
            SecretLock(tmp_path, "shop/db").acquire()
        SecretLock(tmp_path, "shop/other").acquire()  # other secrets are free
    with SecretLock(tmp_path, "shop/db"):
        pass


def _hold(path: str, ready: "multiprocessing.synchronize.Event") -> None:  # noqa: UP037
    lock = SecretLock(Path(path), "s")
    lock.acquire()
    ready.set()
    os._exit(0)  # dies holding the lock: the kernel must release it


def test_lock_released_when_holder_dies(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path), ready))
    proc.start()
    proc.join(10)
    assert ready.is_set()
    with SecretLock(tmp_path, "s"):
        pass
