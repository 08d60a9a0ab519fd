"""Switching the consumers to the new value and checking them: `distribute`, `redeploy`, `verify`.

`distribute` renders each consumer's template with the new credential, writes every ref that
does not already hold it (`set_env`) and reads the fingerprint back; `redeploy` restarts each
target and waits (`deploy`, also used by the rollback); `verify` asks the issuer to check the new
value, logs in with each consumer's own value (`rotate/consumer_check.py`) and runs the HTTP
health checks. With `compromised --force`, a failing target is recorded and skipped
(`target_step`). Called by `Engine` with the engine itself (for its store, key and step journal).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from secretops.errors import ExitCode, RotationError
from secretops.inventory.models import SecretSpec
from secretops.rotate import steps as S
from secretops.rotate.consumer_check import check_consumer
from secretops.rotate.context import RunContext, StepFailed, consumer_refs
from secretops.rotate.health import check_health
from secretops.targets.interface import Deployment, DeployState, Target, TargetError
from secretops.values import SecretValue, fingerprint

if TYPE_CHECKING:
    from secretops.rotate.engine import Engine

__all__ = ["deploy", "distribute", "health_checks", "redeploy", "target_step", "verify"]


def target_step(
    engine: Engine, ctx: RunContext, step: str, target: str
) -> contextlib.AbstractContextManager[dict[str, Any]]:
    """A per-target step; with `compromised --force` a failure is recorded and skipped."""
    inner = engine._step(ctx, step, target)
    if not (ctx.compromised and ctx.force):
        return inner

    @contextlib.contextmanager
    def tolerant() -> Iterator[dict[str, Any]]:
        try:
            with inner as d:
                yield d
        except StepFailed as failed:
            if failed.failure.exit_code is ExitCode.USAGE:
                raise
            ctx.skipped[target] = failed.failure

    return tolerant()


def distribute(engine: Engine, ctx: RunContext) -> None:
    assert ctx.new_cred is not None
    fields = engine._fields(ctx.new_cred, ctx.old.value if ctx.old else None)
    for tname, consumers in ctx.by_target().items():
        target = ctx.targets[tname]
        ctx.distributed.add(tname)
        with target_step(engine, ctx, S.DISTRIBUTE, tname) as d:
            envs, fps, changed = [], [], 0
            for consumer in consumers:
                rendered = engine._render(consumer, fields)
                fp = fingerprint(engine.key, rendered)
                for ref in consumer_refs(consumer):
                    envs.append(str(ref))
                    fps.append(fp)
                    if target.read_fingerprint(ref, engine.key) == fp:
                        continue
                    target.set_env(ref, SecretValue(rendered))
                    ctx.touched.add(tname)
                    changed += 1
                    back = target.read_fingerprint(ref, engine.key)
                    if back is not None and back != fp:
                        raise TargetError(
                            f"{target.describe()}: {ref} reads back {back} after the write, expected {fp}",
                            hint="something else rewrote the variable; check the platform",
                        )
            d.update(envs=envs, fingerprints=fps, changed=changed)
            if not changed:
                d["_skipped"] = "every ref already holds the new value"


def deploy(engine: Engine, target: Target) -> Deployment:
    deployment = target.redeploy()
    if deployment.state is DeployState.PENDING:
        deployment = target.wait(deployment, engine.deploy_timeout)
    if deployment.state is DeployState.FAILED:
        raise TargetError(
            f"{target.describe()}: deployment {deployment.id} failed: {deployment.detail}",
            hint="look at the platform's deploy logs",
        )
    if deployment.state is DeployState.PENDING:
        raise TargetError(f"{target.describe()}: deployment {deployment.id} did not finish")
    return deployment


def redeploy(engine: Engine, ctx: RunContext) -> None:
    for tname in ctx.by_target():
        if tname in ctx.skipped:
            continue
        with target_step(engine, ctx, S.REDEPLOY, tname) as d:
            if tname not in ctx.touched and engine._prior_done(ctx, S.REDEPLOY, tname):
                d["_skipped"] = "deployed earlier in this run"
            else:
                deployment = deploy(engine, ctx.targets[tname])
                d["deployment"] = f"{deployment.state.value} {deployment.id}"
                d["state"] = deployment.state.value  # `none`: nothing restarted; the revoke drains


def health_checks(secret: SecretSpec) -> list[tuple[str | None, Any]]:
    checks: list[tuple[str | None, Any]] = [(None, hc) for hc in secret.verify.health]
    checks.extend((c.target, c.health) for c in secret.consumers if c.health is not None)
    return checks


def verify(engine: Engine, ctx: RunContext) -> None:
    """The issuer's check of the new value, then each consumer's own value, then health checks.

    Each consumer's value is read back (or, on a write-only target, taken as rendered),
    parsed as its client parses it and logged in with at the issuer
    (`rotate/consumer_check.py`); one that does not authenticate fails the run before promote,
    so nothing is revoked. Every `verify` line names what it checked and how.
    """
    assert ctx.new_cred is not None
    kind, user = ctx.issuer.kind, ctx.new_cred.attributes.get("username")
    with engine._step(ctx, S.VERIFY) as d:
        if ctx.secret.verify.credential and not getattr(ctx.issuer, "verifiable", True):
            d["credential"] = f"not checkable at the {kind} issuer"
            d["check"] = f"credential: not checkable at the {kind} issuer (health checks only)"
        elif ctx.secret.verify.credential:
            if not ctx.issuer.check(ctx.secret, ctx.new_cred):
                raise RotationError(
                    f"{ctx.secret.name}: the issuer refuses the new value",
                    hint="check the issuer's logs; the previous value was left in place",
                )
            d["credential"] = "ok"
            d["check"] = f"credential: the {kind} issuer accepts the new value" + (f" of {user}" if user else "")
        else:
            d["credential"] = "off"
            d["check"] = "credential: not checked (verify.credential: false)"
    fields = engine._fields(ctx.new_cred, ctx.old.value if ctx.old else None)
    for consumer in ctx.secret.consumers:
        if consumer.target in ctx.skipped:
            continue
        with target_step(engine, ctx, S.VERIFY, consumer.target) as d:
            d.update(
                check_consumer(
                    ctx.secret,
                    consumer,
                    ctx.issuer,
                    ctx.targets[consumer.target],
                    ctx.new_cred,
                    fields,
                    engine._render(consumer, fields),
                    consumer_refs(consumer),
                    engine.key,
                    login=ctx.secret.verify.credential,
                )
            )
    checks = health_checks(ctx.secret)
    if not checks:
        return
    client = engine._http or httpx.Client(follow_redirects=False)
    try:
        for tname, hc in checks:
            if tname is not None and tname in ctx.skipped:
                continue
            step = target_step(engine, ctx, S.VERIFY, tname) if tname else engine._step(ctx, S.VERIFY)
            with step as d:
                kwargs: dict[str, Any] = {}
                if engine._health_sleep is not None:
                    kwargs["sleep"] = engine._health_sleep
                if engine._health_monotonic is not None:
                    kwargs["monotonic"] = engine._health_monotonic
                result = check_health(client, hc, **kwargs)
                d.update(url=hc.url, detail=result.detail, attempts=result.attempts)
                d["check"] = f"health check {hc.url}: {result.detail}"
                if not result.ok:
                    raise RotationError(f"health check {hc.url}: {result.detail}", hint="look at the app's logs")
    finally:
        if engine._http is None:
            client.close()
