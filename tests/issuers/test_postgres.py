"""PostgresIssuer against a private scram-sha-256 cluster (`pg_cluster`), so wrong passwords fail."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from secretops.errors import ExitCode, IssuerError
from secretops.inventory.models import PostgresIssuerSpec, SecretSpec
from secretops.issuers import build_issuer
from secretops.issuers.interface import Credential, IssuerAuthError, IssuerUnavailableError
from secretops.issuers.postgres import PostgresIssuer, scram_sha256_verifier
from secretops.values import SecretValue
from tests.helpers import free_port
from tests.services import PgCluster

pytestmark = pytest.mark.postgres

ENV = "PG_ADMIN_DSN"


def _pw() -> SecretValue:
    return SecretValue("pw-" + secrets.token_urlsafe(18))


def _secret(accounts: list[str], strategy: str = "alternate") -> SecretSpec:
    return SecretSpec(
        name="app/database",
        kind="postgres-password",
        issuer="pg",
        accounts=accounts,
        strategy=strategy,
        accept_downtime=strategy == "replace",
    )


_OPEN: list[PostgresIssuer] = []


def _issuer(cluster: PgCluster, dsn: str | None = None, **spec: Any) -> PostgresIssuer:
    issuer = build_issuer(
        PostgresIssuerSpec(kind="postgres", admin_dsn_env=ENV, **spec), {ENV: dsn or cluster.admin_dsn}
    )
    assert isinstance(issuer, PostgresIssuer)
    _OPEN.append(issuer)
    return issuer


@pytest.fixture(autouse=True)
def _close_issuers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _admin(cluster: PgCluster) -> psycopg.Connection[Any]:
    return psycopg.connect(cluster.admin_dsn, autocommit=True)


def _role(cluster: PgCluster, role: str) -> tuple[bool, str | None]:
    with _admin(cluster) as conn:
        row = conn.execute("SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
    assert row is not None
    return bool(row[0]), row[1]


@pytest.fixture
def roles(pg_cluster: PgCluster) -> Iterator[tuple[str, str, str]]:
    """A group role and two member login roles, created by `bootstrap_alternate`, dropped after."""
    tag = secrets.token_hex(3)
    group, a, b = f"app_{tag}", f"app_{tag}_a", f"app_{tag}_b"
    issuer = _issuer(pg_cluster)
    done = issuer.bootstrap_alternate(_secret([a, b]), group=group)
    assert f"CREATE ROLE {a} NOLOGIN" in done and f"GRANT {group} TO {b}" in done
    assert issuer.bootstrap_alternate(_secret([a, b]), group=group) == []  # idempotent
    issuer.close()
    yield group, a, b
    with _admin(pg_cluster) as conn:
        for role in (a, b, group):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_alternate_full_cycle(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    group, a, b = roles
    secret = _secret([a, b])
    issuer = _issuer(pg_cluster)

    # First rotation: no current credential, so the second account is set.
    first = issuer.apply(secret, None, _pw())
    assert first.attributes == {"username": b}
    assert issuer.check(secret, first)
    assert not issuer.check(secret, Credential(_pw(), {"username": b}))  # wrong password refused
    assert not issuer.check(secret, Credential(first.value, {"username": a}))  # a is still NOLOGIN
    with psycopg.connect(pg_cluster.dsn(b, first.value.reveal())) as conn:
        # SET role from bootstrap_alternate: b acts as the group.
        assert conn.execute("SELECT current_user").fetchone() == (group,)

    # Idempotent: a resumed run finds the password already set and changes nothing (same salt).
    before = _role(pg_cluster, b)
    assert issuer.apply(secret, None, first.value) == first
    assert _role(pg_cluster, b) == before

    # Second rotation: the idle one is a; then b is retired.
    second = issuer.apply(secret, first, _pw())
    assert second.attributes == {"username": a}
    assert issuer.check(secret, second) and issuer.check(secret, first)  # both work during the switch
    issuer.revoke(secret, first, second)
    assert not issuer.check(secret, first)  # the old value is dead
    assert issuer.check(secret, second)
    assert _role(pg_cluster, b)[0] is False  # NOLOGIN
    issuer.revoke(secret, first, second)  # idempotent
    assert issuer.check(secret, second)

    # Third rotation goes back to b, which gets LOGIN again.
    third = issuer.apply(secret, second, _pw())
    assert third.attributes == {"username": b} and issuer.check(secret, third)
    issuer.close()


def test_revoke_refuses_to_lock_the_kept_account(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, b = roles
    issuer = _issuer(pg_cluster)
    new = issuer.apply(_secret([a, b]), None, _pw())
    with pytest.raises(IssuerError, match="refusing to lock"):
        issuer.revoke(_secret([a, b]), Credential(_pw(), {"username": b}), new)
    assert issuer.check(_secret([a, b]), new)


def test_scramble_retire_and_terminate_sessions(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, b = roles
    secret = _secret([a, b])
    issuer = _issuer(pg_cluster, retire="scramble", terminate_sessions=True)
    old = issuer.apply(secret, None, _pw())
    session = psycopg.connect(pg_cluster.dsn(b, old.value.reveal()), autocommit=True)
    new = issuer.apply(secret, old, _pw())
    issuer.revoke(secret, old, new)
    assert _role(pg_cluster, b)[0] is True  # still LOGIN, but with a password nobody has
    assert not issuer.check(secret, old)
    assert issuer.check(secret, new)
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")  # terminated
    session.close()


def test_rollback_alternate_locks_the_idle_role(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, b = roles
    secret = _secret([a, b])
    issuer = _issuer(pg_cluster)
    keep = issuer.apply(secret, None, _pw())
    new = issuer.apply(secret, keep, _pw())
    issuer.rollback(secret, new, keep)
    assert not issuer.check(secret, new)
    assert issuer.check(secret, keep)


def test_replace_and_rollback(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, _b = roles
    secret = _secret([a], strategy="replace")
    issuer = _issuer(pg_cluster)
    old = issuer.apply(secret, None, _pw())
    assert old.attributes == {"username": a} and issuer.check(secret, old)
    new = issuer.apply(secret, old, _pw())
    assert new.attributes == {"username": a}
    assert issuer.check(secret, new) and not issuer.check(secret, old)
    issuer.revoke(secret, old, new)  # nothing left to do; harmless
    issuer.rollback(secret, new, old)
    assert issuer.check(secret, old) and not issuer.check(secret, new)


def test_unicode_password_matches_libpq_saslprep(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, b = roles
    secret = _secret([a, b])
    issuer = _issuer(pg_cluster)
    value = SecretValue("Pässwörd-Ⅸ-ﬁx-" + secrets.token_hex(4))  # NFKC changes Ⅸ and ﬁ
    cred = issuer.apply(secret, None, value)
    assert issuer.check(secret, cred)
    assert not issuer.check(secret, Credential(SecretValue(value.reveal().replace("Ⅸ", "X")), {"username": b}))


def test_scram_verifier_shape_and_salt() -> None:
    value = SecretValue("pencil")
    one = scram_sha256_verifier(value, salt=b"0123456789abcdef")
    assert one == scram_sha256_verifier(value, salt=b"0123456789abcdef")
    assert one.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert scram_sha256_verifier(value) != scram_sha256_verifier(value)  # random salt
    assert "pencil" not in one


def test_no_value_in_logs_or_server_log(
    pg_cluster: PgCluster, roles: tuple[str, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, a, b = roles
    secret = _secret([a, b])
    # The admin session logs every statement, to prove the plaintext never reaches the server.
    dsn = pg_cluster.admin_dsn + "?options=-c%20log_statement%3Dall"
    issuer = _issuer(pg_cluster, dsn=dsn, retire="scramble")
    caplog.set_level(logging.DEBUG)
    old_value, new_value = _pw(), _pw()
    old = issuer.apply(secret, None, old_value)
    new = issuer.apply(secret, old, new_value)
    issuer.revoke(secret, old, new)
    issuer.close()
    server_log = pg_cluster.log_path.read_text(errors="replace")
    assert f'ALTER ROLE "{a}" WITH LOGIN PASSWORD' in server_log
    for value in (old_value, new_value):
        assert value.reveal() not in caplog.text
        assert value.reveal() not in server_log
    assert "SCRAM-SHA-256$" not in caplog.text


def test_plan_is_masked(pg_cluster: PgCluster) -> None:
    secret = _secret(["app_a", "app_b"])
    issuer = _issuer(pg_cluster, terminate_sessions=True)
    steps = issuer.plan(secret, Credential(SecretValue("old-secret-value"), {"username": "app_a"}))
    actions = [s.action for s in steps]
    assert actions[0] == "ALTER ROLE app_b WITH LOGIN PASSWORD"
    assert "ALTER ROLE app_a NOLOGIN" in actions
    assert any("pg_terminate_backend" in a for a in actions)
    assert "old-secret-value" not in repr(steps)
    # Planning touches nothing: works even when the admin DSN is missing.
    bare = build_issuer(PostgresIssuerSpec(kind="postgres", admin_dsn_env=ENV), {})
    assert bare.plan(secret, None)[0].action == "ALTER ROLE app_b WITH LOGIN PASSWORD"


def test_overlap_is_refused(pg_cluster: PgCluster) -> None:
    with pytest.raises(IssuerError, match="does not support strategy overlap") as info:
        _issuer(pg_cluster).apply(_secret(["app"], strategy="overlap"), None, _pw())
    assert "alternate" in (info.value.hint or "")


def test_missing_admin_env() -> None:
    issuer = build_issuer(PostgresIssuerSpec(kind="postgres", admin_dsn_env=ENV), {})
    with pytest.raises(IssuerError, match=ENV) as info:
        issuer.apply(_secret(["a", "b"]), None, _pw())
    assert info.value.exit_code is ExitCode.USAGE


def test_wrong_admin_password_is_auth_error(pg_cluster: PgCluster) -> None:
    bad = "not-the-admin-pw-" + secrets.token_hex(4)
    issuer = _issuer(pg_cluster, dsn=pg_cluster.dsn("postgres", bad))
    with pytest.raises(IssuerAuthError) as info:
        issuer.apply(_secret(["a", "b"]), None, _pw())
    assert info.value.exit_code is ExitCode.AUTH
    assert bad not in info.value.diagnostics()
    assert info.value.__cause__ is None


def test_unreachable_port_is_unavailable(pg_cluster: PgCluster) -> None:
    pw = pg_cluster.admin_password
    issuer = _issuer(pg_cluster, dsn=f"postgresql://postgres:{pw}@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(IssuerUnavailableError) as info:
        issuer.apply(_secret(["a", "b"]), None, _pw())
    assert info.value.exit_code is ExitCode.UNAVAILABLE
    assert pw not in info.value.diagnostics()


def test_missing_role_says_how_to_create_it(pg_cluster: PgCluster) -> None:
    value = _pw()
    with pytest.raises(IssuerError, match="does not exist") as info:
        _issuer(pg_cluster).apply(_secret(["nobody_x1", "nobody_x2"]), None, value)
    assert "bootstrap_alternate" in (info.value.hint or "")
    assert value.reveal() not in info.value.diagnostics()
    assert "SCRAM" not in info.value.diagnostics()


def test_admin_without_createrole_is_auth_error(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, b = roles
    weak, weak_pw = f"weak_{secrets.token_hex(3)}", secrets.token_hex(8)
    with _admin(pg_cluster) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(weak), sql.Literal(weak_pw)))
    try:
        issuer = _issuer(pg_cluster, dsn=pg_cluster.dsn(weak, weak_pw))
        with pytest.raises(IssuerAuthError, match="may not") as info:
            issuer.apply(_secret([a, b]), None, _pw())
        assert info.value.exit_code is ExitCode.AUTH
        issuer.close()
    finally:
        with _admin(pg_cluster) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(weak)))


def test_check_names_a_missing_database(pg_cluster: PgCluster, roles: tuple[str, str, str]) -> None:
    _, a, b = roles
    cred = _issuer(pg_cluster).apply(_secret([a, b]), None, _pw())
    issuer = _issuer(pg_cluster, database="no_such_db_zz")
    with pytest.raises(IssuerError, match="database no_such_db_zz does not exist"):
        issuer.check(_secret([a, b]), cred)
