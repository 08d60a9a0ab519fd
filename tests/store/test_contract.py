"""The `Store` contract, run unchanged against `LocalStore` and `VaultStore` (OpenBao dev server)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from secretops.store import (
    Label,
    Store,
    StoreConflictError,
    StoreError,
    StoreNotFoundError,
)
from secretops.values import SecretValue, fingerprint
from tests.store.conftest import FP_KEY

V1 = "v1-Zq8#fake-pw-0001"
V2 = "v2-Lx4!fake-pw-0002"
V3 = "v3-Pm7%fake-pw-0003"
V4 = "v4-Ty2&fake-pw-0004"
ALL = (V1, V2, V3, V4)


def _labels(store: Store, name: str) -> dict[Label, int]:
    state = store.state(name)
    assert state is not None
    return {label: v.number for v in state.versions for label in v.labels}


def _adopt(store: Store, name: str, value: str) -> int:
    return store.put(name, SecretValue(value), labels=frozenset({Label.CURRENT})).number


def test_put_pending_and_get_by_label(store: Store) -> None:
    version = store.put("app/db", SecretValue(V1), attributes={"username": "app_a"}, run_id="run-1")
    assert version.labels == frozenset({Label.PENDING})
    assert version.fingerprint == fingerprint(FP_KEY, V1)
    assert dict(version.attributes) == {"username": "app_a"}
    assert version.run_id == "run-1"
    assert version.revoked_at is None

    pending = store.get("app/db", Label.PENDING)
    assert pending is not None
    assert pending.value.reveal() == V1
    assert pending.version.number == version.number
    assert store.get("app/db") is None  # nothing current yet
    assert store.get("app/db", Label.PREVIOUS) is None
    assert store.get("no/such") is None


def test_first_promote_has_no_previous(store: Store) -> None:
    n = store.put("app/db", SecretValue(V1), run_id="run-1").number
    store.promote("app/db", n, expected_current=None, run_id="run-1")
    assert _labels(store, "app/db") == {Label.CURRENT: n}
    state = store.state("app/db")
    assert state is not None
    assert state.rotated_at is not None
    assert state.last_run_id == "run-1"
    current = store.get("app/db")
    assert current is not None and current.value.reveal() == V1


def test_labels_move_on_promote(store: Store) -> None:
    n1 = _adopt(store, "svc", V1)
    state = store.state("svc")
    assert state is not None and state.rotated_at is None  # adoption is not a rotation

    n2 = store.put("svc", SecretValue(V2), run_id="r2").number
    assert _labels(store, "svc") == {Label.CURRENT: n1, Label.PENDING: n2}
    store.promote("svc", n2, expected_current=n1, run_id="r2")
    assert _labels(store, "svc") == {Label.CURRENT: n2, Label.PREVIOUS: n1}

    n3 = store.put("svc", SecretValue(V3), run_id="r3").number
    store.promote("svc", n3, expected_current=n2, run_id="r3")
    assert _labels(store, "svc") == {Label.CURRENT: n3, Label.PREVIOUS: n2}  # n1 lost "previous"

    state = store.state("svc")
    assert state is not None
    assert state.labelled(Label.CURRENT) is not None and state.labelled(Label.CURRENT).number == n3  # type: ignore[union-attr]
    old = next(v for v in state.versions if v.number == n1)
    assert old.labels == frozenset()
    got = {label: store.get("svc", label) for label in Label}
    assert got[Label.PENDING] is None
    assert got[Label.CURRENT] is not None and got[Label.CURRENT].value.reveal() == V3
    assert got[Label.PREVIOUS] is not None and got[Label.PREVIOUS].value.reveal() == V2
    assert state.last_run_id == "r3"


def test_promote_repeated_after_success_is_a_noop(store: Store) -> None:
    n1 = _adopt(store, "svc", V1)
    n2 = store.put("svc", SecretValue(V2), run_id="r2").number
    store.promote("svc", n2, expected_current=n1, run_id="r2")
    before = store.state("svc")
    store.promote("svc", n2, expected_current=n1, run_id="r2")  # a resumed run
    store.promote("svc", n2, expected_current=n1)
    assert store.state("svc") == before


def test_promote_rejects_stale_expectations(store: Store) -> None:
    n1 = _adopt(store, "svc", V1)
    n2 = store.put("svc", SecretValue(V2), run_id="r2").number
    before = store.state("svc")
    with pytest.raises(StoreConflictError):
        store.promote("svc", n2, expected_current=None, run_id="r2")  # there is a current
    with pytest.raises(StoreConflictError):
        store.promote("svc", n1, expected_current=n1, run_id="r2")  # n1 is not pending
    with pytest.raises(StoreNotFoundError):
        store.promote("svc", 999, expected_current=n1, run_id="r2")
    with pytest.raises(StoreNotFoundError):
        store.promote("nothing/here", 1, expected_current=None)
    assert store.state("svc") == before


def test_second_client_loses_the_promote(store_factory: Callable[[], Store]) -> None:
    a, b = store_factory(), store_factory()
    n1 = _adopt(a, "svc", V1)
    n2 = a.put("svc", SecretValue(V2), run_id="r2").number
    # Both clients read the same state and decide to promote n2 over n1.
    assert b.state("svc") == a.state("svc")
    a.promote("svc", n2, expected_current=n1, run_id="runner-a")
    with pytest.raises(StoreConflictError):
        b.promote("svc", n2, expected_current=n1, run_id="runner-b")
    state = b.state("svc")
    assert state is not None and state.last_run_id == "runner-a"
    # A promote built on the state from before a's promote is stale too.
    n3 = a.put("svc", SecretValue(V3), run_id="r3").number
    with pytest.raises(StoreConflictError):
        b.promote("svc", n3, expected_current=n1, run_id="runner-b")
    assert _labels(a, "svc") == {Label.CURRENT: n2, Label.PREVIOUS: n1, Label.PENDING: n3}


def test_concurrent_promotes_exactly_one_wins(store_factory: Callable[[], Store]) -> None:
    setup = store_factory()
    n1 = _adopt(setup, "race", V1)
    n2 = setup.put("race", SecretValue(V2), run_id="stage").number
    racers = [store_factory() for _ in range(4)]
    barrier = threading.Barrier(len(racers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def promote(i: int, store: Store) -> None:
        barrier.wait()
        try:
            store.promote("race", n2, expected_current=n1, run_id=f"runner-{i}")
            result = "won"
        except StoreConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=promote, args=(i, s)) for i, s in enumerate(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
    assert _labels(setup, "race") == {Label.CURRENT: n2, Label.PREVIOUS: n1}


def test_concurrent_staging_exactly_one_pending(store_factory: Callable[[], Store]) -> None:
    setup = store_factory()
    n1 = _adopt(setup, "stage", V1)
    racers = [store_factory() for _ in range(3)]
    barrier = threading.Barrier(len(racers))
    won: list[int] = []
    conflicts: list[str] = []

    def stage(i: int, store: Store) -> None:
        barrier.wait()
        try:
            won.append(store.put("stage", SecretValue(ALL[i + 1]), run_id=f"runner-{i}").number)
        except StoreConflictError:
            conflicts.append(f"runner-{i}")

    threads = [threading.Thread(target=stage, args=(i, s)) for i, s in enumerate(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(won) == 1 and len(conflicts) == 2
    assert _labels(setup, "stage") == {Label.CURRENT: n1, Label.PENDING: won[0]}
    pending = setup.get("stage", Label.PENDING)
    assert pending is not None and pending.version.run_id not in conflicts


def test_staging_over_another_runs_pending_conflicts(store: Store) -> None:
    n1 = store.put("svc", SecretValue(V1), run_id="run-a").number
    with pytest.raises(StoreConflictError) as info:
        store.put("svc", SecretValue(V2), run_id="run-b")
    assert V2 not in str(info.value) and V2 not in info.value.diagnostics()
    with pytest.raises(StoreConflictError):
        store.put("svc", SecretValue(V2))  # no run id: cannot be the owner
    assert _labels(store, "svc") == {Label.PENDING: n1}
    # The same run staging again (a resume) replaces its own pending version.
    n2 = store.put("svc", SecretValue(V2), run_id="run-a").number
    assert n2 != n1
    assert _labels(store, "svc") == {Label.PENDING: n2}
    pending = store.get("svc", Label.PENDING)
    assert pending is not None and pending.value.reveal() == V2


def test_adoption_moves_current(store: Store) -> None:
    n1 = _adopt(store, "svc", V1)
    n2 = _adopt(store, "svc", V2)
    assert _labels(store, "svc") == {Label.CURRENT: n2}
    assert n1 != n2


def test_discard_pending(store: Store) -> None:
    n1 = _adopt(store, "svc", V1)
    n2 = store.put("svc", SecretValue(V2), run_id="r").number
    store.discard_pending("svc", n2)
    assert _labels(store, "svc") == {Label.CURRENT: n1}
    store.discard_pending("svc", n2)  # no-op
    store.discard_pending("svc", n1)  # not pending: no-op, current untouched
    assert _labels(store, "svc") == {Label.CURRENT: n1}
    # The rolled-back version is still in the history, and a new run can stage.
    assert store.get_version("svc", n2).value.reveal() == V2
    n3 = store.put("svc", SecretValue(V3), run_id="other").number
    assert _labels(store, "svc") == {Label.CURRENT: n1, Label.PENDING: n3}
    with pytest.raises(StoreNotFoundError):
        store.discard_pending("svc", 999)


def test_mark_revoked_is_idempotent(store: Store) -> None:
    n1 = _adopt(store, "svc", V1)
    n2 = store.put("svc", SecretValue(V2), run_id="r").number
    store.promote("svc", n2, expected_current=n1, run_id="r")
    store.mark_revoked("svc", n1)
    state = store.state("svc")
    assert state is not None
    first = next(v for v in state.versions if v.number == n1)
    assert first.revoked_at is not None
    assert first.labels == frozenset({Label.PREVIOUS})
    store.mark_revoked("svc", n1)
    again = store.state("svc")
    assert again is not None
    assert next(v for v in again.versions if v.number == n1).revoked_at == first.revoked_at
    assert next(v for v in again.versions if v.number == n2).revoked_at is None
    with pytest.raises(StoreNotFoundError):
        store.mark_revoked("svc", 999)


def test_history_is_kept(store: Store) -> None:
    numbers = []
    current = None
    for i, value in enumerate(ALL):
        n = store.put("hist", SecretValue(value), attributes={"i": str(i)}, run_id=f"r{i}").number
        store.promote("hist", n, expected_current=current, run_id=f"r{i}")
        numbers.append(n)
        current = n
    assert numbers == sorted(numbers) and len(set(numbers)) == len(ALL)
    for n, value in zip(numbers, ALL, strict=True):
        got = store.get_version("hist", n)
        assert got.value.reveal() == value
        assert got.version.number == n
        assert got.version.fingerprint == fingerprint(FP_KEY, value)
    state = store.state("hist")
    assert state is not None
    assert [v.number for v in state.versions] == numbers
    assert [dict(v.attributes) for v in state.versions] == [{"i": str(i)} for i in range(len(ALL))]
    with pytest.raises(StoreNotFoundError):
        store.get_version("hist", 999)
    with pytest.raises(StoreNotFoundError):
        store.get_version("never/seen", 1)


def test_state_and_names(store: Store) -> None:
    assert store.names() == []
    assert store.state("app") is None
    for name in ("zeta", "app", "app/db", "app/cache/redis"):
        _adopt(store, name, V1)
    assert store.names() == ["app", "app/cache/redis", "app/db", "zeta"]
    state = store.state("app/db")
    assert state is not None and state.name == "app/db" and len(state.versions) == 1


def test_values_roundtrip_exactly(store: Store) -> None:
    tricky = 'p@ss:wörd/with "quotes" \\ and\nnewline ✓'
    n = _adopt(store, "odd", tricky)
    assert store.get_version("odd", n).value.reveal() == tricky


@pytest.mark.parametrize("bad", ["", "/abs", "Upper", "a//b", "a/../b", "trailing/", "_hidden"])
def test_invalid_names_are_rejected(store: Store, bad: str) -> None:
    with pytest.raises(StoreError) as info:
        store.put(bad, SecretValue(V1))
    assert V1 not in info.value.diagnostics()
    assert store.names() == []


def test_nothing_leaks_a_value(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    n1 = _adopt(store, "leak", V1)
    n2 = store.put("leak", SecretValue(V2), attributes={"username": "u1"}, run_id="r").number
    store.promote("leak", n2, expected_current=n1, run_id="r")
    n3 = store.put("leak", SecretValue(V3), run_id="r3").number
    store.discard_pending("leak", n3)
    store.mark_revoked("leak", n1)

    shown: list[str] = [repr(store), str(store), repr(store.state("leak")), str(store.state("leak"))]
    for label in (Label.CURRENT, Label.PREVIOUS):
        got = store.get("leak", label)
        assert got is not None
        shown += [repr(got), str(got), f"{got}", repr(got.version), repr(got.value), f"{got.value}"]
    errors: list[BaseException] = []
    for provoke in (
        lambda: store.put("leak", SecretValue(V4), run_id="x") and store.put("leak", SecretValue(V4), run_id="y"),
        lambda: store.put("Bad Name", SecretValue(V4)),
        lambda: store.promote("leak", n3, expected_current=n2, run_id="z"),
        lambda: store.promote("leak", n2, expected_current=n3, run_id="z"),
        lambda: store.get_version("leak", 999),
    ):
        with pytest.raises(StoreError) as info:
            provoke()
        errors.append(info.value)
    for exc in errors:
        cause: BaseException | None = exc
        while cause is not None:
            shown += [str(cause), repr(cause)]
            if isinstance(cause, StoreError):
                shown.append(cause.diagnostics())
            cause = cause.__cause__
    shown += [r.getMessage() for r in caplog.records]
    assert any("leak" in r.getMessage() for r in caplog.records)  # the store does log, at DEBUG
    text = "\n".join(shown)
    for value in ALL:
        assert value not in text
