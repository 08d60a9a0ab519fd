"""What holds before a revoke: drain for readers nothing restarted, write-only consumers, missing keys, plan order."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from secretops.errors import PolicyError
from secretops.inventory.models import DotenvTargetSpec, HealthCheck
from secretops.issuers.interface import PlanStep
from secretops.rotate.engine import Outcome
from secretops.rotate.health import check_health
from secretops.rotate.plan_phases import split_issuer_plan
from secretops.rotate.revoke_rules import unredeployed
from secretops.targets.dotenv import DotenvTarget
from secretops.targets.interface import Deployment, DeployState, EnvRef
from tests.fakes.target import FakeTarget
from tests.rotate.conftest import OLD, URL, World, secret


class QuietTarget(FakeTarget):
    """A target whose redeploy restarts nothing (a `.env` with no restart command)."""

    def redeploy(self) -> Deployment:
        self._maybe_fail("redeploy")
        self.live = dict(self.env)
        return Deployment("none", DeployState.NONE, "no restart command")


class ListingTarget(FakeTarget):
    """A readable target that can list its keys (like Render)."""

    def list_keys(self) -> list[str]:
        return [ref.key for ref in self.env if ref.component is None]


class Sleeper:
    """The engine's injected sleep: records each wait, moves the world's clock, logs it beside the issuer's calls."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.world.issuer.calls.append("drain-sleep")
        self.world.clock.advance(seconds=seconds)


def _journal(world: World) -> list[dict[str, Any]]:
    return [json.loads(line) for line in world.journal_text().splitlines()]


def _drain_entry(world: World) -> dict[str, Any]:
    (entry,) = [e for e in _journal(world) if e["step"] == "drain" and e["status"] != "start"]
    return entry


# ---------------------------------------------------------------- drain


def test_no_restart_waits_drain_before_revoke_even_with_grace_0(world: World) -> None:
    world.targets["worker"] = QuietTarget("worker")
    world.add(secret(grace="0s", drain="10s"))
    sleep = Sleeper(world)
    result = world.engine(sleep=sleep).rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE, result.summary()
    assert len(sleep.waits) == 1 and 9.9 < sleep.waits[0] <= 10.0
    calls = world.issuer.calls
    assert calls.index("drain-sleep") < calls.index("revoke"), "the wait comes before the revoke"
    entry = _drain_entry(world)
    assert entry["status"] == "done" and entry["detail"]["not_restarted"] == ["worker"]
    assert entry["detail"]["drain"] == "10s" and entry["detail"]["waited"] == pytest.approx(sleep.waits[0], abs=0.01)
    assert any("drain: waiting" in line and "worker" in line for line in result.lines)
    steps = [e["step"] for e in _journal(world) if e["status"] in ("done", "skipped")]
    assert steps.index("grace") < steps.index("drain") < steps.index("revoke")


def test_every_target_restarted_no_drain(world: World) -> None:
    world.add(secret(grace="0s", drain="10s"))
    sleep = Sleeper(world)
    result = world.engine(sleep=sleep).rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE and sleep.waits == []
    assert _drain_entry(world)["status"] == "skipped"
    assert any("skip drain (every consumer's target was restarted)" in line for line in result.lines)


def test_drain_0s_does_not_wait(world: World) -> None:
    world.targets["worker"] = QuietTarget("worker")
    world.add(secret(grace="0s", drain="0s"))
    sleep = Sleeper(world)
    assert world.engine(sleep=sleep).rotate("shop/db").outcome is Outcome.COMPLETE
    assert sleep.waits == [] and _drain_entry(world)["status"] == "skipped"


def test_drain_applies_to_compromised_but_not_with_force(world: World) -> None:
    world.targets["worker"] = QuietTarget("worker")
    world.add(secret(grace="1h", drain="30s"))
    sleep = Sleeper(world)
    assert world.engine(sleep=sleep).rotate("shop/db", compromised=True).outcome is Outcome.COMPLETE
    assert len(sleep.waits) == 1 and sleep.waits[0] > 29
    assert not world.issuer.works("app_a", OLD)
    forced = Sleeper(world)
    assert world.engine(sleep=forced).rotate("shop/db", compromised=True, force=True).outcome is Outcome.COMPLETE
    assert forced.waits == []
    skipped = [e for e in _journal(world) if e["step"] == "drain" and e["status"] == "skipped"]
    assert len(skipped) == 1


def test_a_grace_longer_than_drain_leaves_nothing_to_wait(world: World) -> None:
    world.targets["worker"] = QuietTarget("worker")
    world.add(secret(grace="1h", drain="10s"))
    sleep = Sleeper(world)
    first = world.engine(sleep=sleep).rotate("shop/db")
    assert first.outcome is Outcome.AWAITING_REVOKE
    world.clock.advance(hours=2)
    (done,) = world.engine(sleep=sleep).resume()
    assert done.outcome is Outcome.COMPLETE and sleep.waits == []
    assert any("10s passed since the last write" in line for line in done.lines)


def test_crash_during_drain_resumes_with_only_the_rest(world: World) -> None:
    class Crash(BaseException):
        pass

    world.targets["worker"] = QuietTarget("worker")
    world.add(secret(grace="0s", drain="60s"))

    def crash(seconds: float) -> None:
        world.clock.advance(seconds=20)  # 20 s into the wait, the process dies
        raise Crash

    with pytest.raises(Crash):
        world.engine(sleep=crash).rotate("shop/db")
    assert world.issuer.works("app_a", OLD), "nothing revoked"
    sleep = Sleeper(world)
    (result,) = world.engine(sleep=sleep).resume()
    assert result.outcome is Outcome.COMPLETE
    assert len(sleep.waits) == 1 and 39 < sleep.waits[0] <= 40


def test_unredeployed_targets_are_named() -> None:
    from datetime import UTC, datetime

    from secretops.rotate.journal import Entry, RunRecord

    t = datetime(2026, 12, 1, tzinfo=UTC)
    entries = (
        Entry(t, "r", "s", "run", "started"),
        Entry(t, "r", "s", "redeploy", "done", "web", {"state": "live"}),
        Entry(t, "r", "s", "redeploy", "failed", "worker"),
    )
    assert unredeployed(RunRecord("r", "s", entries), ["web", "worker"]) == ["worker"]


# ---------------------------------------------------------------- write-only consumers


def test_write_only_without_health_refuses_the_revoke(world: World) -> None:
    world.targets["web"].write_only = True
    world.add(secret())
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.INCOMPLETE and result.exit_code == 1
    assert result.failure is not None and result.failure.step == "revoke"
    assert "DATABASE_URL on target web" in result.failure.reason and "no health check" in result.failure.reason
    assert result.next_step and "accept-unverified" in result.next_step and "resume" in result.next_step
    assert "revoke" not in world.issuer.calls and world.issuer.works("app_a", OLD), "both values still work"
    # the policy accepts the risk: resume finishes
    consumers = [dict(c.model_dump(), verify="accept-unverified") for c in secret().consumers]
    world.secrets["shop/db"] = secret(consumers=consumers)
    (done,) = world.engine().resume()
    assert done.outcome is Outcome.COMPLETE and not world.issuer.works("app_a", OLD)
    revoke = next(e for e in _journal(world) if e["step"] == "revoke" and e["status"] == "done")
    assert revoke["detail"]["accepted_unverified"] == ["web:DATABASE_URL"]
    assert "worker:DATABASE_URL" in revoke["detail"]["read_back"]


def test_write_only_with_health_check_revokes(world: World) -> None:
    world.http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="ok")))
    world.targets["web"].write_only = True
    consumers = [c.model_dump() for c in secret().consumers]
    consumers[0]["health"] = {"url": "https://web.example/healthz"}
    world.add(secret(consumers=consumers))
    assert world.engine().rotate("shop/db").outcome is Outcome.COMPLETE
    revoke = next(e for e in _journal(world) if e["step"] == "revoke" and e["status"] == "done")
    assert revoke["detail"]["health_checked"] == ["web:DATABASE_URL"]


def test_a_key_removed_from_a_listable_target_blocks_the_revoke(world: World) -> None:
    world.targets["web"] = ListingTarget("web")
    world.add(secret(grace="1h"))
    assert world.engine().rotate("shop/db").outcome is Outcome.AWAITING_REVOKE
    del world.targets["web"].env[EnvRef("DATABASE_URL")]  # someone removed it during the grace
    world.clock.advance(hours=2)
    (result,) = world.engine().resume()
    assert result.outcome is Outcome.INCOMPLETE
    assert result.failure is not None and "no longer set" in result.failure.reason
    assert world.issuer.works("app_a", OLD)


def test_github_kind_without_health_is_refused_before_any_change(world: World) -> None:
    class GitHubLike(FakeTarget):
        kind = "github"

    world.targets["web"] = GitHubLike("web", write_only=True)
    world.add(secret())
    with pytest.raises(PolicyError, match="write-only") as info:
        world.engine().rotate("shop/db")
    assert "accept-unverified" in (info.value.hint or "")
    assert world.issuer.calls == [] and world.current() == OLD


# ---------------------------------------------------------------- a key the target does not hold


def _dotenv_world(world: World, text: str, **consumer: Any) -> Path:
    path = world.tmp / "app.env"
    path.write_text(text)
    target = DotenvTarget("web", DotenvTargetSpec(kind="dotenv", path=str(path)))
    world.targets = {"web": target}  # type: ignore[dict-item]
    spec = secret(consumers=[{"target": "web", "env": "DATABSE_URL", "template": URL, **consumer}])
    world.add(spec, seed=False)
    from secretops.store.interface import Label
    from secretops.values import SecretValue

    world.store.put(spec.name, SecretValue(OLD), attributes={"username": "app_a"}, labels=frozenset({Label.CURRENT}))
    world.issuer.seed("app_a", OLD)
    return path


def test_typo_in_env_name_fails_before_any_change(world: World) -> None:
    text = "DEBUG=0\nDATABASE_URL=postgresql://app_a:old@db/app\n"
    path = _dotenv_world(world, text)
    with pytest.raises(PolicyError) as info:
        world.engine().rotate("shop/db")
    message = info.value.message
    assert "consumer web:DATABSE_URL" in message and f"dotenv:{path}" in message
    assert "does not hold DATABSE_URL" in message and "did you mean DATABASE_URL?" in message
    assert "new: true" in (info.value.hint or "")
    assert path.read_text() == text and world.issuer.calls == [] and world.current() == OLD
    assert not (world.tmp / "state" / "journal").exists() or world.journal_text() == ""


def test_dry_run_says_the_run_would_stop(world: World) -> None:
    path = _dotenv_world(world, "DATABASE_URL=x\n")
    steps = world.engine().plan("shop/db")
    assert [s.action for s in steps] == ["STOP: the run would change nothing"]
    assert "did you mean DATABASE_URL?" in steps[0].detail and path.read_text() == "DATABASE_URL=x\n"


def test_a_key_marked_new_is_added(world: World) -> None:
    path = _dotenv_world(world, "DEBUG=0\n", new=True)
    sleep = Sleeper(world)
    assert world.engine(sleep=sleep).rotate("shop/db").outcome is Outcome.COMPLETE
    assert "DATABSE_URL=" in path.read_text()
    assert len(sleep.waits) == 1, "a .env without restart drains"


def test_listable_platform_target_missing_key(world: World) -> None:
    world.targets["web"] = ListingTarget("web")
    world.add(secret())
    world.targets["web"].env.clear()
    world.targets["web"].seed("DATABASE_URI", "x")
    with pytest.raises(PolicyError, match="did you mean DATABASE_URI"):
        world.engine().rotate("shop/db")


# ---------------------------------------------------------------- plan order, health messages


def test_plan_lists_steps_in_execution_order(world: World) -> None:
    world.targets["worker"] = QuietTarget("worker")
    world.add(
        secret(
            grace="1h",
            drain="15s",
            consumers=[
                {"target": "web", "env": "DATABASE_URL", "template": URL},
                {"target": "worker", "env": "DB_PASSWORD"},
            ],
        )
    )
    steps = [(s.actor, s.action) for s in world.engine().plan("shop/db")]
    assert steps == [
        ("engine", "check every consumer's key is on its target"),
        ("engine", "generate a password value"),
        ("store:memory", "put shop/db as pending"),
        ("issuer:fake", "set new value on app_a"),
        ("store:memory", "record the issuer's attributes on the pending version"),
        ("target:web", "set DATABASE_URL"),
        ("target:web", "read back DATABASE_URL"),
        ("target:worker", "set DB_PASSWORD"),
        ("target:worker", "read back DB_PASSWORD"),
        ("target:web", "redeploy"),
        ("target:web", "wait for deploy"),
        ("target:worker", "redeploy"),
        ("target:worker", "wait for deploy"),
        ("issuer:fake", "log in as app_a with the new value"),
        ("target:web", "verify DATABASE_URL as the app reads it"),
        ("target:worker", "verify DB_PASSWORD as the app reads it"),
        ("store:memory", "promote pending to current (check-and-set)"),
        ("engine", "grace 1:00:00"),
        ("engine", "drain 15s after the last write"),
        ("target:web", "read back every ref"),
        ("target:worker", "read back every ref"),
        ("issuer:fake", "revoke the previous value"),
        ("issuer:fake", "check the previous value is refused"),
        ("store:memory", "mark version 1 revoked"),
    ]


def test_real_issuer_plans_split_into_phases() -> None:
    """The phases of plans shaped as the Postgres, Redis and AWS issuers write them."""
    pg = [
        PlanStep("issuer:postgres", "ALTER ROLE b WITH LOGIN PASSWORD", "SCRAM-SHA-256 verifier of the new value"),
        PlanStep("issuer:postgres", "check: log in as b at 127.0.0.1:5432, SELECT 1", "verify the new value"),
        PlanStep("issuer:postgres", "ALTER ROLE a NOLOGIN", "after consumers switched and the grace period"),
        PlanStep("issuer:postgres", "pg_terminate_backend: sessions of a"),
        PlanStep("issuer:postgres", "check: login as a is refused", "prove the old value dead"),
    ]
    phases = split_issuer_plan(pg)
    assert [s.action.split()[0] for s in phases["apply"]] == ["ALTER"]
    assert [s.action for s in phases["verify"]] == [pg[1].action]
    assert [s.action for s in phases["revoke"]] == [pg[2].action, pg[3].action]
    assert [s.action for s in phases["prove-dead"]] == [pg[4].action]
    redis = [
        PlanStep("issuer:redis", "ACL GETUSER u", "which password hashes the user holds"),
        PlanStep("issuer:redis", "ACL SETUSER u on #<sha256>", "add the new value; the old one keeps working"),
        PlanStep("issuer:redis", "ACL SAVE"),
        PlanStep("issuer:redis", "check: AUTH u + PING", "verify the new value"),
        PlanStep("issuer:redis", "ACL SETUSER u !<sha256>", "remove the old password after the grace"),
        PlanStep("issuer:redis", "ACL SAVE"),
        PlanStep("issuer:redis", "check: AUTH u with the old value is refused", "prove it dead"),
    ]
    phases = split_issuer_plan(redis)
    assert [len(phases[p]) for p in ("apply", "verify", "revoke", "prove-dead")] == [3, 1, 2, 1]
    manual = [
        PlanStep("issuer:manual", "pause: operator mints a new value", "value read from stdin or --value-file"),
        PlanStep("issuer:manual", "no credential check possible", "relies on the consumers' health checks"),
        PlanStep("issuer:manual", "pause: operator revokes the old value and confirms", "after the grace"),
    ]
    phases = split_issuer_plan(manual)
    assert [len(phases[p]) for p in ("apply", "verify", "revoke", "prove-dead")] == [1, 1, 1, 0]


def test_health_check_that_cannot_connect_names_url_and_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    t = [0.0]

    def sleep(s: float) -> None:
        t[0] += s

    result = check_health(
        client,
        HealthCheck(url="http://127.0.0.1:9/healthz", timeout=timedelta(seconds=1)),
        monotonic=lambda: t[0],
        sleep=sleep,
    )
    assert not result.ok
    assert result.detail == "cannot connect to http://127.0.0.1:9/healthz: ConnectError: [Errno 111] Connection refused"


def test_rotate_many_reports_the_missing_key_as_a_usage_error(world: World) -> None:
    _dotenv_world(world, "DATABASE_URL=x\n")
    (result,) = world.engine().rotate_many(["shop/db"])
    assert result.outcome is Outcome.FAILED and result.exit_code == 2
    assert result.failure is not None and "did you mean DATABASE_URL?" in result.failure.reason


def test_plan_of_an_issuer_that_mints_stores_right_after_minting(world: World) -> None:
    world.issuer.gen = True
    world.add(secret(generator={"kind": "issuer"}, consumers=[{"target": "web", "env": "TOKEN"}]))
    actions = [s.action for s in world.engine().plan("shop/db")]
    assert actions[:3] == [
        "check every consumer's key is on its target",
        "set new value on app_a",
        "put shop/db as pending (at once)",
    ]
    assert actions.index("set TOKEN") < actions.index("log in as app_a with the new value")
    assert actions.index("promote pending to current (check-and-set)") < actions.index("revoke the previous value")
