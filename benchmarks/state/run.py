"""State benchmarks: `rotate --due` of many secrets on PostgreSQL vs file state, and exactly once.

Run from the repository root with the venv active:

    python -m benchmarks.state.run                 # both parts, table on stdout
    python -m benchmarks.state.run --json out.json # also write the figures as JSON
    python -m benchmarks.state.run --part due      # only (a); --part exactly-once for only (b)

(a) `due`: SECRETS secrets (default 1,000), each consumed on 4 platform targets (a Render service,
a DigitalOcean app, a Vercel project, a Heroku app: the stateful fakes of `tests/fakes/platforms`,
reached through `httpx.MockTransport` in this process (`--fakes in-process`, the default), or
served over HTTP by a process of their own on 127.0.0.1 (`--fakes subprocess`,
`benchmarks/state/fakes_server.py`), as remote platforms would be; the real targets' API hosts
are fixed, so only the benchmark's transport knows where the fakes are), issuer
`app` (secretops mints the value: no server), all adopted and so due. One `Engine.run_due
(concurrency=8)`, which is what `secretops rotate --due --concurrency 8` runs, with the same
policy loader, issuers and target classes as the CLI; only the targets' HTTP transport and
deploy polling sleep are the fakes'. Values in a PostgresStore (a fresh database on
127.0.0.1:5432) for both runs, so the two differ only in where state lives: PostgreSQL
(`PostgresState`, default 30 s lease) or files (`FileState`). Every fake is then checked to
hold the store's new current value.

(b) `exactly-once`: the scenarios of `tests/state/test_exactly_once.py`, with figures: four
`secretops rotate --due --concurrency 2` processes over 50 due secrets (PostgreSQL roles on a
private scram cluster, Redis ACL users, `.env` targets) on one PostgreSQL state and store, and
a runner SIGKILLed mid-run (held in its health check) taken over by a runner started once its
5 s lease (`SECRETOPS_STATE_LEASE=5s`) expired. A thread logs in with every `.env` value the whole time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from benchmarks.state.fakes_server import CONTROL_HOST, ENV_KEY, Fakes, LocalTransport
from secretops._http import build_client
from secretops.inventory.loader import load_inventory
from secretops.inventory.models import (
    DigitalOceanTargetSpec,
    HerokuTargetSpec,
    RenderTargetSpec,
    TargetSpec,
    VercelTargetSpec,
)
from secretops.issuers import build_issuer
from secretops.rotate.engine import Engine, Outcome
from secretops.state.interface import StateBackend
from secretops.store.interface import Label
from secretops.targets.digitalocean import DigitalOceanTarget
from secretops.targets.heroku import HerokuTarget
from secretops.targets.interface import Target
from secretops.targets.render import RenderTarget
from secretops.targets.vercel import VercelTarget
from secretops.values import FingerprintKey, SecretValue
from tests.fakes.platforms.digitalocean import FakeDigitalOcean
from tests.fakes.platforms.heroku import FakeHeroku
from tests.fakes.platforms.render import FakeRender
from tests.fakes.platforms.vercel import FakeVercel

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
STORE_KEY = "5e" * 32
FP_KEY = "ab" * 32
#: (a)'s state backends: secretops' two, and an experiment (one state connection per thread).
BACKENDS = ("postgresql", "files", "postgresql-per-thread")


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A uniquely named database on 127.0.0.1:5432 (user postgres), dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- (a) rotate --due at scale


class Platforms:
    """The four fakes in this process, each behind a lock (plain dicts; the engine runs 8 threads).

    `--fakes in-process`: reached through `httpx.MockTransport`, so the fakes' CPU is the
    runner's (under its GIL). `RemotePlatforms` serves them from a process of their own.
    """

    where = "in-process"

    def __init__(self) -> None:
        self.fakes = Fakes()
        self._locks = {id(f): threading.Lock() for f in self.fakes.by_host.values()}

    def __enter__(self) -> Platforms:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _client(self, fake: Any) -> httpx.Client:
        lock = self._locks[id(fake)]

        def handle(request: httpx.Request) -> httpx.Response:
            with lock:
                return fake.handle(request)  # type: ignore[no-any-return]

        return httpx.Client(transport=httpx.MockTransport(handle))

    def client(self, host: str) -> httpx.Client:
        return self._client(self.fakes.by_host[host])

    def seed(self, olds: dict[int, str]) -> None:
        for i, value in olds.items():
            self.fakes.add(i, value)

    def values(self) -> dict[int, dict[str, str | None]]:
        """What each platform holds for each secret now (stored config, plaintext)."""
        return {i: self.fakes.values(i) for i in range(len(self.fakes.render.services))}

    def requests(self) -> int:
        return self.fakes.requests()

    def cpu(self) -> float:
        """CPU seconds the fakes used so far in their own process (0: they run in the runner's)."""
        return 0.0

    def target(self, name: str, spec: TargetSpec) -> Target:
        quick: dict[str, Any] = {"sleep": lambda _s: None, "poll_interval": 0.0}
        cls: type[Any]
        fake: type[Any]
        if isinstance(spec, RenderTargetSpec):
            cls, fake = RenderTarget, FakeRender
        elif isinstance(spec, DigitalOceanTargetSpec):
            cls, fake = DigitalOceanTarget, FakeDigitalOcean
        elif isinstance(spec, VercelTargetSpec):
            cls, fake = VercelTarget, FakeVercel
        elif isinstance(spec, HerokuTargetSpec):
            cls, fake = HerokuTarget, FakeHeroku
        else:
            raise TypeError(f"unexpected target {name}: {spec.kind}")
        host = urlsplit(cls.base_url).hostname
        assert host is not None
        build: Any = cls
        target: Target = build(name, spec, SecretValue(fake.token), client=self.client(host), **quick)
        return target


class RemotePlatforms(Platforms):
    """The four fakes served by `benchmarks.state.fakes_server` in a subprocess on 127.0.0.1.

    The fakes stand for remote platforms, so their CPU belongs to another process (here the
    machine's other core), as it would in production. Each target gets a client of its own (as
    `build_target` gives it one), over real HTTP/1.1 to the server: the runner pays for
    encoding and parsing the requests, as against a real platform (TLS aside).
    """

    where = "subprocess"

    def __init__(self, *, shared: bool = False) -> None:
        #: An experiment (`--fakes subprocess-shared`): one client per platform for every target,
        #: so connections are reused across rotations; secretops builds one per target.
        self._shared: dict[str, httpx.Client] | None = {} if shared else None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(256)
        self.port = self._sock.getsockname()[1]
        fd = self._sock.fileno()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.state.fakes_server", "--fd", str(fd)],
            pass_fds=(fd,),
            cwd=Path(__file__).resolve().parents[2],
        )
        self._lock = threading.Lock()
        self._control = httpx.Client(transport=LocalTransport(self.port), timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                self._call("GET", "/ready")
                break
            except httpx.TransportError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise SystemExit("the fakes server did not start") from None
                time.sleep(0.05)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._control.request(method, f"http://{CONTROL_HOST}{path}", json=body)
        response.raise_for_status()
        return response.json()

    def __enter__(self) -> RemotePlatforms:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for client in (self._shared or {}).values():
            client.close()
        self._control.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._sock.close()

    def client(self, host: str) -> httpx.Client:
        # What a platform target builds for itself (`build_client`), sent to the fakes server.
        if self._shared is None:
            return build_client(transport=LocalTransport(self.port))
        with self._lock:
            if host not in self._shared:
                self._shared[host] = build_client(transport=LocalTransport(self.port))
            return self._shared[host]

    def seed(self, olds: dict[int, str]) -> None:
        self._call("POST", "/seed", sorted(olds.items()))

    def _read(self) -> dict[str, Any]:
        out: dict[str, Any] = self._call("GET", "/values")
        return out

    def values(self) -> dict[int, dict[str, str | None]]:
        return {int(i): v for i, v in self._read()["values"].items()}

    def requests(self) -> int:
        return int(self._read()["requests"])

    def cpu(self) -> float:
        """CPU seconds (user + system) of the fakes server so far, from /proc."""
        fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def due_policy(n: int) -> str:
    lines = ["version: 1", "issuers:", "  app: {kind: app}", "targets:"]
    for i in range(n):
        lines += [
            f"  s{i:04d}-render: {{kind: render, service_id: srv-{i:04d}}}",
            f"  s{i:04d}-do: {{kind: digitalocean, app_id: do-{i:04d}}}",
            f"  s{i:04d}-vercel: {{kind: vercel, project: prj_{i:04d}}}",
            f"  s{i:04d}-heroku: {{kind: heroku, app: app{i:04d}}}",
        ]
    lines.append("secrets:")
    for i in range(n):
        lines += [
            f"  - name: s{i:04d}/key",
            "    kind: app-secret",
            "    issuer: app",
            "    grace: 0s",
            "    drain: 0s",
            "    generator: {kind: token, length: 32}",
            "    consumers:",
            f"      - {{target: s{i:04d}-render, env: {ENV_KEY}}}",
            # DigitalOcean SECRET values and Vercel `sensitive` vars cannot be read back.
            f"      - {{target: s{i:04d}-do, env: {ENV_KEY}, verify: accept-unverified}}",
            f"      - {{target: s{i:04d}-vercel, env: {ENV_KEY}, verify: accept-unverified}}",
            f"      - {{target: s{i:04d}-heroku, env: {ENV_KEY}}}",
        ]
    return "\n".join(lines) + "\n"


def per_thread_state(url: str) -> StateBackend:
    """An experiment, not secretops: `PostgresState` with one connection per engine thread.

    `PostgresState` serves every thread from one connection under a lock, so the 8 runs' journal
    commits (one per step) queue behind each other. This subclass only replaces `_connection`
    (a private method: the experiment may break when that changes) to show what concurrent
    commits, which PostgreSQL flushes together, would give.
    """
    from secretops.state.pg_conn import connect
    from secretops.state.postgres import PostgresState

    class PerThread(PostgresState):
        def __init__(self, url: str) -> None:
            super().__init__(url)
            self._local = threading.local()
            self._opened: list[Any] = []

        @contextlib.contextmanager
        def _connection(self) -> Iterator[Any]:
            conn = getattr(self._local, "conn", None)
            if conn is None or conn.closed or conn.broken:
                conn = connect(self._url)
                self._local.conn = conn
                with self._lock:
                    self._opened.append(conn)
            yield conn

        def close(self) -> None:
            super().close()
            for conn in self._opened:
                conn.close()

    return PerThread(url)


def due_run(backend: str, n: int, concurrency: int, fakes: str = "in-process") -> dict[str, Any]:
    """One `run_due` over `n` fresh secrets with state in `backend` (see `BACKENDS`), the
    platform fakes in a subprocess (`RemotePlatforms`) or in this process (`Platforms`)."""
    from secretops.state.files import FileState
    from secretops.state.postgres import PostgresState
    from secretops.store.postgres import PostgresStore

    fp = FingerprintKey(bytes.fromhex(FP_KEY))
    tmp = Path(tempfile.mkdtemp(prefix="secretops-bench-state-"))
    try:
        with (
            fresh_database("secretops_bench_state") as url,
            (
                RemotePlatforms(shared=fakes == "subprocess-shared") if fakes.startswith("subprocess") else Platforms()
            ) as platforms,
        ):
            (tmp / "policies").mkdir()
            (tmp / "policies" / "due.yaml").write_text(due_policy(n))
            store = PostgresStore(url, bytes.fromhex(STORE_KEY), fingerprint_key=fp)
            t_seed = time.perf_counter()
            olds: dict[int, str] = {}
            for i in range(n):
                olds[i] = "old-" + secrets.token_urlsafe(24)
                store.put(f"s{i:04d}/key", SecretValue(olds[i]), labels=frozenset({Label.CURRENT}))
            platforms.seed(olds)
            seed_s = time.perf_counter() - t_seed
            state: StateBackend
            if backend == "postgresql":
                state = PostgresState(url)
            elif backend == "postgresql-per-thread":
                state = per_thread_state(url)
            else:
                state = FileState(tmp / ".secretops")
            state.migrate()
            inventory = load_inventory(tmp / "policies")
            engine = Engine(
                inventory,
                store,
                state=state,
                key=fp,
                issuer_factory=lambda _n, spec: build_issuer(spec, {}),
                target_factory=platforms.target,
            )
            try:
                fakes_cpu0, load0 = platforms.cpu(), os.getloadavg()[0]
                t0, cpu0 = time.perf_counter(), time.process_time()
                results = engine.run_due(concurrency=concurrency)
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                fakes_cpu, load1 = platforms.cpu() - fakes_cpu0, os.getloadavg()[0]
                outcomes: dict[str, int] = {}
                for r in results:
                    outcomes[r.outcome.value] = outcomes.get(r.outcome.value, 0) + 1
                consistent = 0
                holding = platforms.values()
                for i in range(n):
                    current = store.get(f"s{i:04d}/key")
                    held = holding[i]
                    fresh = current is not None and current.value.reveal() != olds[i]
                    if fresh and current is not None and set(held.values()) == {current.value.reveal()}:
                        consistent += 1
                runs = len(state.runs())
                requests = platforms.requests()
            finally:
                engine.close()
        return {
            "state": backend,
            "secrets": n,
            "targets_per_secret": 4,
            "concurrency": concurrency,
            "seconds": round(elapsed, 2),
            "runner_cpu_seconds": round(cpu, 2),
            "fakes_cpu_seconds": round(fakes_cpu, 2),
            "load_avg_1min_before_after": [round(load0, 2), round(load1, 2)],
            "rotations_per_s": round(outcomes.get(Outcome.COMPLETE.value, 0) / elapsed, 1),
            "outcomes": outcomes,
            "runs_in_state": runs,
            "all_four_targets_hold_new_value": consistent,
            "seed_seconds": round(seed_s, 2),
            "platform_requests": requests,
            "fakes": fakes,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- (b) exactly once


@contextlib.contextmanager
def cluster() -> Iterator[Any]:
    """The private scram cluster of benchmarks/rotation, as the test's `PgCluster`."""
    from benchmarks.rotation._common import private_pg
    from tests.services import PgCluster

    with private_pg() as pg:
        parts = urlsplit(pg.admin_dsn)
        yield PgCluster("127.0.0.1", pg.port, "postgres", parts.password or "", Path(tempfile.gettempdir()))


def exactly_once(runners: int = 4) -> dict[str, Any]:
    """The two scenarios of tests/state/test_exactly_once.py, measured."""
    from tests.state import test_exactly_once as eo

    os.environ.setdefault("SECRETOPS_FINGERPRINT_KEY", FP_KEY)
    out: dict[str, Any] = {}
    with cluster() as pg:
        # 1. four runners, 50 secrets
        tmp = Path(tempfile.mkdtemp(prefix="secretops-bench-eo-"))
        try:
            with fresh_database("secretops_bench_eo") as url:
                world = eo.build_world(tmp, url, pg, "redis://127.0.0.1:6379/0", 25, migrate=False)
                try:
                    files = sorted({f for fs in world.files.values() for f in fs})
                    with eo.ConsumerWatch(files, limit=300) as watch:
                        t0 = time.perf_counter()
                        procs = [world.runner(f"r{i}") for i in range(runners)]
                        codes = [eo.wait(p, 300) for p in procs]
                        elapsed = time.perf_counter() - t0
                    rows = eo.journal(url)
                    promoted = {name: row["promoted"] for name, row in rows.items()}
                    runs = {name: len(row["runs"]) for name, row in rows.items()}
                    outputs = "".join(world.output(f"r{i}") for i in range(runners))
                    ok = True
                    try:
                        eo.check_exactly_once(world)
                    except AssertionError as exc:
                        ok = False
                        print(f"exactly-once check failed: {exc}", file=sys.stderr)
                    out["race"] = {
                        "runners": runners,
                        "concurrency_each": 2,
                        "secrets": len(world.secret_names()),
                        "exit_codes": codes,
                        "seconds": round(elapsed, 2),
                        "secrets_rotated": sum(1 for v in promoted.values() if v >= 1),
                        "double_rotations": sum(max(0, v - 1) for v in promoted.values())
                        + sum(max(0, v - 1) for v in runs.values()),
                        "skipped_by_a_runner": outputs.count(": skipped"),
                        "consumer_logins_checked": watch.checks,
                        "dead_values_seen": len(watch.dead),
                        "all_checks_passed": ok,
                    }
                finally:
                    eo.teardown_world(world)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # 2. SIGKILL mid-run, takeover after the lease
        tmp = Path(tempfile.mkdtemp(prefix="secretops-bench-eo-"))
        try:
            with fresh_database("secretops_bench_eo") as url, eo.SlowHealth() as health:
                world = eo.build_world(tmp, url, pg, "redis://127.0.0.1:6379/0", 6, slow_url=health.url)
                try:
                    out["takeover"] = _takeover(eo, world, health)
                finally:
                    eo.teardown_world(world)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _takeover(eo: Any, world: Any, health: Any) -> dict[str, Any]:
    files = sorted({f for fs in world.files.values() for f in fs})
    with eo.ConsumerWatch(files, limit=300) as watch:
        procs = {name: world.runner(name) for name in ("a", "b")}
        if not health.arrived.wait(120):
            raise SystemExit("the slow secret's health check was never called")
        rows = eo.lease_rows(world.state_url)
        holder = next(h for s, h, _left in rows if s == world.slow)
        pid = int(holder.split(":")[-2])
        left_at_kill = max(left for _s, h, left in rows if h == holder)
        victim = next(n for n, p in procs.items() if p.pid == pid)
        procs[victim].send_signal(signal.SIGKILL)
        killed = time.perf_counter()
        eo.wait(procs[victim], 30)
        health.released.set()
        # when the dead runner's lease rows expire (db clock), polled alongside the survivor
        expired: list[float] = []

        def poll_expiry() -> None:
            while True:
                if not any(left > 0 for _s, h, left in eo.lease_rows(world.state_url) if f":{pid}:" in h):
                    expired.append(time.perf_counter())
                    return
                time.sleep(0.02)

        poller = threading.Thread(target=poll_expiry, daemon=True)
        poller.start()
        survivor = next(n for n in procs if n != victim)
        survivor_code = eo.wait(procs[survivor], 300)
        poller.join(60)
        started = time.perf_counter()
        takeover = world.runner("c")
        code = eo.wait(takeover, 300)
        done = time.perf_counter()
    run_id = next(iter(eo.journal(world.state_url)[world.slow]["runs"]))
    resumed = f"run {run_id}: resuming {world.slow} (was interrupted)" in world.output("c")
    ok = True
    try:
        eo.check_exactly_once(world)
    except AssertionError as exc:
        ok = False
        print(f"exactly-once check failed after the takeover: {exc}", file=sys.stderr)
    expiry = expired[0] - killed if expired else float("nan")
    return {
        "lease_s": eo.LEASE.total_seconds(),
        "lease_left_at_kill_s": round(left_at_kill, 2),
        "kill_to_lease_expiry_s": round(expiry, 2),
        "survivor_exit": survivor_code,
        "takeover_exit": code,
        "takeover_resumed_the_run": resumed,
        "takeover_runner_s": round(done - started, 2),
        "kill_to_takeover_complete_s": round(expiry + (done - started), 2),
        "lease_share": round(expiry / (expiry + (done - started)), 2),
        "wall_kill_to_complete_s": round(done - killed, 2),
        "consumer_logins_checked": watch.checks,
        "dead_values_seen": len(watch.dead),
        "all_checks_passed": ok,
    }


# ---------------------------------------------------------------- output


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(figures: dict[str, Any]) -> str:
    parts: list[str] = []
    if "due" in figures:
        rows = [
            [
                "state",
                "fakes",
                "secrets x targets",
                "concurrency",
                "seconds",
                "rotations/s",
                "runner CPU s",
                "fakes CPU s",
                "load before/after",
                "outcomes",
                "all 4 hold new",
            ]
        ]
        for r in figures["due"]:
            rows.append(
                [
                    r["state"],
                    r["fakes"],
                    f"{r['secrets']} x {r['targets_per_secret']}",
                    str(r["concurrency"]),
                    f"{r['seconds']:.1f}",
                    f"{r['rotations_per_s']:.1f}",
                    f"{r['runner_cpu_seconds']:.1f}",
                    f"{r['fakes_cpu_seconds']:.1f}",
                    "/".join(f"{x:.1f}" for x in r["load_avg_1min_before_after"]),
                    ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())),
                    str(r["all_four_targets_hold_new_value"]),
                ]
            )
        parts.append(table(rows))
    if "exactly_once" in figures:
        race, take = figures["exactly_once"]["race"], figures["exactly_once"]["takeover"]
        rows = [
            ["exactly once", "value"],
            ["runners x concurrency", f"{race['runners']} x {race['concurrency_each']}"],
            ["secrets (Postgres + Redis)", str(race["secrets"])],
            ["secrets rotated", str(race["secrets_rotated"])],
            ["double rotations", str(race["double_rotations"])],
            ["skipped (another runner had it)", str(race["skipped_by_a_runner"])],
            ["wall time, 4 runners", f"{race['seconds']:.1f} s"],
            [
                "dead .env values seen (logins checked)",
                f"{race['dead_values_seen']} ({race['consumer_logins_checked']})",
            ],
            ["lease", f"{take['lease_s']:.0f} s"],
            ["SIGKILL -> lease expired", f"{take['kill_to_lease_expiry_s']:.2f} s"],
            ["takeover runner (start -> done)", f"{take['takeover_runner_s']:.2f} s"],
            ["SIGKILL -> takeover complete", f"{take['kill_to_takeover_complete_s']:.2f} s"],
            ["lease share of it", f"{take['lease_share']:.0%}"],
            ["takeover resumed the same run", "yes" if take["takeover_resumed_the_run"] else "NO"],
            [
                "dead .env values seen (logins checked)",
                f"{take['dead_values_seen']} ({take['consumer_logins_checked']})",
            ],
            ["all checks passed", "yes" if race["all_checks_passed"] and take["all_checks_passed"] else "NO"],
        ]
        parts.append(table(rows))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["due", "exactly-once", "all"], default="all")
    parser.add_argument("--secrets", type=int, default=1000, help="(a) secrets to rotate (default 1000)")
    parser.add_argument("--concurrency", type=int, default=8, help="(a) runs at once (default 8)")
    parser.add_argument(
        "--state",
        choices=[*BACKENDS, "all"],
        default="all",
        help="(a) state backends (postgresql-per-thread: an experiment, see per_thread_state)",
    )
    parser.add_argument(
        "--fakes",
        choices=["in-process", "subprocess", "subprocess-shared"],
        default="in-process",
        help="(a) where the platform fakes run: this process (default, httpx.MockTransport) or a server process "
        "(subprocess-shared, an experiment: one client per platform instead of one per target)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging_quiet()
    figures: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()}}
    if args.part in ("due", "all"):
        backends = list(BACKENDS) if args.state == "all" else [args.state]
        figures["due"] = []
        for backend in backends:
            print(f"(a) rotate --due: {args.secrets} secrets x 4 targets, {backend} state ...", flush=True)
            figures["due"].append(due_run(backend, args.secrets, args.concurrency, args.fakes))
    if args.part in ("exactly-once", "all"):
        print("(b) exactly once: 4 runners x 50 secrets, then SIGKILL and takeover ...", flush=True)
        figures["exactly_once"] = exactly_once()
    print()
    print(report(figures))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


def logging_quiet() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
