"""The rotation engine: one run per secret, every step journaled, resumable, rolled back on failure.

A run (design.md, "Rules of the engine"):

1. `generate` a value (`rotate/generators.py`), 2. `stage` it as the store's `pending` version,
3. `apply` it at the issuer (issuers that mint values, AWS IAM and manual, apply first and the
engine stages what they returned at once), 4. `distribute` it to every consumer (render the
consumer's template, `set_env` each ref, read the fingerprint back and compare), 5. `redeploy`
each target and wait, 6. `verify` (issuer `check` of the new value, HTTP health checks),
7. `promote` (store check-and-set), 8. `grace`, 9. `drain`, 10. `revoke` the previous value,
11. `prove-dead` (`check` of the old value must fail), 12. `mark-revoked` in the store.
Steps 4-6 are in `rotate/consumers.py`, 8-12 in `rotate/revoke.py`; the rollback in
`rotate/rollback.py`.

Before any change, `rotate` checks that every consumer's key is on its target
(`rotate/preflight.py`: a typo would leave the app on the old, soon revoked, variable).

Before `revoke` (`rotate/revoke_rules.py`): every consumer's target finished its redeploy in
this run; targets that restarted nothing (a `.env` with no `restart`) get `drain` after the last
write, so readers that cached the old value re-read it (even in `compromised` runs; only
`compromised --force` skips it); a consumer whose target cannot be read back is trusted only
with its own health check or `verify: accept-unverified`. The sleep is injectable.

Grace: a run whose grace has not passed ends in state `awaiting-revoke` (exit 0: the new value
is live, the old one still works); `secretops resume` or `rotate --due` finishes the revoke once
the grace is over. The clock is injectable, so tests move time instead of sleeping.

Every step first checks whether it is already done (store labels and run ids, target
fingerprints, issuer `check`), so `resume` after a crash at any point converges. A failure before
`promote` rolls back: consumers get the old value again (and are redeployed), the issuer's
`rollback` undoes `apply`, the pending version is discarded, and the old value is checked to
still work. After `promote`, nothing is rolled back: the new value is verified and live, and a
failed revoke leaves both values working until `resume` retries it. The engine never revokes a
value while a consumer's read-back differs from the new value, nor before verification passed.

`compromised` runs skip the grace. If some target cannot be switched, such a run rolls back
like any other, unless `force` is set: then failing targets are reported and skipped, and the
old value is revoked anyway.

State (runs, the step journal, per-secret leases) goes through `secretops.state.StateBackend`
only: files on one machine, or PostgreSQL shared by several runners. Every run holds its
secret's lease, checked before each step that changes the world (`_GUARDED`); a runner that lost
it stops at that boundary (`Outcome.INTERRUPTED`, resumable). `run_due` takes over runs whose
runner died, and re-checks each due secret under its lease, so each is rotated once
(`secretops/state/interface.py`, docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from secretops.errors import (
    AuthError,
    ConfigError,
    ExitCode,
    PolicyError,
    RotationError,
    SecretOpsError,
    UnavailableError,
)
from secretops.inventory.models import ConsumerSpec, IssuerSpec, SecretSpec, TargetSpec
from secretops.inventory.templates import Template, TemplateError
from secretops.issuers.interface import Credential, Issuer, PlanStep
from secretops.rotate import consumers, planner, revoke, rollback
from secretops.rotate import due as due_runs
from secretops.rotate import steps as S
from secretops.rotate.context import LeaseLost, RunContext, StepFailed, consumer_refs, credential_of
from secretops.rotate.generators import generate
from secretops.rotate.journal import RunRecord, new_run_id
from secretops.rotate.lock import RotationLockedError
from secretops.rotate.preflight import check_consumers
from secretops.rotate.results import Failure, InventoryView, Outcome, RunResult, StaticInventory
from secretops.rotate.serialized import SerializedStore
from secretops.state.interface import LeaseLostError, SecretLease, StateBackend
from secretops.store.interface import Label, Store, StoredValue
from secretops.targets.interface import Target
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = [
    "CRASH_ENV",
    "Engine",
    "Failure",
    "InventoryView",
    "Outcome",
    "RunResult",
    "SerializedStore",
    "StaticInventory",
    "StepHook",
    "consumer_refs",
    "crash_hook_from_env",
]

log = logging.getLogger(__name__)

#: Test hook only: `SECRETOPS_TEST_CRASH_AT=<step>` or `<step>:<target>` kills the process with
#: SIGKILL just before that step starts (see `crash_hook_from_env`). Inert when unset.
CRASH_ENV = "SECRETOPS_TEST_CRASH_AT"

StepHook = Callable[[str, str | None], None]


def crash_hook_from_env(environ: Mapping[str, str]) -> StepHook | None:
    """A hook that SIGKILLs this process before the step named in `SECRETOPS_TEST_CRASH_AT`.

    Used by the crash-safety tests and benchmark to stop a run at each step boundary exactly as
    a power cut would (no cleanup, no `finally`). Returns None, so nothing happens, when unset.
    """
    spec = environ.get(CRASH_ENV)
    if not spec:
        return None
    step, _, target = spec.partition(":")

    def hook(name: str, tgt: str | None) -> None:
        if name == step and (not target or target == tgt):
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


#: Steps that change the world: the lease is checked before each, so a runner that lost it stops
#: at a step boundary (`Outcome.INTERRUPTED`) and the run stays resumable.
_GUARDED: frozenset[str] = frozenset(
    {S.STAGE, S.APPLY, S.DISTRIBUTE, S.REDEPLOY, S.PROMOTE, S.REVOKE, S.MARK_REVOKED, S.ROLLBACK}
)


class Engine:
    """Runs, resumes and plans rotations for the secrets of an inventory.

    `issuer_factory(name, spec)` and `target_factory(name, spec)` build the implementations (the
    CLI passes `secretops.issuers.build_issuer` and `secretops.targets.build_target`; tests pass
    fakes). `echo` receives progress lines as they happen (never a value). `sleep` waits out a
    `drain` (default `time.sleep`; tests pass one that moves their clock).

    `state` is where runs, journals and leases live (the CLI passes `open_state(settings)`);
    without it, `state_dir` builds the `FileState` there (stamped with `clock`). `close()`
    closes the store and the state.
    """

    def __init__(
        self,
        inventory: InventoryView,
        store: Store,
        *,
        key: FingerprintKey,
        issuer_factory: Callable[[str, IssuerSpec], Issuer],
        target_factory: Callable[[str, TargetSpec], Target],
        state: StateBackend | None = None,
        state_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        http: httpx.Client | None = None,
        hook: StepHook | None = None,
        deploy_timeout: timedelta = timedelta(minutes=15),
        health_sleep: Callable[[float], None] | None = None,
        health_monotonic: Callable[[], float] | None = None,
        echo: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.inventory = inventory
        # Calls from `--concurrency` threads run one at a time, unless the store says it is safe
        # to call at once (`thread_safe`: the PostgreSQL store, a session per thread).
        thread_safe = isinstance(store, SerializedStore) or getattr(store, "thread_safe", False) is True
        self.store = store if thread_safe else SerializedStore(store)
        self.key = key
        self.issuer_factory = issuer_factory
        self.target_factory = target_factory
        self.clock = clock or (lambda: datetime.now(UTC))
        if state is None:
            if state_dir is None:
                raise TypeError("Engine needs state= (a StateBackend) or state_dir=")
            from secretops.state.files import FileState

            state = FileState(Path(state_dir), clock=self.clock)
        self.state: StateBackend = state
        self.state_dir = Path(state_dir) if state_dir is not None else getattr(state, "state_dir", None)
        self._http = http
        self.hook = hook
        self.deploy_timeout = deploy_timeout
        self._health_sleep = health_sleep
        self._health_monotonic = health_monotonic
        self._echo = echo
        self._sleep = sleep or time.sleep

    def close(self) -> None:
        """Close the store and the state backend (connections, lease heartbeats)."""
        try:
            self.store.close()
        finally:
            self.state.close()

    # ------------------------------------------------------------ public API

    def rotate(self, name: str, *, compromised: bool = False, force: bool = False) -> RunResult:
        """Rotate `name` now, holding its lease (`RotationLockedError` when another runner holds it).

        Errors before the run starts are raised.
        """
        secret = self._secret(name)
        with self.state.exclusive(name) as lease:
            return self._rotate_held(secret, lease, compromised=compromised, force=force)

    def _rotate_held(self, secret: SecretSpec, lease: SecretLease, *, compromised: bool, force: bool) -> RunResult:
        name = secret.name
        settled = self._settle_unfinished(secret, lease, compromised=compromised)
        ctx = self._context(secret, new_run_id(self.clock()), lease, compromised=compromised, force=force, prior=None)
        try:
            check_consumers(secret, ctx.targets, self.key)
            lease.check()
        except BaseException:
            self._close(ctx.issuer, ctx.targets)
            raise
        ctx.lines.extend(settled)
        old = ctx.old
        ctx.run.append(
            S.RUN,
            "started",
            strategy=secret.strategy.value,
            compromised=compromised,
            force=force,
            issuer=secret.issuer,
            targets=sorted(ctx.targets),
            old_version=old.version.number if old else None,
            old_fingerprint=old.version.fingerprint if old else None,
        )
        self._say(ctx, f"run {ctx.run.run_id}: rotating {name} ({secret.strategy.value})")
        return self._drive(ctx)

    def resume(self, run_id: str | None = None) -> list[RunResult]:
        """Finish one run, or every unfinished run (crashed, incomplete, awaiting revoke).

        A named run whose secret another runner holds raises `RotationLockedError`; without a
        run id, such runs are reported `skipped` (that runner is on them) and the rest go on.
        """
        if run_id is not None:
            record = self.state.load(run_id)
            secret = self._secret(record.secret)
            with self.state.exclusive(record.secret) as lease:
                return [self._resume(secret, self.state.load(run_id), lease, compromised=False)]
        results = []
        for record in [r for r in self.state.runs() if r.outcome in S.UNFINISHED]:
            secret = self._secret(record.secret)
            try:
                with self.state.exclusive(record.secret) as lease:
                    results.append(self._resume(secret, self.state.load(record.run_id), lease, compromised=False))
            except RotationLockedError as exc:
                results.append(due_runs.held_elsewhere(record.secret, exc, record.run_id))
        return results

    def rotate_many(
        self, names: Sequence[str], *, concurrency: int = 1, compromised: bool = False, force: bool = False
    ) -> list[RunResult]:
        """Rotate several secrets, at most `concurrency` at a time; errors become failed results."""
        return self._each(names, concurrency, lambda name: self.rotate(name, compromised=compromised, force=force))

    def _each(self, names: Sequence[str], concurrency: int, run: Callable[[str], RunResult]) -> list[RunResult]:
        def one(name: str) -> RunResult:
            try:
                return run(name)
            except SecretOpsError as exc:
                failure = Failure("start", None, exc.message, exc.hint, exc.exit_code)
                return RunResult(name, None, Outcome.FAILED, failure=failure, next_step=exc.hint)

        if concurrency <= 1 or len(names) <= 1:
            return [one(n) for n in names]
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rotate") as pool:
            return list(pool.map(one, names))

    def run_due(
        self,
        *,
        concurrency: int = 1,
        due: Callable[[], list[str]] | None = None,
        still_due: Callable[[str], bool] | None = None,
    ) -> list[RunResult]:
        """Finish unfinished runs, then rotate every secret past its period; safe with several
        runners on one shared state (`secretops.rotate.due`).

        `due()` lists what to rotate (default: the store's state against the policies); after
        taking each secret's lease, `still_due(name)` is the second look (default `is_due`; with
        an injected `due` and no `still_due`, only the check for runs this pass had not seen).
        A result is `skipped` (exit 0) when another runner holds the secret or rotated it meanwhile.
        """
        return due_runs.run_due(self, concurrency=concurrency, due=due, still_due=still_due)

    def is_due(self, name: str) -> bool:
        """Whether `name` is due by the store's state now (overdue or never rotated)."""
        return due_runs.is_due(self, name)

    def plan(self, name: str, *, compromised: bool = False) -> list[PlanStep]:
        """Every call a run of `name` would make, in order, masked. Touches nothing (`rotate/planner.py`)."""
        return planner.plan(self, name, compromised=compromised)

    def history(self, name: str | None = None) -> list[RunRecord]:
        """Runs (of `name`), oldest first."""
        return self.state.runs(name)

    # ------------------------------------------------------------ setup

    def _secret(self, name: str) -> SecretSpec:
        try:
            return self.inventory.secrets[name]
        except KeyError:
            known = ", ".join(sorted(self.inventory.secrets)) or "none"
            raise PolicyError(f"no secret named {name!r} in the policies", hint=f"known secrets: {known}") from None

    def _build(self, secret: SecretSpec) -> tuple[Issuer, dict[str, Target]]:
        spec = self.inventory.issuers.get(secret.issuer)
        if spec is None:
            raise PolicyError(f"{secret.name}: issuer {secret.issuer!r} is not declared")
        issuer = self.issuer_factory(secret.issuer, spec)
        if secret.strategy not in issuer.strategies:
            allowed = ", ".join(sorted(s.value for s in issuer.strategies))
            issuer.close()
            raise PolicyError(
                f"{secret.name}: the {issuer.kind} issuer does not support strategy {secret.strategy.value}",
                hint=f"use one of: {allowed}",
            )
        targets: dict[str, Target] = {}
        try:
            for consumer in secret.consumers:
                if consumer.target in targets:
                    continue
                tspec = self.inventory.targets.get(consumer.target)
                if tspec is None:
                    raise PolicyError(f"{secret.name}: target {consumer.target!r} is not declared")
                targets[consumer.target] = self.target_factory(consumer.target, tspec)
        except BaseException:
            self._close(issuer, targets)
            raise
        return issuer, targets

    @staticmethod
    def _close(issuer: Issuer, targets: Mapping[str, Target]) -> None:
        with contextlib.suppress(Exception):
            issuer.close()
        for target in targets.values():
            with contextlib.suppress(Exception):
                target.close()

    def _context(
        self,
        secret: SecretSpec,
        run_id: str,
        lease: SecretLease,
        *,
        compromised: bool,
        force: bool,
        prior: RunRecord | None,
    ) -> RunContext:
        issuer, targets = self._build(secret)
        old: StoredValue | None
        if prior is None:
            old = self.store.get(secret.name, Label.CURRENT)
        else:
            started = prior.started()
            number = started.detail.get("old_version") if started else None
            old = self.store.get_version(secret.name, int(number)) if number is not None else None
        older = self._value_before(secret.name, old)
        return RunContext(
            secret=secret,
            run=self.state.start_run(run_id, secret.name),
            lease=lease,
            issuer=issuer,
            targets=targets,
            old=old,
            older=older,
            compromised=compromised,
            force=force,
            prior=prior,
        )

    def _value_before(self, name: str, old: StoredValue | None) -> SecretValue | None:
        """The value of the newest version older than `old` (its `{previous}`), if still held."""
        if old is None:
            return None
        state = self.store.state(name)
        if state is None:
            return None
        earlier = [v for v in state.versions if v.number < old.version.number]
        for version in sorted(earlier, key=lambda v: v.number, reverse=True):
            if Label.PENDING in version.labels:
                continue
            return self.store.get_version(name, version.number).value
        return None

    def _settle_unfinished(self, secret: SecretSpec, lease: SecretLease, *, compromised: bool) -> list[str]:
        """Before a new run: finish (or refuse because of) earlier runs of the same secret."""
        lines: list[str] = []
        for record in self.state.runs(secret.name):
            outcome = record.outcome
            if outcome not in S.UNFINISHED:
                continue
            if compromised or outcome == "awaiting-revoke":
                result = self._resume(secret, record, lease, compromised=compromised)
                lines.extend(result.lines)
                if result.outcome is Outcome.COMPLETE:
                    continue
                if result.outcome is Outcome.AWAITING_REVOKE:
                    after = result.revoke_after.isoformat(timespec="seconds") if result.revoke_after else "?"
                    raise RotationError(
                        f"{secret.name}: run {record.run_id} keeps the previous value valid until {after}",
                        hint="rotate again after that (rotate --due finishes the revoke), "
                        f"or `secretops compromised {secret.name}` if the value leaked",
                    )
                raise RotationError(
                    f"{secret.name}: earlier run {record.run_id} could not be finished ({result.outcome.value})",
                    hint=result.next_step or f"see `secretops history {secret.name}`",
                )
            raise RotationError(
                f"{secret.name}: run {record.run_id} did not finish ({outcome})",
                hint=f"finish it first: secretops resume {record.run_id}",
            )
        return lines

    def _resume(self, secret: SecretSpec, record: RunRecord, lease: SecretLease, *, compromised: bool) -> RunResult:
        if record.outcome not in S.UNFINISHED:
            line = f"run {record.run_id}: already {record.outcome}"
            return RunResult(secret.name, record.run_id, Outcome.NOTHING, lines=[line])
        started = record.started()
        detail = started.detail if started else {}
        ctx = self._context(
            secret,
            record.run_id,
            lease,
            compromised=compromised or bool(detail.get("compromised")),
            force=bool(detail.get("force")),
            prior=record,
        )
        try:
            lease.check()
        except BaseException:
            self._close(ctx.issuer, ctx.targets)
            raise
        ctx.run.append(S.RUN, "resumed", after=record.outcome)
        was = "interrupted" if record.outcome == "running" else record.outcome  # we hold its lease: it died
        self._say(ctx, f"run {record.run_id}: resuming {secret.name} (was {was})")
        rollback = next((e for e in record.entries if e.step == S.ROLLBACK and e.status == "start"), None)
        if rollback is not None:
            ctx.new = self._pending(ctx)
            if ctx.new is not None:
                ctx.new_cred = credential_of(ctx.new)
            fail = Failure(
                str(rollback.detail.get("failed_step", "?")),
                rollback.detail.get("failed_target"),
                str(rollback.detail.get("reason", "see history")),
            )
            return self._drive(ctx, rollback=StepFailed(fail, RotationError(fail.reason)))
        return self._drive(ctx)

    # ------------------------------------------------------------ the run

    def _say(self, ctx: RunContext, line: str) -> None:
        ctx.lines.append(line)
        if self._echo is not None:
            self._echo(line)

    def _scrub(self, ctx: RunContext, text: str) -> str:
        for raw in ctx.secrets_in_play():
            text = text.replace(raw, "***").replace(quote(raw, safe=""), "***")
        return text

    @contextlib.contextmanager
    def _step(self, ctx: RunContext, step: str, target: str | None = None) -> Iterator[dict[str, Any]]:
        if self.hook is not None:
            self.hook(step, target)
        if step in _GUARDED:
            # The lease is checked with the journal line, in one write where the state can.
            try:
                ctx.run.append_guarded(ctx.lease, step, "start", target=target)
            except LeaseLostError as exc:
                raise LeaseLost(step, target, exc) from exc
        else:
            ctx.run.append(step, "start", target=target)
        detail: dict[str, Any] = {}
        try:
            yield detail
        except StepFailed:
            raise
        except Exception as exc:
            if isinstance(exc, SecretOpsError):
                reason, hint = exc.message, exc.hint
            else:
                reason, hint = f"{type(exc).__name__}: {exc}", None
            reason = self._scrub(ctx, reason)
            code = ExitCode.FINDINGS
            if isinstance(exc, AuthError):
                code = ExitCode.AUTH
            elif isinstance(exc, UnavailableError):
                code = ExitCode.UNAVAILABLE
            elif isinstance(exc, PolicyError | ConfigError):
                code = ExitCode.USAGE
            ctx.run.append(step, "failed", target=target, reason=reason)
            label = f"{step} {target}" if target else step
            self._say(ctx, f"  FAIL {label}: {reason}")
            raise StepFailed(Failure(step, target, reason, hint, code), exc) from exc
        skipped = detail.pop("_skipped", None)
        ctx.run.append(step, "skipped" if skipped else "done", target=target, **detail)
        label = f"{step} {target}" if target else step
        check = f": {detail['check']}" if detail.get("check") and not skipped else ""  # what `verify` checked
        self._say(ctx, f"  {'skip' if skipped else 'ok  '} {label}" + (f" ({skipped})" if skipped else "") + check)

    @staticmethod
    def _check_lease(ctx: RunContext, step: str, target: str | None) -> None:
        """Before a step that changes the world: stop (`LeaseLost`) unless this runner still holds the secret."""
        try:
            ctx.lease.check()
        except LeaseLostError as exc:
            raise LeaseLost(step, target, exc) from exc

    def _lease_lost(self, ctx: RunContext, lost: LeaseLost) -> RunResult:
        """The run stopped at a step boundary: nothing half-done, resumable by whoever holds the lease next."""
        where = f"{lost.step} {lost.target}" if lost.target else lost.step
        self._say(ctx, f"  STOP before {where}: {lost.error.message}")
        failure = Failure(lost.step, lost.target, lost.error.message, lost.error.hint, ExitCode.FINDINGS)
        return RunResult(
            ctx.secret.name,
            ctx.run.run_id,
            Outcome.INTERRUPTED,
            lines=ctx.lines,
            failure=failure,
            next_step="another runner's `secretops rotate --due` takes the run over once the lease expires; "
            f"or run `secretops resume {ctx.run.run_id}`",
        )

    def _prior_done(self, ctx: RunContext, step: str, target: str | None = None) -> bool:
        if ctx.prior is None:
            return False
        entry = ctx.prior.done(step, target)
        return entry is not None

    def _pending(self, ctx: RunContext) -> StoredValue | None:
        pending = self.store.get(ctx.secret.name, Label.PENDING)
        if pending is not None and pending.version.run_id == ctx.run.run_id:
            return pending
        return None

    def _promoted(self, ctx: RunContext) -> StoredValue | None:
        current = self.store.get(ctx.secret.name, Label.CURRENT)
        if current is not None and current.version.run_id == ctx.run.run_id:
            return current
        return None

    def _drive(self, ctx: RunContext, *, rollback: StepFailed | None = None) -> RunResult:
        """Take the run's remaining steps (or finish the rollback a resumed run had begun)."""
        try:
            if rollback is not None:
                return self._rollback(ctx, rollback)
            return self._drive_steps(ctx)
        except LeaseLost as lost:
            return self._lease_lost(ctx, lost)
        finally:
            with contextlib.suppress(Exception):  # a line lost here is a crash's: the resume redoes that step
                ctx.run.flush()
            self._close(ctx.issuer, ctx.targets)

    def _drive_steps(self, ctx: RunContext) -> RunResult:
        promoted = self._promoted(ctx)
        if promoted is None:
            try:
                self._before_promote(ctx)
            except StepFailed as failed:
                return self._rollback(ctx, failed)
        else:
            ctx.new = promoted
            ctx.new_cred = credential_of(promoted)
        try:
            return revoke.after_promote(self, ctx)
        except StepFailed as failed:
            f = failed.failure
            ctx.run.append(S.RUN, "incomplete", failed_step=f.step, failed_target=f.target, reason=f.reason)
            return RunResult(
                ctx.secret.name,
                ctx.run.run_id,
                Outcome.INCOMPLETE,
                lines=ctx.lines,
                failure=f,
                next_step=(f.hint + "; then " if f.hint else "")
                + f"run `secretops resume {ctx.run.run_id}` (the new value is live; the previous one still works)",
            )

    def _before_promote(self, ctx: RunContext) -> None:
        secret, name = ctx.secret, ctx.secret.name
        old_cred = credential_of(ctx.old) if ctx.old else None
        pending = self._pending(ctx)
        if ctx.issuer.generates_value:
            if pending is None:
                with self._step(ctx, S.APPLY) as d:
                    if ctx.prior is not None:
                        removed = ctx.issuer.reconcile(secret, [old_cred] if old_cred else [])
                        d["reconciled"] = len(removed)
                        for item in removed:
                            self._say(ctx, f"  reconcile: removed {item}")
                    ctx.new_cred = ctx.issuer.apply(secret, old_cred, None)
                    d["fingerprint"] = fingerprint(self.key, ctx.new_cred.value)
                with self._step(ctx, S.STAGE) as d:
                    self.store.put(
                        name, ctx.new_cred.value, attributes=dict(ctx.new_cred.attributes), run_id=ctx.run.run_id
                    )
                    pending = self._pending(ctx)
                    assert pending is not None
                    d["version"] = pending.version.number
                    d["fingerprint"] = pending.version.fingerprint
            else:
                with self._step(ctx, S.APPLY) as d:
                    d["_skipped"] = f"already applied and staged as version {pending.version.number}"
            ctx.new = pending
            ctx.new_cred = credential_of(pending)
        else:
            if pending is None:
                with self._step(ctx, S.GENERATE) as d:
                    generated = generate(secret.generator)
                    d["kind"] = secret.generator.kind
                    d["fingerprint"] = fingerprint(self.key, generated.value)
                with self._step(ctx, S.STAGE) as d:
                    self.store.put(name, generated.value, attributes=dict(generated.attributes), run_id=ctx.run.run_id)
                    pending = self._pending(ctx)
                    assert pending is not None
                    d["version"] = pending.version.number
                    d["fingerprint"] = pending.version.fingerprint
            ctx.new = pending
            ctx.new_cred = credential_of(pending)
            with self._step(ctx, S.APPLY) as d:
                if self._prior_done(ctx, S.APPLY) and ctx.issuer.check(secret, ctx.new_cred):
                    d["_skipped"] = "the new value already works at the issuer"
                else:
                    cred = ctx.issuer.apply(secret, old_cred, pending.value)
                    merged = {**pending.version.attributes, **cred.attributes}
                    if merged != dict(pending.version.attributes):
                        # One version per rotation: what the issuer decided (the account it reset)
                        # goes onto the staged version in place, not onto a second copy.
                        self.store.set_attributes(name, pending.version.number, merged, run_id=ctx.run.run_id)
                        pending = self._pending(ctx)
                        assert pending is not None
                    ctx.new = pending
                    ctx.new_cred = credential_of(pending)
                    d["version"] = pending.version.number
                    d.update({k: v for k, v in merged.items() if k in ("username", "access_key_id", "kid")})
        consumers.distribute(self, ctx)
        consumers.redeploy(self, ctx)
        consumers.verify(self, ctx)
        assert ctx.new is not None
        with self._step(ctx, S.PROMOTE) as d:
            self.store.promote(
                name,
                ctx.new.version.number,
                expected_current=ctx.old.version.number if ctx.old else None,
                run_id=ctx.run.run_id,
            )
            d["version"] = ctx.new.version.number

    def _fields(self, cred: Credential, previous: SecretValue | None) -> dict[str, str]:
        fields = cred.fields()
        fields["previous"] = previous.reveal() if previous is not None else ""
        return fields

    def _render(self, consumer: ConsumerSpec, fields: Mapping[str, str]) -> str:
        try:
            return Template(consumer.template).render(fields)
        except TemplateError as exc:
            raise PolicyError(
                f"consumer {consumer.target}:{consumer.env}: {exc}",
                hint="use only fields this issuer provides (value, username, ...) in the template",
            ) from None

    # ------------------------------------------------------------ rollback

    def _rollback(self, ctx: RunContext, failed: StepFailed) -> RunResult:
        """Undo what the run did before `promote` (`secretops.rotate.rollback`)."""
        return rollback.rollback(self, ctx, failed)
