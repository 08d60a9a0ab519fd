"""End to end: the engine with LocalStore, real issuers and `.env` targets.

PostgreSQL alternate (private scram cluster), Redis overlap, MariaDB alternate, AWS IAM overlap
on moto. Each test reads the credentials the `.env` file holds after the run and logs in with
them, and proves the old ones refused. Dry runs leave servers and files byte-for-byte unchanged.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import psycopg
import pymysql
import pytest
import redis

from secretops.inventory.models import SecretSpec
from secretops.issuers import build_issuer
from secretops.rotate.engine import Engine, Outcome, StaticInventory
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets import build_target
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue
from tests.services import MariaDB, PgCluster

KEY = FingerprintKey(b"e" * 32)


#: Drain waits the engines below were asked for (not slept: `.env` targets without restart drain).
DRAINS: list[float] = []


class Crash(BaseException):
    """Stands for SIGKILL in-process."""


def make_engine(
    tmp: Path,
    secret: SecretSpec,
    issuer: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    restart: list[str] | None = None,
    hook: Any = None,
) -> tuple[Engine, LocalStore]:
    store = LocalStore(tmp / "state", key=b"k" * 32, fingerprint_key=KEY)
    from pydantic import TypeAdapter

    from secretops.inventory.models import IssuerSpec, TargetSpec

    targets = {
        "web": TypeAdapter(TargetSpec).validate_python(
            {"kind": "dotenv", "path": str(tmp / "web.env"), "restart": restart}
        ),
        "worker": TypeAdapter(TargetSpec).validate_python({"kind": "dotenv", "path": str(tmp / "worker.env")}),
    }
    inventory = StaticInventory(
        {secret.name: secret}, {"iss": TypeAdapter(IssuerSpec).validate_python(issuer)}, targets
    )
    engine = Engine(
        inventory,
        store,
        state_dir=tmp / "state",
        key=KEY,
        issuer_factory=lambda _n, spec: build_issuer(spec, env),
        target_factory=lambda n, spec: build_target(n, spec, env),
        hook=hook,
        sleep=DRAINS.append,  # these tests are not about the drain (tests/rotate/test_revoke_rules.py is)
    )
    return engine, store


def dotenv(tmp: Path, name: str) -> dict[str, str]:
    return {k: v.value for k, v in parse_dotenv((tmp / f"{name}.env").read_text()).items()}


def snapshot(tmp: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(tmp.rglob("*")) if p.is_file()}


def seed(tmp: Path, store: LocalStore, name: str, value: str, attrs: dict[str, str], files: dict[str, str]) -> None:
    store.put(name, SecretValue(value), attributes=attrs, labels=frozenset({Label.CURRENT}))
    for fname, text in files.items():
        (tmp / fname).write_text(text)


# ---------------------------------------------------------------- PostgreSQL alternate


PG_URL = "postgresql://{username}:{password|url}@127.0.0.1:%d/postgres"


pg_login = PgCluster.logs_in


@pytest.fixture
def pg_roles(pg_cluster: PgCluster) -> Iterator[tuple[str, str, str]]:
    with pg_cluster.alternate_roles("e2e") as roles:
        yield roles


def _pg_setup(tmp: Path, pg_cluster: PgCluster, roles: tuple[str, str, str], **kw: Any) -> tuple[Engine, LocalStore]:
    a, b, old = roles
    template = PG_URL % pg_cluster.port
    secret = SecretSpec.model_validate(
        {
            "name": "e2e/pg",
            "kind": "postgres-password",
            "issuer": "iss",
            "accounts": [a, b],
            "strategy": "alternate",
            "grace": "0s",
            "generator": {"kind": "password", "length": 24, "symbols": "-_.~!"},
            "consumers": [
                {"target": "web", "env": "DATABASE_URL", "template": template},
                {"target": "worker", "env": "DATABASE_URL", "template": template},
                {"target": "worker", "env": "PGPASSWORD"},
            ],
        }
    )
    engine, store = make_engine(
        tmp,
        secret,
        {"kind": "postgres", "admin_dsn_env": "PG_ADMIN", "host": "127.0.0.1", "port": pg_cluster.port},
        {"PG_ADMIN": pg_cluster.admin_dsn},
        **kw,
    )
    url = template.replace("{username}", a).replace("{password|url}", quote(old, safe=""))
    seed(
        tmp,
        store,
        "e2e/pg",
        old,
        {"username": a},
        {"web.env": f"# app\nDATABASE_URL={url}\nDEBUG=1\n", "worker.env": f'DATABASE_URL="{url}"\nPGPASSWORD={old}\n'},
    )
    return engine, store


@pytest.mark.postgres
def test_postgres_alternate(tmp_path: Path, pg_cluster: PgCluster, pg_roles: tuple[str, str, str]) -> None:
    a, b, _old = pg_roles
    engine, store = _pg_setup(tmp_path, pg_cluster, pg_roles)
    old_url = dotenv(tmp_path, "web")["DATABASE_URL"]
    result = engine.rotate("e2e/pg")
    assert result.outcome is Outcome.COMPLETE, result.summary()
    url = dotenv(tmp_path, "web")["DATABASE_URL"]
    assert urlparse(url).username == b and pg_login(url)
    assert dotenv(tmp_path, "worker")["DATABASE_URL"] == url
    assert unquote(urlparse(url).password or "") == dotenv(tmp_path, "worker")["PGPASSWORD"]
    assert not pg_login(old_url)
    assert (tmp_path / "web.env").read_text().startswith("# app\nDATABASE_URL=")
    # and back to the first role
    assert engine.rotate("e2e/pg").outcome is Outcome.COMPLETE
    url2 = dotenv(tmp_path, "web")["DATABASE_URL"]
    assert urlparse(url2).username == a and pg_login(url2) and not pg_login(url)
    store.close()


@pytest.mark.postgres
def test_postgres_restart_failure_rolls_back(
    tmp_path: Path, pg_cluster: PgCluster, pg_roles: tuple[str, str, str]
) -> None:
    _a, b, _ = pg_roles
    fail_once = "import os, sys\nif not os.path.exists('failed'):\n    open('failed', 'w').close()\n    sys.exit(3)"
    engine, store = _pg_setup(tmp_path, pg_cluster, pg_roles, restart=[sys.executable, "-c", fail_once])
    before = (tmp_path / "web.env").read_text()
    old_url = dotenv(tmp_path, "web")["DATABASE_URL"]
    result = engine.rotate("e2e/pg")
    assert result.outcome is Outcome.ROLLED_BACK and result.exit_code == 1
    assert result.failure is not None and result.failure.target == "web" and "exited 3" in result.failure.reason
    assert (tmp_path / "web.env").read_text() == before
    assert (tmp_path / "failed").exists()  # the rollback's restart ran (and passed)
    assert pg_login(old_url)
    with psycopg.connect(pg_cluster.admin_dsn) as conn:
        row = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (b,)).fetchone()
    assert row == (False,), "the idle role was locked again"
    assert store.get("e2e/pg", Label.PENDING) is None
    store.close()


@pytest.mark.postgres
def test_postgres_dry_run_touches_nothing(
    tmp_path: Path, pg_cluster: PgCluster, pg_roles: tuple[str, str, str]
) -> None:
    engine, store = _pg_setup(tmp_path, pg_cluster, pg_roles)

    def roles() -> list[Any]:
        with psycopg.connect(pg_cluster.admin_dsn) as conn:
            q = "SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = ANY(%s) ORDER BY 1"
            return conn.execute(q, (list(pg_roles[:2]),)).fetchall()

    before_db, before_files = roles(), snapshot(tmp_path)
    steps = engine.plan("e2e/pg")
    assert any("ALTER ROLE" in s.action or pg_roles[1] in s.action for s in steps)
    assert roles() == before_db and snapshot(tmp_path) == before_files
    store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("step", ["apply", "redeploy", "promote", "revoke"])
def test_postgres_crash_and_resume(
    tmp_path: Path, pg_cluster: PgCluster, pg_roles: tuple[str, str, str], step: str
) -> None:
    def hook(name: str, target: str | None) -> None:
        if name == step:
            raise Crash(step)

    engine, store = _pg_setup(tmp_path, pg_cluster, pg_roles, hook=hook)
    with pytest.raises(Crash):
        engine.rotate("e2e/pg")
    assert pg_login(dotenv(tmp_path, "web")["DATABASE_URL"]), "consumers hold a working value after the crash"
    engine.hook = None
    (result,) = engine.resume()
    assert result.outcome is Outcome.COMPLETE, result.summary()
    url = dotenv(tmp_path, "web")["DATABASE_URL"]
    assert urlparse(url).username == pg_roles[1] and pg_login(url)
    assert not pg_login(
        url.replace(pg_roles[1], pg_roles[0]).replace(urlparse(url).password or "", quote(pg_roles[2], safe=""))
    )
    store.close()


# ---------------------------------------------------------------- Redis overlap


@pytest.mark.redis
def test_redis_overlap(tmp_path: Path, redis_server: str) -> None:
    user, old = f"e2e_{secrets.token_hex(4)}", "old-" + secrets.token_urlsafe(12)
    admin = redis.Redis.from_url(redis_server)
    admin.execute_command("ACL", "SETUSER", user, "on", f">{old}", "~*", "+@all")
    try:
        template = "redis://{username}:{password|url}@127.0.0.1:6379/0"
        secret = SecretSpec.model_validate(
            {
                "name": "e2e/redis",
                "kind": "redis-password",
                "issuer": "iss",
                "accounts": [user],
                "strategy": "overlap",
                "grace": "0s",
                "generator": {"kind": "token", "length": 32},
                "consumers": [
                    {"target": "web", "env": "REDIS_URL", "template": template},
                    {"target": "worker", "env": "REDIS_URL", "template": template},
                ],
            }
        )
        engine, store = make_engine(
            tmp_path, secret, {"kind": "redis", "admin_url_env": "REDIS_ADMIN"}, {"REDIS_ADMIN": redis_server}
        )
        old_url = f"redis://{user}:{old}@127.0.0.1:6379/0"
        seed(
            tmp_path,
            store,
            "e2e/redis",
            old,
            {"username": user},
            {"web.env": f"REDIS_URL={old_url}\n", "worker.env": f"REDIS_URL='{old_url}'\n"},
        )
        acl_before, files_before = admin.execute_command("ACL", "GETUSER", user), snapshot(tmp_path)
        engine.plan("e2e/redis")
        assert admin.execute_command("ACL", "GETUSER", user) == acl_before and snapshot(tmp_path) == files_before
        result = engine.rotate("e2e/redis")
        assert result.outcome is Outcome.COMPLETE, result.summary()
        url = dotenv(tmp_path, "web")["REDIS_URL"]
        assert url != old_url and dotenv(tmp_path, "worker")["REDIS_URL"] == url
        assert redis.Redis.from_url(url).ping()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(old_url).ping()
        assert result.proof is not None
        store.close()
    finally:
        admin.execute_command("ACL", "DELUSER", user)
        admin.close()


# ---------------------------------------------------------------- MariaDB alternate


def my_login(db: MariaDB, user: str, password: str) -> bool:
    try:
        pymysql.connect(host=db.host, port=db.port, user=user, password=password, connect_timeout=5).close()
        return True
    except pymysql.err.OperationalError:
        return False


@pytest.mark.mysql
def test_mariadb_alternate(tmp_path: Path, mariadb: MariaDB) -> None:
    tag = secrets.token_hex(3)
    a, b, old = f"e2e_{tag}_a", f"e2e_{tag}_b", "old-" + secrets.token_urlsafe(12)
    admin = pymysql.connect(host=mariadb.host, port=mariadb.port, user="root", password="", autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE USER '{a}'@'%' IDENTIFIED BY '{old}'")
        cur.execute(f"CREATE USER '{b}'@'%' IDENTIFIED BY '{secrets.token_hex(16)}' ACCOUNT LOCK")
    try:
        secret = SecretSpec.model_validate(
            {
                "name": "e2e/mysql",
                "kind": "mysql-password",
                "issuer": "iss",
                "accounts": [a, b],
                "strategy": "alternate",
                "grace": "0s",
                "consumers": [
                    {"target": "web", "env": "DB_USER", "template": "{username}"},
                    {"target": "web", "env": "DB_PASSWORD"},
                ],
            }
        )
        engine, store = make_engine(
            tmp_path,
            secret,
            {"kind": "mysql", "admin_dsn_env": "MY_ADMIN", "host": mariadb.host, "port": mariadb.port},
            {"MY_ADMIN": mariadb.admin_dsn},
        )
        seed(
            tmp_path,
            store,
            "e2e/mysql",
            old,
            {"username": a},
            {"web.env": f"DB_USER={a}\nDB_PASSWORD={old}\n", "worker.env": ""},
        )
        result = engine.rotate("e2e/mysql")
        assert result.outcome is Outcome.COMPLETE, result.summary()
        env = dotenv(tmp_path, "web")
        assert env["DB_USER"] == b and my_login(mariadb, b, env["DB_PASSWORD"])
        assert not my_login(mariadb, a, old)
        store.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{a}'@'%', '{b}'@'%'")
        admin.close()


# ---------------------------------------------------------------- AWS IAM overlap (moto)


@pytest.fixture
def iam_user(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    import boto3

    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    iam = boto3.client(
        "iam",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"svc-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    yield iam, name
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def _aws(tmp: Path, moto_server: str, iam: Any, user: str, hook: Any = None) -> tuple[Engine, LocalStore, str]:
    secret = SecretSpec.model_validate(
        {
            "name": "e2e/aws",
            "kind": "aws-iam-key",
            "issuer": "iss",
            "accounts": [user],
            "strategy": "overlap",
            "grace": "0s",
            "generator": {"kind": "issuer"},
            "consumers": [
                {"target": "web", "env": "AWS_ACCESS_KEY_ID", "template": "{access_key_id}"},
                {"target": "web", "env": "AWS_SECRET_ACCESS_KEY"},
            ],
        }
    )
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    engine, store = make_engine(tmp, secret, {"kind": "aws-iam", "endpoint_url": moto_server}, env, hook=hook)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    seed(
        tmp,
        store,
        "e2e/aws",
        key["SecretAccessKey"],
        {"access_key_id": key["AccessKeyId"], "user": user},
        {
            "web.env": f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\nAWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n",
            "worker.env": "",
        },
    )
    return engine, store, key["AccessKeyId"]


def _keys(iam: Any, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


@pytest.mark.aws
def test_aws_iam_overlap(tmp_path: Path, moto_server: str, iam_user: tuple[Any, str]) -> None:
    iam, user = iam_user
    engine, store, old_id = _aws(tmp_path, moto_server, iam, user)
    result = engine.rotate("e2e/aws")
    assert result.outcome is Outcome.COMPLETE, result.summary()
    env = dotenv(tmp_path, "web")
    assert env["AWS_ACCESS_KEY_ID"] != old_id
    assert _keys(iam, user) == {old_id: "Inactive", env["AWS_ACCESS_KEY_ID"]: "Active"}
    current = store.get("e2e/aws")
    assert current is not None and current.value.reveal() == env["AWS_SECRET_ACCESS_KEY"]
    store.close()


@pytest.mark.aws
def test_aws_crash_after_mint_reconciles(tmp_path: Path, moto_server: str, iam_user: tuple[Any, str]) -> None:
    iam, user = iam_user

    def hook(name: str, target: str | None) -> None:
        if name == "stage":
            raise Crash("after the key was minted, before it was stored")

    engine, store, old_id = _aws(tmp_path, moto_server, iam, user, hook=hook)
    with pytest.raises(Crash):
        engine.rotate("e2e/aws")
    assert len(_keys(iam, user)) == 2  # a leftover key nobody holds
    engine.hook = None
    (result,) = engine.resume()
    assert result.outcome is Outcome.COMPLETE, result.summary()
    assert any("reconcile: removed" in line for line in result.lines)
    env = dotenv(tmp_path, "web")
    assert _keys(iam, user) == {old_id: "Inactive", env["AWS_ACCESS_KEY_ID"]: "Active"}
    store.close()
