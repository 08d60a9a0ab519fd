"""RenderTarget against the stateful Render fake: per-key writes only, deploys, env groups."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

from secretops.errors import ExitCode, TargetError
from secretops.inventory.models import RenderTargetSpec
from secretops.targets import build_target
from secretops.targets.interface import DeployState, EnvRef, TargetAuthError, TargetUnavailableError
from secretops.targets.render import RenderTarget
from secretops.values import FingerprintKey, SecretValue, fingerprint
from tests.fakes.platforms.render import FakeRender

KEY = FingerprintKey(b"r" * 32)
NEW = "n3w-Render-secret-0123456789"
OTHERS = {"A_ONE": "1", "B_TWO": "2", "C_THREE": "3", "DATABASE_URL": "postgresql://old", "Z_LAST": "z"}


@pytest.fixture
def fake() -> FakeRender:
    f = FakeRender(page_size=2)
    f.add_service("srv-web", OTHERS)
    f.add_service("srv-worker", {"QUEUE": "jobs"})
    f.add_group("evg-shared", {"SHARED_KEY": "old-shared"}, ["srv-web", "srv-worker"])
    return f


def make(fake: FakeRender, token: str | None = None, **spec: Any) -> tuple[RenderTarget, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    tspec = RenderTargetSpec(kind="render", **(spec or {"service_id": "srv-web"}))
    return RenderTarget("web", tspec, SecretValue(token or fake.token), client=client, sleep=slept.append), slept


def test_set_read_redeploy_wait_live(fake: FakeRender) -> None:
    target, _ = make(fake)
    ref = EnvRef("DATABASE_URL")
    target.set_env(ref, SecretValue(NEW))
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, NEW)
    # Only the per-key endpoint was used: every other var is still there.
    assert fake.count("PUT", "/v1/services/srv-web/env-vars") == 0
    assert fake.count("PUT", "/v1/services/srv-web/env-vars/DATABASE_URL") == 1
    assert fake.services["srv-web"] == {**OTHERS, "DATABASE_URL": NEW}
    assert fake.runtime_env("srv-web")["DATABASE_URL"] == "postgresql://old"  # no restart yet
    dep = target.redeploy()
    assert dep.state is DeployState.PENDING and dep.id.startswith("srv-web:dep-")
    done = target.wait(dep, timedelta(minutes=5))
    assert done.state is DeployState.LIVE
    assert fake.runtime_env("srv-web")["DATABASE_URL"] == NEW
    assert fake.runtime_env("srv-web")["A_ONE"] == "1"


def test_unset_var_reads_none_and_new_var_is_created(fake: FakeRender) -> None:
    target, _ = make(fake)
    assert target.read_fingerprint(EnvRef("NOT_THERE"), KEY) is None
    target.set_env(EnvRef("NOT_THERE"), SecretValue(NEW))
    assert target.read_fingerprint(EnvRef("NOT_THERE"), KEY) == fingerprint(KEY, NEW)
    assert len(fake.services["srv-web"]) == len(OTHERS) + 1


def test_list_keys_follows_cursors(fake: FakeRender) -> None:
    target, _ = make(fake)
    assert target.list_keys() == list(OTHERS)
    assert fake.count("GET", "/v1/services/srv-web/env-vars") == 4  # 3 pages of 2, then an empty one
    group, _ = make(fake, env_group_id="evg-shared")
    assert group.list_keys() == ["SHARED_KEY"]


def test_empty_value_refused_before_any_request(fake: FakeRender) -> None:
    target, _ = make(fake)
    with pytest.raises(TargetError, match="rejects empty values"):
        target.set_env(EnvRef("DATABASE_URL"), SecretValue(""))
    assert fake.calls == []


def test_components_are_refused(fake: FakeRender) -> None:
    target, _ = make(fake)
    with pytest.raises(TargetError, match="has no components") as err:
        target.set_env(EnvRef("X", "worker"), SecretValue(NEW))
    assert err.value.hint is not None and "its own Render service" in err.value.hint


def test_deploy_queued_202_without_body(fake: FakeRender) -> None:
    fake.queue_deploys = True
    target, _ = make(fake)
    target.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    dep = target.redeploy()
    newest = fake.deploys["srv-web"][0]["id"]
    assert dep.id == f"srv-web:{newest}"
    assert fake.count("GET", "/v1/services/srv-web/deploys") == 1
    assert target.wait(dep, timedelta(minutes=5)).state is DeployState.LIVE
    assert fake.runtime_env("srv-web")["DATABASE_URL"] == NEW


def test_deploy_failure_reports_status(fake: FakeRender) -> None:
    fake.deploy_outcomes = ["build_failed"]
    target, _ = make(fake)
    done = target.wait(target.redeploy(), timedelta(minutes=5))
    assert done.state is DeployState.FAILED and "build_failed" in done.detail and "srv-web" in done.detail


def test_deactivated_follows_the_newer_deploy(fake: FakeRender) -> None:
    target, _ = make(fake)
    first = target.redeploy()
    second = target.redeploy()
    assert target.wait(second, timedelta(minutes=5)).state is DeployState.LIVE
    # `first` never went live; make it look replaced.
    fake.deploys["srv-web"][1]["status"] = "deactivated"
    fake.deploys["srv-web"][1]["statuses"] = []
    done = target.wait(first, timedelta(minutes=5))
    assert done.state is DeployState.LIVE and done.id == second.id


def test_env_group_per_key_and_every_linked_service_deployed(fake: FakeRender) -> None:
    target, _ = make(fake, env_group_id="evg-shared")
    ref = EnvRef("SHARED_KEY")
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, "old-shared")
    target.set_env(ref, SecretValue(NEW))
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, NEW)
    assert fake.count("PUT", "/v1/env-groups/evg-shared") == 0
    dep = target.redeploy()
    assert dep.id.startswith("srv-web:dep-") and ",srv-worker:dep-" in dep.id
    assert target.wait(dep, timedelta(minutes=5)).state is DeployState.LIVE
    assert fake.runtime_env("srv-web")["SHARED_KEY"] == NEW
    assert fake.runtime_env("srv-worker")["SHARED_KEY"] == NEW


def test_deploy_false_deploys_nothing(fake: FakeRender) -> None:
    target, _ = make(fake, service_id="srv-web", deploy=False)
    assert target.redeploy().state is DeployState.NONE
    assert not any(m == "POST" for m, _ in fake.calls)


def test_rate_limit_then_success(fake: FakeRender) -> None:
    target, slept = make(fake)
    fake.rate_limited = [{"Retry-After": "12"}]
    target.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    assert slept == [12.0]
    assert fake.services["srv-web"]["DATABASE_URL"] == NEW


def test_rate_limit_exhausted_is_unavailable(fake: FakeRender) -> None:
    target, slept = make(fake)
    fake.rate_limited = [{}] * 10
    with pytest.raises(TargetUnavailableError, match="rate limited") as err:
        target.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    assert err.value.exit_code is ExitCode.UNAVAILABLE
    assert len(slept) == 5 and all(0 < s <= 60 for s in slept)
    assert slept[-1] >= 8  # exponential: 16s ceiling, jitter in its upper half


def test_auth_failure_and_outage(fake: FakeRender) -> None:
    target, _ = make(fake, token="rnd_wrong")
    with pytest.raises(TargetAuthError) as err:
        target.read_fingerprint(EnvRef("DATABASE_URL"), KEY)
    assert err.value.exit_code is ExitCode.AUTH
    fake.down = True
    ok, _ = make(fake)
    with pytest.raises(TargetUnavailableError):
        ok.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))


def test_no_value_in_errors_or_logs(fake: FakeRender, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    target, _ = make(fake, service_id="srv-missing")
    with pytest.raises(TargetError) as err:
        target.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    ok, _ = make(fake)
    ok.set_env(EnvRef("DATABASE_URL"), SecretValue(NEW))
    ok.wait(ok.redeploy(), timedelta(minutes=1))
    assert NEW not in err.value.diagnostics() and NEW not in caplog.text
    assert "404" in err.value.message


def test_build_target_render() -> None:
    spec = RenderTargetSpec(kind="render", service_id="srv-web")
    built = build_target("web", spec, {"RENDER_API_KEY": "rnd_x"})
    assert isinstance(built, RenderTarget) and built.describe() == "render:srv-web"
    built.close()
