"""The steps after `promote`: `grace`, `drain`, `revoke`, `prove-dead`, `mark-revoked`.

A run inside its grace ends `awaiting-revoke` (the new value is live, the old one still works).
Before `revoke`, every consumer's target must have finished its redeploy in this run, readers
nothing restarted get `drain` (`drain_readers`), and every consumer is checked not to serve the
previous value (`assert_not_served`, with the rules of `rotate/revoke_rules.py`). Nothing here is
rolled back: a failure leaves both values working until `resume` retries. Called by `Engine`
with the engine itself (for its store, key, clock and step journal).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from secretops.errors import RotationError
from secretops.rotate import revoke_rules
from secretops.rotate import steps as S
from secretops.rotate.context import RunContext, consumer_refs, credential_of
from secretops.rotate.results import Outcome, RunResult
from secretops.targets.interface import Target, TargetError
from secretops.values import fingerprint

if TYPE_CHECKING:
    from secretops.rotate.engine import Engine

__all__ = ["after_promote", "assert_not_served", "done", "drain_readers", "lists_keys"]


def after_promote(engine: Engine, ctx: RunContext) -> RunResult:
    secret, name = ctx.secret, ctx.secret.name
    assert ctx.new is not None and ctx.new_cred is not None
    old = ctx.old
    if old is None:
        ctx.run.append(S.RUN, "complete", note="no previous value to revoke")
        engine._say(ctx, "  no previous value: nothing to revoke")
        return done(ctx)
    old_now = engine.store.get_version(name, old.version.number)
    if old_now.version.revoked_at is not None:
        ctx.run.append(S.RUN, "complete")
        return done(ctx)
    if not ctx.compromised and secret.grace > timedelta(0):
        promote = ctx.run.record().done(S.PROMOTE)
        promoted_at = promote.ts if promote is not None else engine.clock()
        revoke_after = promoted_at + secret.grace
        if engine.clock() < revoke_after:
            ctx.run.append(S.RUN, "awaiting-revoke", revoke_after=revoke_after.isoformat())
            engine._say(ctx, f"  grace: previous value kept until {revoke_after.isoformat(timespec='seconds')}")
            return RunResult(
                name,
                ctx.run.run_id,
                Outcome.AWAITING_REVOKE,
                lines=ctx.lines,
                revoke_after=revoke_after,
                skipped_targets=list(ctx.skipped.values()),
                next_step="`secretops rotate --due` (or `secretops resume "
                f"{ctx.run.run_id}`) revokes the previous value after the grace period",
            )
    with engine._step(ctx, S.GRACE) as d:
        d["_skipped" if ctx.compromised or not secret.grace else "grace"] = (
            "no grace" if ctx.compromised or not secret.grace else str(secret.grace)
        )
    drain_readers(engine, ctx)
    old_cred = credential_of(old)
    with engine._step(ctx, S.REVOKE) as d:
        d.update(assert_not_served(engine, ctx))
        ctx.issuer.revoke(secret, old_cred, ctx.new_cred)
        d["version"] = old.version.number
        d["fingerprint"] = old.version.fingerprint
    proof: str | None = None
    with engine._step(ctx, S.PROVE_DEAD) as d:
        if secret.verify.prove_dead and not getattr(ctx.issuer, "verifiable", True):
            d["_skipped"] = f"the {ctx.issuer.kind} issuer cannot log in: no proof possible"
            engine._say(ctx, f"  note: the {ctx.issuer.kind} issuer cannot prove the previous value dead")
        elif secret.verify.prove_dead:
            if ctx.issuer.check(secret, old_cred):
                raise RotationError(
                    f"{name}: the previous value ({old.version.fingerprint}) still works after revoke",
                    hint="revoke it by hand at the issuer, then resume",
                )
            proof = (
                f"the {ctx.issuer.kind} issuer refused the previous value {old.version.fingerprint} "
                f"at {engine.clock().isoformat(timespec='seconds')}"
            )
            d["proof"] = proof
        else:
            d["_skipped"] = "verify.prove_dead is off"
    with engine._step(ctx, S.MARK_REVOKED) as d:
        engine.store.mark_revoked(name, old.version.number)
        d["version"] = old.version.number
    ctx.run.append(S.RUN, "incomplete" if ctx.skipped else "complete", skipped_targets=sorted(ctx.skipped))
    return done(ctx, proof=proof)


def done(ctx: RunContext, *, proof: str | None = None) -> RunResult:
    result = RunResult(
        ctx.secret.name,
        ctx.run.run_id,
        Outcome.INCOMPLETE if ctx.skipped else Outcome.COMPLETE,
        lines=ctx.lines,
        proof=proof,
        skipped_targets=list(ctx.skipped.values()),
    )
    if ctx.skipped:
        result.next_step = (
            "switch the targets listed above to the new value by hand "
            f"(`secretops store show {ctx.secret.name} --reveal` prints it): the previous one is revoked"
        )
    return result


def drain_readers(engine: Engine, ctx: RunContext) -> None:
    """Before revoking: every redeploy finished; wait `drain` for readers nothing restarted."""
    with engine._step(ctx, S.DRAIN) as d:
        record = ctx.run.record()
        live = [t for t in ctx.by_target() if t not in ctx.skipped]
        missing = revoke_rules.unredeployed(record, live)
        if missing:
            raise RotationError(
                f"{ctx.secret.name}: target(s) {', '.join(missing)} finished no redeploy in run {ctx.run.run_id}; "
                "refusing to revoke the previous value they may still serve",
                hint=f"`secretops resume {ctx.run.run_id}` after checking the deploys",
            )
        wait = revoke_rules.drain_wait(record, ctx.secret, live, engine.clock())
        drain = revoke_rules.duration(ctx.secret.drain)
        d["drain"] = drain
        if wait.targets:
            d["not_restarted"] = list(wait.targets)
        if ctx.compromised and ctx.force:
            d["_skipped"] = "compromised --force: revoking without waiting for readers to re-read"
        elif not wait.targets:
            d["_skipped"] = "every consumer's target was restarted"
        elif ctx.secret.drain <= timedelta(0):
            d["_skipped"] = "drain 0s: readers that cached the previous value may fail"
        elif not wait.needed:
            d["_skipped"] = f"{drain} passed since the last write"
        else:
            seconds = wait.remaining.total_seconds()
            engine._say(
                ctx,
                f"  drain: waiting {seconds:.1f}s so readers of {', '.join(wait.targets)} re-read the new value",
            )
            engine._sleep(seconds)
            d["waited"] = round(seconds, 3)


def assert_not_served(engine: Engine, ctx: RunContext) -> dict[str, list[str]]:
    """Refuse to revoke while any consumer may still use the previous value; say how each was checked.

    A ref that reads back must hold the new rendering; one that reads nothing on a target
    that can list its keys was removed (refused); one on a write-only target is trusted only
    with its consumer's health check or `verify: accept-unverified` (`revoke_rules`).
    """
    assert ctx.new_cred is not None
    fields = engine._fields(ctx.new_cred, ctx.old.value if ctx.old else None)
    how: dict[str, list[str]] = {"read_back": [], "health_checked": [], "accepted_unverified": []}
    for tname, consumers in ctx.by_target().items():
        if tname in ctx.skipped:
            continue
        target = ctx.targets[tname]
        for consumer in consumers:
            expected = fingerprint(engine.key, engine._render(consumer, fields))
            for ref in consumer_refs(consumer):
                got = target.read_fingerprint(ref, engine.key)
                label = f"{tname}:{ref}"
                if got is not None and got != expected:
                    raise TargetError(
                        f"{target.describe()}: {ref} does not hold the new value ({got}); "
                        "refusing to revoke the previous value it may still serve",
                        hint=f"find out who changed {ref}, then resume",
                    )
                if got is not None:
                    how["read_back"].append(label)
                    continue
                if lists_keys(target) and ref.component is None:
                    raise TargetError(
                        f"{target.describe()}: {ref} is no longer set; refusing to revoke the previous value",
                        hint=f"find out who removed {ref} (or changed the file), then resume",
                    )
                problem = revoke_rules.write_only_problem(ctx.secret, consumer, ref, target.describe())
                if problem is not None:
                    raise problem
                how["health_checked" if consumer.health is not None else "accepted_unverified"].append(label)
    return {k: v for k, v in how.items() if v}


def lists_keys(target: Target) -> bool:
    """Whether an unset read on `target` means the var is gone (not merely hidden)."""
    from secretops.rotate.preflight import held_keys

    try:
        return held_keys(target) is not None
    except TargetError:
        return False
