"""MysqlIssuer against the real MariaDB (`mariadb` fixture): alternate, replace, and overlap refused."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from secretops.errors import ExitCode, IssuerError
from secretops.inventory.models import MysqlIssuerSpec, SecretSpec
from secretops.issuers import build_issuer
from secretops.issuers.interface import Credential, IssuerAuthError, IssuerUnavailableError
from secretops.issuers.mysql import MysqlIssuer, parse_server_version
from secretops.values import SecretValue
from tests.helpers import free_port
from tests.services import MariaDB

pytestmark = pytest.mark.mysql

ENV = "MYSQL_ADMIN_DSN"
_OPEN: list[MysqlIssuer] = []


def _pw() -> SecretValue:
    # Quotes and backslashes prove the literal escaping.
    return SecretValue("pw'\\\"-" + secrets.token_urlsafe(16))


def _secret(accounts: list[str], strategy: str = "alternate") -> SecretSpec:
    return SecretSpec(
        name="app/mysql",
        kind="mysql-password",
        issuer="db",
        accounts=accounts,
        strategy=strategy,
        accept_downtime=strategy == "replace",
    )


def _issuer(db: MariaDB, dsn: str | None = None, **spec: Any) -> MysqlIssuer:
    issuer = build_issuer(MysqlIssuerSpec(kind="mysql", admin_dsn_env=ENV, **spec), {ENV: dsn or db.admin_dsn})
    assert isinstance(issuer, MysqlIssuer)
    _OPEN.append(issuer)
    return issuer


@pytest.fixture(autouse=True)
def _close_issuers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _root() -> Any:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)


@pytest.fixture
def users(mariadb: MariaDB) -> Iterator[tuple[str, str]]:
    """Two users with the same grants on the session database, created locked, dropped after."""
    tag = secrets.token_hex(3)
    names = (f"app_{tag}_a", f"app_{tag}_b")
    conn = _root()
    with conn.cursor() as cur:
        for name in names:
            cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s ACCOUNT LOCK", (name, secrets.token_hex(12)))
            cur.execute(f"GRANT SELECT ON `{mariadb.database}`.* TO %s@'%%'", (name,))
    yield names
    with conn.cursor() as cur:
        for name in names:
            cur.execute("DROP USER IF EXISTS %s@'%%'", (name,))
    conn.close()


def test_alternate_full_cycle(mariadb: MariaDB, users: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    a, b = users
    secret = _secret([a, f"{b}@%"])  # user@host form accepted
    issuer = _issuer(mariadb, database=mariadb.database)
    first = issuer.apply(secret, None, _pw())
    assert first.attributes == {"username": b}
    assert issuer.check(secret, first)
    assert not issuer.check(secret, Credential(_pw(), {"username": b}))  # wrong password
    assert not issuer.check(secret, Credential(first.value, {"username": a}))  # a is locked
    assert issuer.apply(secret, None, first.value) == first  # idempotent
    second = issuer.apply(secret, first, _pw())
    assert second.attributes == {"username": a}
    assert issuer.check(secret, first) and issuer.check(secret, second)
    issuer.revoke(secret, first, second)
    assert not issuer.check(secret, first)
    assert issuer.check(secret, second)
    issuer.revoke(secret, first, second)  # idempotent
    with pytest.raises(IssuerError, match="refusing to lock"):
        issuer.revoke(secret, Credential(first.value, {"username": a}), second)
    third = issuer.apply(secret, second, _pw())  # b is unlocked again
    assert third.attributes == {"username": b} and issuer.check(secret, third)
    for value in (first.value, second.value, third.value):
        assert value.reveal() not in caplog.text


def test_scramble_retire_and_rollback(mariadb: MariaDB, users: tuple[str, str]) -> None:
    a, b = users
    secret = _secret([a, b])
    issuer = _issuer(mariadb, retire="scramble")
    keep = issuer.apply(secret, None, _pw())
    new = issuer.apply(secret, keep, _pw())
    issuer.rollback(secret, new, keep)
    assert not issuer.check(secret, new) and issuer.check(secret, keep)
    new = issuer.apply(secret, keep, _pw())
    issuer.revoke(secret, keep, new)
    assert not issuer.check(secret, keep) and issuer.check(secret, new)


def test_replace(mariadb: MariaDB, users: tuple[str, str]) -> None:
    a, _ = users
    secret = _secret([a], strategy="replace")
    issuer = _issuer(mariadb)
    old = issuer.apply(secret, None, _pw())
    assert not issuer.check(secret, old)  # replace does not unlock: the user was created locked
    conn = _root()
    with conn.cursor() as cur:
        cur.execute("ALTER USER %s@'%%' ACCOUNT UNLOCK", (a,))
    conn.close()
    assert issuer.check(secret, old)
    new = issuer.apply(secret, old, _pw())
    assert issuer.check(secret, new) and not issuer.check(secret, old)
    issuer.rollback(secret, new, old)
    assert issuer.check(secret, old) and not issuer.check(secret, new)


def test_overlap_is_refused_on_mariadb(mariadb: MariaDB, users: tuple[str, str]) -> None:
    secret = _secret([users[0]], strategy="overlap")
    issuer = _issuer(mariadb)
    assert issuer.server(secret).mariadb
    with pytest.raises(IssuerError, match=r"overlap is not supported on MariaDB 1\d\.\d+\.\d+") as info:
        issuer.apply(secret, None, _pw())
    assert "alternate" in (info.value.hint or "")
    with pytest.raises(IssuerError, match="RETAIN CURRENT PASSWORD"):
        issuer.revoke(secret, Credential(_pw(), {"username": users[0]}), Credential(_pw(), {"username": users[0]}))


def test_parse_server_version() -> None:
    maria = parse_server_version("10.11.19-MariaDB-0+deb12u1")
    assert maria.mariadb and maria.version == (10, 11, 19) and not maria.retains_passwords
    assert parse_server_version("5.5.5-10.6.12-MariaDB-log").version == (10, 6, 12)
    assert parse_server_version("8.0.36").retains_passwords
    assert parse_server_version("8.4.0-commercial").retains_passwords
    assert not parse_server_version("8.0.13").retains_passwords
    assert not parse_server_version("5.7.44-log").retains_passwords


def test_plan_mentions_overlap_detection(mariadb: MariaDB) -> None:
    issuer = _issuer(mariadb)
    steps = issuer.plan(
        _secret(["app"], strategy="overlap"), Credential(SecretValue("old-pw-xyz"), {"username": "app"})
    )
    actions = [s.action for s in steps]
    assert actions[0] == "SELECT VERSION()"
    assert "ALTER USER 'app'@'%' IDENTIFIED BY RETAIN CURRENT PASSWORD" in actions
    assert "ALTER USER 'app'@'%' DISCARD OLD PASSWORD" in actions
    assert "old-pw-xyz" not in repr(steps)
    alt = [s.action for s in issuer.plan(_secret(["a", "b"]), Credential(SecretValue("x"), {"username": "a"}))]
    assert alt[0] == "ALTER USER 'b'@'%' IDENTIFIED BY ACCOUNT UNLOCK" and "ALTER USER 'a'@'%' ACCOUNT LOCK" in alt


def test_missing_user(mariadb: MariaDB) -> None:
    value = _pw()
    with pytest.raises(IssuerError, match="no such user") as info:
        _issuer(mariadb).apply(_secret(["nobody_zz1", "nobody_zz2"]), None, value)
    assert value.reveal() not in info.value.diagnostics()


def test_error_paths(mariadb: MariaDB) -> None:
    value = _pw()
    with pytest.raises(IssuerError, match=ENV) as missing:
        build_issuer(MysqlIssuerSpec(kind="mysql", admin_dsn_env=ENV), {}).apply(_secret(["a", "b"]), None, value)
    assert missing.value.exit_code is ExitCode.USAGE
    bad = "wrong-admin-" + secrets.token_hex(4)
    with pytest.raises(IssuerAuthError) as auth:
        _issuer(mariadb, dsn=f"mysql://root:{bad}@127.0.0.1:3306/").apply(_secret(["a", "b"]), None, value)
    assert auth.value.exit_code is ExitCode.AUTH and bad not in auth.value.diagnostics()
    with pytest.raises(IssuerUnavailableError) as down:
        _issuer(mariadb, dsn=f"mysql://root@127.0.0.1:{free_port()}/").apply(_secret(["a", "b"]), None, value)
    assert down.value.exit_code is ExitCode.UNAVAILABLE
    with pytest.raises(IssuerError, match="not a mysql:// URL"):
        _issuer(mariadb, dsn="postgresql://x@y/z").apply(_secret(["a", "b"]), None, value)


class _RecordingMysql(MysqlIssuer):
    """A MysqlIssuer that pretends to talk to MySQL 8.0.36 and records its statements.

    No MySQL 8 server is available here; this pins the statements the overlap strategy sends.
    """

    def __init__(self) -> None:
        super().__init__(MysqlIssuerSpec(kind="mysql", admin_dsn_env=ENV), {ENV: "mysql://root@127.0.0.1:1/"})
        self.sent: list[tuple[str, tuple[str, ...]]] = []
        self.working: set[str] = set()
        self._server = parse_server_version("8.0.36")

    def _execute(
        self, secret: SecretSpec, action: str, query: str, args: tuple[str, ...], *values: SecretValue
    ) -> list[Any]:
        self.sent.append((query, args))
        return []

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        return credential.value.reveal() in self.working


def test_overlap_statements_on_mysql8() -> None:
    issuer = _RecordingMysql()
    secret = _secret(["app@10.0.%"], strategy="overlap")
    old, new_value = Credential(SecretValue("old-pw"), {"username": "app"}), SecretValue("new-pw")
    new = issuer.apply(secret, old, new_value)
    assert new.attributes == {"username": "app"}
    assert issuer.sent == [("ALTER USER %s@%s IDENTIFIED BY %s RETAIN CURRENT PASSWORD", ("app", "10.0.%", "new-pw"))]
    with pytest.raises(IssuerError, match="the new one does not log in"):
        issuer.revoke(secret, old, new)
    issuer.working = {"new-pw"}
    issuer.sent.clear()
    assert issuer.apply(secret, old, new_value) == new and issuer.sent == []  # idempotent
    issuer.revoke(secret, old, new)
    assert issuer.sent == [("ALTER USER %s@%s DISCARD OLD PASSWORD", ("app", "10.0.%"))]
    issuer.sent.clear()
    issuer.rollback(secret, new, old)
    assert issuer.sent == [
        ("ALTER USER %s@%s IDENTIFIED BY %s", ("app", "10.0.%", "old-pw")),
        ("ALTER USER %s@%s DISCARD OLD PASSWORD", ("app", "10.0.%")),
    ]
