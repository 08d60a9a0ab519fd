"""The rotation commands: `rotate`, `resume`, `history` and `compromised`.

Each builds an `Engine` (`secretops.rotate.engine`) over the policies, the store, the real
issuers (`secretops.issuers.build_issuer`) and targets (`secretops.targets.build_target`), calls
one engine method and prints what happened, run by run, with the next step when a run did not
complete. Exit codes: 0 complete (or waiting out a grace period), 1 rolled back or incomplete,
2 bad policy or usage, 3 authentication refused, 4 something unreachable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from secretops.errors import ConfigError, ExitCode
from secretops.inventory.loader import load_inventory
from secretops.inventory.models import IssuerSpec, TargetSpec
from secretops.issuers import ConsoleManualInput, Issuer, build_issuer
from secretops.issuers.interface import PlanStep
from secretops.rotate.engine import Engine, Outcome, RunResult, crash_hook_from_env
from secretops.rotate.journal import RunRecord
from secretops.settings import Settings
from secretops.state import StateBackend, open_state
from secretops.store import open_store
from secretops.targets import Target, build_target

__all__ = ["build_engine", "register"]

PoliciesOption = Annotated[
    Path | None,
    typer.Option("--policies", help="Policy directory or file (default: policies/, or SECRETOPS_POLICIES)."),
]
ValueFileOption = Annotated[
    Path | None,
    typer.Option("--value-file", help="Manual issuers: read the new value from this file instead of the terminal."),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Manual issuers: answer confirmations with yes.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print every call the run would make; touch nothing.")]


def build_engine(settings: Settings, *, value_file: Path | None = None, assume_yes: bool = False) -> Engine:
    """An engine over the policies, store, state, issuers and targets that `settings` point at.

    The state is `open_state(settings)` (`SECRETOPS_STATE`: files under the state directory, or
    PostgreSQL); `Engine.close()` closes it with the store.
    """
    inventory = load_inventory(settings.policies_dir)
    state = open_state(settings)
    try:
        store = open_store(settings)
    except BaseException:
        state.close()
        raise
    env = dict(os.environ)
    manual = ConsoleManualInput(value_file=value_file, assume_yes=assume_yes)

    def issuer(name: str, spec: IssuerSpec) -> Issuer:
        return build_issuer(spec, env, manual_input=manual)

    def target(name: str, spec: TargetSpec) -> Target:
        return build_target(name, spec, env)

    return Engine(
        inventory,
        store,
        state=state,
        key=settings.fingerprint_key(),
        issuer_factory=issuer,
        target_factory=target,
        hook=crash_hook_from_env(os.environ),
        echo=typer.echo,
    )


def _print_plan(name: str, steps: Sequence[PlanStep]) -> None:
    typer.echo(f"plan for {name} (dry run: nothing is touched)")
    width = max((len(s.actor) for s in steps), default=0)
    for i, step in enumerate(steps, 1):
        detail = f"  [{step.detail}]" if step.detail else ""
        typer.echo(f"  {i:2d}. {step.actor.ljust(width)}  {step.action}{detail}")


def _report(results: Sequence[RunResult], audit: tuple[StateBackend, str, bool] | None = None) -> int:
    if not results:
        typer.echo("nothing to do")
        return int(ExitCode.OK)
    typer.echo("")
    for result in results:
        typer.echo(result.summary())
    runs = [r for r in results if r.outcome is not Outcome.SKIPPED]  # a skip is another runner's run
    if audit is not None and runs:  # every run leaves an audit entry (secretops.audit.hooks)
        from secretops.audit.hooks import record_runs

        record_runs(audit[0], runs, audit[1], compromised=audit[2])
    return max(r.exit_code for r in results)


def rotate_command(
    names: Annotated[list[str] | None, typer.Argument(help="Secrets to rotate (names from the policies).")] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Rotate every secret past its period; finish pending revokes.")
    ] = False,
    dry_run: DryRunOption = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Runs at once.")] = 1,
    policies: PoliciesOption = None,
    value_file: ValueFileOption = None,
    yes: YesOption = False,
) -> int:
    """Rotate secrets: generate, stage, apply, distribute, redeploy, verify, promote, revoke."""
    if bool(names) == due:
        raise ConfigError("give secret names or --due (not both)", hint="secretops rotate shop/db, or rotate --due")
    settings = Settings.from_env(policies_dir=policies)
    engine = build_engine(settings, value_file=value_file, assume_yes=yes)
    try:
        if dry_run:
            chosen = list(names or [])
            if due:
                from secretops.inventory.status import due as due_names

                chosen = due_names(load_inventory(settings.policies_dir), engine.store, engine.clock())
                if not chosen:
                    typer.echo("nothing is due")
            for name in chosen:
                _print_plan(name, engine.plan(name))
            return int(ExitCode.OK)
        audit = (engine.state, "rotate", False)
        if due:
            return _report(engine.run_due(concurrency=concurrency), audit)
        assert names is not None
        if len(names) == 1:
            return _report([engine.rotate(names[0])], audit)
        return _report(engine.rotate_many(names, concurrency=concurrency), audit)
    finally:
        engine.close()


def resume_command(
    run_id: Annotated[str | None, typer.Argument(help="Run to finish (default: every unfinished run).")] = None,
    policies: PoliciesOption = None,
    value_file: ValueFileOption = None,
    yes: YesOption = False,
) -> int:
    """Finish runs that crashed, failed after promote, or wait out a grace period."""
    settings = Settings.from_env(policies_dir=policies)
    engine = build_engine(settings, value_file=value_file, assume_yes=yes)
    try:
        return _report(engine.resume(run_id), (engine.state, "resume", False))
    finally:
        engine.close()


def compromised_command(
    name: Annotated[str | None, typer.Argument(help="The secret that leaked (or use --from-scan / --finding).")] = None,
    from_scan: Annotated[
        Path | None, typer.Option("--from-scan", help="Act on the leaks of this `scan --format json` report.")
    ] = None,
    finding: Annotated[
        list[str] | None,
        typer.Option("--finding", help="Only the finding with this fingerprint (repeatable; alone: inventory only)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the incident report here (.md, or .json by extension).")
    ] = None,
    verify_databases: Annotated[
        bool,
        typer.Option("--verify-databases", help="Prove database findings dead by logging in to the host they name."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Revoke the old value even if some target cannot be switched.")
    ] = False,
    dry_run: DryRunOption = False,
    policies: PoliciesOption = None,
    value_file: ValueFileOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm revocations at providers and manual issuers without asking.")
    ] = False,
) -> int:
    """Rotate a leaked secret now: no grace, revoke as soon as consumers are switched, prove it dead."""
    settings = Settings.from_env(policies_dir=policies)
    if from_scan is not None or finding or report is not None:
        from secretops.cli.incident import run_incident

        return run_incident(
            settings,
            name=name,
            from_scan=from_scan,
            fingerprints=list(finding or []),
            report=report,
            databases=verify_databases,
            force=force,
            dry_run=dry_run,
            value_file=value_file,
            yes=yes,
        )
    if name is None:
        raise ConfigError(
            "name the secret that leaked, or give --from-scan REPORT.json or --finding FINGERPRINT",
            hint="secretops compromised shop/db, or compromised --from-scan report.json",
        )
    engine = build_engine(settings, value_file=value_file, assume_yes=yes)
    try:
        if dry_run:
            _print_plan(name, engine.plan(name, compromised=True))
            return int(ExitCode.OK)
        return _report([engine.rotate(name, compromised=True, force=force)], (engine.state, "rotate", True))
    finally:
        engine.close()


def _print_run(record: RunRecord, steps: bool) -> None:
    started = record.started()
    strategy = started.detail.get("strategy", "?") if started else "?"
    flags = " compromised" if started and started.detail.get("compromised") else ""
    typer.echo(
        f"{record.run_id}  {record.secret}  {record.started_at.isoformat(timespec='seconds')}  "
        f"{strategy}{flags}  {record.outcome}"
    )
    if not steps:
        return
    for entry in record.entries:
        if entry.status == "start":
            continue
        where = f" {entry.target}" if entry.target else ""
        keys = ("reason", "fingerprint", "version", "deployment", "revoke_after", "proof", "username", "url", "check")
        extra = "  ".join(f"{k}={entry.detail[k]}" for k in keys if entry.detail.get(k) not in (None, ""))
        typer.echo(
            f"    {entry.ts.strftime('%H:%M:%S')}  {entry.step}{where}: {entry.status}"
            + (f"  {extra}" if extra else "")
        )


def history_command(
    name: Annotated[str | None, typer.Argument(help="Only runs of this secret (shows their steps).")] = None,
    steps: Annotated[bool, typer.Option("--steps", help="Show every run's steps.")] = False,
) -> int:
    """Past rotation runs and their steps, from the journal (fingerprints only, never values)."""
    with open_state(Settings.from_env()) as state:
        records = state.runs(name)
    if not records:
        typer.echo(f"no runs of {name}" if name else "no runs yet")
        return int(ExitCode.OK)
    for record in records:
        _print_run(record, steps or name is not None)
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add `rotate`, `resume`, `history` and `compromised` to `app`."""
    app.command("rotate")(rotate_command)
    app.command("resume")(resume_command)
    app.command("history")(history_command)
    app.command("compromised")(compromised_command)
