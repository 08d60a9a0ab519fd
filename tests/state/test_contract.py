"""The `StateBackend` contract, run unchanged against `FileState` and `PostgresState`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secretops.errors import RotationError
from secretops.rotate.lock import RotationLockedError
from secretops.state.interface import RunState, StateBackend, new_run_id
from secretops.values import SecretValue
from tests.state.conftest import StateHarness

T0 = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _run_id(at: datetime) -> str:
    return new_run_id(at)


# ---------------------------------------------------------------- runs and the journal


def test_append_record_and_load_keep_every_field_in_order(harness: StateHarness, tag: str) -> None:
    clock = Clock()
    state = harness.make(clock=clock)
    secret = f"shop/db-{tag}"
    run_id = _run_id(clock.now)
    log = state.start_run(run_id, secret)
    assert (log.run_id, log.secret) == (run_id, secret)

    first = log.append("run", "started", strategy="alternate", old_version=3)
    clock.tick()
    log.append("distribute", "done", target="web", env="DATABASE_URL", fingerprint="hmac-sha256:ab12", ok=True)
    clock.tick()
    log.append("verify", "failed", target="worker", attempts=[1, 2, 3], ratio=0.5, note=None)

    assert first.ts == T0 and first.run == run_id and first.detail == {"strategy": "alternate", "old_version": 3}
    record = log.record()
    assert record == state.load(run_id)
    assert (record.run_id, record.secret, record.started_at) == (run_id, secret, T0)
    assert [(e.step, e.status, e.target) for e in record.entries] == [
        ("run", "started", None),
        ("distribute", "done", "web"),
        ("verify", "failed", "worker"),
    ]
    assert [e.ts for e in record.entries] == [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]
    assert dict(record.entries[1].detail) == {"env": "DATABASE_URL", "fingerprint": "hmac-sha256:ab12", "ok": True}
    assert dict(record.entries[2].detail) == {"attempts": [1, 2, 3], "ratio": 0.5, "note": None}
    assert all(e.secret == secret and e.run == run_id for e in record.entries)
    assert record.done("distribute", "web") is not None and record.started() is not None

    # Another instance on the same storage (another runner) reads the same record.
    assert harness.make(clock=clock).load(run_id) == record


def test_a_resumed_run_appends_to_the_same_journal(harness: StateHarness, tag: str) -> None:
    clock = Clock()
    secret = f"app/key-{tag}"
    run_id = _run_id(clock.now)
    harness.make(clock=clock).start_run(run_id, secret).append("run", "started")
    clock.tick(60)
    resumed = harness.make(clock=clock).start_run(run_id, secret)
    resumed.append("run", "resumed")
    resumed.append("run", "complete")
    record = harness.make().load(run_id)
    assert [e.status for e in record.entries] == ["started", "resumed", "complete"]
    assert record.outcome == "complete"
    assert len(harness.make().runs(secret)) == 1


def test_runs_are_oldest_first_and_filter_by_secret(harness: StateHarness, tag: str) -> None:
    clock = Clock()
    state = harness.make(clock=clock)
    a, b = f"a/one-{tag}", f"b/two-{tag}"
    ids = []
    for secret in (b, a, b):  # started in this order, a second apart
        run_id = _run_id(clock.now)
        ids.append(run_id)
        state.start_run(run_id, secret).append("run", "started", n=len(ids))
        clock.tick()
    assert [r.run_id for r in state.runs()] == ids
    assert [r.run_id for r in state.runs(b)] == [ids[0], ids[2]]
    assert [r.run_id for r in state.runs(a)] == [ids[1]]
    assert all(r.secret == b for r in state.runs(b))
    assert state.runs(f"c/none-{tag}") == []


def test_an_unknown_run_is_a_rotation_error_with_a_hint(state: StateBackend) -> None:
    with pytest.raises(RotationError) as info:
        state.load("r-20260101T000000Z-deadbeef")
    assert "r-20260101T000000Z-deadbeef" in info.value.message
    assert info.value.hint is not None and "secretops history" in info.value.hint


@pytest.mark.parametrize(
    "bad",
    [
        SecretValue("v-contract-Qx81!not-a-real-value"),
        [SecretValue("v-contract-Qx81!not-a-real-value")],
        {"nested": "dict"},
        b"bytes",
        object(),
    ],
    ids=["secret-value", "secret-in-list", "dict", "bytes", "object"],
)
def test_a_detail_that_is_not_a_plain_scalar_is_a_type_error_and_writes_nothing(
    state: StateBackend, tag: str, bad: object
) -> None:
    run_id = _run_id(T0)
    log = state.start_run(run_id, f"s/{tag}")
    log.append("run", "started")
    with pytest.raises(TypeError):
        log.append("generate", "done", value=bad)
    assert [e.step for e in state.load(run_id).entries] == ["run"]


# ---------------------------------------------------------------- exclusivity


def test_exclusive_twice_is_refused_at_once(harness: StateHarness, tag: str) -> None:
    secret = f"shop/db-{tag}"
    first, other = harness.make(), harness.make()
    with first.exclusive(secret) as lease:
        assert lease.secret == secret
        lease.check()
        for state in (first, other):
            with pytest.raises(RotationLockedError) as info:
                state.exclusive(secret).acquire()
            assert secret in info.value.message
        # Another secret is free meanwhile.
        with other.exclusive(f"{secret}-other"):
            pass


def test_release_then_acquire_again(harness: StateHarness, tag: str) -> None:
    secret = f"shop/db-{tag}"
    state, other = harness.make(), harness.make()
    lease = state.exclusive(secret)
    lease.acquire()
    lease.release()
    lease.release()  # idempotent
    with other.exclusive(secret) as taken:
        taken.check()
    again = state.exclusive(secret)
    again.acquire()
    again.check()
    again.release()


def test_alive_while_held_and_not_after_release(harness: StateHarness, tag: str) -> None:
    clock = Clock()
    state, observer = harness.make(clock=clock), harness.make(clock=clock)
    secret = f"shop/db-{tag}"
    assert not observer.alive(secret)
    run_id = _run_id(clock.now)
    with state.exclusive(secret):
        state.start_run(run_id, secret).append("run", "started")
        assert observer.alive(secret)
        assert observer.state(observer.load(run_id), clock.now) is RunState.RUNNING
    assert not observer.alive(secret)
    assert observer.state(observer.load(run_id), clock.now) is RunState.INTERRUPTED


# ---------------------------------------------------------------- audit


def test_audit_appends_chains_and_verifies(harness: StateHarness, tag: str) -> None:
    clock = Clock()
    state = harness.make(clock=clock)
    audit = state.audit()
    assert audit.entries() == []
    assert audit.verify().ok and audit.verify().entries == 0
    first = audit.append("rotate", secret=f"shop/db-{tag}", outcome="complete", run="r-1", targets=["web", "worker"])
    clock.tick()
    second = harness.make(clock=clock).audit().append("reveal", secret=None, reason="incident")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev == "0" * 64 and second.prev != first.prev and len(second.prev) == 64
    entries = state.audit().entries()
    assert [(e.seq, e.action, e.secret) for e in entries] == [(1, "rotate", f"shop/db-{tag}"), (2, "reveal", None)]
    assert dict(entries[0].detail) == {"outcome": "complete", "run": "r-1", "targets": ["web", "worker"]}
    assert entries[0].ts == T0 and entries[1].ts == T0 + timedelta(seconds=1)
    assert entries[0].user and entries[0].user == entries[1].user
    verdict = state.audit().verify()
    assert verdict.ok and verdict.entries == 2


def test_audit_refuses_values_and_unknown_actions(state: StateBackend) -> None:
    audit = state.audit()
    with pytest.raises(TypeError):
        audit.append("reveal", secret="s", value=SecretValue("v-audit-Zz91!not-real"))
    with pytest.raises(TypeError):
        audit.append("reveal", secret="s", values=[SecretValue("v-audit-Zz91!not-real")])
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.append("delete-everything", secret="s")
    assert audit.entries() == []


def _four(state: StateBackend) -> None:
    audit = state.audit()
    for n in range(1, 5):
        audit.append("rotate", secret=f"s/{n}", outcome="complete", n=n)
    assert audit.verify().ok


def test_audit_detects_an_altered_entry(harness: StateHarness) -> None:
    state = harness.make()
    _four(state)
    harness.tamper_detail(2, "outcome", "rolled-back")
    verdict = state.audit().verify()
    assert not verdict.ok and verdict.bad_line == 2 and "altered" in verdict.reason


def test_audit_detects_a_removed_entry(harness: StateHarness) -> None:
    state = harness.make()
    _four(state)
    harness.remove_entry(3)
    verdict = state.audit().verify()
    assert not verdict.ok and verdict.bad_line == 3


def test_audit_detects_entries_cut_off_the_end(harness: StateHarness) -> None:
    state = harness.make()
    _four(state)
    harness.remove_entry(4)
    verdict = state.audit().verify()
    assert not verdict.ok and verdict.bad_line == 4 and "removed" in verdict.reason


def test_audit_detects_reordered_entries(harness: StateHarness) -> None:
    state = harness.make()
    _four(state)
    harness.swap_entries(2, 3)
    verdict = state.audit().verify()
    assert not verdict.ok and verdict.bad_line == 2


# ---------------------------------------------------------------- schema


def test_migrate_is_idempotent(harness: StateHarness) -> None:
    state = harness.make()
    first = state.migrate()
    assert first.backend == state.name
    assert first.after == state.schema_version() >= 1
    second = harness.make().migrate()
    assert (second.before, second.after, second.applied) == (first.after, first.after, ())
    assert state.schema_version() == first.after
    assert state.describe()
