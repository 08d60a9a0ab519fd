"""The default output: an aligned table with masked previews, then a one-paragraph summary.

Never prints a raw value, even with `--show-secrets`. Every text taken from the scan (paths,
previews, context) goes through `secretops.display.printable`, so a file name holding ESC, BEL
or a newline shows as `\x1b`, `\x07`, `\n` instead of driving the terminal. Colour (ANSI) only when asked through
`RenderOptions.color`; the command line asks only when stdout is a terminal and `NO_COLOR` is
unset (https://no-color.org).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from secretops.display import printable
from secretops.scan.formats.interface import Format, RenderOptions
from secretops.scan.models import Finding, InventoryMatch, Severity
from secretops.scan.runner import ScanResult

if TYPE_CHECKING:
    from secretops.liveness.interface import LivenessResult

__all__ = ["TableFormat", "human_bytes", "liveness_line", "summary"]

_RESET: Final = "\x1b[0m"
_COLORS: Final = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_DIM: Final = "\x1b[2m"
_HEADERS: Final = ("SEVERITY", "CLASS", "RULE", "LOCATION", "PREVIEW")
_INCLUDE_FLAG: Final = {"test-credential": "test-credentials", "placeholder": "placeholders"}
_HIDDEN_HINT: Final = {"baselined": "known in the baseline"}


def human_bytes(n: int) -> str:
    """`1.5 MB`-style sizes (powers of 1024)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"  # pragma: no cover


def _location(finding: Finding) -> str:
    loc = finding.location
    where = f"{loc.path}:{loc.line}:{loc.column}"
    if loc.cell is not None:
        where = f"{loc.path}[cell {loc.cell}]:{loc.line}:{loc.column}"
    if loc.commit:
        where += f"@{loc.commit[:12]}"
    return printable(where)


def inventory_line(match: InventoryMatch) -> str:
    """What a finding that is an inventory secret means, and what to do about it."""
    where = printable(f"inventory: {match.secret} version {match.version} ({match.state})")
    if match.live:
        return f"{where}: the value may still work; run `secretops compromised {match.secret}`"
    if match.state == "revoked":
        return f"{where}: revoked at the issuer, no longer works; remove it from the file"
    return f"{where}: an older value; check it was revoked"


def liveness_line(result: LivenessResult) -> str:
    """`--verify`'s verdict in words: state, identity, why (`live: octocat (github): accepted`)."""
    who = f" {result.identity}" if result.identity else ""
    return printable(f"{result.state}:{who} ({result.verifier}): {result.detail}")


def summary(result: ScanResult) -> list[str]:
    """The closing lines: counts by class, what was read and skipped, what was not shown."""
    stats = result.stats
    by_class: dict[str, int] = {}
    for f in result.findings:
        by_class[str(f.classification)] = by_class.get(str(f.classification), 0) + 1
    if result.findings:
        parts = ", ".join(f"{n} {cls}" for cls, n in sorted(by_class.items()))
        head = f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} ({parts})"
    else:
        head = "no findings"
    lines = [
        f"{head} in {stats.files} file{'s' if stats.files != 1 else ''}, "
        f"{human_bytes(stats.bytes)}, {stats.seconds:.2f} s"
    ]
    verdicts = [str(f.liveness.state) for f in result.findings if f.liveness is not None]
    if verdicts:
        counts = ", ".join(f"{verdicts.count(s)} {s}" for s in ("live", "dead", "unknown"))
        lines.append(f"verified: {counts}" + (" (unknown may still work)" if "unknown" in verdicts else ""))
    if stats.skipped:
        total = sum(stats.skipped.values())
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.skipped.items()))
        lines.append(f"skipped {total}: {why}")
    if result.hidden:
        hidden = ", ".join(
            f"{n} {cls} ({_HIDDEN_HINT.get(cls) or '--include ' + _INCLUDE_FLAG.get(cls, 'all')})"
            for cls, n in sorted(result.hidden.items())
        )
        lines.append(f"not shown: {hidden}")
    return lines


class TableFormat(Format):
    """`--format table` (the default)."""

    id = "table"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """Aligned columns, a context line under credentials that have one, then the summary."""
        verified = any(f.liveness is not None for f in result.findings)
        headers = (*_HEADERS, "LIVE") if verified else _HEADERS
        rows = [
            (str(f.severity), str(f.classification), printable(f.rule_id), _location(f), printable(f.preview))
            + ((str(f.liveness.state) if f.liveness is not None else "-",) if verified else ())
            for f in result.findings
        ]
        out: list[str] = []
        if rows:
            widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

            def line(cells: tuple[str, ...]) -> str:
                return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

            out.append(line(headers))
            for finding, row in zip(result.findings, rows, strict=True):
                text = line(row)
                if options.color:
                    color = _COLORS.get(finding.severity, "")
                    sev = row[0].ljust(widths[0])
                    text = color + sev + _RESET + text[len(sev) :]
                out.append(text)
                indent = " " * (widths[0] + 2)
                if finding.context:
                    ctx = printable(" ".join(f"{k}={v}" for k, v in sorted(finding.context.items())))
                    out.append(f"{indent}{_DIM}{ctx}{_RESET}" if options.color else f"{indent}{ctx}")
                if finding.inventory is not None:
                    out.append(indent + inventory_line(finding.inventory))
                if finding.liveness is not None:
                    out.append(indent + liveness_line(finding.liveness))
            out.append("")
        out.extend(summary(result))
        return "\n".join(out) + "\n"
