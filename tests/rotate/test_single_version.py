"""One store version per rotation, and `scan --inventory` calls every replaced value `revoked`.

Runs the engine (fake issuer and targets) over the real stores: `LocalStore`, and `VaultStore`
on the OpenBao dev server. Also pins the one timestamp form stores write.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secretops.inventory.models import DotenvTargetSpec, NoIssuerSpec
from secretops.rotate.engine import Engine, Outcome, StaticInventory
from secretops.scan.inventory_match import fingerprint_index
from secretops.store import LocalStore, Store, VaultStore
from secretops.store.interface import Label, StoreConflictError
from secretops.values import SecretValue, fingerprint
from tests.fakes.issuer import FakeIssuer
from tests.fakes.target import FakeTarget
from tests.rotate.conftest import KEY, OLD, Clock, secret

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


@pytest.fixture(params=["local", pytest.param("vault", marks=pytest.mark.vault)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of stores over one backend (each call: a fresh client, as a new process would have)."""
    made: list[Store] = []
    clock = Clock()
    if request.param == "local":

        def make() -> Store:
            store: Store = LocalStore(tmp_path / "store", key=bytes(range(32)), fingerprint_key=KEY, clock=clock)
            made.append(store)
            return store

    else:
        settings = request.getfixturevalue("bao_server").settings()

        def make() -> Store:
            store: Store = VaultStore(settings, fingerprint_key=KEY, clock=clock)
            made.append(store)
            return store

    yield make
    for store in made:
        store.close()


def _engine(tmp_path: Path, store: Store, issuer: FakeIssuer, targets: dict[str, FakeTarget], **spec: object) -> Engine:
    sec = secret(**spec)
    clock = Clock()
    return Engine(
        StaticInventory(
            {sec.name: sec},
            {"iss": NoIssuerSpec(kind="app")},
            {n: DotenvTargetSpec(kind="dotenv", path=f"/nonexistent/{n}") for n in targets},
        ),
        store,
        state_dir=tmp_path / "state",
        key=KEY,
        issuer_factory=lambda _n, _s: issuer,
        target_factory=lambda n, _s: targets[n],
        clock=clock,
    )


@pytest.mark.parametrize("strategy", ["alternate", "overlap"])
def test_two_rotations_two_versions_each_replaced_one_revoked(
    make_store: Callable[[], Store], tmp_path: Path, strategy: str
) -> None:
    accounts = ["app_a", "app_b"] if strategy == "alternate" else ["app_a"]
    issuer = FakeIssuer()
    targets = {"web": FakeTarget("web"), "worker": FakeTarget("worker")}
    store = make_store()
    store.put("shop/db", SecretValue(OLD), attributes={"username": "app_a"}, labels=frozenset({Label.CURRENT}))
    issuer.seed("app_a", OLD)
    for t in targets.values():
        t.seed("DATABASE_URL", "unused")
    users = []
    for _ in range(2):
        result = _engine(tmp_path, make_store(), issuer, targets, strategy=strategy, accounts=accounts).rotate(
            "shop/db"
        )
        assert result.outcome is Outcome.COMPLETE, result.summary()
        current = make_store().get("shop/db")
        assert current is not None
        users.append(current.version.attributes["username"])
    assert users == (["app_b", "app_a"] if strategy == "alternate" else ["app_a", "app_a"])

    state = make_store().state("shop/db")
    assert state is not None
    assert [v.number for v in state.versions] == [1, 2, 3], "one version adopted, one per rotation"
    first, second, third = state.versions
    assert first.revoked_at is not None and second.revoked_at is not None and third.revoked_at is None
    assert second.attributes["username"] == users[0] and third.attributes["username"] == users[1]
    assert {v.run_id for v in (second, third)} == {
        r.run_id
        for r in _engine(tmp_path, store, issuer, targets, strategy=strategy, accounts=accounts).history("shop/db")
    }

    index = fingerprint_index(make_store())
    assert index[first.fingerprint].state == "revoked"
    assert index[second.fingerprint].state == "revoked"
    assert index[third.fingerprint].state == "current"
    assert len(index) == 3


def test_timestamps_are_utc_seconds_in_one_form(make_store: Callable[[], Store], tmp_path: Path) -> None:
    issuer = FakeIssuer()
    targets = {"web": FakeTarget("web"), "worker": FakeTarget("worker")}
    store = make_store()
    store.put("shop/db", SecretValue(OLD), attributes={"username": "app_a"}, labels=frozenset({Label.CURRENT}))
    issuer.seed("app_a", OLD)
    assert _engine(tmp_path, store, issuer, targets).rotate("shop/db").outcome is Outcome.COMPLETE
    state = make_store().state("shop/db")
    assert state is not None and state.rotated_at is not None
    moments = [state.rotated_at] + [v.created_at for v in state.versions] + [state.versions[0].revoked_at]
    for moment in moments:
        assert moment is not None and moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
        assert moment.microsecond == 0
    if isinstance(store, LocalStore):
        doc = json.loads((store.path / "store.json").read_text())
        record = doc["secrets"]["shop/db"]["record"]
        texts = [record["rotated_at"]] + [v["created_at"] for v in record["versions"]]
        texts.append(record["versions"][0]["revoked_at"])
    else:
        assert isinstance(store, VaultStore)
        meta = store._kv.read_secret_metadata(store._value_path("shop/db"), mount_point=store._mount)
        custom = meta["data"]["custom_metadata"]
        texts = [custom["secretops.rotated_at"]]
        for key in ("v1", "v2"):
            summary = json.loads(custom[key])
            texts.extend(summary[k] for k in ("at", "revoked") if k in summary)
        assert "revoked" in json.loads(custom["v1"])
    assert texts and all(ISO_SECONDS.match(t) for t in texts), texts


def test_set_attributes_only_on_this_runs_pending_version(make_store: Callable[[], Store]) -> None:
    store = make_store()
    current = store.put("s", SecretValue("v-current-1"), labels=frozenset({Label.CURRENT}))
    pending = store.put("s", SecretValue("v-pending-2"), attributes={"a": "1"}, run_id="r-1")
    updated = store.set_attributes("s", pending.number, {"a": "1", "username": "app_b"}, run_id="r-1")
    assert updated.number == pending.number and updated.attributes == {"a": "1", "username": "app_b"}
    got = make_store().get("s", Label.PENDING)
    assert got is not None and got.value.reveal() == "v-pending-2"
    assert got.version.fingerprint == fingerprint(KEY, "v-pending-2") and got.version.attributes["username"] == "app_b"
    again = store.set_attributes("s", pending.number, {"a": "1", "username": "app_b"}, run_id="r-1")
    assert again == updated
    with pytest.raises(StoreConflictError, match="belongs to run r-1"):
        store.set_attributes("s", pending.number, {}, run_id="r-2")
    with pytest.raises(StoreConflictError, match="not pending"):
        store.set_attributes("s", current.number, {"username": "x"})
    state = make_store().state("s")
    assert state is not None and len(state.versions) == 2


def test_stamp_normalises_to_utc_seconds() -> None:
    from secretops.store._state import iso, stamp

    moment = datetime(2026, 12, 1, 22, 30, 0, 123456, tzinfo=UTC).astimezone()
    assert iso(moment) == "2026-12-01T22:30:00+00:00"
    assert stamp(datetime(2026, 12, 1, 22, 30, 5, 9)) == datetime(2026, 12, 1, 22, 30, 5, tzinfo=UTC)
