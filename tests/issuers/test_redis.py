"""RedisIssuer against the real Redis (`redis_server`): two passwords during the overlap, then one."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from secretops.errors import ExitCode, IssuerError
from secretops.inventory.models import RedisIssuerSpec, SecretSpec
from secretops.issuers import build_issuer
from secretops.issuers.interface import Credential, IssuerAuthError, IssuerUnavailableError
from secretops.issuers.redis import RedisIssuer, acl_hash
from secretops.values import SecretValue
from tests.helpers import free_port

pytestmark = pytest.mark.redis

ENV = "REDIS_ADMIN_URL"
_OPEN: list[RedisIssuer] = []


def _pw() -> SecretValue:
    return SecretValue("pw-" + secrets.token_urlsafe(18))


def _secret(user: str) -> SecretSpec:
    return SecretSpec(name="app/cache", kind="redis-password", issuer="cache", accounts=[user])


def _issuer(url: str, **spec: Any) -> RedisIssuer:
    issuer = build_issuer(RedisIssuerSpec(kind="redis", admin_url_env=ENV, **spec), {ENV: url})
    assert isinstance(issuer, RedisIssuer)
    _OPEN.append(issuer)
    return issuer


@pytest.fixture(autouse=True)
def _close_issuers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _acl(admin: redis.Redis, user: str) -> dict[str, Any]:
    info = admin.acl_getuser(user)
    assert info is not None
    return dict(info)


@pytest.fixture
def admin(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server)
    yield client
    client.close()


@pytest.fixture
def acl_user(admin: redis.Redis) -> Iterator[tuple[str, SecretValue]]:
    """A uniquely named ACL user with one password and a few permissions, deleted afterwards."""
    name = f"secretops_{secrets.token_hex(4)}"
    first = _pw()
    admin.acl_setuser(name, enabled=True, passwords=["+" + first.reveal()], commands=["+ping", "+get"], keys=["x:*"])
    yield name, first
    admin.acl_deluser(name)


def test_overlap_both_work_then_only_new(
    redis_server: str, acl_user: tuple[str, SecretValue], admin: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user, first = acl_user
    secret = _secret(user)
    issuer = _issuer(redis_server)
    old = Credential(first, {"username": user})
    assert issuer.check(secret, old)
    assert not issuer.check(secret, Credential(_pw(), {"username": user}))  # wrong password refused

    new = issuer.apply(secret, old, _pw())
    assert new.attributes == {"username": user}
    assert issuer.check(secret, old) and issuer.check(secret, new)  # the overlap
    assert issuer.apply(secret, old, new.value) == new  # idempotent
    assert len(_acl(admin, user)["passwords"]) == 2

    issuer.revoke(secret, old, new)
    assert not issuer.check(secret, old)
    assert issuer.check(secret, new)
    issuer.revoke(secret, old, new)  # idempotent: the old hash is gone already
    assert _acl(admin, user)["passwords"] == [acl_hash(new.value)]
    assert "+ping" in _acl(admin, user)["commands"]  # permissions untouched (no reset)

    for value in (first, new.value):
        assert value.reveal() not in caplog.text
        assert acl_hash(value) not in caplog.text


def test_revoke_refuses_without_the_new_password(redis_server: str, acl_user: tuple[str, SecretValue]) -> None:
    user, first = acl_user
    secret = _secret(user)
    issuer = _issuer(redis_server)
    old = Credential(first, {"username": user})
    with pytest.raises(IssuerError, match="the new one is not set"):
        issuer.revoke(secret, old, Credential(_pw(), {"username": user}))
    with pytest.raises(IssuerError, match="same"):
        issuer.revoke(secret, old, old)
    assert issuer.check(secret, old)


def test_kill_clients_and_rollback(redis_server: str, acl_user: tuple[str, SecretValue]) -> None:
    user, first = acl_user
    secret = _secret(user)
    issuer = _issuer(redis_server, kill_clients=True)
    old = Credential(first, {"username": user})
    consumer = redis.Redis(
        host="127.0.0.1", port=6379, username=user, password=first.reveal(), retry=Retry(NoBackoff(), 0)
    )
    assert consumer.ping()
    new = issuer.apply(secret, old, _pw())
    issuer.rollback(secret, new, old)
    assert not issuer.check(secret, new) and issuer.check(secret, old)
    issuer.rollback(secret, new, old)  # idempotent
    new = issuer.apply(secret, old, _pw())
    issuer.revoke(secret, old, new)
    # The consumer's connection was killed; redis-py reconnects with the old password and fails.
    with pytest.raises(redis.AuthenticationError):
        consumer.ping()
    consumer.close()


def test_rollback_refuses_to_remove_the_only_password(redis_server: str, acl_user: tuple[str, SecretValue]) -> None:
    user, first = acl_user
    issuer = _issuer(redis_server)
    with pytest.raises(IssuerError, match="only one"):
        issuer.rollback(_secret(user), Credential(first, {"username": user}), None)


def test_missing_user_and_acl_save_without_file(redis_server: str, acl_user: tuple[str, SecretValue]) -> None:
    with pytest.raises(IssuerError, match="does not exist") as info:
        _issuer(redis_server).apply(_secret("no_such_user_zz"), None, _pw())
    assert "ACL SETUSER" in (info.value.hint or "")
    user, first = acl_user
    with pytest.raises(IssuerError, match="ACL SAVE") as save:
        _issuer(redis_server, acl_save=True).apply(_secret(user), Credential(first, {"username": user}), _pw())
    assert "acl_save" in (save.value.hint or "")


def test_plan_and_strategy(redis_server: str) -> None:
    issuer = _issuer(redis_server, kill_clients=True)
    steps = issuer.plan(_secret("app"), Credential(SecretValue("old-redis-pw"), {"username": "app"}))
    actions = [s.action for s in steps]
    assert "ACL SETUSER app on #<sha256>" in actions and "ACL SETUSER app !<sha256>" in actions
    assert "CLIENT KILL USER app" in actions
    assert "old-redis-pw" not in repr(steps)
    alternate = SecretSpec(name="a", kind="k", issuer="i", accounts=["x", "y"], strategy="alternate")
    with pytest.raises(IssuerError, match="does not support strategy alternate"):
        issuer.apply(alternate, None, _pw())


def test_error_paths(redis_server: str) -> None:
    secret = _secret("app")
    with pytest.raises(IssuerError, match=ENV) as missing:
        build_issuer(RedisIssuerSpec(kind="redis", admin_url_env=ENV), {}).apply(secret, None, _pw())
    assert missing.value.exit_code is ExitCode.USAGE
    bad = "wrong-admin-" + secrets.token_hex(4)
    with pytest.raises(IssuerAuthError) as auth:
        _issuer(f"redis://no_such_admin:{bad}@127.0.0.1:6379/0").apply(secret, None, _pw())
    assert auth.value.exit_code is ExitCode.AUTH and bad not in auth.value.diagnostics()
    with pytest.raises(IssuerUnavailableError) as down:
        _issuer(f"redis://127.0.0.1:{free_port()}/0").apply(secret, None, _pw())
    assert down.value.exit_code is ExitCode.UNAVAILABLE
