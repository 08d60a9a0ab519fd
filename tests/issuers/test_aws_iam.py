"""AwsIamIssuer against moto in server mode (`moto_server`): the two key slots of an IAM user."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from secretops.errors import ExitCode, IssuerError
from secretops.inventory.models import AwsIamIssuerSpec, SecretSpec
from secretops.issuers import build_issuer
from secretops.issuers.aws_iam import AwsIamIssuer
from secretops.issuers.interface import Credential, IssuerAuthError, IssuerUnavailableError
from secretops.values import SecretValue
from tests.helpers import free_port

pytestmark = pytest.mark.aws

DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_OPEN: list[AwsIamIssuer] = []


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy admin credentials (moto accepts any), and no shared config from the developer's home."""
    for name, value in DUMMY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    yield
    while _OPEN:
        _OPEN.pop().close()


def _issuer(endpoint: str, env: dict[str, str] | None = None, **spec: Any) -> AwsIamIssuer:
    issuer = build_issuer(AwsIamIssuerSpec(kind="aws-iam", endpoint_url=endpoint, **spec), env or {})
    assert isinstance(issuer, AwsIamIssuer)
    _OPEN.append(issuer)
    return issuer


@pytest.fixture
def iam(moto_server: str) -> Any:
    return boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1")


@pytest.fixture
def iam_user(iam: Any) -> Iterator[str]:
    """A uniquely named IAM user in moto, with its keys deleted afterwards."""
    name = f"svc-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    yield name
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def _secret(user: str) -> SecretSpec:
    return SecretSpec(name="app/s3", kind="aws-iam-key", issuer="aws", accounts=[user])


def _statuses(iam: Any, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def test_overlap_cycle(moto_server: str, iam: Any, iam_user: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = _secret(iam_user)
    issuer = _issuer(moto_server)
    first = issuer.apply(secret, None, None)
    key_id = first.attributes["access_key_id"]
    assert first.attributes["user"] == iam_user and len(first.value) >= 20
    assert issuer.check(secret, first)

    second = issuer.apply(secret, first, SecretValue("ignored-proposed"))
    assert second.value != SecretValue("ignored-proposed")
    assert issuer.check(secret, first) and issuer.check(secret, second)  # the overlap
    issuer.revoke(secret, first, second)
    assert _statuses(iam, iam_user) == {key_id: "Inactive", second.attributes["access_key_id"]: "Active"}
    assert not issuer.check(secret, first)  # an inactive key is refused
    assert issuer.check(secret, second)
    issuer.revoke(secret, first, second)  # idempotent

    # Third rotation: the inactive key is deleted to free the slot.
    third = issuer.apply(secret, second, None)
    assert set(_statuses(iam, iam_user)) == {second.attributes["access_key_id"], third.attributes["access_key_id"]}
    assert not issuer.check(secret, first)  # a deleted key is refused
    for value in (first.value, second.value, third.value):
        assert value.reveal() not in caplog.text


def test_delete_after_revoke(moto_server: str, iam: Any, iam_user: str) -> None:
    secret = _secret(iam_user)
    issuer = _issuer(moto_server, delete_after_revoke=True)
    old = issuer.apply(secret, None, None)
    new = issuer.apply(secret, old, None)
    issuer.revoke(secret, old, new)
    issuer.revoke(secret, old, new)  # already gone: fine
    assert _statuses(iam, iam_user) == {new.attributes["access_key_id"]: "Active"}


def test_two_active_keys_are_refused(moto_server: str, iam: Any, iam_user: str) -> None:
    secret = _secret(iam_user)
    issuer = _issuer(moto_server)
    a = issuer.apply(secret, None, None)
    b = issuer.apply(secret, None, None)
    with pytest.raises(IssuerError, match="neither is the current one"):
        issuer.apply(secret, None, None)
    with pytest.raises(IssuerError, match="already has an active key") as info:
        issuer.apply(secret, a, None)
    assert "reconcile" in (info.value.hint or "")
    assert len(_statuses(iam, iam_user)) == 2
    with pytest.raises(IssuerError, match="same"):
        issuer.revoke(secret, a, a)
    del b


def test_reconcile_deletes_leftovers_only(moto_server: str, iam: Any, iam_user: str) -> None:
    secret = _secret(iam_user)
    issuer = _issuer(moto_server)
    current = issuer.apply(secret, None, None)
    leftover = issuer.apply(secret, current, None)  # minted, then the run "crashed" before storing it
    assert issuer.reconcile(secret, []) == []  # nothing known: delete nothing
    removed = issuer.reconcile(secret, [current])
    assert removed == [
        f"deleted access key {leftover.attributes['access_key_id']} of IAM user {iam_user} (not in the store)"
    ]
    assert set(_statuses(iam, iam_user)) == {current.attributes["access_key_id"]}
    assert issuer.reconcile(secret, [current]) == []


def test_rollback_deletes_the_new_key(moto_server: str, iam: Any, iam_user: str) -> None:
    secret = _secret(iam_user)
    issuer = _issuer(moto_server)
    keep = issuer.apply(secret, None, None)
    new = issuer.apply(secret, keep, None)
    issuer.rollback(secret, new, keep)
    issuer.rollback(secret, new, keep)
    assert set(_statuses(iam, iam_user)) == {keep.attributes["access_key_id"]}
    assert not issuer.check(secret, new)


def test_plan_is_masked(moto_server: str) -> None:
    current = Credential(SecretValue("wJalrXUtnFEMI-fake-secret"), {"access_key_id": "AKIAFAKE1", "user": "svc"})
    steps = _issuer(moto_server).plan(_secret("svc"), current)
    actions = [s.action for s in steps]
    assert "CreateAccessKey svc" in actions and "UpdateAccessKey Status=Inactive AKIAFAKE1" in actions
    assert "fake-secret" not in repr(steps)


def test_error_paths(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IssuerError, match="no such IAM user"):
        _issuer(moto_server).apply(_secret(f"nobody-{secrets.token_hex(3)}"), None, None)
    with pytest.raises(IssuerUnavailableError) as down:
        _issuer(f"http://127.0.0.1:{free_port()}").apply(_secret("svc"), None, None)
    assert down.value.exit_code is ExitCode.UNAVAILABLE
    for name in DUMMY:
        monkeypatch.delenv(name)
    with pytest.raises(IssuerAuthError) as auth:
        _issuer(moto_server).apply(_secret("svc"), None, None)
    assert auth.value.exit_code is ExitCode.AUTH
    # Credentials from the env mapping given to build_issuer are used.
    issuer = _issuer(moto_server, env=dict(DUMMY))
    with pytest.raises(IssuerError, match="no such IAM user"):
        issuer.apply(_secret(f"nobody-{secrets.token_hex(3)}"), None, None)


def test_no_secret_key_in_debug_logs_from_any_boto3_client(
    iam: Any, iam_user: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Importing the issuer silences botocore's body logging for every client, not just ours."""
    caplog.set_level(logging.DEBUG)
    created = iam.create_access_key(UserName=iam_user)["AccessKey"]
    assert created["SecretAccessKey"] not in caplog.text
    assert caplog.records  # debug logging was on: the request itself was logged
