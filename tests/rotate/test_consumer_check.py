"""Consumer-side verification: each consumer's own value must authenticate, as its client reads it.

Unit tests drive `verify_consumer` with a stub issuer (which hosts it allows, what it was asked
to log in with); end-to-end tests rotate against a private scram-sha-256 PostgreSQL cluster,
Redis and MariaDB with real `.env` files, and then log in with what the files hold.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pymysql
import pytest
import redis
from pydantic import TypeAdapter

from secretops.inventory.models import ConsumerSpec, IssuerSpec, SecretSpec, Strategy, TargetSpec
from secretops.issuers import build_issuer
from secretops.issuers.interface import Credential, Endpoint, Issuer, IssuerError, IssuerUnavailableError, PlanStep
from secretops.issuers.postgres import PostgresIssuer
from secretops.rotate.consumer_check import ConsumerCheckError, verify_consumer
from secretops.rotate.engine import Engine, Outcome, StaticInventory
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets import build_target
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue
from tests.helpers import free_port
from tests.rotate.conftest import World
from tests.rotate.conftest import secret as fake_secret
from tests.services import MariaDB, PgCluster

KEY = FingerprintKey(b"c" * 32)
SECRET = SecretSpec(name="app/db", kind="postgres-password", issuer="iss", accounts=["app_a"])


class StubIssuer(Issuer):
    """Allows logins at `hosts` only; records every endpoint it was asked to log in at."""

    kind = "stub"
    strategies: ClassVar[frozenset[Strategy]] = frozenset(Strategy)

    def __init__(self, hosts: set[str] | None = None) -> None:
        self.hosts = frozenset(hosts or {"db.internal"})
        self.aliases: frozenset[str] = frozenset()
        self.asked: list[Endpoint] = []
        self.valid: dict[str, str] = {}

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        return []

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        raise NotImplementedError

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        return self.valid.get(credential.attributes.get("username", "")) == credential.value.reveal()

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        raise NotImplementedError

    def consumer_hosts(self) -> frozenset[str] | None:
        return self.hosts

    def host_aliases(self) -> frozenset[str]:
        return self.aliases

    def check_endpoint(self, secret: SecretSpec, endpoint: Endpoint) -> bool:
        self.asked.append(endpoint)
        assert endpoint.password is not None
        return self.valid.get(endpoint.user or "default") == endpoint.password.reveal()


def run(template: str, password: str, *, user: str = "app_a", issuer: StubIssuer | None = None) -> Any:
    """`verify_consumer` of `template` rendered with `password` for consumer web / DATABASE_URL."""
    issuer = issuer or StubIssuer()
    issuer.valid[user] = password
    consumer = ConsumerSpec(target="web", env="DATABASE_URL", template=template)
    fields = {"value": password, "username": user, "previous": ""}
    rendered = consumer.rendered().render(fields)
    cred = Credential(SecretValue(password), {"username": user})
    return verify_consumer(SECRET, consumer, issuer, cred, fields, SecretValue(rendered))


def refused(template: str, password: str, **kw: Any) -> str:
    issuer = kw.pop("issuer", None) or StubIssuer()
    with pytest.raises(ConsumerCheckError) as info:
        run(template, password, issuer=issuer, **kw)
    text = info.value.diagnostics()
    assert password not in text, "never the value"
    assert not issuer.asked, "no login with a value that does not parse right"
    return info.value.message


PG = "postgresql://{username}:{password}@db.internal:5432/app"


def test_slash_in_password_names_consumer_env_and_fix() -> None:
    assert refused(PG, "Ab1/Cd2") == (
        "DATABASE_URL for consumer web: the rendered URL's host is `app_a` "
        "(a `/` in the password is not URL-encoded: use `{password|url}`)"
    )


def test_at_sign_moves_password_into_host_and_is_not_shown() -> None:
    message = refused(PG, "Xy9@Zw8")
    assert message == (
        "DATABASE_URL for consumer web: the rendered URL's host is a piece of the password (not shown) "
        "(an `@` in the password is not URL-encoded: use `{password|url}`)"
    )


def test_percent_escape_changes_the_password() -> None:
    message = refused(PG, "pw%41bc")
    assert "the rendered URL's password is not the new password" in message
    assert "a `%` in the password is not URL-encoded: use `{password|url}`" in message
    assert "use `{password|url}`" in refused(PG, "pw%zz")


def test_several_culprits_named() -> None:
    message = refused(PG, "a@b/c?d#e")
    assert "an `@` and a `/` in the password are not URL-encoded" in message


def test_url_filter_verifies_and_logs_in_with_the_parsed_parts() -> None:
    issuer = StubIssuer()
    verified = run("postgresql://{username}:{password|url}@db.internal:5432/app", "a@b/c?d#e%f", issuer=issuer)
    assert verified.logged_in and verified.how == "logged in as app_a at db.internal:5432/app"
    (ep,) = issuer.asked
    assert ep.hosts == ("db.internal",) and ep.user == "app_a" and ep.password is not None
    assert ep.password.reveal() == "a@b/c?d#e%f"


def test_other_host_is_refused_without_logging_in() -> None:
    message = refused("postgresql://{username}:{password|url}@evil.example:5432/app", "pw")
    assert message == (
        "DATABASE_URL for consumer web: the URL points at host `evil.example`, the issuer is at db.internal"
    )
    assert "names no host" in refused("postgresql://{username}:{password|url}@/app", "pw")


def test_loopback_names_are_one_host() -> None:
    issuer = StubIssuer({"127.0.0.1"})
    assert run("postgresql://{username}:{password|url}@localhost:5432/app", "pw", issuer=issuer).logged_in


def test_hard_coded_user_is_not_the_new_account() -> None:
    message = refused("postgresql://app_a:{password|url}@db.internal/app", "pw", user="app_b")
    assert message == "DATABASE_URL for consumer web: the URL logs in as `app_a`, the new credential is for app_b"


def test_wrong_login_fails() -> None:
    issuer = StubIssuer()
    consumer = ConsumerSpec(target="web", env="DATABASE_URL", template=PG)
    fields = {"value": "pw", "username": "app_a", "previous": ""}
    with pytest.raises(ConsumerCheckError, match=r"the stub issuer refuses the login as app_a at db\.internal"):
        verify_consumer(
            SECRET,
            consumer,
            issuer,
            Credential(SecretValue("pw"), {"username": "app_a"}),
            fields,
            SecretValue("postgresql://app_a:pw@db.internal:5432/app"),
        )


def test_sqlalchemy_reads_slash_but_not_at() -> None:
    sqla = "postgresql+psycopg2://{username}:{password}@db.internal:5432/app"
    assert run(sqla, "Ab/Cd").logged_in  # SQLAlchemy's password runs to the first `@`
    assert "an `@` in the password is not URL-encoded: use `{password|url}`" in refused(sqla, "Ab@Cd")


def test_conninfo_quoting() -> None:
    bare = "host=db.internal port=5432 dbname=app user={username} password={password}"
    message = refused(bare, "with space")
    assert message.startswith("DATABASE_URL for consumer web: libpq cannot parse the rendered connection string")
    assert "a space in the password is not quoted: use `{password|conninfo}`" in message
    quoted = "host=db.internal port=5432 dbname=app user={username} password='{password}'"
    assert run(quoted, "with space").logged_in
    assert "a `'` in the password is not escaped: use `{password|conninfo}`" in refused(quoted, "it's")
    assert run("host=db.internal dbname=app user={username} password={password|conninfo}", "it's \\ ok").logged_in


def test_redis_urls() -> None:
    issuer = StubIssuer({"redis.internal"})
    # redis-py splits user and host at the last `@`: an `@` in the password is fine unencoded.
    assert run("rediss://{username}:{password}@redis.internal:6380/1", "p@ss@w", issuer=issuer).logged_in
    (ep,) = issuer.asked
    assert ep.scheme == "rediss" and ep.port == 6380 and ep.database == "1"
    assert ep.password is not None and ep.password.reveal() == "p@ss@w"
    message = refused(
        "redis://{username}:{password}@redis.internal:6379/0", "ab/cd", issuer=StubIssuer({"redis.internal"})
    )
    assert "a `/` in the password is not URL-encoded: use `{password|url}`" in message
    # No user in the URL: redis-py authenticates as `default`, not as the ACL user.
    message = refused("redis://:{password|url}@redis.internal:6379/0", "pw", issuer=StubIssuer({"redis.internal"}))
    assert message == "DATABASE_URL for consumer web: the URL logs in as `default`, the new credential is for app_a"


def test_mysql_and_amqp_urls() -> None:
    issuer = StubIssuer({"db.internal"})
    assert run("mysql://{username}:{password}@db.internal:3306/app", "p@ss", issuer=issuer).logged_in
    # SQLAlchemy's password runs to the first `@`; a `#` is fine there.
    sqla = refused("mysql+pymysql://{username}:{password}@db.internal/app", "p@#q")
    assert "(an `@` in the password is not URL-encoded: use `{password|url}`)" in sqla
    assert "a `#` in the password is not URL-encoded: use `{password|url}`" in refused(
        "amqp://{username}:{password}@db.internal/vhost", "p#q"
    )


def test_plain_values() -> None:
    verified = run("{value}", "sk_test_abc/def@ghi")
    assert verified.how == "equals the new credential" and not verified.logged_in
    consumer = ConsumerSpec(target="web", env="API_KEY")
    fields = {"value": "new-key", "previous": ""}
    with pytest.raises(ConsumerCheckError, match="differs from the template rendered with the new credential"):
        verify_consumer(
            SECRET, consumer, StubIssuer(), Credential(SecretValue("new-key")), fields, SecretValue("old-key")
        )


# ---------------------------------------------------------------- the engine's verify lines


def test_engine_says_how_each_consumer_was_verified(world: World) -> None:
    world.targets["worker"].shows_values = False  # fingerprints only, like Render
    world.add(
        fake_secret(
            consumers=[
                {"target": "web", "env": "DATABASE_URL", "template": PG.replace("{password}", "{password|url}")},
                {"target": "worker", "env": "DB_PASSWORD"},
            ]
        )
    )
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE, result.summary()
    lines = "\n".join(result.lines)
    assert "ok   verify: credential: the fake issuer accepts the new value of app_a" in lines
    assert "ok   verify web: DATABASE_URL read back from target and logged in as app_a at db.internal:5432/app" in lines
    assert "ok   verify worker: DB_PASSWORD read back from target (fingerprint): equals the new credential" in lines


def test_engine_write_only_consumer(world: World) -> None:
    world.targets["worker"].write_only = True
    world.add(
        fake_secret(
            consumers=[
                {"target": "web", "env": "DATABASE_URL", "template": PG.replace("{password}", "{password|url}")},
                {"target": "worker", "env": "DB_PASSWORD", "verify": "accept-unverified"},
            ]
        )
    )
    result = world.engine().rotate("shop/db")
    lines = "\n".join(result.lines)
    assert (
        "verify worker: DB_PASSWORD accepted unverified (verify: accept-unverified): "
        "rendered value equals the new credential (write-only target)"
    ) in lines


def test_engine_broken_url_rolls_back_before_any_revoke(world: World) -> None:
    world.add(
        fake_secret(
            generator={"kind": "password", "symbols": "@/", "min_each": 3},
            consumers=[
                {"target": "web", "env": "DATABASE_URL", "template": PG},
                {"target": "worker", "env": "DB_PASSWORD"},
            ],
        )
    )
    before = world.env("web")
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.ROLLED_BACK and result.exit_code == 1
    assert result.failure is not None and result.failure.step == "verify" and result.failure.target == "web"
    assert result.failure.reason.startswith("DATABASE_URL for consumer web: ")
    assert "not URL-encoded: use `{password|url}`" in result.failure.reason
    assert "revoke" not in world.issuer.calls and world.issuer.works("app_a", "old-Passw0rd-xyz")
    assert world.env("web") == before


# ---------------------------------------------------------------- real servers and real .env files


def _engine(
    tmp: Path, secret: SecretSpec, issuer: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[Engine, LocalStore]:
    store = LocalStore(tmp / "state", key=b"k" * 32, fingerprint_key=KEY)
    targets = {"web": TypeAdapter(TargetSpec).validate_python({"kind": "dotenv", "path": str(tmp / "app.env")})}
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
        sleep=lambda _s: None,
    )
    return engine, store


def _env(tmp: Path) -> dict[str, str]:
    return {k: v.value for k, v in parse_dotenv((tmp / "app.env").read_text()).items()}


def _spec(name: str, template: str, symbols: str, accounts: list[str], strategy: str = "alternate") -> SecretSpec:
    return SecretSpec.model_validate(
        {
            "name": name,
            "kind": "password",
            "issuer": "iss",
            "accounts": accounts,
            "strategy": strategy,
            "grace": "0s",
            "drain": "0s",
            "generator": {"kind": "password", "symbols": symbols, "min_each": 3},
            "consumers": [{"target": "web", "env": "DATABASE_URL", "template": template}],
        }
    )


pg_login = PgCluster.logs_in


@pytest.fixture
def pg_pair(pg_cluster: PgCluster) -> Iterator[tuple[str, str, str]]:
    with pg_cluster.alternate_roles("cc") as roles:
        yield roles


def _pg_rotate(
    tmp: Path, cluster: PgCluster, pair: tuple[str, str, str], template: str, symbols: str, old_value: str
) -> tuple[Any, LocalStore]:
    a, b, old = pair
    secret = _spec("cc/pg", template, symbols, [a, b])
    engine, store = _engine(
        tmp,
        secret,
        {"kind": "postgres", "admin_dsn_env": "PG_ADMIN", "host": "127.0.0.1", "port": cluster.port},
        {"PG_ADMIN": cluster.admin_dsn},
    )
    store.put("cc/pg", SecretValue(old), attributes={"username": a}, labels=frozenset({Label.CURRENT}))
    (tmp / "app.env").write_text(f"DEBUG=1\nDATABASE_URL='{old_value}'\n")
    return engine.rotate("cc/pg"), store


@pytest.mark.postgres
@pytest.mark.parametrize("symbols", ["@/", "@/?#"])
def test_pg_unencoded_password_fails_before_revoke(
    tmp_path: Path, pg_cluster: PgCluster, pg_pair: Any, symbols: str
) -> None:
    """The issue's mistake 2: refused before any revoke, or (only `?` and `#` drawn) rendered right and verified."""
    a, b, old = pg_pair
    template = f"postgresql://{{username}}:{{password}}@127.0.0.1:{pg_cluster.port}/postgres"
    old_url = pg_cluster.dsn(a, old)
    result, store = _pg_rotate(tmp_path, pg_cluster, pg_pair, template, symbols, old_url)
    url = _env(tmp_path)["DATABASE_URL"]
    if result.outcome is Outcome.COMPLETE:
        # libpq reads `?` and `#` in a password fine: the new URL really logs in.
        assert symbols == "@/?#" and pg_login(url) and not pg_login(old_url), result.summary()
        store.close()
        return
    assert result.outcome is Outcome.ROLLED_BACK, result.summary()
    assert result.failure is not None and result.failure.step == "verify"
    reason = result.failure.reason
    assert reason.startswith("DATABASE_URL for consumer web: ") and "use `{password|url}`" in reason
    assert "`{password|url}`" in (result.next_step or "")
    assert url == old_url and pg_login(old_url), "the app's real .env still logs in"
    with psycopg.connect(pg_cluster.admin_dsn) as conn:
        query = "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN (%s, %s)"
        rows = dict(conn.execute(query, (a, b)).fetchall())
    assert rows == {a: True, b: False}, "nothing revoked; the idle role locked again"
    store.close()


@pytest.mark.postgres
def test_pg_url_filter_rotates_and_the_new_url_logs_in(tmp_path: Path, pg_cluster: PgCluster, pg_pair: Any) -> None:
    a, b, old = pg_pair
    template = f"postgresql://{{username}}:{{password|url}}@127.0.0.1:{pg_cluster.port}/postgres"
    old_url = pg_cluster.dsn(a, old)
    result, store = _pg_rotate(tmp_path, pg_cluster, pg_pair, template, "@/?#", old_url)
    assert result.outcome is Outcome.COMPLETE, result.summary()
    url = _env(tmp_path)["DATABASE_URL"]
    assert pg_login(url) and not pg_login(old_url)
    line = (
        f"verify web: DATABASE_URL read back from target and logged in as {b} at 127.0.0.1:{pg_cluster.port}/postgres"
    )
    assert any(line in x for x in result.lines), result.lines
    store.close()


@pytest.mark.postgres
def test_pg_sqlalchemy_url(tmp_path: Path, pg_cluster: PgCluster, pg_pair: Any) -> None:
    a, b, old = pg_pair
    # SQLAlchemy reads a raw `/` in the password (its password runs to the first `@`).
    template = f"postgresql+psycopg2://{{username}}:{{password}}@127.0.0.1:{pg_cluster.port}/postgres"
    result, store = _pg_rotate(tmp_path, pg_cluster, pg_pair, template, "/", f"postgresql+psycopg2://{a}:{old}@x/y")
    assert result.outcome is Outcome.COMPLETE, result.summary()
    current = store.get("cc/pg")
    assert current is not None and "/" in current.value.reveal()
    url = _env(tmp_path)["DATABASE_URL"]
    assert url == f"postgresql+psycopg2://{b}:{current.value.reveal()}@127.0.0.1:{pg_cluster.port}/postgres"
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]  # SQLAlchemy's rule
    assert pg_login(f"host=127.0.0.1 port={pg_cluster.port} dbname=postgres user={b} password='{password}'")
    store.close()


@pytest.mark.postgres
def test_pg_conninfo_with_space(tmp_path: Path, pg_cluster: PgCluster, pg_pair: Any) -> None:
    a, _b, old = pg_pair
    base = f"host=127.0.0.1 port={pg_cluster.port} dbname=postgres user={{username}} password="
    old_info = f"host=127.0.0.1 port={pg_cluster.port} dbname=postgres user={a} password={old}"
    result, store = _pg_rotate(tmp_path, pg_cluster, pg_pair, base + "{password}", " ", old_info)
    assert result.outcome is Outcome.ROLLED_BACK
    assert result.failure is not None and "a space in the password is not quoted" in result.failure.reason
    assert pg_login(_env(tmp_path)["DATABASE_URL"])
    store.close()
    result, store = _pg_rotate(tmp_path, pg_cluster, pg_pair, base + "'{password}'", " ", old_info)
    assert result.outcome is Outcome.COMPLETE, result.summary()
    info, current = _env(tmp_path)["DATABASE_URL"], store.get("cc/pg")
    assert current is not None and " " in current.value.reveal()
    assert pg_login(info) and not pg_login(old_info)
    store.close()


@pytest.mark.redis
@pytest.mark.parametrize("symbols", ["@", "/"])
def test_redis_password_with_at_or_slash(tmp_path: Path, redis_server: str, symbols: str) -> None:
    user, old = f"cc_{secrets.token_hex(4)}", "old-" + secrets.token_urlsafe(12)
    admin = redis.Redis.from_url(redis_server)
    admin.execute_command("ACL", "SETUSER", user, "on", f">{old}", "~*", "+@all")
    try:
        secret = _spec("cc/redis", "redis://{username}:{password}@127.0.0.1:6379/0", symbols, [user], "overlap")
        engine, store = _engine(tmp_path, secret, {"kind": "redis", "admin_url_env": "R"}, {"R": redis_server})
        store.put("cc/redis", SecretValue(old), attributes={"username": user}, labels=frozenset({Label.CURRENT}))
        old_url = f"redis://{user}:{old}@127.0.0.1:6379/0"
        (tmp_path / "app.env").write_text(f"DATABASE_URL={old_url}\n")
        result = engine.rotate("cc/redis")
        url = _env(tmp_path)["DATABASE_URL"]
        if symbols == "@":  # redis-py splits at the last `@`: it works unencoded
            assert result.outcome is Outcome.COMPLETE, result.summary()
            assert redis.Redis.from_url(url).ping()
            with pytest.raises(redis.AuthenticationError):
                redis.Redis.from_url(old_url).ping()
        else:
            assert result.outcome is Outcome.ROLLED_BACK
            assert result.failure is not None and "a `/` in the password is not URL-encoded" in result.failure.reason
            assert url == old_url and redis.Redis.from_url(url).ping()
        store.close()
    finally:
        admin.execute_command("ACL", "DELUSER", user)
        admin.close()


@pytest.mark.mysql
def test_mariadb_uri(tmp_path: Path, mariadb: MariaDB) -> None:
    tag = secrets.token_hex(3)
    a, b, old = f"cc_{tag}_a", f"cc_{tag}_b", "old-" + secrets.token_urlsafe(12)
    admin = pymysql.connect(host=mariadb.host, port=mariadb.port, user="root", password="", autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE USER '{a}'@'%' IDENTIFIED BY '{old}'")
        cur.execute(f"CREATE USER '{b}'@'%' IDENTIFIED BY '{secrets.token_hex(16)}' ACCOUNT LOCK")
        for user in (a, b):
            cur.execute(f"GRANT ALL ON `{mariadb.database}`.* TO '{user}'@'%'")
    try:
        template = f"mysql://{{username}}:{{password|url}}@{mariadb.host}:{mariadb.port}/{mariadb.database}"
        secret = _spec("cc/mysql", template, "@/#?", [a, b])
        issuer = {"kind": "mysql", "admin_dsn_env": "M", "host": mariadb.host, "port": mariadb.port}
        engine, store = _engine(tmp_path, secret, issuer, {"M": mariadb.admin_dsn})
        store.put("cc/mysql", SecretValue(old), attributes={"username": a}, labels=frozenset({Label.CURRENT}))
        (tmp_path / "app.env").write_text(f"DATABASE_URL=mysql://{a}:{old}@{mariadb.host}/{mariadb.database}\n")
        result = engine.rotate("cc/mysql")
        assert result.outcome is Outcome.COMPLETE, result.summary()
        line = f"verify web: DATABASE_URL read back from target and logged in as {b} at {mariadb.host}:{mariadb.port}/"
        assert any(line in x for x in result.lines), result.lines
        current = store.get("cc/mysql")
        assert current is not None
        pymysql.connect(
            host=mariadb.host, port=mariadb.port, user=b, password=current.value.reveal(), database=mariadb.database
        ).close()
        store.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{a}'@'%', '{b}'@'%'")
        admin.close()


# ---------------------------------------------------------------- issuer errors keep libpq's first line


@pytest.mark.postgres
def test_issuer_error_keeps_libpq_first_line(pg_cluster: PgCluster) -> None:
    port = free_port()  # nothing listens there
    issuer = build_issuer(
        TypeAdapter(IssuerSpec).validate_python(
            {"kind": "postgres", "admin_dsn_env": "PG", "host": "127.0.0.1", "port": port}
        ),
        {"PG": pg_cluster.admin_dsn},
    )
    assert isinstance(issuer, PostgresIssuer)
    with pytest.raises(IssuerUnavailableError) as info:
        issuer.check(SECRET, Credential(SecretValue("pw-not-shown"), {"username": "app_a"}))
    message = info.value.message
    assert f'connection to server at "127.0.0.1", port {port} failed: Connection refused' in message
    assert "\t" not in message and "Is the server running" not in message and "pw-not-shown" not in message
    # The admin connection's error too.
    admin = build_issuer(
        TypeAdapter(IssuerSpec).validate_python({"kind": "postgres", "admin_dsn_env": "PG"}),
        {"PG": f"postgresql://postgres:admin-pw-not-shown@127.0.0.1:{port}/postgres"},
    )
    spec = SecretSpec(name="app/db", kind="postgres-password", issuer="iss", accounts=["a", "b"], strategy="alternate")
    with pytest.raises(IssuerUnavailableError) as info:
        admin.apply(spec, None, SecretValue("new-pw-not-shown"))
    message = info.value.message
    assert message.startswith(f"cannot reach PostgreSQL at 127.0.0.1:{port}: connection failed: connection to server")
    assert message.endswith("failed: Connection refused"), message
    assert "\t" not in message and "not-shown" not in message


@pytest.mark.postgres
def test_check_endpoint_refuses_other_hosts(pg_cluster: PgCluster, pg_pair: Any) -> None:
    a, _b, old = pg_pair
    issuer = build_issuer(
        TypeAdapter(IssuerSpec).validate_python({"kind": "postgres", "admin_dsn_env": "PG", "host": "127.0.0.1"}),
        {"PG": pg_cluster.admin_dsn},
    )
    good = Endpoint("libpq-uri", "postgresql", ("localhost",), (pg_cluster.port,), a, SecretValue(old), "postgres")
    assert issuer.check_endpoint(SECRET, good)
    assert not issuer.check_endpoint(SECRET, replace(good, password=SecretValue("wrong")))
    with pytest.raises(IssuerError, match=r"refusing to log in at 10\.9\.8\.7:5432/postgres: not the issuer's host"):
        issuer.check_endpoint(SECRET, replace(good, hosts=("10.9.8.7",), ports=(5432,)))


@pytest.mark.parametrize(
    ("spec", "env", "endpoint", "allowed"),
    [
        (
            {"kind": "mysql", "admin_dsn_env": "M"},
            {"M": "mysql://root@db.internal:3306/app"},
            Endpoint("url", "mysql", ("db.other",), (3306,), "u", SecretValue("pw"), "app"),
            "db.internal",
        ),
        (
            {"kind": "redis", "admin_url_env": "R"},
            {"R": "redis://127.0.0.1:6379/0"},
            Endpoint("redis-py", "rediss", ("cache.other",), (6380,), "u", SecretValue("pw"), "0"),
            "127.0.0.1",
        ),
        (
            {"kind": "postgres", "admin_dsn_env": "P", "host": "db.internal"},
            {"P": "postgresql://admin:pw@admin.internal/postgres"},
            Endpoint("libpq-uri", "postgresql", ("db.internal", "db.other"), (5432, 5432), "u", SecretValue("pw")),
            "admin.internal, db.internal",
        ),
    ],
)
def test_issuers_refuse_other_hosts_before_connecting(
    spec: dict[str, Any], env: dict[str, str], endpoint: Endpoint, allowed: str
) -> None:
    issuer = build_issuer(TypeAdapter(IssuerSpec).validate_python(spec), env)
    with pytest.raises(IssuerError, match=f"not the issuer's host \\({allowed}\\)"):
        issuer.check_endpoint(SECRET, endpoint)
    issuer.close()


def test_redis_default_host_is_localhost() -> None:
    issuer = build_issuer(
        TypeAdapter(IssuerSpec).validate_python({"kind": "redis", "admin_url_env": "R"}), {"R": "redis://"}
    )
    assert issuer.consumer_hosts() == frozenset({"localhost"})


def test_credential_check_off_parses_but_never_logs_in() -> None:
    issuer = StubIssuer()
    consumer = ConsumerSpec(
        target="web", env="DATABASE_URL", template="postgresql://{username}:{password|url}@pooler:6543/a"
    )
    fields = {"value": "p/w", "username": "app_a", "previous": ""}
    value = SecretValue(consumer.rendered().render(fields))
    cred = Credential(SecretValue("p/w"), {"username": "app_a"})
    verified = verify_consumer(SECRET, consumer, issuer, cred, fields, value, login=False)
    assert not verified.logged_in and not issuer.asked
    assert "not logged in: verify.credential is off; the URL points at host `pooler`" in verified.how
    broken = ConsumerSpec(target="web", env="DATABASE_URL", template=PG)
    with pytest.raises(ConsumerCheckError, match="not URL-encoded"):
        verify_consumer(
            SECRET, broken, issuer, cred, fields, SecretValue(broken.rendered().render(fields)), login=False
        )


def test_postgres_issuer_host_may_list_several() -> None:
    spec = {"kind": "postgres", "admin_dsn_env": "P", "host": "db.internal, pooler.internal"}
    issuer = build_issuer(TypeAdapter(IssuerSpec).validate_python(spec), {"P": "postgresql://a:b@admin.internal/x"})
    assert issuer.consumer_hosts() == frozenset({"db.internal", "pooler.internal", "admin.internal"})


def test_alias_host_is_checked_at_the_issuer_address() -> None:
    issuer = StubIssuer()
    issuer.aliases = frozenset({"db"})
    verified = run("postgresql://{username}:{password|url}@db:5432/app", "pw", issuer=issuer)
    assert verified.how == "logged in as app_a at db:5432/app (alias db: checked at the issuer's own address)"
    assert "`other`, the issuer is at db.internal" in refused("postgresql://{username}:{password|url}@other/app", "pw")


@pytest.mark.postgres
def test_pg_compose_service_alias(tmp_path: Path, pg_cluster: PgCluster, pg_pair: Any) -> None:
    """The app says `db` (a compose service name secretops cannot resolve); `aliases: [db]` checks it here."""
    a, b, old = pg_pair
    secret = _spec("cc/pg", "postgresql://{username}:{password|url}@db:5432/postgres", "@/", [a, b])
    issuer = {"kind": "postgres", "admin_dsn_env": "P", "host": "127.0.0.1", "port": pg_cluster.port}
    for aliases, outcome in (([], Outcome.ROLLED_BACK), (["db"], Outcome.COMPLETE)):
        engine, store = _engine(tmp_path, secret, {**issuer, "aliases": aliases}, {"P": pg_cluster.admin_dsn})
        if store.get("cc/pg") is None:
            store.put("cc/pg", SecretValue(old), attributes={"username": a}, labels=frozenset({Label.CURRENT}))
            (tmp_path / "app.env").write_text(f"DATABASE_URL=postgresql://{a}:{old}@db:5432/postgres\n")
        result = engine.rotate("cc/pg")
        assert result.outcome is outcome, result.summary()
        store.close()
    assert any(f"logged in as {b} at db:5432/postgres (alias db" in line for line in result.lines), result.lines
    assert _env(tmp_path)["DATABASE_URL"].startswith(f"postgresql://{b}:")
