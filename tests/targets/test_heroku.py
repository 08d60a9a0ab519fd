"""HerokuTarget against the stateful Heroku fake: merge PATCH, releases as deployments."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from secretops.errors import ExitCode, TargetError
from secretops.inventory.models import HerokuTargetSpec
from secretops.targets import build_target
from secretops.targets.heroku import HerokuTarget
from secretops.targets.interface import DeployState, EnvRef, TargetAuthError, TargetUnavailableError
from secretops.values import FingerprintKey, SecretValue, fingerprint
from tests.fakes.platforms.heroku import FakeHeroku

KEY = FingerprintKey(b"h" * 32)
NEW = "n3w-Heroku-secret-0123456789"
CONFIG = {"DATABASE_URL": "postgres://old", "REDIS_URL": "redis://keep", "WEB_CONCURRENCY": "2"}


@pytest.fixture
def fake() -> FakeHeroku:
    f = FakeHeroku()
    f.add_app("shop", CONFIG)
    return f


def make(fake: FakeHeroku, token: str | None = None, app: str = "shop") -> tuple[HerokuTarget, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    spec = HerokuTargetSpec(kind="heroku", app=app)
    return HerokuTarget("h", spec, SecretValue(token or fake.token), client=client, sleep=slept.append), slept


def test_set_read_redeploy_wait_live(fake: FakeHeroku) -> None:
    target, _ = make(fake)
    ref = EnvRef("DATABASE_URL")
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, "postgres://old")
    target.set_env(ref, SecretValue(NEW))
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, NEW)
    # Merge, not replace: the other vars stay; only our key was sent.
    assert fake.apps["shop"]["config"] == {**CONFIG, "DATABASE_URL": NEW}
    patch = next(r for r in fake.requests if r.method == "PATCH")
    assert patch.content == b'{"DATABASE_URL":"' + NEW.encode() + b'"}'
    dep = target.redeploy()
    assert dep.state is DeployState.PENDING and "v2" in dep.detail
    done = target.wait(dep, timedelta(minutes=5))
    assert done.state is DeployState.LIVE
    assert fake.running_config("shop")["DATABASE_URL"] == NEW
    rng = [r.headers.get("range") for r in fake.requests if r.url.path.endswith("/releases")]
    assert rng == ["version ..; order=desc, max=1"]


def test_unset_reads_none(fake: FakeHeroku) -> None:
    target, _ = make(fake)
    assert target.read_fingerprint(EnvRef("NOPE"), KEY) is None


def test_failed_release(fake: FakeHeroku) -> None:
    fake.release_outcomes = ["failed"]
    target, _ = make(fake)
    target.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    done = target.wait(target.redeploy(), timedelta(minutes=5))
    assert done.state is DeployState.FAILED and "failed" in done.detail
    assert fake.running_config("shop")["DATABASE_URL"] == "postgres://old"


def test_components_refused(fake: FakeHeroku) -> None:
    target, _ = make(fake)
    with pytest.raises(TargetError, match="per app"):
        target.set_env(EnvRef("X", "worker"), SecretValue(NEW))


def test_rate_limit_then_success(fake: FakeHeroku) -> None:
    target, slept = make(fake)
    fake.rate_limited = [{"Retry-After": "4"}]
    target.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    assert slept == [4.0] and fake.apps["shop"]["config"]["DATABASE_URL"] == NEW


def test_auth_failure_outage_and_missing_app(fake: FakeHeroku, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad, _ = make(fake, token="nope")
    with pytest.raises(TargetAuthError) as err:
        bad.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    assert err.value.exit_code is ExitCode.AUTH
    missing, _ = make(fake, app="ghost")
    with pytest.raises(TargetError, match=r"404.*Couldn't find that app") as err2:
        missing.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    fake.down = True
    ok, _ = make(fake)
    with pytest.raises(TargetUnavailableError):
        ok.redeploy()
    for text in (err.value.diagnostics(), err2.value.diagnostics(), caplog.text):
        assert NEW not in text


def test_build_target_heroku() -> None:
    spec = HerokuTargetSpec(kind="heroku", app="shop")
    with pytest.raises(TargetError, match="HEROKU_API_KEY"):
        build_target("h", spec, {})
    built = build_target("h", spec, {"HEROKU_API_KEY": "k"})
    assert isinstance(built, HerokuTarget) and built.describe() == "heroku:shop"
    built.close()
