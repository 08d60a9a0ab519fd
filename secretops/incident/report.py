"""The incident record: what was found, matched, switched, revoked and proven dead, and when.

`Incident` collects timestamped events while `compromised` runs; `render_markdown` and
`render_json` turn it into the report (`--report incident.md` or `incident.json`), written
atomically (`secretops.fileio`). The report holds locations, commits, secret names,
fingerprints, target names and our own sentences: never a value, never a masked preview
(a preview shows a value's first characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secretops.fileio import write_atomic

__all__ = ["Event", "FindingRecord", "Incident", "render_json", "render_markdown", "write_report"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline: `found`, `matched`, `switched`, `verified`, `revoked`, `proven-dead`..."""

    ts: datetime
    event: str
    subject: str
    detail: str = ""


@dataclass(slots=True)
class FindingRecord:
    """One finding as the report shows it."""

    where: str
    rule_id: str
    provider: str
    fingerprint: str
    commits: list[str] = field(default_factory=list)
    secret: str | None = None
    version: int | None = None
    state: str = "open"  # open | dead | revoke-requested | manual | unrecoverable | not-proven
    how: str = ""


@dataclass(slots=True)
class Incident:
    """Everything one `compromised` invocation learnt and did."""

    started: datetime = field(default_factory=_now)
    events: list[Event] = field(default_factory=list)
    findings: list[FindingRecord] = field(default_factory=list)
    consumers: list[dict[str, str]] = field(default_factory=list)  # secret, target, env, verified
    todo: list[str] = field(default_factory=list)
    git_notes: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    closed: bool = False

    def log(self, event: str, subject: str, detail: str = "", ts: datetime | None = None) -> None:
        """Add a timeline event (now, unless `ts` says when it happened)."""
        self.events.append(Event(ts or _now(), event, subject, detail))

    def must(self, item: str) -> None:
        """Add something a person still has to do (once)."""
        if item not in self.todo:
            self.todo.append(item)


def _ts(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def render_json(incident: Incident) -> str:
    """The report as JSON (`version` 1)."""
    doc: dict[str, Any] = {
        "version": 1,
        "started": _ts(incident.started),
        "closed": incident.closed,
        "timeline": [
            {"ts": _ts(e.ts), "event": e.event, "subject": e.subject, "detail": e.detail}
            for e in sorted(incident.events, key=lambda e: e.ts)
        ],
        "findings": [
            {
                "where": f.where,
                "rule_id": f.rule_id,
                "provider": f.provider,
                "fingerprint": f.fingerprint,
                "commits": f.commits,
                "secret": f.secret,
                "version": f.version,
                "state": f.state,
                "how": f.how,
            }
            for f in incident.findings
        ],
        "consumers": incident.consumers,
        "runs": incident.runs,
        "git_history": incident.git_notes,
        "still_to_do": incident.todo,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(incident: Incident) -> str:
    """The report as Markdown."""
    status = "closed: every leaked value is proven dead" if incident.closed else "OPEN: not every value is proven dead"
    out = [f"# Incident report ({_ts(incident.started)})", "", f"**Status:** {status}", "", "## Timeline", ""]
    out += ["| time (UTC) | event | subject | detail |", "|---|---|---|---|"]
    for e in sorted(incident.events, key=lambda e: e.ts):
        out.append(f"| {_ts(e.ts)} | {e.event} | {_cell(e.subject)} | {_cell(e.detail)} |")
    out += [
        "",
        "## Findings",
        "",
        "| location | rule | fingerprint | secret | state | how |",
        "|---|---|---|---|---|---|",
    ]
    for f in incident.findings:
        secret = f"{f.secret} v{f.version}" if f.secret else "not in the inventory"
        out.append(
            f"| {_cell(f.where)} | {_cell(f.rule_id)} | `{f.fingerprint}` | {_cell(secret)} "
            f"| {f.state} | {_cell(f.how)} |"
        )
        if f.commits:
            out.append(f"| | commits holding it: {', '.join(c[:12] for c in f.commits)} | | | | |")
    if incident.consumers:
        out += ["", "## Consumers switched", "", "| secret | target | env | verified by |", "|---|---|---|---|"]
        for c in incident.consumers:
            out.append(f"| {_cell(c['secret'])} | {_cell(c['target'])} | {_cell(c['env'])} | {_cell(c['verified'])} |")
    if incident.runs:
        out += ["", "Rotation runs: " + ", ".join(f"`{r}`" for r in incident.runs) + " (`secretops history`)."]
    if incident.git_notes:
        out += ["", "## Git history", ""] + [f"- {n}" for n in incident.git_notes]
    out += ["", "## Still to do (by a person)", ""] + [f"- [ ] {t}" for t in incident.todo]
    return "\n".join(out) + "\n"


def write_report(incident: Incident, path: Path) -> None:
    """Write the report atomically: JSON for a `.json` path, Markdown otherwise."""
    text = render_json(incident) if Path(path).suffix.lower() == ".json" else render_markdown(incident)
    write_atomic(Path(path), text, mode=0o644)
