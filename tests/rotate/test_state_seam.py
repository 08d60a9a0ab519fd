"""The engine on the state seam: FileState passed in, several runners sharing one state, lost leases."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from secretops.audit.interface import AuditLog
from secretops.rotate.engine import Engine, Outcome, SerializedStore
from secretops.rotate.journal import Journal, RunRecord, RunState
from secretops.rotate.lock import RotationLockedError
from secretops.state.files import FileState
from secretops.state.interface import LeaseLostError, MigrationReport, RunLog, SecretLease, StateBackend
from secretops.store.interface import Label
from tests.rotate.conftest import OLD, World, secret


def _versions(world: World, name: str) -> int:
    state = world.store.state(name)
    assert state is not None
    return len(state.versions)


def _many(world: World, count: int) -> list[str]:
    names = [f"app/s{i}" for i in range(count)]
    for i, name in enumerate(names):
        world.add(secret(name=name, accounts=[f"u{i}"], consumers=[{"target": "web", "env": f"S{i}"}]), account=f"u{i}")
    return names


# ---------------------------------------------------------------- FileState passed in


def test_engine_with_file_state_keeps_the_old_layout(world: World) -> None:
    world.add(secret())
    state = FileState(world.tmp / "state", clock=world.clock)
    result = world.engine(state=state).rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE, result.summary()
    assert world.env("web") != "" and OLD not in world.env("web")
    journal_files = list((world.tmp / "state" / "journal").glob("r-*.jsonl"))
    assert [p.stem for p in journal_files] == [result.run_id]
    # the pre-seam reader sees the same run, and FileState reads what the pre-seam writer wrote
    (old_reader,) = Journal(world.tmp / "state" / "journal").runs()
    assert old_reader.run_id == result.run_id and old_reader.outcome == "complete"
    legacy = Journal(world.tmp / "state" / "journal").start("r-20200101T000000Z-00000000", "shop/other")
    legacy.append("run", "started")
    assert state.load("r-20200101T000000Z-00000000").secret == "shop/other"
    assert state.state(state.load(legacy.run_id), world.clock.now) is RunState.INTERRUPTED
    assert state.schema_version() == 1 and state.migrate() == MigrationReport("files", 1, 1)


def test_engine_needs_a_state(world: World) -> None:
    with pytest.raises(TypeError, match="state="):
        Engine(
            world.engine().inventory,
            world.store,
            key=world.engine().key,
            issuer_factory=lambda _n, _s: world.issuer,
            target_factory=lambda n, _s: world.targets[n],
        )


# ---------------------------------------------------------------- several runners, one state


def test_due_list_computed_before_another_runner_rotated_it_rotates_once(world: World) -> None:
    """Runner B lists shop/db as due; runner A rotates it; B takes the lease afterwards: one rotation."""
    world.add(secret())
    store = SerializedStore(world.store)  # one store, as two processes on one Vault
    runner_a = world.engine()
    runner_b = world.engine()
    runner_a.store = runner_b.store = store
    from secretops.inventory.status import due as status_due

    def due_then_a_rotates() -> list[str]:
        names = status_due(runner_b.inventory, store, world.clock())
        assert names == ["shop/db"]
        assert runner_a.rotate("shop/db").outcome is Outcome.COMPLETE
        return names

    (result,) = runner_b.run_due(due=due_then_a_rotates)
    assert result.outcome is Outcome.SKIPPED and result.exit_code == 0
    assert result.note is not None and "already rotated by another runner" in result.note
    assert result.summary().count("already rotated by another runner") == 1
    assert _versions(world, "shop/db") == 2, "the seeded value plus exactly one rotation"
    assert len(world.engine().history("shop/db")) == 1


def test_a_run_listed_unfinished_that_its_runner_finished_meanwhile_is_skipped(world: World) -> None:
    """B lists A's run while A is mid-run; A finishes before B takes the lease: B skips it, exit 0.

    (The window two runners at once hit now and then: B used to report `nothing` for it.)
    """
    import dataclasses

    world.add(secret())
    store = SerializedStore(world.store)
    runner_a = world.engine()
    runner_b = world.engine()
    runner_a.store = runner_b.store = store
    assert runner_a.rotate("shop/db").outcome is Outcome.COMPLETE
    (done,) = runner_b.state.runs()
    mid_run = dataclasses.replace(done, entries=done.entries[:2])  # what B saw while A was rotating
    assert mid_run.outcome == "running"
    real_runs = runner_b.state.runs
    runner_b.state.runs = lambda secret=None: [mid_run] if secret is None else real_runs(secret)  # type: ignore[method-assign]

    results = runner_b.run_due()
    assert [r.outcome for r in results] == [Outcome.SKIPPED]
    assert results[0].exit_code == 0 and "finished by another runner meanwhile" in (results[0].note or "")
    assert _versions(world, "shop/db") == 2, "no second rotation"
    assert runner_b.state.load(done.run_id).entries == done.entries, "nothing journaled for it"


def test_store_recheck_catches_a_rotation_this_state_never_saw(world: World) -> None:
    """Two runners with separate state (a misconfiguration) but one store: B looks at the store again."""
    world.add(secret())
    store = SerializedStore(world.store)
    runner_a = world.engine(state=FileState(world.tmp / "other-state", clock=world.clock))
    runner_b = world.engine()
    runner_a.store = runner_b.store = store

    def due_then_a_rotates() -> list[str]:
        assert runner_a.rotate("shop/db").outcome is Outcome.COMPLETE
        return ["shop/db"]

    (result,) = runner_b.run_due(due=due_then_a_rotates, still_due=runner_b.is_due)
    assert result.outcome is Outcome.SKIPPED and "no longer due" in (result.note or "")
    assert _versions(world, "shop/db") == 2


def test_two_runners_at_once_rotate_each_secret_exactly_once(world: World) -> None:
    names = _many(world, 8)
    store = SerializedStore(world.store)
    engines = [world.engine(), world.engine()]
    for engine in engines:
        engine.store = store
    start = threading.Barrier(2)
    out: list[list[Any]] = [[], []]

    def run(i: int) -> None:
        start.wait()
        out[i] = engines[i].run_due(concurrency=2)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    results = out[0] + out[1]
    complete = sorted(r.secret for r in results if r.outcome is Outcome.COMPLETE)
    assert complete == names, [r.summary() for r in results]
    assert all(r.outcome in (Outcome.COMPLETE, Outcome.SKIPPED) for r in results)
    for name in names:
        assert _versions(world, name) == 2, f"{name} rotated more than once"
        assert len(world.engine().history(name)) == 1


def test_run_due_skips_a_secret_another_runner_holds(world: World) -> None:
    world.add(secret())
    world.add(secret(name="shop/other", accounts=["app_o"]), account="app_o")
    world.targets["web"].env.clear()
    with FileState(world.tmp / "state").exclusive("shop/db"):
        results = world.engine().run_due()
    by_name = {r.secret: r for r in results}
    assert by_name["shop/db"].outcome is Outcome.SKIPPED and by_name["shop/db"].exit_code == 0
    assert "another runner is on it" in by_name["shop/db"].summary()
    assert by_name["shop/other"].outcome is Outcome.COMPLETE
    assert _versions(world, "shop/db") == 1, "nothing happened to the held secret"
    # a named rotate still refuses at once
    with FileState(world.tmp / "state").exclusive("shop/db"), pytest.raises(RotationLockedError):
        world.engine().rotate("shop/db")


# ---------------------------------------------------------------- lost leases


class _LosableLease(SecretLease):
    def __init__(self, inner: SecretLease, lost: threading.Event) -> None:
        self.inner, self.lost, self.secret = inner, lost, inner.secret

    def acquire(self) -> None:
        self.inner.acquire()

    def release(self) -> None:
        self.inner.release()

    def check(self) -> None:
        if self.lost.is_set():
            raise LeaseLostError(f"lease on {self.secret} expired (test)")


class _LosableState(StateBackend):
    """FileState whose leases report lost once `lost` is set."""

    name = "files"

    def __init__(self, inner: FileState) -> None:
        self.inner = inner
        self.lost = threading.Event()

    def start_run(self, run_id: str, secret: str) -> RunLog:
        return self.inner.start_run(run_id, secret)

    def runs(self, secret: str | None = None) -> list[RunRecord]:
        return self.inner.runs(secret)

    def load(self, run_id: str) -> RunRecord:
        return self.inner.load(run_id)

    def alive(self, secret: str) -> bool:
        return self.inner.alive(secret)

    def exclusive(self, secret: str) -> SecretLease:
        return _LosableLease(self.inner.exclusive(secret), self.lost)

    def audit(self) -> AuditLog:
        return self.inner.audit()

    def schema_version(self) -> int:
        return 1

    def migrate(self) -> MigrationReport:
        return self.inner.migrate()


@pytest.mark.parametrize(("step", "target"), [("distribute", "worker"), ("redeploy", "web"), ("revoke", None)])
def test_lost_lease_stops_at_a_step_boundary_and_the_run_is_taken_over(
    world: World, step: str, target: str | None
) -> None:
    world.add(secret())
    state = _LosableState(FileState(world.tmp / "state", clock=world.clock))

    def hook(name: str, tgt: str | None) -> None:
        if name == step and tgt == target:
            state.lost.set()  # the heartbeat failed just before this step

    result = world.engine(state=state, hook=hook).rotate("shop/db")
    assert result.outcome is Outcome.INTERRUPTED and result.exit_code == 1, result.summary()
    assert result.failure is not None and result.failure.step == step and result.failure.target == target
    assert "resume" in (result.next_step or "")
    record = state.load(result.run_id or "")
    assert not any(e.step == step and e.target == target for e in record.entries), "the step never started"
    assert not any(e.status == "failed" or e.step == "rollback" for e in record.entries)
    assert record.outcome == "running" and state.state(record, world.clock.now) is RunState.INTERRUPTED
    assert world.issuer.works("app_a", OLD), "nothing revoked"

    # the next runner's `rotate --due` takes the dead run over and finishes it (no second run)
    results = world.engine().run_due(due=list)
    assert [(r.run_id, r.outcome) for r in results] == [(result.run_id, Outcome.COMPLETE)], [
        r.summary() for r in results
    ]
    assert "was interrupted" in "\n".join(results[0].lines)
    new = world.current()
    assert world.env("web") == f"postgresql://app_a:{new}@db.internal:5432/app"
    assert world.env("worker", "DB_PASSWORD") == new
    assert not world.issuer.works("app_a", OLD) and world.issuer.works("app_a", new)
    assert _versions(world, "shop/db") == 2
    assert world.store.get("shop/db", Label.PENDING) is None


def test_lost_lease_before_rollback_stops_and_resume_finishes_the_run(world: World) -> None:
    """A step failed and the lease was lost before the rollback began: nothing is undone by this
    runner (another may own the secret now); the next one resumes, retries the step and converges."""
    world.add(secret())
    state = _LosableState(FileState(world.tmp / "state", clock=world.clock))
    world.targets["worker"].fail["redeploy"] = RuntimeError("boom")  # fails once
    engine = world.engine(state=state)
    original = engine._rollback

    def rollback_losing(ctx: Any, failed: Any) -> Any:
        state.lost.set()
        return original(ctx, failed)

    engine._rollback = rollback_losing  # type: ignore[method-assign]
    result = engine.rotate("shop/db")
    assert result.outcome is Outcome.INTERRUPTED and result.failure is not None, result.summary()
    assert result.failure.step == "rollback"
    record = state.load(result.run_id or "")
    assert not any(e.step == "rollback" for e in record.entries)
    assert any(e.step == "redeploy" and e.status == "failed" for e in record.entries)
    (done,) = world.engine().resume()
    assert done.run_id == result.run_id and done.outcome is Outcome.COMPLETE, done.summary()
    assert not world.issuer.works("app_a", OLD) and _versions(world, "shop/db") == 2


def test_run_due_passes_a_run_in_its_grace_without_a_lease_or_a_journal_line(world: World) -> None:
    world.add(secret(grace="1h"))
    first = world.engine().rotate("shop/db")
    assert first.outcome is Outcome.AWAITING_REVOKE
    before = world.journal_text()
    world.clock.advance(minutes=10)
    with FileState(world.tmp / "state").exclusive("shop/db"):  # another runner holds it: no matter
        (waiting,) = world.engine().run_due(due=list)
    assert waiting.outcome is Outcome.AWAITING_REVOKE and waiting.run_id == first.run_id
    assert waiting.revoke_after == first.revoke_after and waiting.exit_code == 0
    assert world.journal_text() == before
    world.clock.advance(minutes=51)
    (done,) = world.engine().run_due(due=list)
    assert done.outcome is Outcome.COMPLETE and not world.issuer.works("app_a", OLD)
