"""`secretops state migrate` and `state show`: the rotation state backend (`secretops.state`).

`migrate` applies pending schema migrations (PostgreSQL; the file layout has none) and says
what it did; it is safe to run from several runners at once, and runs on first use anyway.
Exit 2 when the database's schema is newer than this secretops (upgrade it).

`show` says which backend is in use, where (the URL with its password masked), its schema
version, how many runs it holds and which secrets are held by a runner right now. It never
migrates: on a fresh database it says to run `state migrate`.
"""

from __future__ import annotations

import typer

from secretops.errors import ExitCode
from secretops.settings import Settings
from secretops.state import StateBackend, open_state

__all__ = ["register"]

state_app = typer.Typer(help="Rotation state: files, or PostgreSQL shared by several runners (no values).")


@state_app.command("migrate")
def migrate_command() -> int:
    """Apply pending schema migrations to the state (safe to run twice, or from two runners at once)."""
    with open_state(Settings.from_env()) as state:
        report = state.migrate()
        where = state.describe()
    if report.applied:
        typer.echo(
            f"state {report.backend} ({where}): schema {report.before} -> {report.after}"
            f" (applied {', '.join(report.applied)})"
        )
    else:
        typer.echo(f"state {report.backend} ({where}): schema {report.after}, up to date")
    return int(ExitCode.OK)


@state_app.command("show")
def show_command() -> int:
    """The state backend in use, where it is, its schema version, runs and the secrets held now."""
    with open_state(Settings.from_env()) as state:
        for line in _show(state):
            typer.echo(line)
    return int(ExitCode.OK)


def _show(state: StateBackend) -> list[str]:
    lines = [f"backend  {state.name}", f"where    {state.describe()}"]
    version = state.schema_version()
    if version == 0:
        lines.append("schema   0 (not migrated yet: run `secretops state migrate`, or let the first run do it)")
        return lines
    lines.append(f"schema   {version}")
    from secretops.state.postgres import PostgresState

    if isinstance(state, PostgresState):
        lines.append(f"runs     {state.count_runs()}")
        held = [lease for lease in state.leases() if not lease.expired]
        lines.append(f"leases   {len(held)} held")
        for lease in held:
            left = max(0, int(lease.expires_in))
            run = f", run {lease.run_id}" if lease.run_id else ""
            lines.append(f"  {lease.secret}  by {lease.holder}{run}, expires in ~{left} s unless renewed")
        return lines
    runs = state.runs()
    lines.append(f"runs     {len(runs)}")
    secrets = sorted({record.secret for record in runs})
    alive = [secret for secret in secrets if state.alive(secret)]
    lines.append(f"leases   {len(alive)} held")
    lines.extend(f"  {secret}" for secret in alive)
    return lines


def register(app: typer.Typer) -> None:
    """Add `state` to `app`."""
    app.add_typer(state_app, name="state")
