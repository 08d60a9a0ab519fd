"""DigitalOceanTarget against the stateful App Platform fake: whole-spec PUT, EV values, workers."""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

from secretops.errors import ExitCode, TargetError
from secretops.inventory.models import DigitalOceanTargetSpec
from secretops.targets import build_target
from secretops.targets.digitalocean import DigitalOceanTarget
from secretops.targets.interface import DeployState, EnvRef, TargetAuthError, TargetUnavailableError
from secretops.values import FingerprintKey, SecretValue, fingerprint
from tests.fakes.platforms.digitalocean import FakeDigitalOcean

KEY = FingerprintKey(b"d" * 32)
APP = "6f1d-app"
NEW = "n3w-Secret-value-0123456789"

SPEC: dict[str, Any] = {
    "name": "shop",
    "region": "fra",
    "domains": [{"domain": "shop.example.com", "type": "PRIMARY"}],
    "envs": [
        {"key": "APP_SECRET", "value": "app-level-old-secret", "type": "SECRET", "scope": "RUN_TIME"},
        {"key": "LOG_LEVEL", "value": "info", "type": "GENERAL"},
    ],
    "services": [
        {
            "name": "web",
            "github": {"repo": "acme/shop", "branch": "main", "deploy_on_push": True},
            "run_command": "gunicorn app:app",
            "envs": [
                {"key": "DATABASE_URL", "value": "postgresql://old", "type": "SECRET"},
                {"key": "DB_BOUND", "value": "${db.DATABASE_URL}", "type": "GENERAL"},
                {"key": "STRIPE_KEY", "value": "sk_test_fake_untouched", "type": "SECRET"},
            ],
        }
    ],
    "workers": [{"name": "worker", "github": {"repo": "acme/shop", "branch": "main"}, "run_command": "celery worker"}],
    "jobs": [{"name": "migrate", "kind": "PRE_DEPLOY", "run_command": "alembic upgrade head"}],
    "databases": [{"name": "db", "engine": "PG", "production": True}],
}


@pytest.fixture
def fake() -> FakeDigitalOcean:
    f = FakeDigitalOcean()
    f.add_app(APP, SPEC)
    return f


def make(fake: FakeDigitalOcean, token: str | None = None, **kw: Any) -> tuple[DigitalOceanTarget, list[float]]:
    slept: list[float] = []
    spec = DigitalOceanTargetSpec(kind="digitalocean", app_id=APP)
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    target = DigitalOceanTarget("do", spec, SecretValue(token or fake.token), client=client, sleep=slept.append, **kw)
    return target, slept


def _strip(spec: dict[str, Any], component: str | None, key: str) -> dict[str, Any]:
    """`spec` without one var (the part that must not change)."""
    out = copy.deepcopy(spec)
    holder = (
        out
        if component is None
        else next(c for k in ("services", "workers", "jobs") for c in out.get(k, []) if c["name"] == component)
    )
    holder["envs"] = [e for e in holder.get("envs", []) if e["key"] != key]
    if not holder["envs"]:
        holder.pop("envs")
    return out


def test_set_read_redeploy_wait_live(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake)
    before = fake.stored_spec(APP)
    ref = EnvRef("DATABASE_URL", "web")
    target.set_env(ref, SecretValue(NEW))
    after = fake.stored_spec(APP)
    # Everything else, EV ciphertexts of untouched vars included, is byte-for-byte the same.
    assert _strip(after, "web", "DATABASE_URL") == _strip(before, "web", "DATABASE_URL")
    assert fake.plaintext(APP, "web", "DATABASE_URL") == NEW
    assert fake.plaintext(APP, "web", "STRIPE_KEY") == "sk_test_fake_untouched"
    assert fake.plaintext(APP, None, "APP_SECRET") == "app-level-old-secret"
    # The PUT sent every other SECRET back as its EV[...] string, never omitted or blank.
    sent = fake.puts[-1]
    assert sent["update_all_source_versions"] is False
    web_envs = {e["key"]: e for e in sent["spec"]["services"][0]["envs"]}
    assert web_envs["STRIPE_KEY"]["value"] == before["services"][0]["envs"][2]["value"]
    assert web_envs["STRIPE_KEY"]["value"].startswith("EV[")
    assert sent["spec"]["envs"][0]["value"] == before["envs"][0]["value"]
    assert web_envs["DATABASE_URL"]["type"] == "SECRET"
    # Read back: the EV string is the one seen right after our own write.
    assert target.read_fingerprint(ref, KEY) == fingerprint(KEY, NEW)
    dep = target.redeploy()
    assert dep.state is DeployState.PENDING and dep.id == fake.apps[APP]["in_progress_deployment"]
    done = target.wait(dep, timedelta(minutes=5))
    assert done.state is DeployState.LIVE
    assert fake.runtime_env(APP, "web")["DATABASE_URL"] == NEW
    assert fake.runtime_env(APP, "web")["STRIPE_KEY"] == "sk_test_fake_untouched"


def test_worker_gets_the_var_at_component_level(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake)
    target.set_env(EnvRef("SIGNING_KEY"), SecretValue(NEW))
    target.set_env(EnvRef("SIGNING_KEY", "worker"), SecretValue(NEW))
    target.set_env(EnvRef("SIGNING_KEY", "migrate"), SecretValue(NEW))
    target.wait(target.redeploy(), timedelta(minutes=5))
    spec = fake.stored_spec(APP)
    assert [e["key"] for e in spec["workers"][0]["envs"]] == ["SIGNING_KEY"]
    assert spec["workers"][0]["envs"][0]["type"] == "SECRET"
    assert fake.runtime_env(APP, "worker")["SIGNING_KEY"] == NEW
    assert fake.runtime_env(APP, "migrate")["SIGNING_KEY"] == NEW
    assert fake.runtime_env(APP, "web")["SIGNING_KEY"] == NEW
    # Components, domains and databases all survived three whole-spec PUTs.
    assert spec["domains"] == SPEC["domains"] and spec["databases"] == SPEC["databases"]
    assert spec["jobs"][0]["kind"] == "PRE_DEPLOY" and spec["services"][0]["run_command"] == "gunicorn app:app"


def test_app_level_secret_alone_does_not_reach_the_worker(fake: FakeDigitalOcean) -> None:
    """The fake models the trap the policy check guards against."""
    target, _ = make(fake)
    target.set_env(EnvRef("ONLY_APP"), SecretValue(NEW))
    target.wait(target.redeploy(), timedelta(minutes=5))
    assert fake.runtime_env(APP, "web")["ONLY_APP"] == NEW
    assert "ONLY_APP" not in fake.runtime_env(APP, "worker")


def test_fresh_process_cannot_read_encrypted_values(fake: FakeDigitalOcean) -> None:
    writer, _ = make(fake)
    writer.set_env(EnvRef("DATABASE_URL", "web"), SecretValue(NEW))
    reader, _ = make(fake)
    assert reader.read_fingerprint(EnvRef("DATABASE_URL", "web"), KEY) is None
    assert reader.read_fingerprint(EnvRef("LOG_LEVEL"), KEY) == fingerprint(KEY, "info")
    assert reader.read_fingerprint(EnvRef("MISSING"), KEY) is None
    # Someone else rewrites the var: our remembered EV string no longer matches.
    fake.apps[APP]["spec"]["services"][0]["envs"][0]["value"] = "plain-other"
    assert writer.read_fingerprint(EnvRef("DATABASE_URL", "web"), KEY) == fingerprint(KEY, "plain-other")


def test_fake_models_the_omitted_value_trap(fake: FakeDigitalOcean) -> None:
    """Sending a SECRET without `value` empties it though the spec still shows EV[...]."""
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    spec = fake.stored_spec(APP)
    del spec["services"][0]["envs"][2]["value"]
    headers = {"Authorization": f"Bearer {fake.token}"}
    client.put(f"https://api.digitalocean.com/v2/apps/{APP}", json={"spec": spec}, headers=headers)
    assert fake.stored_spec(APP)["services"][0]["envs"][2]["value"].startswith("EV[")
    assert fake.plaintext(APP, "web", "STRIPE_KEY") == ""


def test_never_overwrites_a_bindable_reference(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake)
    with pytest.raises(TargetError, match="bindable reference"):
        target.set_env(EnvRef("DB_BOUND", "web"), SecretValue(NEW))
    assert fake.puts == []


def test_unknown_component(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake)
    with pytest.raises(TargetError, match=r"no component 'api'.*migrate, web, worker"):
        target.set_env(EnvRef("X", "api"), SecretValue(NEW))


def test_redeploy_without_a_write_creates_a_deployment(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake)
    dep = target.redeploy()
    assert fake.count("POST", f"/v2/apps/{APP}/deployments") == 1
    assert target.wait(dep, timedelta(minutes=1)).state is DeployState.LIVE


def test_deploy_failure_reports_platform_detail(fake: FakeDigitalOcean) -> None:
    fake.deploy_outcomes = ["ERROR"]
    target, _ = make(fake)
    target.set_env(EnvRef("DATABASE_URL", "web"), SecretValue(NEW))
    done = target.wait(target.redeploy(), timedelta(minutes=5))
    assert done.state is DeployState.FAILED
    assert "ERROR" in done.detail and "build exited with code 1" in done.detail


def test_superseded_follows_the_newer_deployment(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake)
    target.set_env(EnvRef("A"), SecretValue(NEW))
    first = target.redeploy()
    target.set_env(EnvRef("B"), SecretValue(NEW))  # supersedes `first`
    done = target.wait(first, timedelta(minutes=5))
    assert done.state is DeployState.LIVE and done.id != first.id
    assert f"superseded {first.id}" in done.detail


def test_wait_times_out(fake: FakeDigitalOcean) -> None:
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    fake.deploy_outcomes = ["DEPLOYING"]
    client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    spec = DigitalOceanTargetSpec(kind="digitalocean", app_id=APP)
    target = DigitalOceanTarget(
        "do", spec, SecretValue(fake.token), client=client, sleep=sleep, monotonic=lambda: now[0]
    )
    with pytest.raises(TargetError, match="still pending"):
        target.wait(target.redeploy(), timedelta(seconds=30))


def test_rate_limit_honours_retry_after(fake: FakeDigitalOcean) -> None:
    target, slept = make(fake)
    fake.rate_limited = [{"retry-after": "7"}, {"ratelimit-reset": "3"}]
    assert target.read_fingerprint(EnvRef("LOG_LEVEL"), KEY) == fingerprint(KEY, "info")
    assert slept == [7.0, 3.0]


def test_auth_failure_and_outage(fake: FakeDigitalOcean) -> None:
    target, _ = make(fake, token="wrong-token")
    with pytest.raises(TargetAuthError) as err:
        target.set_env(EnvRef("X"), SecretValue(NEW))
    assert err.value.exit_code is ExitCode.AUTH and "401" in err.value.message
    fake.down = True
    ok, _ = make(fake)
    with pytest.raises(TargetUnavailableError) as down:
        ok.read_fingerprint(EnvRef("X"), KEY)
    assert down.value.exit_code is ExitCode.UNAVAILABLE


def test_no_value_in_errors_or_logs(fake: FakeDigitalOcean, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    target, _ = make(fake)
    target.set_env(EnvRef("DATABASE_URL", "web"), SecretValue(NEW))
    with pytest.raises(TargetError) as err:
        target.set_env(EnvRef("bad-key"), SecretValue(NEW))
    fake.deploy_outcomes = ["ERROR"]
    failed = target.wait(target.redeploy(), timedelta(minutes=1))
    for text in (err.value.diagnostics(), caplog.text, failed.detail, repr(target.__dict__)):
        assert NEW not in text


def test_build_target_reads_the_token_from_env() -> None:
    spec = DigitalOceanTargetSpec(kind="digitalocean", app_id=APP, token_env="MY_DO_TOKEN")
    with pytest.raises(TargetError, match="MY_DO_TOKEN is not set"):
        build_target("do", spec, {})
    built = build_target("do", spec, {"MY_DO_TOKEN": "dop_v1_x"})
    assert isinstance(built, DigitalOceanTarget) and built.describe() == f"digitalocean:{APP}"
    built.close()
