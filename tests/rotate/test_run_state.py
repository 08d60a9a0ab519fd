"""`RunRecord.state`: running vs interrupted (lock gone), awaiting-revoke vs revoke-due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secretops.rotate.journal import Journal, RunState
from secretops.rotate.lock import SecretLock, lock_held

T0 = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "state" / "journal", clock=lambda: T0)


def test_running_while_locked_interrupted_once_the_lock_is_gone(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    run = journal.start("r-20261201T210000Z-00000001", "shop/db")
    run.append("run", "started")
    run.append("distribute", "done", target="web")
    record = run.record()
    assert record.state(T0, alive=True) is RunState.RUNNING
    assert record.state(T0, alive=False) is RunState.INTERRUPTED
    locks = tmp_path / "state" / "locks"
    assert not lock_held(locks, "shop/db") and not locks.exists(), "probing creates nothing"
    with SecretLock(locks, "shop/db"):
        assert lock_held(locks, "shop/db") and not lock_held(locks, "shop/other")
        assert journal.state(record, T0) is RunState.RUNNING
    assert not lock_held(locks, "shop/db")
    assert journal.state(record, T0) is RunState.INTERRUPTED


def test_a_resume_that_died_is_interrupted_not_its_earlier_outcome(tmp_path: Path) -> None:
    run = _journal(tmp_path).start("r-20261201T210000Z-00000002", "shop/db")
    run.append("run", "started")
    run.append("run", "awaiting-revoke", revoke_after=(T0 + timedelta(hours=1)).isoformat())
    run.append("run", "resumed", after="awaiting-revoke")
    run.append("revoke", "start")
    record = run.record()
    assert record.outcome == "awaiting-revoke"  # `resume` still picks it up
    assert record.state(T0 + timedelta(hours=2), alive=False) is RunState.INTERRUPTED


def test_awaiting_revoke_until_the_grace_ends(tmp_path: Path) -> None:
    run = _journal(tmp_path).start("r-20261201T210000Z-00000003", "shop/db")
    run.append("run", "started")
    after = T0 + timedelta(hours=1)
    run.append("run", "awaiting-revoke", revoke_after=after.isoformat())
    record = run.record()
    assert record.revoke_after == after
    assert record.state(after - timedelta(seconds=1), alive=False) is RunState.AWAITING_REVOKE
    assert record.state(after, alive=False) is RunState.REVOKE_DUE


def test_terminal_states_and_unknown_status(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    for i, status in enumerate(("complete", "rolled-back", "failed", "incomplete", "from-the-future")):
        run = journal.start(f"r-20261201T210000Z-0000001{i}", "shop/db")
        run.append("run", "started")
        run.append("run", status)
        expected = RunState.FAILED if status == "from-the-future" else RunState(status)
        assert run.record().state(T0, alive=False) is expected
        assert run.record().revoke_after is None


def test_engine_runs_read_running_then_interrupted_then_complete(tmp_path: Path) -> None:
    from tests.rotate.conftest import World, secret

    class Crash(BaseException):
        """Stands for SIGKILL."""

    world = World(tmp_path)
    world.add(secret())
    seen: list[RunState] = []

    def hook(step: str, target: str | None) -> None:
        if step == "promote":
            engine = world.engine()
            (record,) = engine.history("shop/db")
            seen.append(engine.state.state(record, world.clock.now))
            raise Crash

    with pytest.raises(Crash):
        world.engine(hook=hook).rotate("shop/db")
    engine = world.engine()
    (record,) = engine.history("shop/db")
    assert seen == [RunState.RUNNING], "its process holds the lock"
    assert engine.state.state(record, world.clock.now) is RunState.INTERRUPTED
    (result,) = engine.resume()
    (record,) = engine.history("shop/db")
    assert engine.state.state(record, world.clock.now) is RunState.COMPLETE, result.summary()
