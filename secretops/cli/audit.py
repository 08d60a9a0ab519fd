"""`secretops audit verify` and `audit show`: the hash-chained audit log (`secretops.audit`).

`verify` exits 0 when every entry is intact and in order, 1 naming the first bad line when one
was altered, removed or reordered (or the file's end was cut), and prints the head hash to
keep somewhere the log's writers cannot change.
"""

from __future__ import annotations

from typing import Annotated

import typer

from secretops.audit import AuditLog, LocalAuditLog
from secretops.errors import ExitCode
from secretops.settings import Settings
from secretops.state import StateBackend, open_state

__all__ = ["register"]


def _where(state: StateBackend, log: AuditLog) -> str:
    """Where the log is, for messages: its file, or the state backend (password masked)."""
    return str(log.path) if isinstance(log, LocalAuditLog) else state.describe()


audit_app = typer.Typer(help="The audit log: every rotation, compromise, reveal and revoke (no values).")


@audit_app.command("verify")
def verify_command() -> int:
    """Check the audit log's hash chain: exit 1 naming the first altered, removed or reordered line."""
    with open_state(Settings.from_env()) as state:
        log = state.audit()
        where = _where(state, log)
        verdict = log.verify()
        if not verdict.ok:
            typer.echo(f"audit log {where}: line {verdict.bad_line}: {verdict.reason}", err=True)
            typer.echo("FAILED: the audit log was altered; keep a copy of it as evidence", err=True)
            return int(ExitCode.FINDINGS)
        head_of = getattr(log, "head", None)
        head = head_of() if callable(head_of) else None
        anchor = f"; head sha256 {head[1]}" if head and verdict.entries else ""
        typer.echo(f"audit log {where}: {verdict.entries} entries, chain intact{anchor}")
        return int(ExitCode.OK)


@audit_app.command("show")
def show_command(
    last: Annotated[int, typer.Option("--last", min=1, help="Show only the newest N entries.")] = 50,
) -> int:
    """The newest audit entries (names, fingerprints, outcomes; never values)."""
    with open_state(Settings.from_env()) as state:
        for entry in state.audit().entries()[-last:]:
            detail = "  ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()) if v not in (None, "", []))
            typer.echo(
                f"{entry.seq:5d}  {entry.ts.isoformat(timespec='seconds')}  {entry.user}  {entry.action}"
                f"  {entry.secret or '-'}  {detail}"
            )
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add `audit` to `app`."""
    app.add_typer(audit_app, name="audit")
