"""The `store` command group: `store import` (adopt deployed values) and `store list`.

`import` reads a `.env` file or the environment, loads the policies, and hands both to
`secretops.store.importer.import_values`; it exits 1 when a secret needs attention
(conflicting, unparsable, or differing from the store), else 0. `list` shows what the store
holds: names, versions, labels and fingerprints, never a value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from secretops.errors import ConfigError, ExitCode
from secretops.settings import Settings
from secretops.store import Store, open_store
from secretops.store.importer import ImportResult, ImportStatus, import_values, read_dotenv

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
        Path | None, typer.Option("--from-env-file", help="Read values from this .env file.", dir_okay=False)
    ] = None,
    from_environment: Annotated[
        bool, typer.Option("--from-environment", help="Read values from this process's environment.")
    ] = False,
    policies: Annotated[
        Path | None, typer.Option("--policies", help="Policy file or directory (default: policies/).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be stored; change nothing.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Adopt deployed values even where the store's current differs.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> int:
    """Store the values consumers already use as `current`, for secrets declared in policies."""
    from secretops.inventory.loader import load_inventory

    if (from_env_file is None) == (not from_environment):
        raise ConfigError(
            "give exactly one of --from-env-file PATH or --from-environment",
            hint="secretops store import --from-env-file .env",
        )
    source = read_dotenv(from_env_file) if from_env_file is not None else dict(os.environ)
    settings = Settings.from_env(policies_dir=policies)
    inventory = load_inventory(settings.policies_dir)
    store = _open(settings)
    try:
        results = import_values(
            inventory.secrets,
            store,
            source,
            fingerprint_key=settings.fingerprint_key(),
            dry_run=dry_run,
            overwrite=overwrite,
        )
    finally:
        store.close()
    _render_import(results, as_json=as_json, dry_run=dry_run)
    return int(ExitCode.OK if all(r.status.ok for r in results) else ExitCode.FINDINGS)


def _render_import(results: list[ImportResult], *, as_json: bool, dry_run: bool) -> None:
    if as_json:
        rows = [
            {
                "secret": r.secret,
                "status": r.status.value,
                "envs": list(r.envs),
                "fingerprint": r.fingerprint,
                "version": r.version,
                "detail": r.detail,
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
        envs = ",".join(r.envs) or "-"
        fp = r.fingerprint or "-"
        typer.echo(f"{status:<12} {r.secret:<{width}} {version:<5} {fp:<44} {envs}  {r.detail}".rstrip())
    counts: dict[str, int] = {}
    for r in results:
        key = "would import" if r.dry_run else r.status.value
        counts[key] = counts.get(key, 0) + 1
    order = ["would import", *(s.value for s in ImportStatus)]
    typer.echo(", ".join(f"{counts[k]} {k}" for k in order if k in counts) + (" (dry run)" if dry_run else ""))


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
        doc = [
            {
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
            for s in states
        ]
        typer.echo(json.dumps(doc, indent=2))
        return int(ExitCode.OK)
    if not states:
        typer.echo(f"the {store.id} store is empty (secretops store import adopts deployed values)")
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


def register(app: typer.Typer) -> None:
    """Add the `store` group (`store import`, `store list`) to `app`."""
    app.add_typer(store_app, name="store")
