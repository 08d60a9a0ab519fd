"""The `discover` command: from a repository and its ops docs to a draft inventory.

`secretops discover PATH...` reads the files it understands (`secretops.discover.engine.PARSERS`),
writes the draft policy (stdout, or `--output policies/draft-<app>.yaml`) and a report of the
evidence behind every line of it (stderr, or `--report FILE`; `--format json` for tools): which
file and line named each secret, consumer, component and issuer hint, the credentials the
scanner found (by fingerprint, with the draft secret each belongs to), the variables left out
and why, and the placeholders to fill in. `--merge FILE` adds what is new to an existing policy
file instead of writing a new one, and lists what that file lacks.

Exit codes: 0 drafted, 1 drafted but a live credential was found in what was read (rotate it),
2 usage (a missing path, an unreadable `--merge` file).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from secretops.display import printable
from secretops.errors import ExitCode
from secretops.inventory.fill_in import PLACEHOLDER

__all__ = ["ReportFormat", "register"]


class ReportFormat(StrEnum):
    """Formats of the evidence report."""

    TEXT = "text"
    JSON = "json"


def _report_text(result: Any, placeholders: int, merged: Any | None, written: str | None) -> str:
    draft = result.draft
    out = [f"discover: read {len(result.files)} file{'s' if len(result.files) != 1 else ''}; app {draft.app}"]
    for display, parser in result.files:
        out.append(f"  {printable(display)} ({parser})")
    out.append("")
    out.append("evidence:")
    for what, evidence in draft.evidence:
        out.append(f"  {printable(what)}")
        out.extend(f"    {printable(str(ev))}" for ev in evidence[:6])
        if len(evidence) > 6:
            out.append(f"    ... and {len(evidence) - 6} more")
    if draft.leaks:
        out.append("")
        out.append("credentials found (rotate these first):")
        for leak in draft.leaks:
            owner = f" -> {leak.secret}" if leak.secret else " (no draft secret matches: add one)"
            out.append(f"  {printable(leak.location)}: {leak.rule_id} {leak.preview} {leak.fingerprint}{owner}")
    assumed = sorted(
        {
            c.env
            for s in draft.secrets
            for c in s.consumers
            if c.assumed or any("name assumed" in e.note for e in c.evidence)
        }
    )
    if assumed:
        out.append("")
        out.append("names assumed (the sources imply them but never name them; check against the code):")
        out.append("  " + ", ".join(assumed))
    if draft.not_drafted:
        out.append("")
        out.append("named but not drafted:")
        for item in draft.not_drafted:
            out.append(
                f"  {item.name}: {printable(item.reason)} ({printable(item.evidence.path)}:{item.evidence.line})"
            )
    if merged is not None:
        out.append("")
        out.append(
            "merge: added " + (", ".join(merged.added) if merged.added else "nothing (the file covers the draft)")
        )
        if merged.lacking:
            out.append("the inventory lacks (add by hand):")
            out.extend(f"  {printable(line)}" for line in merged.lacking)
    out.append("")
    where = written or "the draft"
    plural = "s" if placeholders != 1 else ""
    out.append(f"{placeholders} placeholder{plural} to fill in; then: secretops policy check --draft {where}")
    return "\n".join(out)


def _report_json(result: Any, placeholders: int, merged: Any | None, written: str | None) -> str:
    draft = result.draft
    doc: dict[str, Any] = {
        "app": draft.app,
        "output": written,
        "files": [{"path": p, "parser": parser} for p, parser in result.files],
        "evidence": [
            {"item": what, "evidence": [{"path": e.path, "line": e.line, "note": e.note} for e in evidence]}
            for what, evidence in draft.evidence
        ],
        "findings": [
            {
                "rule_id": leak.rule_id,
                "location": leak.location,
                "fingerprint": leak.fingerprint,
                "preview": leak.preview,
                "secret": leak.secret,
            }
            for leak in draft.leaks
        ],
        "not_drafted": [
            {"name": n.name, "reason": n.reason, "path": n.evidence.path, "line": n.evidence.line}
            for n in draft.not_drafted
        ],
        "placeholders": placeholders,
    }
    if merged is not None:
        doc["merge"] = {"added": merged.added, "lacking": merged.lacking}
    return json.dumps(doc, indent=2)


def discover_command(
    paths: Annotated[list[Path], typer.Argument(help="Repository folders and files (ops guides, render.yaml, ...).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the draft here (e.g. policies/draft-<app>.yaml); default stdout."),
    ] = None,
    app: Annotated[
        str | None, typer.Option("--app", help="The app's name (default: from the guide's title or the folder).")
    ] = None,
    merge: Annotated[
        Path | None,
        typer.Option("--merge", help="Add what is new to this existing policy file (never rewrites what is there)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the evidence report here (default stderr).")
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.TEXT,
    no_scan: Annotated[bool, typer.Option("--no-scan", help="Do not scan the files read for credentials.")] = False,
) -> int:
    """Propose a draft inventory from a repository and its ops docs, with the evidence for each line."""
    from secretops.discover.engine import discover
    from secretops.discover.merge import merge_into
    from secretops.discover.writer import render_yaml
    from secretops.fileio import write_atomic

    result = discover(paths, app=app, scan=not no_scan)
    header = (
        f"Draft inventory proposed by `secretops discover` from {', '.join(str(p) for p in paths)}.",
        "Every <FILL-IN: ...> is something the sources do not say: replace it (the comment above says where to",
        "find it), review each secret, then run `secretops policy check --draft` on this file.",
    )
    text = render_yaml(result.draft.data, header)
    merged = None
    if merge is not None:
        merged = merge_into(merge, result.draft.data)
        text = merged.text
    destination = output or merge
    if destination is not None:
        write_atomic(destination, text, mode=0o644 if not destination.exists() else None)
    else:
        typer.echo(text, nl=False)
    placeholders = len(
        PLACEHOLDER.findall("".join(line for line in text.splitlines(True) if not line.lstrip().startswith("#")))
    )
    render = _report_json if fmt is ReportFormat.JSON else _report_text
    body = render(result, placeholders, merged, str(destination) if destination else None)
    if report is not None:
        write_atomic(report, body + "\n", mode=0o644 if not report.exists() else None)
    else:
        typer.echo(body, err=True)
    return int(ExitCode.FINDINGS if result.draft.leaks else ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add `discover` to `app`."""
    app.command("discover")(discover_command)
