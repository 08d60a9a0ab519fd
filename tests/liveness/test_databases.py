"""Database verifiers against real servers: a private scram-sha-256 cluster, MariaDB and Redis.

The shared PostgreSQL on 5432 trusts everyone, so the Postgres tests use `pg_cluster`, where a
wrong password is really refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secretops.liveness import DATABASE_VERIFIERS, KIND_VERIFIERS, VERIFIERS, Leak, Liveness, VerifyContext
from secretops.values import SecretValue
from tests.helpers import free_port
from tests.services import MariaDB, PgCluster


@pytest.fixture
def ctx() -> Iterator[VerifyContext]:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(599))) as client:
        yield VerifyContext(client=client, timeout=3.0)


def _leak(kind: str, password: str, **context: str | int) -> Leak:
    return Leak(
        "generic-password-assignment", "generic", kind, SecretValue(password), {k: str(v) for k, v in context.items()}
    )


def test_database_verifiers_are_the_ones_behind_the_flag() -> None:
    assert {"postgres", "mysql", "redis"} == DATABASE_VERIFIERS
    assert {KIND_VERIFIERS[k] for k in ("postgres-password", "mysql-password", "redis-password")} == DATABASE_VERIFIERS
    for vid in DATABASE_VERIFIERS:
        assert VERIFIERS[vid].network == "scanned-host" and not VERIFIERS[vid].hosts


@pytest.mark.parametrize("vid", ["postgres", "mysql", "redis"])
def test_no_host_or_a_closed_port_is_unknown(vid: str, ctx: VerifyContext) -> None:
    verifier = VERIFIERS[vid](ctx)
    assert verifier.verify(_leak("x", "pw-" + secrets.token_hex(8), user="app")).state is Liveness.UNKNOWN
    closed = verifier.verify(_leak("x", "pw-" + secrets.token_hex(8), host="127.0.0.1", port=free_port(), user="app"))
    assert closed.state is Liveness.UNKNOWN, closed.detail
    bad_port = verifier.verify(_leak("x", "pw", host="127.0.0.1", port="99999", user="app"))
    assert bad_port.state is Liveness.UNKNOWN


@pytest.mark.postgres
def test_postgres_login_live_wrong_password_dead_unknown_role_dead(pg_cluster: PgCluster, ctx: VerifyContext) -> None:
    import psycopg
    from psycopg import sql

    role, password = f"verify_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    try:
        verifier = VERIFIERS["postgres"](ctx)
        where = {"host": pg_cluster.host, "port": pg_cluster.port, "user": role}
        live = verifier.verify(_leak("postgres-password", password, **where))
        assert live.state is Liveness.LIVE, live.detail
        assert live.identity == f"{role}@{pg_cluster.host}:{pg_cluster.port}/postgres"
        # A database that does not exist is only reported after the login: the password works.
        missing_db = verifier.verify(_leak("postgres-password", password, **where, database="no_such_db"))
        assert missing_db.state is Liveness.LIVE
        wrong = verifier.verify(_leak("postgres-password", password + "x", **where))
        assert wrong.state is Liveness.DEAD and password not in wrong.detail
        nobody = verifier.verify(_leak("postgres-password", password, **{**where, "user": role + "_gone"}))
        assert nobody.state is Liveness.DEAD
        no_user = verifier.verify(_leak("postgres-password", password, host=pg_cluster.host, port=pg_cluster.port))
        assert no_user.state is Liveness.UNKNOWN
    finally:
        with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.mark.mysql
def test_mysql_login_live_and_wrong_password_dead(mariadb: MariaDB, ctx: VerifyContext) -> None:
    import pymysql

    user, password = f"verify_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    admin = pymysql.connect(host=mariadb.host, port=mariadb.port, user="root", password="", autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
            cur.execute("CREATE USER %s@'localhost' IDENTIFIED BY %s", (user, password))
        verifier = VERIFIERS["mysql"](ctx)
        where = {"host": mariadb.host, "port": mariadb.port, "user": user}
        live = verifier.verify(_leak("mysql-password", password, **where))
        assert live.state is Liveness.LIVE, live.detail
        assert live.identity == f"{user}@{mariadb.host}:{mariadb.port}"
        wrong = verifier.verify(_leak("mysql-password", "not-" + password, **where))
        assert wrong.state is Liveness.DEAD and "1045" in wrong.detail
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP USER IF EXISTS %s@'%%'", (user,))
            cur.execute("DROP USER IF EXISTS %s@'localhost'", (user,))
        admin.close()


@pytest.mark.redis
def test_redis_acl_user_live_wrong_password_dead(redis_server: str, ctx: VerifyContext) -> None:
    import redis

    user, password = f"verify-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    admin = redis.Redis.from_url(redis_server, socket_timeout=5)
    admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "+ping")
    try:
        verifier = VERIFIERS["redis"](ctx)
        where = {"host": "127.0.0.1", "port": 6379, "user": user}
        live = verifier.verify(_leak("redis-password", password, **where))
        assert live.state is Liveness.LIVE, live.detail
        assert live.identity == f"{user}@127.0.0.1:6379"
        wrong = verifier.verify(_leak("redis-password", password + "x", **where))
        assert wrong.state is Liveness.DEAD, wrong.detail
        # The shared server needs no password for `default`: the value proves nothing.
        open_server = verifier.verify(_leak("redis-password", password, host="127.0.0.1", port=6379))
        assert open_server.state is Liveness.UNKNOWN, open_server.detail
    finally:
        admin.execute_command("ACL", "DELUSER", user)
        admin.close()


@pytest.mark.postgres
def test_postgres_that_never_asks_for_a_password_is_unknown(ctx: VerifyContext) -> None:
    """The shared server on 5432 trusts everyone: logging in proves nothing about the value."""
    from tests.helpers import port_open, service_unavailable

    if not port_open("127.0.0.1", 5432):
        service_unavailable("PostgreSQL is not listening on 127.0.0.1:5432")
    result = VERIFIERS["postgres"](ctx).verify(
        _leak("postgres-password", secrets.token_urlsafe(12), host="127.0.0.1", port=5432, user="postgres")
    )
    assert result.state is Liveness.UNKNOWN and "without asking for a password" in result.detail


# --- end to end through `secretops scan --verify --verify-databases` ------------------------------


def _scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    import json

    from secretops.cli.app import run

    code = run(["scan", "--jobs", "1", "--no-progress", "--format", "json", "--verify", "--verify-databases", *args])
    out, _ = capsys.readouterr()
    return code, json.loads(out)["findings"]


@pytest.mark.postgres
def test_scan_verifies_a_neon_style_url_and_a_grouped_block_on_a_scram_cluster(
    pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg
    from psycopg import sql

    role, password = f"guide_{secrets.token_hex(4)}", "npg_" + secrets.token_hex(8)
    with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://{role}:{password}@{pg_cluster.host}:{pg_cluster.port}/postgres?sslmode=prefer"
    (tmp_path / "guide.md").write_text(f"# Connect\n\n```\nDATABASE_URL={url}\n```\n")
    (tmp_path / "ops.env").write_text(
        f"PGHOST={pg_cluster.host}\nPGPORT={pg_cluster.port}\nPGUSER={role}\nPGPASSWORD={password}\n"
    )
    try:
        code, findings = _scan_json(capsys, "--fail-on-live", ".")
        states = {(f["path"], f["liveness"]["state"]) for f in findings}  # type: ignore[index]
        assert states == {("guide.md", "live"), ("ops.env", "live")}, findings
        assert code == 1
        with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password + "2"))
            )
        code, findings = _scan_json(capsys, "--fail-on-live", ".")
        assert {f["liveness"]["state"] for f in findings} == {"dead"}  # type: ignore[index]
        assert code == 0
    finally:
        with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.mark.mysql
@pytest.mark.redis
def test_scan_verifies_mysql_and_redis_urls(
    mariadb: MariaDB,
    redis_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pymysql
    import redis

    user, password = f"verify_{secrets.token_hex(4)}", secrets.token_urlsafe(15).replace("-", "a").replace("_", "b")
    admin = pymysql.connect(host=mariadb.host, port=mariadb.port, user="root", password="", autocommit=True)
    cache = redis.Redis.from_url(redis_server, socket_timeout=5)
    with admin.cursor() as cur:
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
        cur.execute("CREATE USER %s@'localhost' IDENTIFIED BY %s", (user, password))
    cache.execute_command("ACL", "SETUSER", user, "on", f">{password}", "+ping")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.env").write_text(
        f"MYSQL_URL=mysql://{user}:{password}@{mariadb.host}:{mariadb.port}/shop\n"
        f"REDIS_URL=redis://{user}:{password}@127.0.0.1:6379/0\n"
    )
    try:
        _, findings = _scan_json(capsys, ".")
        assert {f["rule_id"]: f["liveness"]["state"] for f in findings} == {  # type: ignore[index]
            "mysql-uri-password": "live",
            "redis-uri-password": "live",
        }
        (tmp_path / "settings.env").write_text(
            f"MYSQL_URL=mysql://{user}:{password}Z@{mariadb.host}:{mariadb.port}/shop\n"
            f"REDIS_URL=redis://{user}:{password}Z@127.0.0.1:6379/0\n"
        )
        _, findings = _scan_json(capsys, ".")
        assert {f["liveness"]["state"] for f in findings} == {"dead"}  # type: ignore[index]
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP USER IF EXISTS %s@'%%'", (user,))
            cur.execute("DROP USER IF EXISTS %s@'localhost'", (user,))
        admin.close()
        cache.execute_command("ACL", "DELUSER", user)
        cache.close()
