"""GitHubTarget against the GitHub fake: sealed boxes per repository and per environment."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from secretops.errors import ExitCode, TargetError
from secretops.inventory.models import GitHubTargetSpec
from secretops.targets import build_target
from secretops.targets.github import GitHubTarget
from secretops.targets.interface import DeployState, EnvRef, TargetAuthError, TargetUnavailableError
from secretops.values import FingerprintKey, SecretValue
from tests.fakes.platforms.github import FakeGitHub

KEY = FingerprintKey(b"g" * 32)
NEW = "n3w-GitHub-secret-0123456789"
REPO = "acme/shop"


@pytest.fixture
def fake() -> FakeGitHub:
    f = FakeGitHub()
    f.add_repo(REPO, environments=("production", "staging"))
    return f


def make(fake: FakeGitHub, token: str | None = None, env: str | None = None) -> tuple[GitHubTarget, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    spec = GitHubTargetSpec(kind="github", repo=REPO, environment=env)
    return GitHubTarget("gh", spec, SecretValue(token or fake.token), client=client, sleep=slept.append), slept


def test_repo_secret_sealed_201_then_204(fake: FakeGitHub) -> None:
    target, _ = make(fake)
    ref = EnvRef("DEPLOY_KEY")
    target.set_env(ref, SecretValue("first-value-123"))
    target.set_env(ref, SecretValue(NEW))
    assert fake.secret(REPO, "DEPLOY_KEY") == NEW
    assert fake.secret(REPO, "DEPLOY_KEY", "production") is None
    assert fake.count("GET", f"/repos/{REPO}/actions/secrets/public-key") == 2
    body = next(r for r in reversed(fake.requests) if r.method == "PUT").content
    assert NEW.encode() not in body  # sealed, not plaintext
    assert target.read_fingerprint(ref, KEY) is None  # never readable
    dep = target.redeploy()
    assert dep.state is DeployState.NONE
    assert target.wait(dep, timedelta(seconds=1)) is dep


def test_environment_secret_uses_the_environment_key(fake: FakeGitHub) -> None:
    target, _ = make(fake, env="production")
    target.set_env(EnvRef("DB_PASSWORD"), SecretValue(NEW))
    assert fake.secret(REPO, "DB_PASSWORD", "production") == NEW
    assert fake.secret(REPO, "DB_PASSWORD") is None and fake.secret(REPO, "DB_PASSWORD", "staging") is None
    assert fake.count("GET", f"/repos/{REPO}/environments/production/secrets/public-key") == 1


def test_rotated_key_is_fetched_fresh(fake: FakeGitHub) -> None:
    target, _ = make(fake)
    target.set_env(EnvRef("A_KEY"), SecretValue(NEW))
    fake.add_repo(REPO)  # GitHub rotated the repository key
    target.set_env(EnvRef("A_KEY"), SecretValue("second-value-456"))
    assert fake.secret(REPO, "A_KEY") == "second-value-456"


def test_invalid_names_refused(fake: FakeGitHub) -> None:
    target, _ = make(fake)
    for bad in ("GITHUB_TOKEN", "1ABC", "has-dash"):
        with pytest.raises(TargetError, match="not a valid Actions secret name"):
            target.set_env(EnvRef(bad), SecretValue(NEW))
    assert fake.calls == []


def test_secondary_rate_limit_403_retry_after(fake: FakeGitHub) -> None:
    target, slept = make(fake)
    original = fake.handle
    state = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if state["n"] == 1:
            return httpx.Response(403, json={"message": "secondary rate limit"}, headers={"retry-after": "9"})
        return original(request)

    target.client = target.api.client = httpx.Client(transport=httpx.MockTransport(handle))
    target.set_env(EnvRef("A_KEY"), SecretValue(NEW))
    assert slept == [9.0] and fake.secret(REPO, "A_KEY") == NEW


def test_auth_failure_outage_and_no_leaks(fake: FakeGitHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad, _ = make(fake, token="ghp_wrong")
    with pytest.raises(TargetAuthError) as err:
        bad.set_env(EnvRef("A_KEY"), SecretValue(NEW))
    assert err.value.exit_code is ExitCode.AUTH
    missing, _ = make(fake, env="nope")
    with pytest.raises(TargetError, match="404") as err2:
        missing.set_env(EnvRef("A_KEY"), SecretValue(NEW))
    fake.down = True
    ok, _ = make(fake)
    with pytest.raises(TargetUnavailableError) as err3:
        ok.set_env(EnvRef("A_KEY"), SecretValue(NEW))
    for text in (err.value.diagnostics(), err2.value.diagnostics(), err3.value.diagnostics(), caplog.text):
        assert NEW not in text


def test_build_target_github() -> None:
    spec = GitHubTargetSpec(kind="github", repo=REPO, environment="production")
    with pytest.raises(TargetError, match="GITHUB_TOKEN is not set"):
        build_target("gh", spec, {})
    built = build_target("gh", spec, {"GITHUB_TOKEN": "t"})
    assert isinstance(built, GitHubTarget) and built.describe() == f"github:{REPO}@production"
    built.close()
