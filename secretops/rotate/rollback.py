"""Rolling a run back after a step before `promote` failed.

Consumers get the previous value again (rendered as before, read back, redeployed), the
issuer's `rollback` undoes `apply`, the pending version is discarded, and the previous value is
checked to still work. A target this run provably never wrote is left alone. The lease is
checked before each change, so a runner that lost it stops (the next one finishes the rollback
from the journal). The outcome is `rolled-back`, or `failed` with the problems named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretops.errors import SecretOpsError
from secretops.rotate import steps as S
from secretops.rotate.consumers import deploy
from secretops.rotate.context import RunContext, StepFailed, consumer_refs, credential_of
from secretops.rotate.results import Outcome, RunResult
from secretops.targets.interface import TargetError
from secretops.values import SecretValue, fingerprint

if TYPE_CHECKING:
    from secretops.rotate.engine import Engine

__all__ = ["never_written", "rollback"]


def never_written(engine: Engine, ctx: RunContext, tname: str) -> bool:
    """True when this run provably never wrote target `tname`: nothing there to restore.

    A target whose first write was refused (a `.env` path that does not exist) is in
    `ctx.distributed` but holds nothing new; "restoring" it would fail the same way and turn a
    clean rollback into a `failed` run. Only a target that can be read back qualifies: a
    write-only one is restored regardless, since nothing proves it was not written.
    """
    if tname in ctx.touched or ctx.new_cred is None:
        return False
    if ctx.prior is not None and any(e.step == S.DISTRIBUTE and e.target == tname for e in ctx.prior.entries):
        return False
    target = ctx.targets[tname]
    if not target.reads_values():
        return False
    fields = engine._fields(ctx.new_cred, ctx.old.value if ctx.old else None)
    try:
        for consumer in ctx.by_target()[tname]:
            fp = fingerprint(engine.key, engine._render(consumer, fields))
            if any(target.read_fingerprint(ref, engine.key) == fp for ref in consumer_refs(consumer)):
                return False
    except Exception:  # unreadable now: restore as usual, and let that report the problem
        return False
    return True


def rollback(engine: Engine, ctx: RunContext, failed: StepFailed) -> RunResult:
    f = failed.failure
    name = ctx.secret.name
    engine._check_lease(ctx, S.ROLLBACK, None)
    ctx.run.append(S.ROLLBACK, "start", failed_step=f.step, failed_target=f.target, reason=f.reason)
    engine._say(ctx, f"  rolling back after failure at {f.where()}")
    problems: list[str] = []
    restored: list[str] = []
    prior_distributed = {
        e.target for e in (ctx.prior.entries if ctx.prior else ()) if e.step == S.DISTRIBUTE and e.target
    }
    to_restore = [t for t in ctx.by_target() if t in ctx.distributed or t in prior_distributed]
    if ctx.old is None and to_restore:
        problems.append("no previous value in the store: consumers keep the new value")
    elif ctx.old is not None:
        fields = engine._fields(credential_of(ctx.old), ctx.older)
        for tname in to_restore:
            target = ctx.targets[tname]
            engine._check_lease(ctx, S.ROLLBACK, tname)
            if never_written(engine, ctx, tname):
                restored.append(tname)
                ctx.run.append(S.ROLLBACK, "done", target=tname, restored=True, note="never written")
                continue
            try:
                changed = False
                for consumer in ctx.by_target()[tname]:
                    rendered = engine._render(consumer, fields)
                    fp = fingerprint(engine.key, rendered)
                    for ref in consumer_refs(consumer):
                        if target.read_fingerprint(ref, engine.key) == fp:
                            continue
                        target.set_env(ref, SecretValue(rendered))
                        changed = True
                        back = target.read_fingerprint(ref, engine.key)
                        if back is not None and back != fp:
                            raise TargetError(f"{target.describe()}: {ref} reads back {back}, not the old value")
                if changed or tname in ctx.touched or tname in prior_distributed:
                    deploy(engine, target)
                restored.append(tname)
                ctx.run.append(S.ROLLBACK, "done", target=tname, restored=True)
            except Exception as exc:
                reason = engine._scrub(ctx, exc.message if isinstance(exc, SecretOpsError) else repr(exc))
                problems.append(f"target {tname}: could not restore the previous value: {reason}")
                ctx.run.append(S.ROLLBACK, "failed", target=tname, reason=reason)
    engine._check_lease(ctx, S.ROLLBACK, None)
    if ctx.new_cred is not None:
        try:
            ctx.issuer.rollback(ctx.secret, ctx.new_cred, credential_of(ctx.old) if ctx.old else None)
        except Exception as exc:
            reason = engine._scrub(ctx, exc.message if isinstance(exc, SecretOpsError) else repr(exc))
            problems.append(f"issuer rollback: {reason}")
    pending = engine._pending(ctx)
    if pending is not None:
        try:
            engine.store.discard_pending(name, pending.version.number)
        except Exception as exc:
            problems.append(f"store: could not discard the pending version: {exc}")
    if ctx.old is not None and getattr(ctx.issuer, "verifiable", True):
        try:
            if not ctx.issuer.check(ctx.secret, credential_of(ctx.old)):
                problems.append("the previous value no longer works at the issuer")
        except Exception as exc:
            reason = engine._scrub(ctx, exc.message if isinstance(exc, SecretOpsError) else repr(exc))
            problems.append(f"could not check the previous value: {reason}")
    outcome = Outcome.FAILED if problems else Outcome.ROLLED_BACK
    ctx.run.append(
        S.RUN,
        outcome.value,
        failed_step=f.step,
        failed_target=f.target,
        reason=f.reason,
        restored=restored,
        problems=problems,
    )
    if problems:
        next_step = f"fix the problems above, then `secretops resume {ctx.run.run_id}` to finish the rollback"
    else:
        what = "consumers hold the previous value again and it still works" if ctx.old else "nothing was in use"
        engine._say(ctx, f"  rolled back: {what}")
        again = f"`secretops compromised {name}` again" if ctx.compromised else f"`secretops rotate {name}` again"
        next_step = (f.hint + "; then " if f.hint else "fix the cause, then ") + again
        if ctx.compromised:
            next_step += f" (or `secretops compromised {name} --force` to revoke even if {f.target or 'it'} "
            next_step += "cannot be switched)"
    return RunResult(name, ctx.run.run_id, outcome, lines=ctx.lines, failure=f, problems=problems, next_step=next_step)
