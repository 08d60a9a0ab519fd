"""`secretops compromised --from-scan/--finding/--report`: the incident flow (`secretops.incident.run`).

Reads the scan report, recovers each leaked value in memory from its location, matches, rotates
or revokes, proves dead, prints what a person must still do, writes the incident report and
records the incident in the audit log. Exit 0 only when every leaked value is proven dead (or
was already revoked); 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from secretops.audit import open_audit
from secretops.cli.rotate import build_engine
from secretops.display import printable
from secretops.errors import ConfigError, ExitCode, SecretOpsError
from secretops.incident.findings import LeakedFinding, load_report, recover
from secretops.incident.report import Incident, write_report
from secretops.incident.run import IncidentOptions, bare, found_at, handle_findings, only, rotate_named
from secretops.settings import Settings

__all__ = ["run_incident"]


def _confirm(question: str) -> bool:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    return bool(typer.confirm(question, default=False))


def _check_report_path(report: Path | None) -> None:
    if report is None:
        return
    parent = report.parent if str(report.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"--report {printable(report)}: folder {printable(parent)} does not exist")


def run_incident(
    settings: Settings,
    *,
    name: str | None,
    from_scan: Path | None,
    fingerprints: list[str],
    report: Path | None,
    databases: bool,
    force: bool,
    dry_run: bool,
    value_file: Path | None,
    yes: bool,
) -> int:
    """Run one incident; see the module docstring."""
    if name is not None and (from_scan is not None or fingerprints):
        raise ConfigError("give a secret name or --from-scan/--finding, not both")
    _check_report_path(report)
    key = settings.fingerprint_key()
    incident = Incident()
    findings: list[LeakedFinding]
    if from_scan is not None:
        findings = only(load_report(from_scan), fingerprints)
        if fingerprints and not findings:
            raise ConfigError(
                f"no leak finding in {printable(from_scan)} has fingerprint {', '.join(fingerprints)}",
                hint="copy the fingerprint from the report's `fingerprint` field",
            )
        found = found_at(from_scan)
        for f in findings:
            incident.log("found", f.where, f"{f.rule_id}; liveness at scan: {f.liveness or 'not checked'}", found)
        findings = recover(findings, key)
        for f in findings:
            if f.value is None:
                incident.log("note", f.where, "the value could not be recovered from its location")
    elif fingerprints:
        findings = bare(fingerprints)
        for f in findings:
            incident.log("found", f.fingerprint, "named by fingerprint (--finding)")
    else:
        findings = []
    if not findings and name is None:
        typer.echo("no leak findings to act on")
        return int(ExitCode.OK)

    engine = build_engine(settings, value_file=value_file, assume_yes=yes)
    options = IncidentOptions(
        force=force,
        dry_run=dry_run,
        assume_yes=yes,
        databases=databases,
        confirm=_confirm,
        echo=typer.echo,
    )
    audit = None if dry_run else open_audit(engine.state)  # with the state: a table when it is PostgreSQL
    try:
        if name is not None:
            code = rotate_named(name, engine, options, incident, audit)
        else:
            code = handle_findings(findings, engine, options, incident, audit)
    except SecretOpsError as exc:  # the report still says where the incident stands, then exit as usual
        incident.log("failed", "compromised", exc.message)
        incident.must(f"fix: {exc.message}" + (f" ({exc.hint})" if exc.hint else "") + "; then run compromised again")
        incident.closed = False
        if report is not None and not dry_run:
            write_report(incident, report)
            typer.echo(f"incident report (OPEN) written to {printable(report)}", err=True)
        raise
    finally:
        engine.close()  # the store and the state (connections, lease heartbeats)
    if dry_run:
        return code
    typer.echo("")
    for note in incident.git_notes:
        typer.echo(f"git: {note}")
    typer.echo("still to do:" if incident.todo else "nothing left to do")
    for item in incident.todo:
        typer.echo(f"  - {item}")
    typer.echo(
        "closed: every leaked value is proven dead" if incident.closed else "OPEN: not every value is proven dead"
    )
    if report is not None:
        write_report(incident, report)
        typer.echo(f"incident report written to {printable(report)}")
    return code
