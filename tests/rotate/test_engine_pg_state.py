"""The engine on `PostgresState` (127.0.0.1:5432): two runners, a stale due list, a lease taken away.

Each test gets a fresh schema (`tests/state/conftest.py` fixtures); skipped without PostgreSQL
or psycopg unless SECRETOPS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from secretops.rotate.engine import Outcome, SerializedStore
from secretops.rotate.journal import RunState
from secretops.state.interface import StateBackend
from tests.rotate.conftest import OLD, World, secret
from tests.state.conftest import TEST_LEASE, PgSchema, pg_schema, pg_state_db  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres


@pytest.fixture
def states(pg_schema: PgSchema) -> Iterator[list[StateBackend]]:  # noqa: F811
    """Two runners' `PostgresState`s on one schema (closed afterwards)."""
    from secretops.state.postgres import PostgresState

    made = [PostgresState(pg_schema.url, lease=TEST_LEASE) for _ in range(2)]
    try:
        yield list(made)
    finally:
        for state in made:
            state.close()


def test_two_runners_on_postgres_rotate_a_stale_due_secret_once(world: World, states: list[StateBackend]) -> None:
    world.add(secret())
    store = SerializedStore(world.store)
    runner_a, runner_b = (world.engine(state=s) for s in states)
    runner_a.store = runner_b.store = store

    def due_then_a_rotates() -> list[str]:
        assert runner_a.rotate("shop/db").outcome is Outcome.COMPLETE
        return ["shop/db"]

    (result,) = runner_b.run_due(due=due_then_a_rotates)
    assert result.outcome is Outcome.SKIPPED and "already rotated by another runner" in (result.note or "")
    state = store.state("shop/db")
    assert state is not None and len(state.versions) == 2
    assert [r.outcome for r in states[1].runs("shop/db")] == ["complete"]


def test_lease_expired_mid_run_stops_it_and_the_other_runner_takes_it_over(
    world: World,
    states: list[StateBackend],
    pg_schema: PgSchema,  # noqa: F811
) -> None:
    world.add(secret())

    def hook(step: str, target: str | None) -> None:
        if step == "redeploy" and target == "web":  # the heartbeat stalled for a whole lease
            pg_schema.query("UPDATE secretops_leases SET expires_at = now() - interval '1 second'")

    result = world.engine(state=states[0], hook=hook).rotate("shop/db")
    assert result.outcome is Outcome.INTERRUPTED, result.summary()
    assert result.failure is not None and result.failure.step == "redeploy"
    (record,) = states[1].runs("shop/db")
    assert record.outcome == "running"
    assert states[1].state(record, world.clock.now) is RunState.INTERRUPTED
    assert world.issuer.works("app_a", OLD)

    (done,) = world.engine(state=states[1]).run_due(due=list)
    assert done.run_id == result.run_id and done.outcome is Outcome.COMPLETE, done.summary()
    new = world.current()
    assert world.env("worker", "DB_PASSWORD") == new and not world.issuer.works("app_a", OLD)
    assert [r.outcome for r in states[0].runs("shop/db")] == ["complete"]
