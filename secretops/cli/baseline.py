"""`secretops baseline create | update | audit | export`: the known findings a repository commits.

A baseline (format 2, `secretops.scan.baseline`) holds salted scrypt hashes of values, never a
value, and works on every clone with no shared key. `create` and `update` scan (the values are
kept in memory only, to hash them); `audit` records a reviewer's verdict on each entry, on a
terminal one at a time, or scripted with `--mark ID=STATE --note TEXT`; `export --to
detect-secrets` writes a `.secrets.baseline` that `detect-secrets-hook` and `detect-secrets audit`
accept (it runs detect-secrets' own scan, then copies secretops' verdicts onto its results by
value hash).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from secretops.display import printable
from secretops.errors import ConfigError, ExitCode
from secretops.scan.baseline import (
    Baseline,
    BaselineEntry,
    ExternalAudit,
    entries_by_id,
    read_any,
    with_marks,
)
from secretops.settings import Settings

if TYPE_CHECKING:
    from secretops.scan.runner import ScanResult

__all__ = ["DEFAULT_BASELINE", "STATES", "ExportTarget", "register"]

DEFAULT_BASELINE: Final = Path(".secretops-baseline.json")
# Audit marks: `real` is an alias of `confirmed-secret` (detect-secrets' `is_secret: true`).
STATES: Final = ("unaudited", "false-positive", "confirmed-secret", "accepted")
_ALIASES: Final = {"real": "confirmed-secret", "fp": "false-positive", "false": "false-positive"}
_DS_IS_SECRET: Final = {"false-positive": False, "confirmed-secret": True, "accepted": True}

baseline_app = typer.Typer(
    name="baseline",
    help="Create, update, audit and export the baseline of known findings a repository commits.",
    no_args_is_help=True,
)


class ExportTarget(StrEnum):
    """`baseline export --to` choices."""

    DETECT_SECRETS = "detect-secrets"


def _state(text: str) -> str:
    state = _ALIASES.get(text.strip().lower(), text.strip().lower())
    if state not in STATES:
        raise ConfigError(f"unknown audit state {text!r}", hint=f"use one of: real, {', '.join(STATES)}")
    return state


def _scan(paths: Sequence[str], policy_path: Path | None) -> ScanResult:
    """Scan `paths` as `secretops scan` does, keeping values in memory (to hash them)."""
    from secretops.cli.scan.build import load_policy, load_ruleset
    from secretops.scan.engine import Scanner
    from secretops.scan.runner import ScanOptions, default_jobs, scan_paths

    settings = Settings.from_env()
    targets = list(paths) or ["."]
    policy = load_policy(policy_path, settings, targets)
    ruleset = load_ruleset(policy, ())
    scanner = Scanner(ruleset, settings.fingerprint_key(allow_ephemeral=True), policy)
    options = ScanOptions(keep_secrets=True, jobs=default_jobs())
    return scan_paths(targets, lambda: scanner, policy=policy, options=options)


def _say_external(external: Sequence[ExternalAudit]) -> None:
    if not external:
        return
    typer.echo(
        f"note: carried over {len(external)} audit mark(s) of another tool for values secretops does not report:",
        err=True,
    )
    for item in external:
        typer.echo(f"  {printable(item.path)}:{item.line} {item.tool} {printable(item.type)}: {item.audit}", err=True)


def _write(baseline: Baseline, path: Path, verb: str) -> None:
    try:
        baseline.save(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {printable(path)}: {exc.strerror or exc}") from exc
    audited = sum(e.audit != "unaudited" for e in baseline.entries)
    typer.echo(
        f"baseline: {verb} {printable(path)}: {len(baseline.entries)} finding(s), {audited} audited",
        err=True,
    )
    _say_external(baseline.external)


PathsArg = Annotated[list[str] | None, typer.Argument(help="Files and folders to scan. Default: .")]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="A scan.toml policy (default: found as scan does).")]


@baseline_app.command("create")
def create_command(
    paths: PathsArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The baseline file to write.")] = DEFAULT_BASELINE,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="Import audit marks from a detect-secrets or older secretops baseline."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing baseline.")] = False,
    policy_path: PolicyOpt = None,
) -> int:
    """Scan and write a new baseline of every finding (no values: salted scrypt hashes)."""
    if output.exists() and not force:
        raise ConfigError(
            f"{printable(output)} exists",
            hint=f"secretops baseline update {printable(output)} keeps its audit marks; or pass --force",
        )
    previous = read_any(from_file) if from_file is not None else None
    result = _scan(paths or [], policy_path)
    _write(Baseline.from_result(result, previous), output, "wrote")
    return int(ExitCode.OK)


@baseline_app.command("update")
def update_command(
    baseline_path: Annotated[Path, typer.Argument(help="The baseline to rewrite.")] = DEFAULT_BASELINE,
    paths: PathsArg = None,
    policy_path: PolicyOpt = None,
) -> int:
    """Rescan and rewrite a baseline: new findings are added unaudited, gone ones removed, audit
    marks kept. A format-1 or detect-secrets baseline is rewritten in format 2."""
    previous = read_any(baseline_path)
    result = _scan(paths or [], policy_path)
    fresh = Baseline.from_result(result, previous)
    if isinstance(previous, Baseline):
        before = len(previous.entries)
        known = sum(e is not None for e in previous.match(result)) if previous.salt else None
        if known is not None:
            typer.echo(f"baseline: {known} known, {len(fresh.entries) - known} new, {before - known} gone", err=True)
        if not previous.salt:
            typer.echo("baseline: rewritten from format 1 (key-bound) to format 2 (salted, no key)", err=True)
    _write(fresh, baseline_path, "updated")
    return int(ExitCode.OK)


def _describe(entry: BaselineEntry) -> str:
    note = f"  ({printable(entry.note)})" if entry.note else ""
    return (
        f"{entry.id}  {entry.audit:<16} {printable(entry.path)}:{entry.line}  {entry.rule_id}  "
        f"{printable(entry.preview)}{note}"
    )


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _interactive(baseline: Baseline, include_audited: bool) -> list[tuple[BaselineEntry, str, str]]:
    marks: list[tuple[BaselineEntry, str, str]] = []
    todo = [e for e in baseline.entries if include_audited or e.audit == "unaudited"]
    for index, entry in enumerate(todo, start=1):
        typer.echo(f"[{index}/{len(todo)}] {_describe(entry)}")
        answer = typer.prompt("  (r)eal, (f)alse positive, (a)ccepted, (s)kip, (q)uit", default="s").strip().lower()
        if answer.startswith("q"):
            break
        state = {"r": "confirmed-secret", "f": "false-positive", "a": "accepted"}.get(answer[:1])
        if state is None:
            continue
        note = typer.prompt("  note", default=entry.note, show_default=bool(entry.note))
        marks.append((entry, state, note))
    return marks


@baseline_app.command("audit")
def audit_command(
    baseline_path: Annotated[Path, typer.Argument(help="The baseline to audit.")] = DEFAULT_BASELINE,
    mark: Annotated[
        list[str] | None,
        typer.Option(
            "--mark",
            metavar="ID=STATE",
            help="Mark entry ID (from the listing) as real, false-positive, accepted or unaudited. Repeatable.",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="The note recorded with --mark.")] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the entries and their marks; change nothing.")
    ] = False,
    include_audited: Annotated[bool, typer.Option("--all", help="On a terminal, review audited entries too.")] = False,
) -> int:
    """Record whether each finding is real or a false positive: one at a time on a terminal, or
    with `--mark ID=STATE --note TEXT` in scripts (listing with `--list`)."""
    previous = read_any(baseline_path)
    if not isinstance(previous, Baseline):
        raise ConfigError(
            f"{printable(baseline_path)} is a detect-secrets baseline",
            hint=f"convert it first: secretops baseline update {printable(baseline_path)}",
        )
    if not previous.salt:
        raise ConfigError(
            f"{printable(baseline_path)} is a format-1 baseline",
            hint=f"rewrite it in format 2 first: secretops baseline update {printable(baseline_path)}",
        )
    marks: list[tuple[BaselineEntry, str, str]] = []
    for item in mark or ():
        ident, sep, state_text = item.partition("=")
        if not sep:
            raise ConfigError(
                f"--mark {item!r}: expected ID=STATE", hint="for example --mark 3f9a1c2b7d4e=false-positive"
            )
        found = entries_by_id(previous, ident)
        if len(found) != 1:
            what = "no entry" if not found else f"{len(found)} entries"
            raise ConfigError(
                f"--mark {printable(ident)}: {what} with that id",
                hint="list the ids with: secretops baseline audit --list",
            )
        marks.append((found[0], _state(state_text), note if note is not None else found[0].note))
    if not marks:
        if list_only or not _is_terminal():
            for entry in previous.entries:
                typer.echo(_describe(entry))
            _say_external(previous.external)
            return int(ExitCode.OK)
        marks = _interactive(previous, include_audited)
    if marks:
        _write(with_marks(previous, marks), baseline_path, f"marked {len(marks)} in")
    return int(ExitCode.OK)


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()


@baseline_app.command("export")
def export_command(
    baseline_path: Annotated[Path, typer.Argument(help="The secretops baseline to export.")] = DEFAULT_BASELINE,
    to: Annotated[str, typer.Option("--to", help="The format to write: detect-secrets.")] = "detect-secrets",
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")] = Path(".secrets.baseline"),
    paths: Annotated[
        list[str] | None, typer.Option("--path", help="Files or folders detect-secrets scans (default: .). Repeatable.")
    ] = None,
    all_files: Annotated[
        bool, typer.Option("--all-files", help="Let detect-secrets scan files git does not track too.")
    ] = False,
    policy_path: PolicyOpt = None,
) -> int:
    """Write a `.secrets.baseline` for detect-secrets with secretops' audit marks (`is_secret`).

    detect-secrets matches its own results by the SHA-1 of the value, which secretops never
    stores: the files are scanned again, by detect-secrets and by secretops, and the marks are
    copied where both found the same value in the same file.
    """
    if to != ExportTarget.DETECT_SECRETS:
        raise ConfigError(f"--to {to!r}: unknown export format", hint="use --to detect-secrets")
    try:
        from detect_secrets.core import baseline as ds_baseline
        from detect_secrets.settings import default_settings
    except ImportError as exc:
        raise ConfigError(
            "export --to detect-secrets needs the detect-secrets package", hint="pip install detect-secrets"
        ) from exc
    ours = read_any(baseline_path)
    if not isinstance(ours, Baseline) or not ours.salt:
        raise ConfigError(
            f"{printable(baseline_path)} is not a format-2 secretops baseline",
            hint=f"secretops baseline update {printable(baseline_path)}",
        )
    targets = list(paths or ["."])
    result = _scan(targets, policy_path)
    matches = ours.match(result)
    verdicts: dict[tuple[str, str], BaselineEntry] = {}
    for finding, entry in zip(result.findings, matches, strict=True):
        if entry is not None and finding.secret is not None:
            verdicts[(finding.location.path, _sha1(finding.secret.reveal()))] = entry
    del result  # no value past this point
    with default_settings():
        collection = ds_baseline.create(*targets, should_scan_all_files=all_files)
        doc: dict[str, Any] = ds_baseline.format_for_output(collection)
    external = {(e.path, e.line, e.type): e for e in ours.external if e.tool == "detect-secrets"}
    used: set[str] = set()
    carried = 0
    for filename, items in doc.get("results", {}).items():
        for item in items:
            entry = verdicts.get((filename, str(item.get("hashed_secret"))))
            state = entry.audit if entry is not None else None
            if entry is not None:
                used.add(entry.id)
            if state is None:
                ext = external.get((filename, int(item.get("line_number") or 0), str(item.get("type"))))
                if ext is not None:
                    state = ext.audit
                    carried += 1
            if state in _DS_IS_SECRET:
                item["is_secret"] = _DS_IS_SECRET[state]
    try:
        output.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {printable(output)}: {exc.strerror or exc}") from exc
    total = sum(len(v) for v in doc.get("results", {}).values())
    typer.echo(f"export: {total} detect-secrets result(s) written to {printable(output)}", err=True)
    if carried:
        typer.echo(f"export: {carried} audit mark(s) carried over from detect-secrets' own audit", err=True)
    missing = [e for e in ours.entries if e.id not in used and e.audit != "unaudited"]
    if missing:
        typer.echo(
            f"export: {len(missing)} audited secretops finding(s) have no detect-secrets result to carry the mark "
            "(detect-secrets does not detect them):",
            err=True,
        )
        for entry in missing:
            typer.echo(f"  {_describe(entry)}", err=True)
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add the `baseline` group to `app`."""
    app.add_typer(baseline_app, name="baseline")
