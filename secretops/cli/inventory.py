"""The `inventory` and `status` commands: every declared secret and where it stands.

Both load the policies (`--policies`, `SECRETOPS_POLICIES`, default `policies/`) and read the
store's recorded state (`secretops.store.open_store`): never a value, only version metadata.
`inventory` lists secrets in policy order with their issuer, strategy and period; `status`
sorts them by urgency (overdue first) and can show only what is due (`--due`). Overdue
secrets stand out: a `!` marker and red in a terminal. `--format json` prints the same rows.
`status` also shows each secret's latest rotation run from the journal (`running`,
`interrupted` when its process died, `awaiting-revoke` during a grace, ...) and lists the
consumer keys their targets do not hold (`secretops.targets.presence.missing_keys`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from secretops.errors import ConfigError, ExitCode
from secretops.inventory.loader import Inventory, load_inventory
from secretops.inventory.status import RunInfo, SecretStatus, State, orphans, statuses
from secretops.settings import Settings
from secretops.store import Store, open_store

__all__ = ["OutputFormat", "register"]


class OutputFormat(StrEnum):
    """Output formats of `inventory` and `status`."""

    TABLE = "table"
    JSON = "json"


_STYLE: dict[State, tuple[str, str | None]] = {
    State.OVERDUE: ("!", typer.colors.RED),
    State.NEVER_ROTATED: ("?", typer.colors.YELLOW),
    State.DUE: ("~", typer.colors.YELLOW),
    State.OK: (" ", None),
}


def _open_store(settings: Settings) -> Store:
    return open_store(settings)


def _age(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0m"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _date(moment: datetime | None, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d") if moment else never


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"--now {value!r} is not an ISO 8601 date", hint="e.g. --now 2025-01-31T12:00:00Z") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


Column = tuple[str, Callable[[SecretStatus], str]]

INVENTORY_COLUMNS: tuple[Column, ...] = (
    ("SECRET", lambda s: s.name),
    ("KIND", lambda s: s.kind),
    ("ISSUER", lambda s: f"{s.issuer} ({s.issuer_kind})"),
    ("STRATEGY", lambda s: s.strategy),
    ("PERIOD", lambda s: _duration(s.period)),
    ("CONSUMERS", lambda s: str(s.consumers)),
    ("AGE", lambda s: _age(s.age)),
    ("LAST ROTATION", lambda s: _date(s.last_rotated)),
    ("NEXT DUE", lambda s: _date(s.next_due, "now")),
    ("STATE", lambda s: s.state.value),
)

STATUS_COLUMNS: tuple[Column, ...] = (
    ("SECRET", lambda s: s.name),
    ("STATE", lambda s: s.state.value + (f" (v{s.pending} pending)" if s.pending else "")),
    ("AGE", lambda s: _age(s.age)),
    ("LAST ROTATION", lambda s: _date(s.last_rotated)),
    ("NEXT DUE", lambda s: _date(s.next_due, "now")),
    ("STRATEGY", lambda s: s.strategy),
    ("CONSUMERS", lambda s: str(s.consumers)),
    ("RUN", lambda s: s.run.describe() if s.run else "-"),
)


def _table(rows: Sequence[SecretStatus], columns: Sequence[Column]) -> None:
    cells = [[get(row) for _, get in columns] for row in rows]
    widths = [max([len(title)] + [len(c[i]) for c in cells]) for i, (title, _) in enumerate(columns)]
    typer.echo("  " + "  ".join(title.ljust(w) for (title, _), w in zip(columns, widths, strict=True)).rstrip())
    for row, line in zip(rows, cells, strict=True):
        marker, colour = _STYLE[row.state]
        text = marker + " " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        typer.echo(typer.style(text, fg=colour, bold=row.state is State.OVERDUE) if colour else text)


def _summary(rows: Sequence[SecretStatus], stray: Sequence[str]) -> None:
    counts = {state: sum(1 for r in rows if r.state is state) for state in State}
    parts = [f"{counts[s]} {s.value.replace('-', ' ')}" for s in sorted(State, key=lambda s: s.urgency)]
    typer.echo(f"{len(rows)} secret{'s' if len(rows) != 1 else ''}: " + ", ".join(parts))
    if stray:
        typer.echo(f"the store also holds {len(stray)} secret(s) no policy declares: {', '.join(stray)}")


def _json(command: str, path: Path, now: datetime, rows: Sequence[SecretStatus], stray: Sequence[str]) -> None:
    doc: dict[str, Any] = {
        "command": command,
        "policies": str(path),
        "now": now.isoformat(),
        "secrets": [r.to_json() for r in rows],
        "counts": {s.value: sum(1 for r in rows if r.state is s) for s in State},
        "undeclared_in_store": list(stray),
    }
    typer.echo(json.dumps(doc, indent=2))


def _latest_runs(settings: Settings, now: datetime) -> dict[str, RunInfo]:
    """Each secret's run to show: its latest unfinished run, else its latest run.

    Where a run stands comes from the state backend (`SECRETOPS_STATE`): `running` while a runner
    holds the secret (a live lock, or a Postgres lease not yet expired), else `interrupted`.
    """
    from secretops.rotate.journal import RunState
    from secretops.state import open_state

    settled = {RunState.COMPLETE, RunState.ROLLED_BACK}
    chosen: dict[str, RunInfo] = {}
    with open_state(settings) as backend:
        for record in backend.runs():  # oldest first: a later run replaces an earlier one
            state = backend.state(record, now)
            known = chosen.get(record.secret)
            if known is not None and state in settled and known.state not in settled:
                continue  # an unfinished run stays on show until it is finished
            chosen[record.secret] = RunInfo(record.run_id, state.value, record.started_at, record.revoke_after)
    return chosen


def _missing(inventory: Inventory) -> dict[str, tuple[str, ...]]:
    """Consumer keys the `.env` targets do not hold, by secret (names only, never values)."""
    from secretops.targets.presence import missing_keys

    out: dict[str, list[str]] = {}
    for item in missing_keys(inventory):
        out.setdefault(item.secret, []).append(str(item))
    return {name: tuple(items) for name, items in out.items()}


def _gather(
    policies: Path | None, now: str | None, *, details: bool = False
) -> tuple[Settings, Inventory, datetime, list[SecretStatus], list[str]]:
    settings = Settings.from_env(policies_dir=policies)
    inventory = load_inventory(settings.policies_dir)
    moment = _parse_now(now)
    runs = _latest_runs(settings, moment) if details else None
    missing = _missing(inventory) if details else None
    store = _open_store(settings)
    try:
        rows = statuses(inventory, store, moment, runs=runs, missing=missing)
        stray = orphans(inventory, store)
    finally:
        store.close()
    return settings, inventory, moment, rows, stray


def _runs_report(rows: Sequence[SecretStatus]) -> None:
    stuck = [r for r in rows if r.run is not None and r.run.needs_attention]
    if stuck:
        names = ", ".join(f"{r.name} ({r.run.state})" for r in stuck if r.run is not None)
        typer.echo(f"{len(stuck)} run(s) to finish: {names}; `secretops resume` finishes them")


def _missing_report(rows: Sequence[SecretStatus]) -> None:
    items = [item for row in rows for item in row.missing]
    if not items:
        return
    typer.echo("consumer keys their targets do not hold:")
    for item in items:
        typer.echo(f"  {item}")


PoliciesOption = Annotated[
    Path | None,
    typer.Option("--policies", help="Policy directory or file (default: policies/, or SECRETOPS_POLICIES)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
NowOption = Annotated[str | None, typer.Option("--now", hidden=True, help="Pretend it is this time (ISO 8601).")]


def inventory_command(
    policies: PoliciesOption = None,
    output: FormatOption = OutputFormat.TABLE,
    now: NowOption = None,
) -> int:
    """Every declared secret: kind, issuer, strategy, period, consumers, age and next due date."""
    settings, _, moment, rows, stray = _gather(policies, now)
    if output is OutputFormat.JSON:
        _json("inventory", settings.policies_dir, moment, rows, stray)
    elif not rows:
        typer.echo(f"no secrets declared under {settings.policies_dir}")
    else:
        _table(rows, INVENTORY_COLUMNS)
        _summary(rows, stray)
    return int(ExitCode.OK)


def status_command(
    policies: PoliciesOption = None,
    output: FormatOption = OutputFormat.TABLE,
    due_only: Annotated[
        bool,
        typer.Option("--due", help="Only secrets that are due, overdue, never rotated, or with a run to finish."),
    ] = False,
    now: NowOption = None,
) -> int:
    """Where each secret stands in its rotation schedule and its latest run, most urgent first."""
    settings, _, moment, rows, stray = _gather(policies, now, details=True)
    rows = sorted(rows, key=lambda r: (r.state.urgency, r.next_due or moment, r.name))
    if due_only:
        rows = [r for r in rows if r.state is not State.OK or (r.run is not None and r.run.needs_attention)]
    if output is OutputFormat.JSON:
        _json("status", settings.policies_dir, moment, rows, stray)
    elif not rows:
        typer.echo("nothing is due" if due_only else f"no secrets declared under {settings.policies_dir}")
    else:
        _table(rows, STATUS_COLUMNS)
        _summary(rows, stray)
        _runs_report(rows)
        _missing_report(rows)
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add `inventory` and `status` to `app`."""
    app.command("inventory")(inventory_command)
    app.command("status")(status_command)
