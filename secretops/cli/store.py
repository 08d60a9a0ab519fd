"""The `store` command group: `store import` (adopt deployed values), `store list`, `store show`.

`import` loads the policies and reads what each secret's consumers hold: from their own targets
(no source given), from one `.env` file (`--from-env-file`, applied to the consumers whose target
is that file, or to `--secret NAME`), or from the environment (`--from-environment`). It hands
that to `secretops.store.importer.import_values` and exits 1 when a secret needs attention
(conflicting, unparsable, ambiguous, differing from the store, or a consumer key its target
lacks), else 0. `list` and `show` print what the store holds: names, versions, labels and
fingerprints, never a value, except `show --reveal`, which prints the current value to a
terminal after recording who asked (`secretops.store.access_log`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from secretops.errors import ConfigError, ExitCode, StoreError
from secretops.settings import Settings
from secretops.store import SecretState, Store, open_store
from secretops.store.access_log import AccessLog
from secretops.store.importer import (
    EnvFile,
    Environment,
    ImportResult,
    ImportStatus,
    TargetFiles,
    ValueSource,
    import_values,
)
from secretops.store.interface import Label

__all__ = ["register"]

store_app = typer.Typer(
    name="store",
    help="The secret store: adopt deployed values, list what it holds (never values).",
    no_args_is_help=True,
)


def _open(settings: Settings) -> Store:
    return open_store(settings)


@store_app.command("import")
def import_command(
    from_env_file: Annotated[
        Path | None,
        typer.Option(
            "--from-env-file",
            help="Read values from this .env file (for the consumers whose target it is, or --secret).",
            dir_okay=False,
        ),
    ] = None,
    from_environment: Annotated[
        bool, typer.Option("--from-environment", help="Read values from this process's environment.")
    ] = False,
    secret: Annotated[
        str | None, typer.Option("--secret", help="Import only this secret (the source holds its values).")
    ] = None,
    policies: Annotated[
        Path | None, typer.Option("--policies", help="Policy file or directory (default: policies/).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be stored; change nothing.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Adopt deployed values even where the store's current differs.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> int:
    """Store the values consumers already use as `current`, read from each secret's own targets."""
    from secretops.inventory.loader import load_inventory

    if from_env_file is not None and from_environment:
        raise ConfigError(
            "give at most one of --from-env-file PATH or --from-environment",
            hint="with neither, every consumer's own target is read",
        )
    settings = Settings.from_env(policies_dir=policies)
    inventory = load_inventory(settings.policies_dir)
    source: ValueSource
    if from_env_file is not None:
        source = EnvFile(from_env_file, inventory.targets, any_target=secret is not None)
    elif from_environment:
        source = Environment(dict(os.environ))
    else:
        source = TargetFiles(inventory.targets)
    store = _open(settings)
    try:
        results = import_values(
            inventory.secrets,
            store,
            source,
            fingerprint_key=settings.fingerprint_key(),
            only=secret,
            dry_run=dry_run,
            overwrite=overwrite,
        )
    finally:
        store.close()
    _render_import(results, as_json=as_json, dry_run=dry_run)
    return int(ExitCode.FINDINGS if any(r.needs_attention for r in results) else ExitCode.OK)


def _render_import(results: list[ImportResult], *, as_json: bool, dry_run: bool) -> None:
    if as_json:
        rows = [
            {
                "secret": r.secret,
                "status": r.status.value,
                "consumers": list(r.consumers),
                "envs": list(r.envs),
                "fingerprint": r.fingerprint,
                "version": r.version,
                "detail": r.detail,
                "missing": [{"consumer": c, "reason": why} for c, why in r.missing],
                "unread": [{"consumer": c, "reason": why} for c, why in r.unread],
                "dry_run": r.dry_run,
            }
            for r in results
        ]
        typer.echo(json.dumps({"dry_run": dry_run, "results": rows}, indent=2))
        return
    if not results:
        typer.echo("no secrets declared in the policies")
        return
    width = max(len(r.secret) for r in results)
    for r in results:
        status = "would import" if r.dry_run else r.status.value
        version = f"v{r.version}" if r.version is not None else "-"
        consumers = ",".join(r.consumers) or "-"
        fp = r.fingerprint or "-"
        typer.echo(f"{status:<12} {r.secret:<{width}} {version:<5} {fp:<44} {consumers}  {r.detail}".rstrip())
        for what, pairs in (("missing", r.missing), ("not read", r.unread)):
            by_reason: dict[str, list[str]] = {}
            for consumer, why in pairs:
                by_reason.setdefault(why, []).append(consumer)
            for why, consumers_ in by_reason.items():
                typer.echo(f"{'':<12} {'':<{width}} {what}: {', '.join(consumers_)}: {why}")
    counts: dict[str, int] = {}
    for r in results:
        key = "would import" if r.dry_run else r.status.value
        counts[key] = counts.get(key, 0) + 1
    order = ["would import", *(s.value for s in ImportStatus)]
    summary = ", ".join(f"{counts[k]} {k}" for k in order if k in counts)
    missing = sum(len(r.missing) for r in results)
    if missing:
        summary += f"; {missing} consumer key(s) missing from the target"
    typer.echo(summary + (" (dry run)" if dry_run else ""))


def _state_json(s: SecretState) -> dict[str, Any]:
    return {
        "name": s.name,
        "rotated_at": s.rotated_at.isoformat() if s.rotated_at else None,
        "last_run_id": s.last_run_id,
        "versions": [
            {
                "number": v.number,
                "labels": sorted(label.value for label in v.labels),
                "fingerprint": v.fingerprint,
                "created_at": v.created_at.isoformat(),
                "attributes": dict(v.attributes),
                "run_id": v.run_id,
                "revoked_at": v.revoked_at.isoformat() if v.revoked_at else None,
            }
            for v in s.versions
        ],
    }


@store_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the store's state as JSON.")] = False,
) -> int:
    """List every secret in the store: versions, labels, fingerprints (never values)."""
    settings = Settings.from_env()
    store = _open(settings)
    try:
        states = [s for s in (store.state(name) for name in store.names()) if s is not None]
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([_state_json(s) for s in states], indent=2))
        return int(ExitCode.OK)
    if not states:
        typer.echo("the store is empty")
        return int(ExitCode.OK)
    width = max(len(s.name) for s in states)
    typer.echo(f"{'NAME':<{width}} {'VERSION':>7}  {'LABELS':<17} {'FINGERPRINT':<44} {'CREATED':<20} REVOKED")
    for s in states:
        for v in s.versions:
            labels = ",".join(sorted(label.value for label in v.labels)) or "-"
            created = v.created_at.strftime("%Y-%m-%d %H:%M:%S")
            revoked = v.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if v.revoked_at else "-"
            typer.echo(f"{s.name:<{width}} {v.number:>7}  {labels:<17} {v.fingerprint:<44} {created:<20} {revoked}")
    return int(ExitCode.OK)


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


@store_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="The secret's name.")],
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Print the current value (to a terminal only; the access is recorded).")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --reveal: print the value even when stdout is not a terminal.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metadata as JSON (never with --reveal).")] = False,
) -> int:
    """One secret's versions, labels, fingerprints and dates; `--reveal` prints its current value."""
    if reveal and as_json:
        raise ConfigError("--reveal prints the value alone; it does not combine with --json")
    if yes and not reveal:
        raise ConfigError("--yes only applies to --reveal")
    if reveal and not yes and not _stdout_is_terminal():
        raise ConfigError(
            "refusing to print a secret value: stdout is not a terminal (it would land in a file, pipe or log)",
            hint=f"run it in a terminal, or pass --yes if you mean to: secretops store show {name} --reveal --yes",
        )
    settings = Settings.from_env()
    store = _open(settings)
    try:
        state = store.state(name)
        if state is None:
            known = ", ".join(store.names()) or "none"
            raise StoreError(f"the store has no secret {name!r}", hint=f"secrets in the store: {known}")
        if not reveal:
            _show_metadata(state, as_json=as_json)
            return int(ExitCode.OK)
        current = store.get(name, Label.CURRENT)
        if current is None:
            raise StoreError(
                f"secret {name!r} has no current version to reveal",
                hint=f"see its versions with: secretops store show {name}",
            )
        from secretops.state import open_state

        with open_state(settings) as backend:  # the reveal is audited where the state keeps its audit log
            AccessLog(settings.state_dir, audit=backend.audit()).append(
                "revealed",
                name,
                version=current.version.number,
                fingerprint=current.version.fingerprint,
                tty=_stdout_is_terminal(),
                pid=os.getpid(),
            )
        typer.echo(current.value.reveal())
        typer.echo(
            f"revealed {name} version {current.version.number} ({current.version.fingerprint}); "
            "the access is recorded (who and when, no value)",
            err=True,
        )
    finally:
        store.close()
    return int(ExitCode.OK)


def _show_metadata(state: SecretState, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(_state_json(state), indent=2))
        return
    typer.echo(f"secret       {state.name}")
    rotated = state.rotated_at.isoformat(timespec="seconds") if state.rotated_at else "never (adopted or not rotated)"
    typer.echo(f"last rotated {rotated}" + (f" by run {state.last_run_id}" if state.last_run_id else ""))
    for v in state.versions:
        labels = ",".join(sorted(label.value for label in v.labels)) or "-"
        typer.echo(f"v{v.number:<4} {labels:<9} {v.fingerprint}")
        by = f" by run {v.run_id}" if v.run_id else " (adopted or stored by hand)"
        typer.echo(f"      created {v.created_at.isoformat(timespec='seconds')}{by}")
        if v.revoked_at:
            typer.echo(f"      revoked {v.revoked_at.isoformat(timespec='seconds')}")
        if v.attributes:
            typer.echo("      " + ", ".join(f"{k}={val}" for k, val in sorted(v.attributes.items())))


def register(app: typer.Typer) -> None:
    """Add the `store` group (`store import`, `store list`, `store show`) to `app`."""
    app.add_typer(store_app, name="store")
