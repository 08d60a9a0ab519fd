"""PostgresState beyond the contract: leases across processes, heartbeats, lost leases, schema
versions, racing migrations, append-only tables, connection errors, and no value in any table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secretops.errors import ExitCode
from secretops.rotate.lock import RotationLockedError
from secretops.state.interface import LeaseLostError, RunState, StateSchemaError, new_run_id
from secretops.state.migrations import LATEST
from secretops.state.pg_lease import lease_key
from secretops.state.postgres import PostgresState, StateAuthError, StateUnavailableError
from secretops.values import SecretValue
from tests.helpers import free_port
from tests.services import PgCluster
from tests.state.conftest import TEST_LEASE, PgSchema

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def states() -> Iterator[list[PostgresState]]:
    """A list the test appends its states to; all are closed afterwards."""
    made: list[PostgresState] = []
    yield made
    for state in made:
        state.close()


def _state(pg_schema: PgSchema, made: list[PostgresState], lease: timedelta = TEST_LEASE) -> PostgresState:
    state = PostgresState(pg_schema.url, lease=lease)
    made.append(state)
    return state


def _wait_until(predicate: object, timeout: float, step: float = 0.05) -> float:
    """Seconds until `predicate()` is true (fails after `timeout`)."""
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


_CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from secretops.state.postgres import PostgresState
    url, secret, run_id, lease = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    state = PostgresState(url, lease=timedelta(seconds=lease))
    held = state.exclusive(secret)
    held.acquire()
    state.start_run(run_id, secret).append("run", "started", strategy="alternate")
    print("held", flush=True)
    time.sleep(120)
    """
)


def test_a_runner_killed_holding_a_lease_stays_alive_until_the_lease_expires(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    secret, run_id = f"shop/db-{tag}", new_run_id(datetime.now(UTC))
    lease = 3.0  # long enough that the checks below run before the row expires, even on a busy machine
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, pg_schema.url, secret, run_id, str(lease)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        observer = _state(pg_schema, states)
        taker = _state(pg_schema, states)
        assert observer.alive(secret)
        with pytest.raises(RotationLockedError, match="lock is held"):
            taker.exclusive(secret).acquire()
        # Let the heartbeat renew at least once, so expiry below is measured from the kill.
        time.sleep(lease / 2)
        os.kill(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if child.stdout is not None:
            child.stdout.close()

    key = lease_key(secret)

    def lock_free() -> bool:
        rows = pg_schema.query(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = (%s::bigint & 4294967295)::oid",
            (key,),
        )
        return rows[0][0] == 0

    # The session's advisory lock goes with the process, at once...
    _wait_until(lock_free, timeout=1.5)
    # ...but the lease row keeps the secret alive, and the run `running`, until it expires.
    assert observer.alive(secret)
    assert observer.state(observer.load(run_id), datetime.now(UTC)) is RunState.RUNNING
    with pytest.raises(RotationLockedError, match="lease has not expired") as info:
        taker.exclusive(secret).acquire()
    assert f":{child.pid}:" in info.value.message  # names the holder: hostname:pid:random

    _wait_until(lambda: not observer.alive(secret), timeout=lease + 2)
    waited = time.monotonic() - killed
    assert waited <= lease + 2
    assert observer.state(observer.load(run_id), datetime.now(UTC)) is RunState.INTERRUPTED
    with taker.exclusive(secret) as taken:
        taken.check()
        assert observer.alive(secret)
        taker.start_run(run_id, secret).append("run", "resumed")
        rows = pg_schema.query("SELECT holder, run_id FROM secretops_leases WHERE secret = %s", (secret,))
        assert rows == [(taken.holder, run_id)]  # type: ignore[attr-defined]
    assert [e.status for e in observer.load(run_id).entries] == ["started", "resumed"]


def test_the_heartbeat_keeps_a_short_lease_alive(pg_schema: PgSchema, states: list[PostgresState], tag: str) -> None:
    secret, short = f"shop/db-{tag}", timedelta(seconds=1)
    holder, other = _state(pg_schema, states, short), _state(pg_schema, states, short)
    lease = holder.exclusive(secret)
    lease.acquire()
    try:
        first = pg_schema.query("SELECT expires_at, acquired_at FROM secretops_leases WHERE secret = %s", (secret,))
        deadline = time.monotonic() + 3 * short.total_seconds()  # three whole leases: nine heartbeats
        while time.monotonic() < deadline:
            lease.check()
            assert other.alive(secret)
            time.sleep(0.25)
        with pytest.raises(RotationLockedError):
            other.exclusive(secret).acquire()
        later = pg_schema.query("SELECT expires_at, heartbeat_at FROM secretops_leases WHERE secret = %s", (secret,))
        # Renewed: it now expires well past where the first claim put it.
        assert later[0][0] > first[0][0] + short
        assert later[0][1] > first[0][1]
    finally:
        lease.release()
    assert not other.alive(secret)
    assert pg_schema.query("SELECT count(*) FROM secretops_leases WHERE secret = %s", (secret,)) == [(0,)]


def test_check_raises_once_another_runner_took_the_lease(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    secret = f"shop/db-{tag}"
    first, second = _state(pg_schema, states), _state(pg_schema, states)
    lease = first.exclusive(secret)
    lease.acquire()
    lease.check()
    # A network partition: the server ends our session (so our advisory lock goes), and our row
    # expires before we can renew it; another runner takes the secret.
    key = lease_key(secret)
    pg_schema.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
        "AND objid = (%s::bigint & 4294967295)::oid",
        (key,),
    )
    pg_schema.query("UPDATE secretops_leases SET expires_at = now() - interval '1 second' WHERE secret = %s", (secret,))
    taken = second.exclusive(secret)
    _wait_until(lambda: _try(taken), timeout=2)
    try:
        with pytest.raises(LeaseLostError) as info:
            lease.check()
        assert secret in info.value.message
        lease.release()  # must not delete the new holder's row
        assert second.alive(secret)
        holders = pg_schema.query("SELECT holder FROM secretops_leases WHERE secret = %s", (secret,))
        assert holders == [(taken.holder,)]  # type: ignore[attr-defined]
        taken.check()
    finally:
        taken.release()


def _try(lease: object) -> bool:
    try:
        lease.acquire()  # type: ignore[attr-defined]
    except RotationLockedError:
        return False
    return True


def test_check_raises_when_the_row_names_another_holder(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    secret = f"shop/db-{tag}"
    lease = _state(pg_schema, states).exclusive(secret)
    with lease:
        lease.check()
        pg_schema.query("UPDATE secretops_leases SET holder = 'elsewhere:1:cafe' WHERE secret = %s", (secret,))
        with pytest.raises(LeaseLostError, match="elsewhere:1:cafe holds it now"):
            lease.check()
    # Releasing did not delete the other holder's row.
    assert pg_schema.query("SELECT holder FROM secretops_leases WHERE secret = %s", (secret,)) == [
        ("elsewhere:1:cafe",)
    ]


def test_a_guarded_journal_line_is_written_only_while_the_lease_holds(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    # The engine's line before a world-changing step checks the lease in the same insert.
    secret = f"shop/db-{tag}"
    state = _state(pg_schema, states)
    run_id = new_run_id(datetime.now(UTC))
    with state.exclusive(secret) as lease:
        log = state.start_run(run_id, secret)
        log.append("run", "started")
        log.append_guarded(lease, "stage", "start")
        pg_schema.query("UPDATE secretops_leases SET holder = 'elsewhere:1:cafe' WHERE secret = %s", (secret,))
        with pytest.raises(LeaseLostError, match="elsewhere:1:cafe holds it now"):
            log.append_guarded(lease, "distribute", "start", target="web")
        with pytest.raises(LeaseLostError):
            lease.check()
    with state.exclusive(f"{secret}-2") as other:
        log2 = state.start_run(new_run_id(datetime.now(UTC)), f"{secret}-2")
        other._stop.set()  # type: ignore[attr-defined] # no heartbeat renews the row we expire
        pg_schema.query(
            "UPDATE secretops_leases SET expires_at = now() - interval '1 second' WHERE secret = %s", (f"{secret}-2",)
        )
        with pytest.raises(LeaseLostError, match="expired"):
            log2.append_guarded(other, "promote", "start")
    assert [(e.step, e.status) for e in state.load(run_id).entries] == [("run", "started"), ("stage", "start")]


def test_a_closing_line_goes_with_the_next_line_and_survives_a_lost_lease(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    secret = f"shop/db-{tag}"
    state, observer = _state(pg_schema, states), _state(pg_schema, states)
    run_id = new_run_id(datetime.now(UTC))

    def seen() -> list[tuple[str, str]]:
        return [(e.step, e.status) for e in observer.load(run_id).entries]

    with state.exclusive(secret) as lease:
        log = state.start_run(run_id, secret)
        log.append("run", "started")
        log.append_guarded(lease, "stage", "start")
        log.append("stage", "done", version=2)
        assert seen() == [("run", "started"), ("stage", "start")]  # held back...
        log.append("verify", "start")  # ...and written, in order, before the next line returns
        assert seen()[-2:] == [("stage", "done"), ("verify", "start")]
        log.append("verify", "done")
        assert [(e.step, e.status) for e in log.record().entries][-1] == ("verify", "done")  # record() flushes
        log.append("apply", "skipped")
        pg_schema.query("UPDATE secretops_leases SET holder = 'elsewhere:1:cafe' WHERE secret = %s", (secret,))
        with pytest.raises(LeaseLostError):
            log.append_guarded(lease, "promote", "start")
    # The step that finished is recorded; the refused one is not.
    assert seen()[-1] == ("apply", "skipped")


def test_a_failed_renewal_loses_the_lease(pg_schema: PgSchema, states: list[PostgresState], tag: str) -> None:
    secret = f"shop/db-{tag}"
    lease = _state(pg_schema, states).exclusive(secret)
    with lease:
        pg_schema.query("DELETE FROM secretops_leases WHERE secret = %s", (secret,))
        time.sleep(TEST_LEASE.total_seconds() / 3 + 0.3)  # one heartbeat finds no row to renew
        with pytest.raises(LeaseLostError, match="another runner took it over"):
            lease.check()


# ---------------------------------------------------------------- schema


def test_a_fresh_database_is_migrated_on_first_use(pg_schema: PgSchema, states: list[PostgresState]) -> None:
    state = _state(pg_schema, states)
    assert state.schema_version() == 0
    assert state.runs() == []  # first use migrates
    assert state.schema_version() == LATEST
    tables = {
        r[0]
        for r in pg_schema.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (pg_schema.schema,)
        )
    }
    assert {
        "secretops_schema_version",
        "secretops_runs",
        "secretops_steps",
        "secretops_leases",
        "secretops_audit",
        "secretops_audit_head",
    } <= tables


def test_a_newer_schema_is_refused(pg_schema: PgSchema, states: list[PostgresState]) -> None:
    _state(pg_schema, states).migrate()
    pg_schema.query(
        "INSERT INTO secretops_schema_version (version, name) VALUES (%s, 'from-the-future')", (LATEST + 1,)
    )
    state = _state(pg_schema, states)
    assert state.schema_version() == LATEST + 1
    for call in (state.runs, state.migrate, lambda: state.exclusive("x").acquire(), lambda: state.audit().entries()):
        with pytest.raises(StateSchemaError) as info:
            call()
        assert info.value.hint is not None and "upgrade secretops" in info.value.hint
        assert f"schema {LATEST + 1}" in info.value.message
        assert info.value.exit_code == 2


def test_two_runners_migrating_at_once_both_succeed(pg_schema: PgSchema, states: list[PostgresState]) -> None:
    racers = [_state(pg_schema, states) for _ in range(4)]
    barrier = threading.Barrier(len(racers))
    reports: list[object] = []
    errors: list[BaseException] = []

    def run(state: PostgresState) -> None:
        try:
            barrier.wait(5)
            reports.append(state.migrate())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    applied = sorted(len(r.applied) for r in reports)  # type: ignore[attr-defined]
    assert applied == [0, 0, 0, LATEST]
    assert pg_schema.query("SELECT count(*) FROM secretops_schema_version") == [(LATEST,)]
    assert all(s.schema_version() == LATEST for s in racers)


def test_steps_and_audit_are_append_only(pg_schema: PgSchema, states: list[PostgresState], tag: str) -> None:
    import psycopg

    state = _state(pg_schema, states)
    run_id = new_run_id(datetime.now(UTC))
    state.start_run(run_id, f"s/{tag}").append("run", "started")
    state.audit().append("rotate", secret=f"s/{tag}", outcome="complete")
    for sql in (
        "UPDATE secretops_steps SET status = 'complete'",
        "DELETE FROM secretops_steps",
        "TRUNCATE secretops_steps CASCADE",
        "UPDATE secretops_audit SET action = 'reveal'",
        "DELETE FROM secretops_audit",
        "TRUNCATE secretops_audit",
        "DELETE FROM secretops_audit_head",
        "UPDATE secretops_audit_head SET seq = 0",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg_schema.query(sql)
    assert [e.status for e in state.load(run_id).entries] == ["started"]
    assert state.audit().verify().ok


# ---------------------------------------------------------------- no values, no passwords


def test_no_value_reaches_any_table(pg_schema: PgSchema, states: list[PostgresState], tag: str) -> None:
    raw = "v-state-Kq93$not-a-real-password-" + tag
    value = SecretValue(raw)
    state = _state(pg_schema, states)
    secret = f"shop/db-{tag}"
    run_id = new_run_id(datetime.now(UTC))
    with state.exclusive(secret):
        log = state.start_run(run_id, secret)
        log.append("run", "started")
        for bad in ({"value": value}, {"values": [value, "x"]}, {"value": {"nested": raw}}):
            with pytest.raises(TypeError):
                log.append("generate", "done", **bad)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                state.audit().append("reveal", secret=secret, **bad)
        log.append("generate", "done", preview=str(value), repr=repr(value))
        state.audit().append("rotate", secret=secret, outcome="complete", preview=str(value))
        dump = []
        for (table,) in pg_schema.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name LIKE 'secretops%%'",
            (pg_schema.schema,),
        ):
            dump += [r[0] for r in pg_schema.query(f'SELECT t::text FROM "{table}" t')]
    assert any(run_id in row for row in dump) and any("preview" in row for row in dump)  # we searched real rows
    assert not any(raw in row for row in dump)


def test_describe_and_errors_never_show_the_password(pg_cluster: PgCluster, states: list[PostgresState]) -> None:
    password = "pw-Zr7@not-the-right-one"
    url = pg_cluster.dsn("postgres", password)
    state = PostgresState(url)
    states.append(state)
    assert state.describe() == f"postgresql://postgres:***@{pg_cluster.host}:{pg_cluster.port}/postgres"
    assert password not in repr(state)
    with pytest.raises(StateAuthError) as info:
        state.runs()
    assert info.value.exit_code == ExitCode.AUTH
    assert password not in info.value.diagnostics() and "***" in info.value.message

    down = PostgresState(f"postgresql://postgres:{password}@127.0.0.1:{free_port()}/postgres")
    states.append(down)
    with pytest.raises(StateUnavailableError) as info2:
        down.schema_version()
    assert info2.value.exit_code == ExitCode.UNAVAILABLE
    assert password not in info2.value.diagnostics()
    assert info2.value.hint


def test_the_right_password_works_on_a_scram_cluster(pg_cluster: PgCluster, states: list[PostgresState]) -> None:
    import psycopg

    dbname = "secretops_state_scram"
    with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname}")
        conn.execute(f"CREATE DATABASE {dbname}")
    try:
        state = PostgresState(pg_cluster.dsn(pg_cluster.admin_user, pg_cluster.admin_password, dbname))
        states.append(state)
        assert state.migrate().after == LATEST
        with state.exclusive("scram/one"):
            assert state.alive("scram/one")
        state.close()
    finally:
        with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


# ---------------------------------------------------------------- privileges (docs/state.md)


def _documented_grants() -> str:
    text = (REPO / "docs" / "state.md").read_text()
    block = text.split("<!-- privileges:begin -->", 1)[1].split("<!-- privileges:end -->", 1)[0]
    return block.replace("```sql", "").replace("```", "").strip()


def test_a_runner_role_with_only_the_documented_grants_can_do_everything(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    import psycopg

    owner = _state(pg_schema, states)
    owner.migrate()
    role = f"secretops_runner_{tag}"
    grants = (
        _documented_grants().replace("secretops_runner", role).replace("SCHEMA public", f"SCHEMA {pg_schema.schema}")
    )
    pg_schema.query(f"CREATE ROLE {role} LOGIN")
    try:
        for statement in filter(None, (s.strip() for s in grants.split(";"))):
            pg_schema.query(statement)
        url = pg_schema.url.replace("postgresql://postgres@", f"postgresql://{role}@")
        runner = PostgresState(url, lease=TEST_LEASE)
        states.append(runner)
        secret = f"shop/db-{tag}"
        run_id = new_run_id(datetime.now(UTC))
        with runner.exclusive(secret) as lease:
            log = runner.start_run(run_id, secret)
            log.append("run", "started")
            time.sleep(TEST_LEASE.total_seconds() / 3 + 0.2)  # one heartbeat (UPDATE on leases)
            lease.check()
            assert runner.alive(secret) and runner.leases()[0].run_id == run_id
            log.append("run", "complete")
        runner.audit().append("rotate", secret=secret, outcome="complete", run=run_id)
        runner.audit().append("rotate", secret=secret, outcome="complete", run=run_id)
        assert runner.audit().verify().ok
        assert [r.outcome for r in runner.runs(secret)] == ["complete"] and runner.count_runs() == 1
        assert runner.schema_version() == LATEST and runner.migrate().applied == ()
        # The role lacks the privileges to change the schema or history (checked before any trigger).
        with psycopg.connect(url, autocommit=True) as conn:
            for sql in (
                "CREATE TABLE secretops_x (id int)",
                "DELETE FROM secretops_audit",
                "UPDATE secretops_steps SET status = 'x'",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)
        runner.close()
    finally:
        pg_schema.query(f"DROP OWNED BY {role}")
        pg_schema.query(f"DROP ROLE {role}")


def test_a_held_advisory_lock_keeps_the_secret_alive_after_its_row_expired(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    # A runner paused (SIGSTOP) keeps its session and lock but stops renewing: nobody may take
    # the secret over. Secrets whose keys are negative and positive, to cover both halves.
    names = [f"shop/db-{tag}-{n}" for n in range(40)]
    picked = [next(s for s in names if lease_key(s) < 0), next(s for s in names if lease_key(s) > 0)]
    holder, observer = _state(pg_schema, states), _state(pg_schema, states)
    for secret in picked:
        lease = holder.exclusive(secret)
        lease.acquire()
        try:
            lease._stop.set()  # type: ignore[attr-defined] # the heartbeat stops, as in a paused process
            pg_schema.query(
                "UPDATE secretops_leases SET expires_at = now() - interval '1 second' WHERE secret = %s", (secret,)
            )
            assert observer.alive(secret)
            with pytest.raises(RotationLockedError, match="lock is held"):
                observer.exclusive(secret).acquire()
            with pytest.raises(LeaseLostError, match="expired"):
                lease.check()
        finally:
            lease.release()
        assert not observer.alive(secret)


def test_a_role_that_cannot_create_tables_gets_a_privilege_error_on_first_use(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    role = f"secretops_nocreate_{tag}"
    pg_schema.query(f"CREATE ROLE {role} LOGIN")
    try:
        pg_schema.query(f"GRANT USAGE ON SCHEMA {pg_schema.schema} TO {role}")
        state = PostgresState(pg_schema.url.replace("postgresql://postgres@", f"postgresql://{role}@"))
        states.append(state)
        with pytest.raises(StateAuthError) as info:
            state.runs()
        assert info.value.exit_code == ExitCode.AUTH
        assert "migrate the state schema" in info.value.message
        assert info.value.hint is not None and "docs/state.md" in info.value.hint
        state.close()
        assert pg_schema.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (pg_schema.schema,)
        ) == [(0,)]
    finally:
        pg_schema.query(f"DROP OWNED BY {role}")
        pg_schema.query(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "detail",
    [{"ratio": float("nan")}, {"ratio": float("inf")}, {"note": "a\x00b"}, {"notes": ["ok", "a\x00b"]}],
    ids=["nan", "inf", "nul", "nul-in-list"],
)
def test_what_postgres_cannot_store_is_a_value_error_before_writing(
    pg_schema: PgSchema, states: list[PostgresState], tag: str, detail: dict[str, object]
) -> None:
    state = _state(pg_schema, states)
    run_id = new_run_id(datetime.now(UTC))
    log = state.start_run(run_id, f"s/{tag}")
    log.append("run", "started")
    with pytest.raises(ValueError, match="cannot be stored"):
        log.append("verify", "done", **detail)
    with pytest.raises(ValueError, match="cannot be stored"):
        state.audit().append("rotate", secret=f"s/{tag}", **detail)
    assert len(state.load(run_id).entries) == 1 and state.audit().entries() == []


def test_a_connection_lost_while_idle_is_replaced(
    pg_schema: PgSchema, states: list[PostgresState], tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import secretops.state.postgres as module

    state = _state(pg_schema, states)
    run_id = new_run_id(datetime.now(UTC))
    state.start_run(run_id, f"s/{tag}").append("run", "started")

    def kill_its_session() -> None:
        pid = state._conn.info.backend_pid  # type: ignore[union-attr]
        pg_schema.query("SELECT pg_terminate_backend(%s)", (pid,))
        _wait_until(lambda: not pg_schema.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)), timeout=5)

    # Idle long enough to be probed (a server restart between `serve` ticks): reconnects quietly.
    kill_its_session()
    monkeypatch.setattr(module, "_PROBE_AFTER", 0.0)
    assert [r.run_id for r in state.runs()] == [run_id]

    # Lost mid-use (no probe): one StateUnavailableError (exit 4), then the next call reconnects.
    monkeypatch.setattr(module, "_PROBE_AFTER", 3600.0)
    kill_its_session()
    with pytest.raises(StateUnavailableError) as info:
        state.runs()
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert [r.run_id for r in state.runs()] == [run_id]


def test_a_released_lease_session_serves_the_next_lease_and_a_dead_one_is_replaced(
    pg_schema: PgSchema, states: list[PostgresState], tag: str
) -> None:
    state = _state(pg_schema, states)
    first = state.exclusive(f"s/{tag}-a")
    first.acquire()
    pid = first._conn.info.backend_pid  # type: ignore[attr-defined]
    first.release()

    # A clean release hands the session on: the next lease runs on the same server process.
    second = state.exclusive(f"s/{tag}-b")
    second.acquire()
    assert second._conn.info.backend_pid == pid  # type: ignore[attr-defined]
    second.release()

    # The kept session dies while idle (a server restart, an idle-session timeout): the next
    # lease connects afresh instead of failing, and holds a real lock and row.
    pg_schema.query("SELECT pg_terminate_backend(%s)", (pid,))
    _wait_until(lambda: not pg_schema.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)), timeout=5)
    third = state.exclusive(f"s/{tag}-c")
    third.acquire()
    try:
        assert third._conn.info.backend_pid != pid  # type: ignore[attr-defined]
        third.check()
        rival = _state(pg_schema, states).exclusive(f"s/{tag}-c")
        with pytest.raises(RotationLockedError):
            rival.acquire()
    finally:
        third.release()


def test_a_key_is_claimed_once_across_runners(pg_schema: PgSchema, states: list[PostgresState], tag: str) -> None:
    """`claim_once`: the first runner to claim a delivery id wins, on any replica; files say None."""
    one, two = _state(pg_schema, states), _state(pg_schema, states)
    assert one.claim_once("github-delivery", f"d-{tag}") is True
    assert two.claim_once("github-delivery", f"d-{tag}") is False
    assert one.claim_once("github-delivery", f"d-{tag}") is False
    assert two.claim_once("other-kind", f"d-{tag}") is True  # kinds do not collide
    rows = pg_schema.query("SELECT kind, key FROM secretops_once ORDER BY kind")
    assert rows == [("github-delivery", f"d-{tag}"), ("other-kind", f"d-{tag}")]


def test_file_state_keeps_no_shared_claims(tmp_path: Path) -> None:
    from secretops.state.files import FileState

    assert FileState(tmp_path).claim_once("github-delivery", "d-1") is None
