"""What one task returns (`Batch`), and how the parent adds the batches up, in whatever order they finish.

A batch holds findings with their line keys (`masked_line_hash`: a finding's identity that holds
no value), counters and the skips worth naming (`note_skip`, at most `_MAX_NOTES` in all);
`merge` adds one batch into another, and `number_duplicates` numbers identical line keys once
the findings are sorted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final

from secretops.errors import SecretOpsError
from secretops.scan.models import Finding, Fragment, ScanStats
from secretops.scan.sources.interface import Skipped, SkipReason

# Skips worth naming one by one to the user (the others are only counted).
_NOTABLE_SKIPS: Final = frozenset(
    {
        SkipReason.UNREADABLE,
        SkipReason.MISSING,
        SkipReason.SYMLINK_LOOP,
        SkipReason.ERROR,
        SkipReason.NOT_REGULAR,
        SkipReason.TOO_LARGE,
        SkipReason.ARCHIVE_BOMB,
        SkipReason.ARCHIVE_LIMIT,
        SkipReason.ARCHIVE_DEPTH,
        SkipReason.ENCRYPTED,
        SkipReason.CORRUPT,
    }
)


_MAX_NOTES: Final = 200


@dataclass(slots=True)
class Batch:
    """The outcome of one task: findings with their line keys, counters and notable skips."""

    found: list[tuple[Finding, str]] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    hidden: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    error: SecretOpsError | None = None  # a source task's source failed part-way (git exited)


def note_skip(stats: ScanStats, skipped: list[Skipped], skip: Skipped) -> None:
    """Count a skip; keep it to tell the user when it is worth naming (at most `_MAX_NOTES`)."""
    stats.skip(skip.reason)
    if skip.reason in _NOTABLE_SKIPS and len(skipped) < _MAX_NOTES:
        skipped.append(skip)


def merge(into: Batch, part: Batch) -> None:
    if part.error is not None and into.error is None:
        into.error = part.error
    into.found.extend(part.found)
    into.stats.files += part.stats.files
    into.stats.bytes += part.stats.bytes
    for reason, count in part.stats.skipped.items():
        into.stats.skipped[reason] = into.stats.skipped.get(reason, 0) + count
    for cls, count in part.hidden.items():
        into.hidden[cls] = into.hidden.get(cls, 0) + count
    room = _MAX_NOTES - len(into.skipped)
    if room > 0:
        into.skipped.extend(part.skipped[:room])


def masked_line_hash(finding: Finding, fragment: Fragment, lines: list[str]) -> str:
    """sha256 of rule id, path and the finding's masked line(s): stable across machines, no value."""
    loc = finding.location
    first = loc.line - fragment.line_offset - 1
    last = max(loc.end_line - fragment.line_offset - 1, first)
    snippet = ""
    if 0 <= first < len(lines):
        chunk = lines[first : last + 1]
        if len(chunk) == 1:
            line = chunk[0]
            snippet = line[: max(loc.column - 1, 0)] + finding.preview + line[max(loc.end_column - 1, 0) :]
        else:
            head = chunk[0][: max(loc.column - 1, 0)]
            tail = chunk[-1][max(loc.end_column - 1, 0) :]
            snippet = head + finding.preview + tail
        if finding.secret is not None and len(finding.secret) >= 4:
            snippet = snippet.replace(finding.secret.reveal(), finding.preview)
    normalized = " ".join(snippet.split())
    material = "\x00".join((finding.rule_id, loc.path, str(loc.cell or ""), normalized))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def number_duplicates(hashes: list[str]) -> list[str]:
    """`h`, then `h:2`, `h:3`... for identical keys, so each finding keeps its own identity."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for h in hashes:
        n = seen.get(h, 0) + 1
        seen[h] = n
        out.append(f"{h}:{n}")
    return out
