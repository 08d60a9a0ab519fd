"""`Engine.plan`: every call a run would make, in order, masked (`rotate --dry-run`). Touches nothing.

Called by `Engine.plan` with the engine itself (for its builders, store and key).

The plan reads the store's current version and asks the issuer for its own steps
(`plan_phases.split_issuer_plan` places them), then lists every target write, read-back,
redeploy, verification, the promote, the grace and drain, and the revoke with its proof.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from secretops.errors import PolicyError
from secretops.inventory.models import SecretSpec
from secretops.issuers.interface import PlanStep
from secretops.rotate import revoke_rules
from secretops.rotate.consumers import health_checks
from secretops.rotate.context import consumer_refs, credential_of
from secretops.rotate.plan_phases import split_issuer_plan
from secretops.rotate.preflight import ALWAYS_WRITE_ONLY, check_consumers
from secretops.store.interface import Label
from secretops.targets.interface import Target

if TYPE_CHECKING:
    from secretops.rotate.engine import Engine

__all__ = ["plan"]


def plan(engine: Engine, name: str, *, compromised: bool = False) -> list[PlanStep]:
    """Every call a run of `name` would make, in order, masked. Touches nothing."""
    secret = engine._secret(name)
    issuer, targets = engine._build(secret)
    try:
        current = engine.store.get(name, Label.CURRENT)
        cur = credential_of(current) if current else None
        steps: list[PlanStep] = []
        eng = "engine"
        store = f"store:{engine.store.id}"
        actor = f"issuer:{issuer.kind}"
        phases = split_issuer_plan(issuer.plan(secret, cur))
        if secret.strategy.value == "replace":
            warning = "consumers break until they are redeployed with the new value"
            steps.append(PlanStep(eng, "WARNING strategy replace", warning))
        try:
            check_consumers(secret, targets, engine.key)
        except PolicyError as exc:
            steps.append(PlanStep(eng, "STOP: the run would change nothing", exc.message))
            return steps
        steps.append(PlanStep(eng, "check every consumer's key is on its target", "nothing changes otherwise"))
        if issuer.generates_value:
            steps.extend(phases["apply"] or [PlanStep(actor, "apply: the issuer mints the new value")])
            steps.append(PlanStep(store, f"put {name} as pending (at once)"))
        else:
            steps.append(PlanStep(eng, f"generate a {secret.generator.kind} value"))
            steps.append(PlanStep(store, f"put {name} as pending"))
            steps.extend(phases["apply"])
            steps.append(PlanStep(store, "record the issuer's attributes on the pending version", "same version"))
        ctx_targets = sorted({c.target for c in secret.consumers})
        for tname in ctx_targets:
            tgt = targets[tname]
            for consumer in (c for c in secret.consumers if c.target == tname):
                for ref in consumer_refs(consumer):
                    now_fp = current.version.fingerprint if current and consumer.template == "{value}" else None
                    detail = f"template {consumer.template!r}" if consumer.template != "{value}" else "the value"
                    if now_fp:
                        detail += f" (now {now_fp})"
                    steps.append(PlanStep(f"target:{tname}", f"set {ref}", f"{tgt.describe()}: {detail}"))
                    steps.append(PlanStep(f"target:{tname}", f"read back {ref}", "compare fingerprints"))
        for tname in ctx_targets:
            tgt = targets[tname]
            steps.append(PlanStep(f"target:{tname}", "redeploy", tgt.describe()))
            steps.append(PlanStep(f"target:{tname}", "wait for deploy", f"timeout {engine.deploy_timeout}"))
        if secret.verify.credential:
            steps.extend(phases["verify"] or [PlanStep(actor, "check the new credential")])
        how = "parse it as the consumer's client does" + (
            ", log in at the issuer with what it yields" if secret.verify.credential else ""
        )
        for consumer in secret.consumers:
            steps.append(
                PlanStep(
                    f"target:{consumer.target}",
                    f"verify {consumer.env} as the app reads it",
                    f"read it back (the rendered value on a write-only target), {how}",
                )
            )
        for hc in health_checks(secret):
            steps.append(PlanStep(hc[0] or eng, f"GET {hc[1].url}", f"expect {hc[1].status}"))
        steps.append(PlanStep(store, "promote pending to current (check-and-set)"))
        if current is None:
            steps.append(PlanStep(eng, "no previous value: nothing to revoke"))
            return steps
        if compromised or not secret.grace:
            steps.append(PlanStep(eng, "no grace period: revoke at once"))
        else:
            steps.append(
                PlanStep(eng, f"grace {secret.grace}", "run ends awaiting-revoke; resume or rotate --due revokes")
            )
        steps.append(_plan_drain(secret, ctx_targets, targets))
        for tname in ctx_targets:
            check = "must hold the new value"
            if targets[tname].kind in ALWAYS_WRITE_ONLY:
                check = "write-only: the consumer's health check (or verify: accept-unverified) stands in"
            steps.append(PlanStep(f"target:{tname}", "read back every ref", check))
        revoke = phases["revoke"] or [PlanStep(actor, "revoke the previous value")]
        tag = f"previous value {current.version.fingerprint}"
        steps.append(PlanStep(revoke[0].actor, revoke[0].action, f"{revoke[0].detail}; {tag}".lstrip("; ")))
        steps.extend(revoke[1:])
        if secret.verify.prove_dead:
            steps.extend(phases["prove-dead"] or [PlanStep(actor, "check the previous value is refused")])
        steps.append(PlanStep(store, f"mark version {current.version.number} revoked"))
        return steps
    finally:
        engine._close(issuer, targets)


def _plan_drain(secret: SecretSpec, names: Sequence[str], targets: Mapping[str, Target]) -> PlanStep:
    """The plan's drain line: which targets restart nothing, so the revoke waits `drain` for their readers."""
    drain = revoke_rules.duration(secret.drain)
    quiet = [n for n in names if _restarts_nothing(targets[n])]
    if quiet:
        what = f"{', '.join(quiet)} restart(s) nothing: their readers re-read the new value on their own"
    else:
        what = "for any target whose redeploy restarts nothing (the run records each deploy)"
    if secret.drain <= timedelta(0):
        return PlanStep("engine", "drain 0s: revoke without waiting", what + "; readers that cached it may fail")
    return PlanStep("engine", f"drain {drain} after the last write", what + " (not with compromised --force)")


def _restarts_nothing(target: Target) -> bool:
    """For the plan: whether `target`'s redeploy will likely restart nothing (the run records the truth)."""
    spec = getattr(target, "spec", None)
    if target.kind == "dotenv":
        return not getattr(spec, "restart", None)
    if target.kind == "render":
        return not getattr(spec, "deploy", True)
    return target.kind in ALWAYS_WRITE_ONLY
