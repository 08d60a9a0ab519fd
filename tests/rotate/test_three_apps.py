"""Acceptance: three apps, each with its own `.env` holding `DATABASE_URL` and `REDIS_URL`.

Six secrets whose consumers use the same env var names on different targets. Through the CLI
as a user runs it, on a private scram-sha-256 PostgreSQL cluster (so a wrong password is really
refused) and Redis ACL users: `store import` adopts each app's own values (not the first app's
for everyone), and `rotate --due` (with `--concurrency 1` and `2`) rotates all six, each run
revoking its own old value: afterwards every old credential is refused and every app's new one
logs in.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import psycopg
import pytest
import redis

from secretops.cli.app import run
from secretops.store import LocalStore
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey
from tests.services import PgCluster

LOCAL_KEY = "6e" * 32
APPS = ("alpha", "beta", "gamma")
PG_TEMPLATE = "postgresql://{username}:{password|url}@127.0.0.1:%d/postgres"
REDIS_TEMPLATE = "redis://{username}:{password|url}@127.0.0.1:6379/0"


@dataclass
class App:
    """One app's accounts and the credentials deployed before any rotation."""

    name: str
    pg_a: str
    pg_b: str
    pg_password: str
    redis_user: str
    redis_password: str


def _pg_ok(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def _redis_ok(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return False
    finally:
        client.close()


@pytest.fixture
def apps(pg_cluster: PgCluster, redis_server: str) -> Iterator[list[App]]:
    tag = secrets.token_hex(3)
    made = [
        App(
            name,
            f"ta_{tag}_{name}_a",
            f"ta_{tag}_{name}_b",
            f"pg-{name}-" + secrets.token_urlsafe(12),
            f"ta_{tag}_{name}_cache",
            f"rd-{name}-" + secrets.token_urlsafe(12),
        )
        for name in APPS
    ]
    admin = redis.Redis.from_url(redis_server)
    with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as conn:
        for app in made:
            conn.execute(f"CREATE ROLE {app.pg_a} LOGIN PASSWORD '{app.pg_password}'")
            conn.execute(f"CREATE ROLE {app.pg_b} NOLOGIN")
            admin.execute_command("ACL", "SETUSER", app.redis_user, "on", f">{app.redis_password}", "+ping")
    try:
        yield made
    finally:
        with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as conn:
            for app in made:
                conn.execute(f"DROP ROLE IF EXISTS {app.pg_a}")
                conn.execute(f"DROP ROLE IF EXISTS {app.pg_b}")
                admin.execute_command("ACL", "DELUSER", app.redis_user)
        admin.close()


def _policy(tmp: Path, pg: PgCluster, apps: list[App]) -> str:
    lines = [
        "version: 1",
        "issuers:",
        f"  pg: {{kind: postgres, admin_dsn_env: PG_ADMIN_DSN, host: 127.0.0.1, port: {pg.port}}}",
        "  cache: {kind: redis, admin_url_env: REDIS_ADMIN_URL}",
        "targets:",
    ]
    # `restart: [true]` stands for `docker compose up -d`: consumers restart, so no drain wait.
    lines += [f'  {a.name}: {{kind: dotenv, path: "{tmp / a.name / ".env"}", restart: ["true"]}}' for a in apps]
    lines.append("secrets:")
    for a in apps:
        lines += [
            f"  - name: {a.name}/db",
            "    kind: postgres-password",
            "    issuer: pg",
            f"    accounts: [{a.pg_a}, {a.pg_b}]",
            "    strategy: alternate",
            "    grace: 0s",
            "    generator: {kind: password, length: 24, symbols: '-_.~@/'}",
            "    consumers:",
            f'      - {{target: {a.name}, env: DATABASE_URL, template: "{PG_TEMPLATE % pg.port}"}}',
            f"  - name: {a.name}/redis",
            "    kind: redis-password",
            "    issuer: cache",
            f"    accounts: [{a.redis_user}]",
            "    strategy: overlap",
            "    grace: 0s",
            "    generator: {kind: token, length: 32}",
            "    consumers:",
            f'      - {{target: {a.name}, env: REDIS_URL, template: "{REDIS_TEMPLATE}"}}',
        ]
    return "\n".join(lines) + "\n"


def _deployed(tmp: Path, app: App) -> dict[str, str]:
    return {k: v.value for k, v in parse_dotenv((tmp / app.name / ".env").read_text()).items()}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("concurrency", [1, 2])
def test_import_then_rotate_due_three_apps(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pg_cluster: PgCluster,
    redis_server: str,
    apps: list[App],
    concurrency: int,
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "apps.yaml").write_text(_policy(tmp_path, pg_cluster, apps))
    for app in apps:
        (tmp_path / app.name).mkdir()
        pg_url = pg_cluster.dsn(app.pg_a, app.pg_password)
        rd_url = f"redis://{app.redis_user}:{quote(app.redis_password, safe='')}@127.0.0.1:6379/0"
        (tmp_path / app.name / ".env").write_text(f"# {app.name}\nDATABASE_URL={pg_url}\nREDIS_URL={rd_url}\nDEBUG=0\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY)
    monkeypatch.setenv("PG_ADMIN_DSN", pg_cluster.admin_dsn)
    monkeypatch.setenv("REDIS_ADMIN_URL", redis_server)
    before = {app.name: _deployed(tmp_path, app) for app in apps}
    for app in apps:
        assert _pg_ok(before[app.name]["DATABASE_URL"]) and _redis_ok(before[app.name]["REDIS_URL"])

    # 1. store import (no source: every target is read) adopts each app's own credentials
    assert run(["store", "import", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["secret"]: r["status"] for r in doc["results"]} == {
        f"{a.name}/{w}": "imported" for a in apps for w in ("db", "redis")
    }
    store = LocalStore(
        tmp_path / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32))
    )
    for app in apps:
        db, cache = store.get(f"{app.name}/db"), store.get(f"{app.name}/redis")
        assert db is not None and cache is not None
        assert db.value.reveal() == app.pg_password and db.version.attributes == {"username": app.pg_a}
        assert cache.value.reveal() == app.redis_password
        assert cache.version.attributes == {"username": app.redis_user}
    assert run(["status", "--due", "--format", "json"]) == 0  # adopted: never rotated, all six due
    assert len(json.loads(capsys.readouterr().out)["secrets"]) == 6

    # 2. rotate --due rotates all six, each revoking its own old value
    code = run(["rotate", "--due", "--concurrency", str(concurrency)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count(": complete") == 6, out
    for app in apps:
        for secret_value in (app.pg_password, app.redis_password, quote(app.pg_password, safe="")):
            assert secret_value not in out

    after = {app.name: _deployed(tmp_path, app) for app in apps}
    for app in apps:
        old, new = before[app.name], after[app.name]
        assert new["DEBUG"] == "0"  # the rest of the file is kept
        assert urlparse(new["DATABASE_URL"]).username == app.pg_b  # alternate: the other role
        assert urlparse(new["REDIS_URL"]).username == app.redis_user  # overlap: same user, new password
        assert new["DATABASE_URL"] != old["DATABASE_URL"] and new["REDIS_URL"] != old["REDIS_URL"]
        assert not _pg_ok(old["DATABASE_URL"]), f"{app.name}: the old database password still works"
        assert not _redis_ok(old["REDIS_URL"]), f"{app.name}: the old Redis password still works"
        db, cache = store.get(f"{app.name}/db"), store.get(f"{app.name}/redis")
        assert db is not None and cache is not None
        assert db.value.reveal() == unquote(urlparse(new["DATABASE_URL"]).password or "")
        assert cache.value.reveal() == unquote(urlparse(new["REDIS_URL"]).password or "")
    # every app's new credentials work once all six runs are done: no run touched another app's
    for app in apps:
        assert _pg_ok(after[app.name]["DATABASE_URL"]), app.name
        assert _redis_ok(after[app.name]["REDIS_URL"]), app.name
    assert run(["rotate", "--due"]) == 0
    assert "nothing to do" in capsys.readouterr().out
