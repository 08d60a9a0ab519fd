"""Rotation schedule from the store's recorded state (LocalStore with a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secretops.inventory.loader import Inventory, load_inventory
from secretops.inventory.status import State, due, due_window, orphans, status_of, statuses
from secretops.store.interface import Label, SecretState, Version
from secretops.store.local import LocalStore
from secretops.values import FingerprintKey, SecretValue

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "policies"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock for `LocalStore`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def inventory() -> Inventory:
    return load_inventory(ASSETS / "valid")


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> LocalStore:
    return LocalStore(tmp_path / ".secretops", key=b"k" * 32, fingerprint_key=FingerprintKey(b"f" * 32), clock=clock)


def _rotate(store: LocalStore, name: str, run_id: str) -> None:
    current = store.get(name)
    version = store.put(name, SecretValue(f"v-{run_id}"), run_id=run_id)
    store.promote(name, version.number, expected_current=current.version.number if current else None, run_id=run_id)


def test_never_rotated_when_the_store_has_no_current(inventory: Inventory, store: LocalStore) -> None:
    rows = statuses(inventory, store, T0)
    assert [r.name for r in rows] == list(inventory.secrets)
    assert {r.state for r in rows} == {State.NEVER_ROTATED}
    row = rows[0]
    assert (row.version, row.age, row.next_due, row.last_rotated) == (None, None, None, None)
    assert due(inventory, store, T0) == list(inventory.secrets)


def test_states_follow_age_against_period(inventory: Inventory, store: LocalStore, clock: Clock) -> None:
    name = "shop/redis"  # period 30d: due window 3 days
    assert inventory.secrets[name].period == timedelta(days=30)
    _rotate(store, name, "r1")
    at = {
        T0 + timedelta(days=1): State.OK,
        T0 + timedelta(days=26, hours=23): State.OK,
        T0 + timedelta(days=27): State.DUE,
        T0 + timedelta(days=29, hours=23): State.DUE,
        T0 + timedelta(days=30): State.OVERDUE,
        T0 + timedelta(days=400): State.OVERDUE,
    }
    for now, expected in at.items():
        row = next(r for r in statuses(inventory, store, now) if r.name == name)
        assert row.state is expected, now
        assert row.age == now - T0
        assert row.next_due == T0 + timedelta(days=30)
        assert row.last_rotated == T0
        assert row.version == 1
    assert name in due(inventory, store, T0 + timedelta(days=31))
    assert name not in due(inventory, store, T0 + timedelta(days=28))


def test_age_counts_from_the_current_version(inventory: Inventory, store: LocalStore, clock: Clock) -> None:
    name = "shop/redis"
    _rotate(store, name, "r1")
    clock.now = T0 + timedelta(days=29)
    _rotate(store, name, "r2")
    row = next(r for r in statuses(inventory, store, T0 + timedelta(days=31)) if r.name == name)
    assert row.state is State.OK
    assert row.version == 2
    assert row.age == timedelta(days=2)
    assert row.last_rotated == T0 + timedelta(days=29)


def test_imported_value_has_an_age_but_no_rotation(inventory: Inventory, store: LocalStore) -> None:
    name = "budget-ai/database"
    store.put(name, SecretValue("adopted"), labels=frozenset({Label.CURRENT}), attributes={"username": "app_a"})
    # The day after the import, not a full period later: when the credential was last changed is unknown.
    row = next(r for r in statuses(inventory, store, T0 + timedelta(days=1)) if r.name == name)
    assert row.state is State.NEVER_ROTATED and row.adopted
    assert row.last_rotated is None and row.next_due is None
    assert row.created_at == T0 and row.age == timedelta(days=1)
    assert name in due(inventory, store, T0 + timedelta(days=1))
    assert row.to_json()["adopted"] is True


def test_adopted_over_a_rotated_value_is_never_rotated_again(
    inventory: Inventory, store: LocalStore, clock: Clock
) -> None:
    name = "shop/redis"
    _rotate(store, name, "r1")
    assert next(r for r in statuses(inventory, store, T0) if r.name == name).state is State.OK
    clock.now = T0 + timedelta(days=2)
    store.put(name, SecretValue("changed-by-hand"), labels=frozenset({Label.CURRENT}))  # store import --overwrite
    row = next(r for r in statuses(inventory, store, T0 + timedelta(days=3)) if r.name == name)
    assert row.state is State.NEVER_ROTATED and row.last_rotated is None and row.version == 2
    _rotate(store, name, "r2")  # a rotation starts the clock again
    row = next(r for r in statuses(inventory, store, T0 + timedelta(days=3)) if r.name == name)
    assert row.state is State.OK and row.next_due == T0 + timedelta(days=32)


def test_pending_version_is_shown(inventory: Inventory, store: LocalStore) -> None:
    name = "shop/jwt"
    _rotate(store, name, "r1")
    store.put(name, SecretValue("next"), run_id="r2")
    row = next(r for r in statuses(inventory, store, T0) if r.name == name)
    assert row.pending == 2
    assert row.version == 1


def test_row_details_and_json(inventory: Inventory, store: LocalStore) -> None:
    row = next(r for r in statuses(inventory, store, T0) if r.name == "shop/aws-s3")
    assert row.issuer_kind == "aws-iam"
    assert row.consumers == 3
    assert row.targets == ("shop-ci", "shop-vercel")
    doc = row.to_json()
    assert doc["state"] == "never-rotated"
    assert doc["period_seconds"] == 90 * 86400
    assert doc["file"].endswith("every-kind.yaml")
    assert "value" not in doc and "fingerprint" not in doc


def test_orphans(inventory: Inventory, store: LocalStore) -> None:
    store.put("old/renamed", SecretValue("x"), labels=frozenset({Label.CURRENT}))
    _rotate(store, "shop/jwt", "r1")
    assert orphans(inventory, store) == ["old/renamed"]


def test_naive_datetimes_are_utc(inventory: Inventory) -> None:
    version = Version(1, "hmac-sha256:00", datetime(2025, 1, 1), frozenset({Label.CURRENT}), run_id="r1")
    state = SecretState("shop/redis", (version,), rotated_at=datetime(2025, 1, 1))
    row = status_of(inventory, "shop/redis", state, datetime(2025, 3, 1))
    assert row.state is State.OVERDUE
    assert row.next_due == datetime(2025, 1, 31, tzinfo=UTC)


def test_due_window() -> None:
    assert due_window(timedelta(days=30)) == timedelta(days=3)
    assert due_window(timedelta(days=365)) == timedelta(days=14)
    assert due_window(timedelta(hours=10)) == timedelta(hours=1)


def test_works_with_an_inventory_without_locations(inventory: Inventory, store: LocalStore) -> None:
    class Static:
        def __init__(self, source: Inventory) -> None:
            self.secrets = source.secrets
            self.issuers = source.issuers

    rows = statuses(Static(inventory), store, T0)
    assert len(rows) == len(inventory.secrets)
    assert rows[0].file is None and rows[0].line is None
    assert rows[0].to_json()["file"] is None
    assert due(Static(inventory), store, T0) == list(inventory.secrets)
