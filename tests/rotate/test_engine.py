"""The engine with fakes: strategies, grace, rollback at each step, resume after a crash at each step."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

import httpx
import pytest

from secretops.errors import IssuerError, PolicyError, RotationError, TargetError, UnavailableError
from secretops.issuers.interface import IssuerAuthError
from secretops.rotate.engine import Outcome
from secretops.rotate.lock import RotationLockedError, SecretLock
from secretops.store.interface import Label, StoreConflictError
from secretops.targets.interface import EnvRef
from secretops.values import SecretValue
from tests.rotate.conftest import OLD, World, secret


def url(user: str, value: str) -> str:
    return f"postgresql://{user}:{quote(value, safe='')}@db.internal:5432/app"


def assert_all_hold(world: World, user: str, value: str) -> None:
    assert world.env("web") == url(user, value)
    assert world.env("worker") == url(user, value)
    assert world.env("worker", "DB_PASSWORD") == value
    for t in world.targets.values():
        assert t.live == t.env, "every change was deployed"


def steps_of(world: World) -> list[tuple[str, str, str | None]]:
    return [(e["step"], e["status"], e.get("target")) for e in map(json.loads, world.journal_text().splitlines())]


# ---------------------------------------------------------------- strategies


def test_overlap_complete(world: World) -> None:
    world.add(secret())
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE and result.exit_code == 0
    new = world.current()
    assert new != OLD
    assert_all_hold(world, "app_a", new)
    assert world.issuer.works("app_a", new) and not world.issuer.works("app_a", OLD)
    state = world.store.state("shop/db")
    assert state is not None and state.versions[0].revoked_at is not None
    assert state.labelled(Label.PREVIOUS) == state.versions[0]
    assert result.proof and state.versions[0].fingerprint in result.proof
    done = [s for s, status, _ in steps_of(world) if status in ("done", "skipped")]
    assert done == [
        "generate",
        "stage",
        "apply",
        "distribute",
        "distribute",
        "redeploy",
        "redeploy",
        "verify",  # the issuer's check of the new value
        "verify",  # each consumer's own value: web DATABASE_URL, worker DATABASE_URL and DB_PASSWORD
        "verify",
        "verify",
        "promote",
        "grace",
        "drain",
        "revoke",
        "prove-dead",
        "mark-revoked",
    ]
    assert world.issuer.calls.index("apply") < world.issuer.calls.index("revoke")


def test_alternate_switches_account(world: World) -> None:
    world.add(secret(strategy="alternate", accounts=["app_a", "app_b"]))
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE
    new = world.current()
    assert_all_hold(world, "app_b", new)
    assert world.issuer.works("app_b", new) and not world.issuer.works("app_a", OLD)
    # and back again
    assert world.engine().rotate("shop/db").outcome is Outcome.COMPLETE
    assert world.env("web").startswith("postgresql://app_a:")
    assert not world.issuer.works("app_b", new)


def test_replace(world: World) -> None:
    world.add(secret(strategy="replace", accept_downtime=True))
    assert world.engine().rotate("shop/db").outcome is Outcome.COMPLETE
    assert_all_hold(world, "app_a", world.current())


def test_generates_value_issuer(world: World) -> None:
    world.issuer.gen = True
    world.add(secret(generator={"kind": "issuer"}))
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE
    assert world.current().startswith("minted-")
    assert_all_hold(world, "app_a", world.current())
    assert [s for s, st, _ in steps_of(world) if st == "done"][:2] == ["apply", "stage"]


def test_first_rotation_without_current(world: World) -> None:
    world.add(secret(), seed=False)
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.COMPLETE and "revoke" not in world.issuer.calls
    assert_all_hold(world, "app_a", world.current())


def test_previous_field_for_fallbacks(world: World) -> None:
    world.add(
        secret(
            consumers=[
                {"target": "web", "env": "SECRET_KEY"},
                {"target": "web", "env": "SECRET_KEY_FALLBACKS", "template": "{previous}"},
            ],
        )
    )
    world.engine().rotate("shop/db")
    assert world.env("web", "SECRET_KEY") == world.current()
    assert world.env("web", "SECRET_KEY_FALLBACKS") == OLD


def test_components_and_app_level_refs(world: World) -> None:
    world.add(secret(consumers=[{"target": "web", "env": "TOKEN", "components": ["api", "jobs"], "app_level": True}]))
    world.engine().rotate("shop/db")
    env = world.targets["web"].env
    new = world.current()
    assert env[EnvRef("TOKEN", "api")] == env[EnvRef("TOKEN", "jobs")] == env[EnvRef("TOKEN")] == new


def test_write_only_target(world: World) -> None:
    world.targets["web"].write_only = True
    consumers = [dict(c.model_dump(), verify="accept-unverified") for c in secret().consumers]
    world.add(secret(consumers=consumers))  # without it the revoke is refused: tests/rotate/test_revoke_rules.py
    assert world.engine().rotate("shop/db").outcome is Outcome.COMPLETE
    assert world.env("web") == url("app_a", world.current())


def test_journal_holds_no_values(world: World) -> None:
    world.add(secret())
    world.engine().rotate("shop/db")
    text = world.journal_text()
    new = world.current()
    for raw in (OLD, new, quote(new, safe=""), url("app_a", new)):
        assert raw not in text
    assert "hmac-sha256:" in text


# ---------------------------------------------------------------- grace


def test_grace_ends_awaiting_revoke_then_resume_revokes(world: World) -> None:
    world.add(secret(grace="1h"))
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.AWAITING_REVOKE and result.exit_code == 0
    assert result.revoke_after is not None
    new = world.current()
    assert world.issuer.works("app_a", OLD) and world.issuer.works("app_a", new)
    # too early: still waiting
    world.clock.advance(minutes=30)
    (early,) = world.engine().resume()
    assert early.outcome is Outcome.AWAITING_REVOKE and world.issuer.works("app_a", OLD)
    # a new rotation is refused while the grace runs
    with pytest.raises(RotationError, match="keeps the previous value valid until"):
        world.engine().rotate("shop/db")
    world.clock.advance(minutes=31)
    (late,) = world.engine().resume(result.run_id)
    assert late.outcome is Outcome.COMPLETE and not world.issuer.works("app_a", OLD)
    assert world.engine().resume() == []


def test_rotate_finishes_expired_grace_first(world: World) -> None:
    world.add(secret(grace="1h"))
    first = world.engine().rotate("shop/db")
    middle = world.current()
    world.clock.advance(hours=2)
    second = world.engine().rotate("shop/db")
    assert second.outcome is Outcome.AWAITING_REVOKE
    assert world.engine().state.load(first.run_id or "").outcome == "complete"
    assert not world.issuer.works("app_a", OLD) and world.issuer.works("app_a", middle)


def test_run_due(world: World) -> None:
    world.add(secret(grace="1h"))
    world.add(secret(name="shop/other", accounts=["app_o"]), account="app_o")
    world.targets["web"].env.clear()
    first = world.engine().rotate("shop/db")
    world.clock.advance(hours=2)
    results = world.engine().run_due(due=lambda: ["shop/other"])
    assert [(r.secret, r.outcome) for r in results] == [
        ("shop/db", Outcome.COMPLETE),
        ("shop/other", Outcome.COMPLETE),
    ]
    assert results[0].run_id == first.run_id


# ---------------------------------------------------------------- compromised


def test_compromised_skips_grace_and_proves_dead(world: World) -> None:
    world.add(secret(grace="1h"))
    result = world.engine().rotate("shop/db", compromised=True)
    assert result.outcome is Outcome.COMPLETE
    assert not world.issuer.works("app_a", OLD)
    assert result.proof and "refused the previous value" in result.proof


def test_compromised_unswitchable_target_rolls_back_without_force(world: World) -> None:
    world.add(secret(grace="1h"))
    world.targets["worker"].fail["set DATABASE_URL"] = TargetError("platform said 500")
    result = world.engine().rotate("shop/db", compromised=True)
    assert result.outcome is Outcome.ROLLED_BACK and result.exit_code == 1
    assert world.issuer.works("app_a", OLD)
    assert_all_hold(world, "app_a", OLD)


def test_compromised_force_revokes_anyway(world: World) -> None:
    world.add(secret(grace="1h"))
    world.targets["worker"].fail["set DATABASE_URL"] = TargetError("platform said 500")
    result = world.engine().rotate("shop/db", compromised=True, force=True)
    assert result.outcome is Outcome.INCOMPLETE and result.exit_code == 1
    assert not world.issuer.works("app_a", OLD)
    assert [f.target for f in result.skipped_targets] == ["worker"]
    assert "NOT switched: target worker" in result.summary()
    assert world.env("web") == url("app_a", world.current())


def test_compromised_finishes_a_pending_grace_at_once(world: World) -> None:
    world.add(secret(grace="1h"))
    world.engine().rotate("shop/db")
    middle = world.current()
    result = world.engine().rotate("shop/db", compromised=True)
    assert result.outcome is Outcome.COMPLETE
    assert not world.issuer.works("app_a", OLD) and not world.issuer.works("app_a", middle)


# ---------------------------------------------------------------- failures and rollback


def _fail_apply(w: World) -> None:
    w.issuer.fail["apply"] = IssuerError("permission denied for ALTER ROLE")


def _fail_set_worker(w: World) -> None:
    w.targets["worker"].fail["set DB_PASSWORD"] = TargetError("platform said 500", hint="retry later")


def _fail_readback(w: World) -> None:
    w.targets["worker"].lie_on_write = 1


def _fail_deploy(w: World) -> None:
    w.targets["worker"].deploy_fails = 1


def _fail_check(w: World) -> None:
    w.issuer.fail["check"] = IssuerError("new value refused")


def _fail_promote(w: World) -> None:
    original = w.store.promote

    def conflict(*a: object, **k: object) -> None:
        w.store.promote = original  # type: ignore[method-assign]
        raise StoreConflictError("someone else promoted")

    w.store.promote = conflict  # type: ignore[method-assign]


FAILURES = {
    "apply": (_fail_apply, "apply", None),
    "set": (_fail_set_worker, "distribute", "worker"),
    "readback": (_fail_readback, "distribute", "worker"),
    "deploy": (_fail_deploy, "redeploy", "worker"),
    "check": (_fail_check, "verify", None),
    "promote": (_fail_promote, "promote", None),
}


@pytest.mark.parametrize("strategy", ["overlap", "alternate"])
@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failure_before_revoke_rolls_back(world: World, case: str, strategy: str) -> None:
    accounts = ["app_a", "app_b"] if strategy == "alternate" else ["app_a"]
    world.add(secret(strategy=strategy, accounts=accounts))
    inject, step, target = FAILURES[case]
    inject(world)
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.ROLLED_BACK, result.summary()
    assert result.exit_code == 1
    assert result.failure is not None and (result.failure.step, result.failure.target) == (step, target)
    summary = result.summary()
    assert f"failed at {result.failure.where()}" in summary and "next:" in summary
    assert_all_hold(world, "app_a", OLD)
    assert world.issuer.works("app_a", OLD)
    assert world.current() == OLD
    assert world.store.get("shop/db", Label.PENDING) is None
    assert "revoke" not in world.issuer.calls
    if strategy == "overlap" and case not in ("apply",):
        pending_values = {v for vs in world.issuer.valid.values() for v in vs}
        assert pending_values == {OLD}, "issuer rollback removed the new value"
    # the next rotation works
    assert world.engine().rotate("shop/db").outcome is Outcome.COMPLETE


def test_health_check_failure_names_target(world: World) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "worker.example":
            return httpx.Response(500, text="db down")
        return httpx.Response(200, text="ok: db up")

    world.http = httpx.Client(transport=httpx.MockTransport(handler))
    world.add(
        secret(
            consumers=[
                {
                    "target": "web",
                    "env": "DATABASE_URL",
                    "health": {"url": "http://web.example/h", "contains": "db up"},
                },
                {
                    "target": "worker",
                    "env": "DATABASE_URL",
                    "health": {"url": "http://worker.example/h", "timeout": "1s"},
                },
            ]
        )
    )
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.ROLLED_BACK
    assert result.failure is not None and result.failure.target == "worker"
    assert "status 500, expected 200" in result.failure.reason
    assert world.env("worker") == OLD
    assert world.timer.slept >= 0.5, "the failing check was retried until its timeout"


def test_health_checks_pass(world: World) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text="ok")

    world.http = httpx.Client(transport=httpx.MockTransport(handler))
    world.add(secret(verify={"health": [{"url": "https://shop.example/healthz", "contains": "ok"}]}))
    assert world.engine().rotate("shop/db").outcome is Outcome.COMPLETE
    assert seen == ["https://shop.example/healthz"]


def test_auth_failure_exit_code(world: World) -> None:
    world.add(secret())
    world.issuer.fail["apply"] = IssuerAuthError("password authentication failed for admin")
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.ROLLED_BACK and result.exit_code == 3
    world.targets["web"].fail["redeploy"] = UnavailableError("connection refused")
    assert world.engine().rotate("shop/db").exit_code == 4


def test_failure_message_is_scrubbed(world: World) -> None:
    world.add(secret())

    class Leaky(Exception):
        pass

    original = world.targets["web"].set_env

    def leaky(ref: EnvRef, value: SecretValue) -> None:
        raise Leaky(f"bad value {value.reveal()} for {ref}")

    world.targets["web"].set_env = leaky  # type: ignore[method-assign]
    result = world.engine().rotate("shop/db")
    world.targets["web"].set_env = original  # type: ignore[method-assign]
    assert result.failure is not None and "***" in result.failure.reason
    state = world.store.state("shop/db")
    assert state is not None
    for v in state.versions:
        raw = world.store.get_version("shop/db", v.number).value.reveal()
        assert raw not in result.summary() and raw not in world.journal_text()


def test_rollback_problem_is_reported_and_resumable(world: World) -> None:
    world.add(secret())
    world.issuer.fail["check"] = IssuerError("new value refused")
    # the forward deploy works; the rollback's deploy fails once
    calls = {"n": 0}
    original = world.targets["web"].redeploy

    def flaky():  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise TargetError("deploys are paused")
        return original()

    world.targets["web"].redeploy = flaky  # type: ignore[method-assign]
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.FAILED
    assert any("target web: could not restore" in p for p in result.problems)
    assert "resume" in (result.next_step or "")
    (again,) = world.engine().resume()
    assert again.outcome is Outcome.ROLLED_BACK
    assert_all_hold(world, "app_a", OLD)


def test_revoke_failure_leaves_both_valid_then_resume(world: World) -> None:
    world.add(secret())
    world.issuer.fail["revoke"] = IssuerError("server went away")
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.INCOMPLETE and result.exit_code == 1
    new = world.current()
    assert world.issuer.works("app_a", OLD) and world.issuer.works("app_a", new)
    assert f"secretops resume {result.run_id}" in (result.next_step or "")
    (done,) = world.engine().resume()
    assert done.outcome is Outcome.COMPLETE and not world.issuer.works("app_a", OLD)


def test_prove_dead_failure(world: World) -> None:
    world.add(secret())
    world.issuer.revoke = lambda *a, **k: None  # type: ignore[method-assign]
    result = world.engine().rotate("shop/db")
    assert result.outcome is Outcome.INCOMPLETE
    assert result.failure is not None and result.failure.step == "prove-dead"
    state = world.store.state("shop/db")
    assert state is not None and state.versions[0].revoked_at is None


def test_never_revokes_while_a_target_serves_the_old_value(world: World) -> None:
    world.add(secret(grace="1h"))
    result = world.engine().rotate("shop/db")
    world.targets["worker"].env[EnvRef("DB_PASSWORD")] = OLD  # someone put it back
    world.clock.advance(hours=2)
    (late,) = world.engine().resume(result.run_id)
    assert late.outcome is Outcome.INCOMPLETE
    assert late.failure is not None and late.failure.target is None and "DB_PASSWORD" in late.failure.reason
    assert world.issuer.works("app_a", OLD)


# ---------------------------------------------------------------- crash and resume


class Crash(BaseException):
    """Stands for SIGKILL: nothing below the hook runs, no cleanup."""


def _crash_at(step: str, target: str | None = None):  # type: ignore[no-untyped-def]
    def hook(name: str, tgt: str | None) -> None:
        if name == step and (target is None or tgt == target):
            raise Crash(step)

    return hook


CRASH_POINTS = [
    ("generate", None),
    ("stage", None),
    ("apply", None),
    ("distribute", "web"),
    ("distribute", "worker"),
    ("redeploy", "web"),
    ("redeploy", "worker"),
    ("verify", None),
    ("promote", None),
    ("grace", None),
    ("revoke", None),
    ("prove-dead", None),
    ("mark-revoked", None),
]


CRASH_CASES = [
    pytest.param(
        step,
        target,
        gen,
        id=f"{step}:{target}-{'minted' if gen else 'generated'}"
        if target
        else f"{step}-{'minted' if gen else 'generated'}",
    )
    for step, target in CRASH_POINTS
    for gen in (False, True)
    if not (gen and step == "generate")  # issuer-minted values have no generate step
]


@pytest.mark.parametrize("strategy", ["overlap", "alternate"])
@pytest.mark.parametrize(("step", "target", "gen"), CRASH_CASES)
def test_crash_then_resume_converges(world: World, step: str, target: str | None, strategy: str, gen: bool) -> None:
    world.issuer.gen = gen
    accounts = ["app_a", "app_b"] if strategy == "alternate" else ["app_a"]
    world.add(secret(strategy=strategy, accounts=accounts, generator={"kind": "issuer" if gen else "password"}))
    with pytest.raises(Crash):
        world.engine(hook=_crash_at(step, target)).rotate("shop/db")
    # after the crash, consumers hold a value that works
    for t in world.targets.values():
        for raw in t.env.values():
            assert any(raw.endswith(v) or quote(v, safe="") in raw for vs in world.issuer.valid.values() for v in vs)
    (result,) = world.engine().resume()
    assert result.outcome is Outcome.COMPLETE, result.summary()
    new = world.current()
    user = "app_b" if strategy == "alternate" else "app_a"
    assert_all_hold(world, user, new)
    assert world.issuer.works(user, new)
    assert not world.issuer.works("app_a", OLD)
    assert world.store.get("shop/db", Label.PENDING) is None
    if gen:  # no issuer-side leftovers: only the new value is valid anywhere
        assert {v for vs in world.issuer.valid.values() for v in vs} == {new}
    assert world.engine().resume() == []


def test_crash_during_rollback_then_resume(world: World) -> None:
    world.add(secret())
    world.issuer.fail["check"] = IssuerError("new value refused")
    calls = {"n": 0}

    def hook(name: str, tgt: str | None) -> None:
        pass

    original = world.targets["web"].set_env

    def crashing(ref: EnvRef, value: SecretValue) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the rollback's first write
            raise Crash("rollback")
        original(ref, value)

    world.targets["web"].set_env = crashing  # type: ignore[method-assign]
    with pytest.raises(Crash):
        world.engine(hook=hook).rotate("shop/db")
    world.targets["web"].set_env = original  # type: ignore[method-assign]
    (result,) = world.engine().resume()
    assert result.outcome is Outcome.ROLLED_BACK
    assert_all_hold(world, "app_a", OLD)
    assert world.current() == OLD and world.store.get("shop/db", Label.PENDING) is None


def test_rotate_refuses_while_a_run_is_unfinished(world: World) -> None:
    world.add(secret())
    with pytest.raises(Crash):
        world.engine(hook=_crash_at("verify")).rotate("shop/db")
    with pytest.raises(RotationError, match="did not finish") as info:
        world.engine().rotate("shop/db")
    assert "secretops resume r-" in (info.value.hint or "")


# ---------------------------------------------------------------- dry run, lock, concurrency


def test_plan_touches_nothing(world: World) -> None:
    world.add(secret(grace="1h"))
    before = {n: dict(t.env) for n, t in world.targets.items()}
    world.store.calls.clear()
    steps = world.engine().plan("shop/db")
    text = "\n".join(f"{s.actor} {s.action} {s.detail}" for s in steps)
    assert world.issuer.calls == [] and world.store.calls == []
    assert all(t.calls == [] for t in world.targets.values())
    assert {n: dict(t.env) for n, t in world.targets.items()} == before
    assert not (world.tmp / "state" / "journal").exists()
    for needle in (
        "generate",
        "put shop/db as pending",
        "set DATABASE_URL",
        "redeploy",
        "promote",
        "grace 1:00:00",
        "revoke the previous value",
        "check the previous value is refused",
    ):
        assert needle in text
    assert OLD not in text
    order = [s.action for s in steps]
    assert order.index("redeploy") < order.index("promote pending to current (check-and-set)")


def test_plan_replace_warns(world: World) -> None:
    world.add(secret(strategy="replace", accept_downtime=True))
    assert "WARNING" in world.engine().plan("shop/db")[0].action


def test_unknown_secret_and_strategy(world: World) -> None:
    with pytest.raises(PolicyError, match="no secret named"):
        world.engine().rotate("nope")


def test_lock_blocks_second_run(world: World) -> None:
    world.add(secret())
    with SecretLock(world.tmp / "state" / "locks", "shop/db"), pytest.raises(RotationLockedError):
        world.engine().rotate("shop/db")


def test_concurrent_runs(world: World) -> None:
    names = [f"app/s{i}" for i in range(6)]
    for i, name in enumerate(names):
        world.add(secret(name=name, accounts=[f"u{i}"], consumers=[{"target": "web", "env": f"S{i}"}]), account=f"u{i}")
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def hook(step: str, target: str | None) -> None:
        if step == "generate":
            with lock:
                active["now"] += 1
                active["max"] = max(active["max"], active["now"])
        if step == "mark-revoked":
            with lock:
                active["now"] -= 1

    results = world.engine(hook=hook).rotate_many(names, concurrency=3)
    assert [r.outcome for r in results] == [Outcome.COMPLETE] * 6
    assert 1 <= active["max"] <= 3
    for i, name in enumerate(names):
        assert world.env("web", f"S{i}") == world.current(name)
