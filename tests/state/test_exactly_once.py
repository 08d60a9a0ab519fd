"""Exactly once, with real processes and real services (issue 14).

Several `secretops rotate --due --concurrency 2` processes share one PostgreSQL state (and one
PostgreSQL store) over secrets of two real issuers: PostgreSQL roles on a private scram cluster
(strategy `alternate`, so a wrong password is really refused) and Redis ACL users (`overlap`),
each consumed from one or two `.env` files.

1. Four runners at once over 50 due secrets: each secret is rotated by exactly one run (one run
   id per secret in the state, one `promote` done, one new version in the store), every `.env`
   value logs in at its issuer and every old value is refused.
2. A runner is SIGKILLed in the middle of a run (its health check is held by a local HTTP server
   until the kill), the other runner skips that secret (its lease is still valid), and a runner
   started once the lease expired resumes that very run (same run id) and finishes it.

During both, a thread re-reads every `.env` file and logs in with what it holds: a value that is
refused while the file still holds it is a consumer holding a dead value, and fails the test.

Each runner is the `secretops` console script with `SECRETOPS_STATE_LEASE=5s` (the shortest
lease the setting allows; the default is 30 s).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from secretops.store.interface import Label
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue
from tests.helpers import port_open, service_unavailable
from tests.services import PgCluster

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REPO = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=5)
STORE_KEY = "5e" * 32
FP_KEY = "ab" * 32  # tests/conftest.py sets SECRETOPS_FINGERPRINT_KEY to this for every test
PG_TPL = "postgresql://{username}:{password|url}@127.0.0.1:%d/postgres"
REDIS_TPL = "redis://{username}:{password|url}@127.0.0.1:6379/0"

#: One runner: the console script next to this interpreter (or its entry point when not installed).
_SCRIPT = Path(sys.executable).parent / "secretops"
RUNNER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from secretops.cli.entry import main; main()"]


# ---------------------------------------------------------------- services


@pytest.fixture
def state_url() -> Iterator[str]:
    """A database of its own on 127.0.0.1:5432 (user postgres, trust) for state and store; dropped after."""
    try:
        import psycopg
    except ImportError:
        service_unavailable("psycopg is not installed (the postgres extra)")
    if not port_open("127.0.0.1", 5432):
        service_unavailable("PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"secretops_eo_{secrets.token_hex(4)}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        service_unavailable(f"cannot create a database on 127.0.0.1:5432 as postgres: {exc}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_login(url: str) -> bool | None:
    """True: logged in; False: the server refused the credential; None: could not tell (load, network)."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "password authentication failed" in text or "not permitted to log in" in text:
            return False
        return None


def redis_login(url: str) -> bool | None:
    """True: AUTH and PING worked; False: AUTH refused; None: could not tell."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return False
    except redis.RedisError:
        return None
    finally:
        client.close()


def logs_in(url: str) -> bool | None:
    return redis_login(url) if url.startswith("redis://") else pg_login(url)


# ---------------------------------------------------------------- the world


@dataclass
class World:
    """Policies, `.env` files, accounts and the seeded store of one scenario."""

    tmp: Path
    state_url: str
    pg: PgCluster
    redis_url: str
    tag: str
    apps: int
    slow_url: str | None = None
    slow: str | None = None  # the secret whose health check is `slow_url`
    roles: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    old: dict[str, str] = field(default_factory=dict)  # secret -> URL before the run
    files: dict[str, list[Path]] = field(default_factory=dict)  # secret -> .env files consuming it

    def secret_names(self) -> list[str]:
        return sorted(self.files)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRETOPS_", "PG_ADMIN", "REDIS_ADMIN"))}
        env.update(
            SECRETOPS_STATE=self.state_url,
            SECRETOPS_STATE_LEASE=f"{int(LEASE.total_seconds())}s",
            SECRETOPS_STORE=self.state_url,
            SECRETOPS_STORE_KEY=STORE_KEY,
            SECRETOPS_POLICIES=str(self.tmp / "policies"),
            SECRETOPS_STATE_DIR=str(self.tmp / ".secretops"),
            SECRETOPS_FINGERPRINT_KEY=FP_KEY,
            SECRETOPS_CACHE_DIR=str(self.tmp / "cache"),
            PG_ADMIN_DSN=self.pg.admin_dsn,
            REDIS_ADMIN_URL=self.redis_url,
            PYTHONPATH=str(REPO),
        )
        return env

    def runner(self, name: str) -> subprocess.Popen[str]:
        out = (self.tmp / f"{name}.out").open("w")
        try:
            return subprocess.Popen(
                [*RUNNER, "rotate", "--due", "--concurrency", "2"],
                cwd=self.tmp,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        finally:
            out.close()

    def output(self, name: str) -> str:
        return (self.tmp / f"{name}.out").read_text()

    def store(self) -> Any:
        from secretops.store.postgres import PostgresStore

        return PostgresStore(
            self.state_url, bytes.fromhex(STORE_KEY), fingerprint_key=FingerprintKey(bytes.fromhex(FP_KEY))
        )


def build_world(
    tmp: Path,
    state_url: str,
    pg: PgCluster,
    redis_url: str,
    apps: int,
    slow_url: str | None = None,
    *,
    migrate: bool = True,
) -> World:
    """`apps` apps, each with a Postgres secret (two roles) and a Redis secret (one ACL user).

    Every app's `.env` holds both; odd apps also have a `worker.env` with both (two targets).
    The store holds each app's current values (adopted: never rotated, so all are due).
    """
    import psycopg
    import redis
    from psycopg import sql

    world = World(tmp, state_url, pg, redis_url, secrets.token_hex(3), apps, slow_url)
    pg_tpl = PG_TPL % pg.port
    lines = [
        "version: 1",
        "issuers:",
        f"  pg: {{kind: postgres, admin_dsn_env: PG_ADMIN_DSN, host: 127.0.0.1, port: {pg.port}}}",
        "  cache: {kind: redis, admin_url_env: REDIS_ADMIN_URL}",
        "targets:",
    ]
    seeds: list[tuple[str, str, str]] = []  # (secret, password, username)
    admin = redis.Redis.from_url(redis_url)
    try:
        with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
            for i in range(apps):
                app = f"app{i:02d}"
                a, b = f"eo_{world.tag}_{app}_a", f"eo_{world.tag}_{app}_b"
                user = f"eo_{world.tag}_{app}"
                pg_pw, rd_pw = "pg-" + secrets.token_urlsafe(12), "rd-" + secrets.token_urlsafe(12)
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(a), sql.Literal(pg_pw)))
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(b)))
                world.roles += [a, b]
                admin.execute_command("ACL", "SETUSER", user, "on", f">{rd_pw}", "+ping")
                world.users.append(user)
                pg_url = pg.dsn(a, pg_pw)
                rd_url = f"redis://{user}:{quote(rd_pw, safe='')}@127.0.0.1:6379/0"
                (tmp / app).mkdir(parents=True)
                files = [tmp / app / ".env"] + ([tmp / app / "worker.env"] if i % 2 else [])
                for f in files:
                    f.write_text(f"# {app}\nDATABASE_URL={pg_url}\nREDIS_URL={rd_url}\nDEBUG=0\n")
                    f.chmod(0o600)
                targets = [f"{app}-web"] + ([f"{app}-worker"] if i % 2 else [])
                for t, f in zip(targets, files, strict=True):
                    lines.append(f'  {t}: {{kind: dotenv, path: "{f}"}}')
                db, cache = f"{app}/db", f"{app}/cache"
                world.old[db], world.old[cache] = pg_url, rd_url
                world.files[db] = world.files[cache] = files
                seeds += [(db, pg_pw, a), (cache, rd_pw, user)]
                if slow_url is not None and i == 0:
                    world.slow = db
    finally:
        admin.close()
    lines.append("secrets:")
    for i in range(apps):
        app = f"app{i:02d}"
        targets = [f"{app}-web"] + ([f"{app}-worker"] if i % 2 else [])
        a, b = f"eo_{world.tag}_{app}_a", f"eo_{world.tag}_{app}_b"
        lines += [
            f"  - name: {app}/db",
            "    kind: postgres-password",
            "    issuer: pg",
            f"    accounts: [{a}, {b}]",
            "    strategy: alternate",
            "    grace: 0s",
            "    drain: 0s",
            "    generator: {kind: password, length: 24, symbols: '-_.~'}",
        ]
        if world.slow == f"{app}/db":
            lines.append(f"    verify: {{health: [{{url: '{slow_url}', timeout: 60s}}]}}")
        lines.append("    consumers:")
        lines += [f'      - {{target: {t}, env: DATABASE_URL, template: "{pg_tpl}"}}' for t in targets]
        lines += [
            f"  - name: {app}/cache",
            "    kind: redis-password",
            "    issuer: cache",
            f"    accounts: [eo_{world.tag}_{app}]",
            "    strategy: overlap",
            "    grace: 0s",
            "    drain: 0s",
            "    generator: {kind: token, length: 32}",
            "    consumers:",
        ]
        lines += [f'      - {{target: {t}, env: REDIS_URL, template: "{REDIS_TPL}"}}' for t in targets]
    (tmp / "policies").mkdir()
    (tmp / "policies" / "apps.yaml").write_text("\n".join(lines) + "\n")
    if migrate:  # as `secretops state migrate` does; otherwise the runners race its first use
        from secretops.state.postgres import PostgresState

        with PostgresState(state_url) as state:
            state.migrate()
    store = world.store()
    try:
        for name, value, username in seeds:
            store.put(name, SecretValue(value), attributes={"username": username}, labels=frozenset({Label.CURRENT}))
    finally:
        store.close()
    return world


def teardown_world(world: World) -> None:
    import psycopg
    import redis
    from psycopg import sql

    with contextlib.suppress(Exception), psycopg.connect(world.pg.admin_dsn, autocommit=True) as conn:
        for role in world.roles:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    admin = redis.Redis.from_url(world.redis_url)
    with contextlib.suppress(Exception):
        for user in world.users:
            admin.execute_command("ACL", "DELUSER", user)
    admin.close()


@pytest.fixture
def make_world(tmp_path: Path, state_url: str, pg_cluster: PgCluster, redis_server: str) -> Iterator[Any]:
    made: list[World] = []

    def make(apps: int, slow_url: str | None = None, *, migrate: bool = True) -> World:
        world = build_world(tmp_path, state_url, pg_cluster, redis_server, apps, slow_url, migrate=migrate)
        made.append(world)
        return world

    yield make
    for world in made:
        teardown_world(world)


# ---------------------------------------------------------------- watching consumers


def deployed(path: Path) -> dict[str, str]:
    """The DATABASE_URL and REDIS_URL a `.env` file holds now."""
    values = parse_dotenv(path.read_text())
    return {k: values[k].value for k in ("DATABASE_URL", "REDIS_URL") if k in values}


class ConsumerWatch:
    """A thread that logs in with whatever each `.env` holds, round after round, until stopped.

    A refusal counts as a dead value only if the file still holds that value after the refusal:
    the file held it at both reads, so it held it while the issuer refused it.
    """

    def __init__(self, files: list[Path], limit: float) -> None:
        self.files = files
        self.limit = limit
        self.dead: list[str] = []
        self.checks = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consumer-watch", daemon=True)

    def __enter__(self) -> ConsumerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                for path in self.files:
                    for key, url in deployed(path).items():
                        ok = logs_in(url)
                        self.checks += 1
                        if ok is False and deployed(path).get(key) == url:
                            self.dead.append(f"{path.parent.name}/{path.name} {key}")
                if self._stop.wait(0.1):
                    break
        except Exception as exc:  # reported by the test, never a thread exception
            self.errors.append(f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------- checking the outcome


def journal(state_url: str) -> dict[str, dict[str, Any]]:
    """Per secret: its run ids, how many `promote` steps were done, `run` events, steps seen."""
    import psycopg

    out: dict[str, dict[str, Any]] = {}
    with psycopg.connect(state_url) as conn:
        for secret, run_id, step, status in conn.execute(
            "SELECT secret, run_id, step, status FROM secretops_steps ORDER BY id"
        ).fetchall():
            row = out.setdefault(secret, {"runs": set(), "promoted": 0, "events": []})
            row["runs"].add(run_id)
            if step == "promote" and status == "done":
                row["promoted"] += 1
            if step == "run":
                row["events"].append(status)
            row.setdefault("steps", []).append((step, status))
    return out


def check_exactly_once(world: World) -> None:
    """Each secret: one run, one promote, one new current version, old value revoked; consumers log in."""
    from secretops.state.postgres import PostgresState

    names = world.secret_names()
    rows = journal(world.state_url)
    assert sorted(rows) == names
    for name in names:
        assert len(rows[name]["runs"]) == 1, f"{name}: {len(rows[name]['runs'])} runs"
        assert rows[name]["promoted"] == 1, f"{name}: promoted {rows[name]['promoted']} times"
        assert rows[name]["events"].count("started") == 1, f"{name}: {rows[name]['events']}"
    state = PostgresState(world.state_url)
    try:
        outcomes = {r.secret: r.outcome for r in state.runs()}
        assert outcomes == dict.fromkeys(names, "complete")
        assert not [lease for lease in state.leases() if not lease.expired]
    finally:
        state.close()
    store = world.store()
    try:
        for name in names:
            st = store.state(name)
            assert st is not None
            assert [v.number for v in st.versions] == [1, 2], f"{name}: versions {[v.number for v in st.versions]}"
            seed, new = st.versions
            run_id = next(iter(rows[name]["runs"]))
            assert Label.CURRENT in new.labels and new.run_id == run_id and st.last_run_id == run_id
            assert seed.revoked_at is not None and Label.CURRENT not in seed.labels
            current = store.get(name)
            assert current is not None
            for path in world.files[name]:
                url = deployed(path)["DATABASE_URL" if name.endswith("/db") else "REDIS_URL"]
                assert current.value.reveal() in url or quote(current.value.reveal(), safe="") in url
                assert logs_in(url) is True, f"{name}: {path.parent.name}/{path.name} does not log in"
            assert logs_in(world.old[name]) is False, f"{name}: the value from before the run still works"
    finally:
        store.close()


def wait(proc: subprocess.Popen[str], timeout: float) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


# ---------------------------------------------------------------- 1. four runners, 50 secrets


def test_four_runners_rotate_fifty_secrets_exactly_once(make_world: Any) -> None:
    world = make_world(25, migrate=False)  # a fresh state: the four runners race its first migration
    assert len(world.secret_names()) == 50
    all_files = sorted({f for fs in world.files.values() for f in fs})
    with ConsumerWatch(all_files, limit=90) as watch:
        procs = {f"runner{i}": world.runner(f"runner{i}") for i in range(4)}
        codes = {name: wait(proc, 90) for name, proc in procs.items()}
    outputs = {name: world.output(name) for name in procs}
    assert codes == dict.fromkeys(procs, 0), outputs
    complete = sum(len(re.findall(r"^\S+: run \S+: complete$", out, re.M)) for out in outputs.values())
    assert complete == 50, outputs  # every secret completed once, by one of the runners
    skipped = sum(out.count(": skipped") for out in outputs.values())
    assert skipped > 0, "no runner ever met another: the test did not race"
    check_exactly_once(world)
    assert not watch.errors, watch.errors
    assert watch.checks > 0
    assert not watch.dead, f"consumers held dead values: {watch.dead}"
    for out in outputs.values():  # no value in any output
        for url in world.old.values():
            assert url.split("@")[0].split(":")[-1] not in out


# ---------------------------------------------------------------- 2. SIGKILL mid-run, takeover


class SlowHealth:
    """A local health endpoint: the first request is held (until `release`), then all answer 200."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.released = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.arrived.set()
                outer.released.wait(30)
                with contextlib.suppress(OSError):
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/healthz"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowHealth:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


def lease_rows(state_url: str) -> list[tuple[str, str, float]]:
    """`(secret, holder, seconds left on the db clock)` of every lease row."""
    import psycopg

    with psycopg.connect(state_url) as conn:
        return [
            (r[0], r[1], float(r[2]))
            for r in conn.execute(
                "SELECT secret, holder, extract(epoch FROM expires_at - now()) FROM secretops_leases"
            ).fetchall()
        ]


def test_sigkill_mid_run_then_takeover_after_the_lease(make_world: Any) -> None:
    with SlowHealth() as health:
        world = make_world(6, slow_url=health.url)
        assert world.slow is not None
        all_files = sorted({f for fs in world.files.values() for f in fs})
        with ConsumerWatch(all_files, limit=90) as watch:
            procs = {name: world.runner(name) for name in ("a", "b")}
            assert health.arrived.wait(45), {n: world.output(n) for n in procs}
            # The slow secret's run is in `verify`: started, not finished. Kill the runner holding it.
            rows = lease_rows(world.state_url)
            holder = next(h for s, h, _left in rows if s == world.slow)
            pid = int(holder.split(":")[-2])
            left_at_kill = max(left for _s, h, left in rows if h == holder)
            victim = next(n for n, p in procs.items() if p.pid == pid)
            steps = journal(world.state_url)[world.slow]["steps"]
            assert ("run", "started") in steps and ("promote", "done") not in steps
            procs[victim].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            assert wait(procs[victim], 10) == -signal.SIGKILL
            health.released.set()
            survivor = next(n for n in procs if n != victim)
            assert wait(procs[survivor], 60) == 0, world.output(survivor)
            assert re.search(rf"^{re.escape(world.slow)}: .*skipped", world.output(survivor), re.M) or (
                world.slow not in world.output(survivor)
            )
            # the dead runner's lease rows expire on the database's clock; then a new runner takes over
            deadline = time.monotonic() + 30
            while any(left > 0 for _s, h, left in lease_rows(world.state_url) if f":{pid}:" in h):
                assert time.monotonic() < deadline, "the dead runner's lease never expired"
                time.sleep(0.05)
            expired_at = time.monotonic()
            takeover = world.runner("c")
            assert wait(takeover, 60) == 0, world.output("c")
            done_at = time.monotonic()
        run_id = next(iter(journal(world.state_url)[world.slow]["runs"]))
        out = world.output("c")
        assert f"run {run_id}: resuming {world.slow} (was interrupted)" in out, out
        assert f"{world.slow}: run {run_id}: complete" in out, out
        events = journal(world.state_url)[world.slow]["events"]
        assert events.count("started") == 1 and "resumed" in events, events
        check_exactly_once(world)
        assert not watch.errors, watch.errors
        assert watch.checks > 0
        assert not watch.dead, f"consumers held dead values: {watch.dead}"
        # the secret stayed locked for at most one lease after the kill (db clock), and no longer
        assert 0 < left_at_kill <= LEASE.total_seconds() + 0.5
        assert killed_at < expired_at < done_at


# ---------------------------------------------------------------- first use, racing


def test_runners_racing_the_first_migration_all_succeed(state_url: str) -> None:
    """Two runners start on a fresh state at once: one migrates, the other waits, then finds nothing to do.

    Deterministic: a third session holds the migration lock until both runners wait for it. Each
    runner looked for the schema-version table before waiting (and found none); the one that gets
    the lock second must see the tables the first committed, not fail with "already exists".
    """
    import psycopg

    from secretops.state.pg_conn import advisory_key
    from secretops.state.postgres import PostgresState

    key = advisory_key("migrate")
    errors: list[str] = []
    versions: list[int] = []

    def first_use() -> None:
        try:
            with PostgresState(state_url, lease=LEASE) as state:
                state.runs()
                versions.append(state.schema_version())
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    with psycopg.connect(state_url, autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", (key,))
        threads = [threading.Thread(target=first_use) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while True:
            row = gate.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
            if row is not None and row[0] >= 2:
                break
            assert time.monotonic() < deadline, "the runners never waited for the migration lock"
            time.sleep(0.02)
        gate.execute("SELECT pg_advisory_unlock(%s)", (key,))
        for t in threads:
            t.join(30)
    assert errors == []
    assert len(versions) == 2 and versions[0] == versions[1] > 0
