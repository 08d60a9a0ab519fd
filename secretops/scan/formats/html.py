"""`--format html`: one self-contained page to share a scan with people who do not read JSON.

No script, no external stylesheet or font (it opens offline and passes a strict Content Security
Policy); every text from the scan is HTML-escaped, since paths, rule descriptions and context
come from the scanned files, and control characters and undecodable bytes of file names are
written as visible escapes first (`secretops.display.printable`), so the page is valid UTF-8.
Like the table, it never holds a raw value: masked previews and
fingerprints only, even with `--show-secrets`.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Final

from secretops.display import printable
from secretops.scan.formats.interface import Format, RenderOptions
from secretops.scan.formats.table import inventory_line, liveness_line, summary
from secretops.scan.models import Finding, Severity
from secretops.scan.runner import ScanResult

__all__ = ["HtmlFormat"]

_STYLE: Final = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
h1{font-size:1.4em;margin:0 0 .2em}
p.meta{color:#555;margin:0 0 1.2em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f6;position:sticky;top:0}
td.loc,td.preview,code{font-family:ui-monospace,monospace;font-size:.92em;word-break:break-all}
.sev{font-weight:600;border-radius:3px;padding:0 .4em;white-space:nowrap}
.critical{background:#7a0010;color:#fff}.high{background:#c4142b;color:#fff}
.medium{background:#f0a400}.low{background:#8fd3e0}.info{background:#ddd}
.more{color:#555;font-size:.9em}
.inventory{color:#7a0010;font-weight:600}
.live{background:#7a0010;color:#fff;font-weight:600;padding:0 .4em}.dead{color:#2a6b2a}.unknown{color:#8a5a00}
ul.summary{color:#333}
"""
_COLUMNS: Final = ("Severity", "Class", "Rule", "Location", "Preview", "Details")


def _e(text: object) -> str:
    return html.escape(printable(text), quote=True)


def _location(finding: Finding) -> str:
    loc = finding.location
    where = f"{loc.path}[cell {loc.cell}]" if loc.cell is not None else loc.path
    where += f":{loc.line}:{loc.column}"
    if loc.commit:
        where += f" @ {loc.commit[:12]}"
    return where


class HtmlFormat(Format):
    """`--format html`."""

    id = "html"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """A complete HTML document: summary counts, then one row per finding."""
        by_severity = Counter(str(f.severity) for f in result.findings)
        counts = ", ".join(f"{by_severity[s.value]} {s.value}" for s in reversed(Severity) if by_severity[s.value])
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
            "<title>secretops scan report</title>",
            f"<style>{_STYLE}</style></head><body>",
            "<h1>secretops scan report</h1>",
            f'<p class="meta">secretops {_e(options.tool_version)}: {len(result.findings)} findings'
            + (f" ({_e(counts)})" if counts else "")
            + "</p>",
        ]
        if result.findings:
            verified = any(f.liveness is not None for f in result.findings)
            columns = (*_COLUMNS[:-1], "Live", _COLUMNS[-1]) if verified else _COLUMNS
            parts.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr></thead><tbody>")
            for finding in result.findings:
                parts.append(self._row(finding, options, verified=verified))
            parts.append("</tbody></table>")
        else:
            parts.append("<p>No findings.</p>")
        parts.append('<ul class="summary">' + "".join(f"<li>{_e(line)}</li>" for line in summary(result)) + "</ul>")
        if result.skipped:
            parts.append("<h2>Skipped files</h2><ul>")
            parts.extend(
                f"<li><code>{_e(s.path)}</code>: {_e(s.reason)}{': ' + _e(s.detail) if s.detail else ''}</li>"
                for s in result.skipped
            )
            parts.append("</ul>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"

    @staticmethod
    def _row(finding: Finding, options: RenderOptions, *, verified: bool = False) -> str:
        rule = options.rules.get(finding.rule_id)
        rule_cell = f"<code>{_e(finding.rule_id)}</code>"
        if rule is not None and rule.description:
            rule_cell += f'<div class="more">{_e(rule.description)}</div>'
        details: list[str] = []
        if finding.context:
            details.append(" ".join(f"{_e(k)}={_e(v)}" for k, v in sorted(finding.context.items())))
        details.extend(_e(reason) for reason in finding.reasons)
        if finding.inventory is not None:
            details.append(f'<span class="inventory">{_e(inventory_line(finding.inventory))}</span>')
        live_cell = ""
        if verified:
            state = str(finding.liveness.state) if finding.liveness is not None else "-"
            live_cell = f'<td><span class="{_e(state)}">{_e(state)}</span></td>'
        if finding.liveness is not None:
            details.append(f'<span class="{_e(finding.liveness.state)}">{_e(liveness_line(finding.liveness))}</span>')
        details.append(f'<span class="more">{_e(finding.fingerprint)}</span>')
        sev = str(finding.severity)
        return (
            "<tr>"
            f'<td><span class="sev {_e(sev)}">{_e(sev)}</span></td>'
            f"<td>{_e(finding.classification)}</td>"
            f"<td>{rule_cell}</td>"
            f'<td class="loc">{_e(_location(finding))}</td>'
            f'<td class="preview">{_e(finding.preview)}</td>'
            f"{live_cell}"
            f"<td>{'<br>'.join(details)}</td>"
            "</tr>"
        )
