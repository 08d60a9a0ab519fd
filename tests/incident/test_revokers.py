"""Each revoker against its provider's documented revocation reply (fakes), and AWS IAM on moto."""

from __future__ import annotations

import httpx
import pytest

from secretops.liveness.interface import Leak
from secretops.revoke.interface import RevokeContext
from secretops.revoke.providers import (
    MANUAL,
    REVOKERS,
    RULE_REVOKERS,
    AwsIamRevoker,
    GitHubRevoker,
    GitLabRevoker,
    SlackRevoker,
    manual_steps,
)
from secretops.values import SecretValue
from tests.fakes.revocation import RevocationInternet
from tests.liveness.conftest import random_text


def _leak(rule: str, value: str, **context: str) -> Leak:
    return Leak(rule, rule.split("-")[0], "api-key", SecretValue(value), context)


def test_gitlab_revokes_a_working_token_and_calls_a_dead_one_dead() -> None:
    net = RevocationInternet()
    token = "glpat-" + random_text(20)
    net["gitlab.com"].add(token, username="dev")
    ctx = RevokeContext(client=net.client())
    result = GitLabRevoker(ctx).revoke(_leak("gitlab-personal-access-token", token))
    assert result.revoked and "204" in result.detail and net.revocations == [("gitlab", token)]
    again = GitLabRevoker(ctx).revoke(_leak("gitlab-personal-access-token", token))
    assert again.revoked and "no longer accepts" in again.detail


def test_slack_invalid_auth_means_already_dead_and_5xx_is_not_revoked() -> None:
    net = RevocationInternet()
    result = SlackRevoker(RevokeContext(client=net.client())).revoke(_leak("slack-bot-token", "xoxb-1-2-abc"))
    assert result.revoked and "invalid_auth" in result.detail

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    client = httpx.Client(transport=httpx.MockTransport(down))
    result = SlackRevoker(RevokeContext(client=client)).revoke(_leak("slack-bot-token", "xoxb-1-2-abc"))
    assert not result.revoked and "503" in result.detail


def test_github_rate_limit_and_unreachable_are_not_revoked() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429)

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    def spammed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"message": "Validation Failed"})

    for handler, words in ((limited, "rate limited"), (broken, "cannot reach"), (spammed, "422")):
        client = httpx.Client(transport=httpx.MockTransport(handler))
        result = GitHubRevoker(RevokeContext(client=client)).revoke(_leak("github-personal-access-token", "ghp_x"))
        assert not result.revoked and words in result.detail


def test_a_host_off_the_allowlist_is_never_contacted(monkeypatch: pytest.MonkeyPatch) -> None:
    net = RevocationInternet()
    monkeypatch.setattr(GitHubRevoker, "hosts", frozenset({"github.example"}))
    result = GitHubRevoker(RevokeContext(client=net.client())).revoke(_leak("github-personal-access-token", "ghp_x"))
    assert not result.revoked and "allowlist" in result.detail and net.hosts == []


def test_every_rule_maps_to_a_revoker_and_manual_steps_have_links() -> None:
    assert set(RULE_REVOKERS.values()) <= set(REVOKERS)
    assert all(m.link.startswith("https://") for m in MANUAL.values())
    assert manual_steps("", "postgres-password").provider == "postgres"
    assert manual_steps("nobody-knows").link == ""


@pytest.mark.aws
def test_aws_access_key_is_deactivated_then_deleted_on_moto(moto_server: str) -> None:
    import boto3

    admin = boto3.client(
        "iam",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    user = "leaky-" + random_text(6)
    admin.create_user(UserName=user)
    key = admin.create_access_key(UserName=user)["AccessKey"]
    leak = _leak("aws-secret-access-key", key["SecretAccessKey"], access_key_id=key["AccessKeyId"])
    with httpx.Client() as client:
        result = AwsIamRevoker(RevokeContext(client=client, aws_endpoint_url=moto_server)).revoke(leak)
        assert result.revoked, result.detail
        assert admin.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
        no_id = AwsIamRevoker(RevokeContext(client=client, aws_endpoint_url=moto_server)).revoke(
            _leak("aws-secret-access-key", key["SecretAccessKey"])
        )
        assert not no_id.revoked and "access key id" in no_id.detail
    admin.delete_user(UserName=user)
