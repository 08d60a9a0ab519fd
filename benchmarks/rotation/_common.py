"""Shared setup for the rotation benchmarks: a private scram PostgreSQL cluster, a Redis ACL user,
a project directory (policies, `.env` files, LocalStore) with both secrets adopted as current.

Run from the repository root with the venv active, e.g. `python benchmarks/rotation/zero_downtime.py`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg
import redis

from secretops.inventory.loader import load_inventory
from secretops.issuers import build_issuer
from secretops.rotate.engine import Engine
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets import build_target
from secretops.values import FingerprintKey, SecretValue
from tests.helpers import free_port
from tests.services import _as_postgres, _pg_bindir

LOCAL_KEY = "cd" * 32
FP_KEY = "ab" * 32
REDIS_ADMIN = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Pg:
    """A private cluster: superuser DSN and port."""

    port: int
    admin_dsn: str


@contextlib.contextmanager
def private_pg() -> Iterator[Pg]:
    """initdb --auth=scram-sha-256 on a free port (as user postgres when root); removed afterwards."""
    bindir = _pg_bindir()
    if bindir is None:
        raise SystemExit("initdb not found")
    base = Path(tempfile.mkdtemp(prefix="secretops-bench-pg-"))
    base.chmod(0o700)
    password = secrets.token_hex(16)
    (base / "pw").write_text(password + "\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        os.chown(base / "pw", owner.pw_uid, owner.pw_gid)
    port = free_port()
    data = base / "data"
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "--auth=scram-sha-256", "--username=postgres",
                      f"--pwfile={base / 'pw'}", "--no-sync", "--no-instructions", "--locale=C"]),
        check=True, capture_output=True,
    )  # fmt: skip
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base} -c fsync=off"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(_as_postgres([*pg_ctl, "-o", opts, "-l", str(base / "log"), "-w", "start"]), check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield Pg(port, f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Project:
    """A project directory with policies, two `.env` files per service and a LocalStore."""

    root: Path
    env: dict[str, str]
    pg_roles: tuple[str, str]
    redis_user: str

    def store(self) -> LocalStore:
        return LocalStore(
            self.root / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex(FP_KEY))
        )

    def engine(self, store: LocalStore) -> Engine:
        """The rotation engine over this project's policies, `store` and real issuers and targets."""
        return Engine(
            load_inventory(self.root / "policies"),
            store,
            state_dir=self.root / ".secretops",
            key=FingerprintKey(bytes.fromhex(self.env["SECRETOPS_FINGERPRINT_KEY"])),
            issuer_factory=lambda _n, spec: build_issuer(spec, self.env),
            target_factory=lambda n, spec: build_target(n, spec, self.env),
        )

    def cleanup(self, pg: Pg) -> None:
        with contextlib.suppress(Exception), psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
            for role in self.pg_roles:
                conn.execute(f"DROP ROLE IF EXISTS {role}")
        with contextlib.suppress(Exception):
            redis.Redis.from_url(REDIS_ADMIN).execute_command("ACL", "DELUSER", self.redis_user)


def make_project(
    root: Path, pg: Pg, *, restart: list[str] | None = None, extra_targets: int = 0, drain: str | None = None
) -> Project:
    """Policies for `bench/pg` (alternate) and `bench/redis` (overlap), grace 0, consumed by `.env` files.

    `restart` is the restart argv of the `web` target; `extra_targets` adds more `.env` targets
    consuming both secrets (for the overhead benchmark). `drain` sets both secrets' drain (None:
    the default, 10 s, waited before each revoke because a `.env` without restart restarts nothing).
    """
    drain_line = f"\n    drain: {drain}" if drain is not None else ""
    tag = secrets.token_hex(3)
    a, b, user = f"bench_{tag}_a", f"bench_{tag}_b", f"bench_{tag}"
    pg_old, redis_old = "pgold-" + secrets.token_urlsafe(12), "rdold-" + secrets.token_urlsafe(12)
    with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {a} LOGIN PASSWORD '{pg_old}'")
        conn.execute(f"CREATE ROLE {b} NOLOGIN")
    redis.Redis.from_url(REDIS_ADMIN).execute_command("ACL", "SETUSER", user, "on", f">{redis_old}", "~*", "+@all")
    pg_tpl = f"postgresql://{{username}}:{{password|url}}@127.0.0.1:{pg.port}/postgres"
    rd_tpl = "redis://{username}:{password|url}@127.0.0.1:6379/0"
    names = ["web"] + [f"extra{i}" for i in range(extra_targets)]
    targets = [f'  web: {{kind: dotenv, path: "{root}/web.env", restart: {restart or []!r}, restart_timeout: 60s}}']
    targets += [f'  {n}: {{kind: dotenv, path: "{root}/{n}.env"}}' for n in names[1:]]
    pg_consumers = "\n".join(f'      - {{target: {n}, env: DATABASE_URL, template: "{pg_tpl}"}}' for n in names)
    rd_consumers = "\n".join(f'      - {{target: {n}, env: REDIS_URL, template: "{rd_tpl}"}}' for n in names)
    policy = f"""\
version: 1
issuers:
  pg: {{kind: postgres, admin_dsn_env: BENCH_PG_ADMIN, host: 127.0.0.1, port: {pg.port}}}
  cache: {{kind: redis, admin_url_env: BENCH_REDIS_ADMIN}}
targets:
{chr(10).join(targets)}
secrets:
  - name: bench/pg
    kind: postgres-password
    issuer: pg
    accounts: [{a}, {b}]
    strategy: alternate
    grace: 0s{drain_line}
    generator: {{kind: password, length: 24, symbols: "-_.~"}}
    consumers:
{pg_consumers}
  - name: bench/redis
    kind: redis-password
    issuer: cache
    accounts: [{user}]
    strategy: overlap
    grace: 0s{drain_line}
    generator: {{kind: token, length: 32}}
    consumers:
{rd_consumers}
"""
    (root / "policies").mkdir(parents=True, exist_ok=True)
    (root / "policies" / "bench.yaml").write_text(policy)
    pg_url = f"postgresql://{a}:{quote(pg_old, safe='')}@127.0.0.1:{pg.port}/postgres"
    rd_url = f"redis://{user}:{quote(redis_old, safe='')}@127.0.0.1:6379/0"
    for n in names:
        (root / f"{n}.env").write_text(f"# {n}\nDATABASE_URL={pg_url}\nREDIS_URL={rd_url}\n")
    env = dict(
        os.environ,
        BENCH_PG_ADMIN=pg.admin_dsn,
        BENCH_REDIS_ADMIN=REDIS_ADMIN,
        SECRETOPS_STATE_DIR=str(root / ".secretops"),
        SECRETOPS_POLICIES=str(root / "policies"),
        SECRETOPS_LOCAL_KEY=LOCAL_KEY,
        SECRETOPS_FINGERPRINT_KEY=FP_KEY,
    )
    project = Project(root, env, (a, b), user)
    store = project.store()
    store.put("bench/pg", SecretValue(pg_old), attributes={"username": a}, labels=frozenset({Label.CURRENT}))
    store.put("bench/redis", SecretValue(redis_old), attributes={"username": user}, labels=frozenset({Label.CURRENT}))
    store.close()
    return project


def read_env(path: Path) -> dict[str, str]:
    """The `.env` file's values (parsed like the target does)."""
    from secretops.targets.dotenv import parse_dotenv

    return {k: v.value for k, v in parse_dotenv(path.read_text()).items()}


def pg_works(url: str) -> bool:
    """A fresh connection and `SELECT 1` succeed."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def redis_works(url: str) -> bool:
    """A fresh connection's AUTH and PING succeed."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
