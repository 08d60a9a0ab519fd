"""VercelTarget against the stateful Vercel fake: upsert, `failed` on 200, sensitive, redeploy."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

from secretops.errors import ExitCode, TargetError
from secretops.inventory.models import VercelTargetSpec
from secretops.targets import build_target
from secretops.targets.interface import DeployState, EnvRef, TargetAuthError, TargetUnavailableError
from secretops.targets.vercel import VercelTarget
from secretops.values import FingerprintKey, SecretValue, fingerprint
from tests.fakes.platforms.vercel import FakeVercel

KEY = FingerprintKey(b"v" * 32)
NEW = "n3w-Vercel-secret-0123456789"
PID = "prj_abc"


@pytest.fixture
def fake() -> FakeVercel:
    f = FakeVercel(page_size=2)
    f.add_project(
        PID,
        "shop",
        [
            {"key": "PUBLIC_URL", "value": "https://shop.example", "type": "plain", "target": ["production"]},
            {"key": "NEXTAUTH_URL", "value": "https://x", "type": "plain", "target": ["preview"]},
            {"key": "API_SECRET", "value": "old-api-secret", "type": "encrypted", "target": ["preview", "production"]},
            {"key": "WRITE_ONLY", "value": "old-sensitive", "type": "sensitive", "target": ["production"]},
        ],
    )
    return f


def make(fake: FakeVercel, token: str | None = None, **spec: Any) -> tuple[VercelTarget, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    tspec = VercelTargetSpec(kind="vercel", **{"project": PID, **spec})
    return VercelTarget("front", tspec, SecretValue(token or fake.token), client=client, sleep=slept.append), slept


def test_set_read_redeploy_wait_live(fake: FakeVercel) -> None:
    target, _ = make(fake, environments=("production", "preview"), team_id="team_1")
    ref = EnvRef("API_SECRET")
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, "old-api-secret")
    target.set_env(ref, SecretValue(NEW))
    assert fake.values(PID, "API_SECRET") == {"production": NEW, "preview": NEW}
    # The list gave ciphertext; the value was read through the single-var endpoint.
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, NEW)
    assert any(p.startswith("/v1/projects/") for _, p in fake.calls)
    assert fake.runtime_env(PID)["API_SECRET"] == "old-api-secret"
    dep = target.redeploy()
    assert dep.state is DeployState.PENDING
    assert target.wait(dep, timedelta(minutes=5)).state is DeployState.LIVE
    assert fake.runtime_env(PID)["API_SECRET"] == NEW
    assert set(fake.team_ids) == {"team_1"}


def test_new_var_created_for_configured_environments(fake: FakeVercel) -> None:
    target, _ = make(fake)
    ref = EnvRef("NEW_KEY")
    assert target.read_fingerprint(ref, KEY) is None
    target.set_env(ref, SecretValue(NEW))
    assert fake.values(PID, "NEW_KEY") == {"production": NEW}
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, NEW)
    entry = next(e for e in fake.projects[PID]["envs"] if e["key"] == "NEW_KEY")
    assert entry["type"] == "encrypted"


def test_failed_on_200_raises(fake: FakeVercel) -> None:
    target, _ = make(fake)
    fake.fail_next_upsert = {"code": "ENV_CONFLICT", "message": "conflicts with an existing variable"}
    with pytest.raises(TargetError, match="did not save API_SECRET: ENV_CONFLICT") as err:
        target.set_env(EnvRef("API_SECRET"), SecretValue(NEW))
    assert NEW not in err.value.diagnostics()
    assert fake.values(PID, "API_SECRET")["production"] == "old-api-secret"


def test_overlapping_target_set_is_a_failure_not_silence(fake: FakeVercel) -> None:
    """API_SECRET exists for preview+production; writing production alone conflicts."""
    target, _ = make(fake, environments=("production",))
    with pytest.raises(TargetError, match="ENV_CONFLICT"):
        target.set_env(EnvRef("API_SECRET"), SecretValue(NEW))


def test_sensitive_is_write_only(fake: FakeVercel) -> None:
    target, _ = make(fake)
    ref = EnvRef("WRITE_ONLY")
    assert target.read_fingerprint(ref, KEY) is None
    target.set_env(ref, SecretValue(NEW))
    entry = next(e for e in fake.projects[PID]["envs"] if e["key"] == "WRITE_ONLY")
    assert entry["type"] == "sensitive" and entry["value"] == NEW
    assert target.read_fingerprint(ref, KEY) is None


def test_partially_covered_environments_read_none(fake: FakeVercel) -> None:
    target, _ = make(fake, environments=("production", "preview"))
    assert target.read_fingerprint(EnvRef("PUBLIC_URL"), KEY) is None


def test_canceled_redeploy_is_reported_as_failed(fake: FakeVercel) -> None:
    fake.deploy_outcomes = ["CANCELED"]
    target, _ = make(fake)
    done = target.wait(target.redeploy(), timedelta(minutes=5))
    assert done.state is DeployState.FAILED and "Ignored Build Step" in done.detail


def test_error_redeploy_carries_the_message(fake: FakeVercel) -> None:
    fake.deploy_outcomes = ["ERROR"]
    target, _ = make(fake)
    done = target.wait(target.redeploy(), timedelta(minutes=5))
    assert done.state is DeployState.FAILED and "npm run build" in done.detail


def test_preview_only_has_nothing_to_redeploy(fake: FakeVercel) -> None:
    target, _ = make(fake, environments=("preview",))
    assert target.redeploy().state is DeployState.NONE


def test_no_ready_production_deployment(fake: FakeVercel) -> None:
    fake.deployments.clear()
    target, _ = make(fake)
    with pytest.raises(TargetError, match="no READY production deployment"):
        target.redeploy()


def test_rate_limit_then_success(fake: FakeVercel) -> None:
    target, slept = make(fake)
    fake.rate_limited = [{"Retry-After": "2"}]
    target.set_env(EnvRef("API_SECRET2"), SecretValue(NEW))
    assert slept == [2.0]


def test_auth_failure_and_outage(fake: FakeVercel) -> None:
    target, _ = make(fake, token="wrong")
    with pytest.raises(TargetAuthError) as err:
        target.redeploy()
    assert err.value.exit_code is ExitCode.AUTH
    fake.down = True
    ok, _ = make(fake)
    with pytest.raises(TargetUnavailableError):
        ok.read_fingerprint(EnvRef("API_SECRET"), KEY)


def test_no_value_in_logs(fake: FakeVercel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    target, _ = make(fake, environments=("production", "preview"))
    target.set_env(EnvRef("API_SECRET"), SecretValue(NEW))
    target.read_fingerprint(EnvRef("API_SECRET"), KEY)
    assert NEW not in caplog.text and "old-api-secret" not in caplog.text


def test_build_target_vercel() -> None:
    spec = VercelTargetSpec(kind="vercel", project=PID)
    with pytest.raises(TargetError, match="VERCEL_TOKEN is not set"):
        build_target("front", spec, {"VERCEL_TOKEN": "  "})
    built = build_target("front", spec, {"VERCEL_TOKEN": "t"})
    assert isinstance(built, VercelTarget)
    built.close()
