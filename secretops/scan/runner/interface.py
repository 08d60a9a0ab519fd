"""What the runner exchanges with its callers: the scanner and policy it needs, its options, its result.

`ScanOptions` says how to scan, `ScanResult` is what `scan_paths` returns (findings in the order
`sort_key` gives), `failing` says which findings fail a scan. `FragmentScanner` and
`BytesPrefilter` are what the runner needs from the engine (`secretops.scan.engine.Scanner` fits
both), `PathPolicy` what it needs from `secretops.scan.config.ScanPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from secretops.scan.models import Classification, Finding, Fragment, ScanStats, Severity
from secretops.scan.sources.archive import DEFAULT_ARCHIVE_DEPTH, DEFAULT_MAX_ARCHIVE_SIZE
from secretops.scan.sources.files import DEFAULT_MAX_FILE_SIZE
from secretops.scan.sources.interface import Skipped

DEFAULT_INCLUDE: Final = frozenset({Classification.LEAK, Classification.WEAK_DEFAULT})

FAILING_CLASSES: Final = frozenset({Classification.LEAK, Classification.WEAK_DEFAULT})


class FragmentScanner(Protocol):
    """What the runner needs from the engine: `secretops.scan.engine.Scanner` fits."""

    def scan(self, fragment: Fragment) -> list[Finding]:
        """All findings of all classes in `fragment`."""
        ...


@runtime_checkable
class BytesPrefilter(Protocol):
    """What the runner's bytes-first path needs (`Scanner` fits): prefilter a file before decoding it."""

    def prefilter_bytes(self, data: bytes) -> list[int] | None:
        """Keyword hits over raw bytes, or None when this scanner can only prefilter text."""
        ...

    def hits_for_text(self, data: bytes, text: str, hits: list[int]) -> list[int]:
        """The hits as character offsets into `text`, decoded from `data`."""
        ...

    def wants_decoders(self, hits: list[int]) -> bool:
        """Whether a text with these hits may hold encoded values for the decoders."""
        ...

    def scan(self, fragment: Fragment, hits: list[int] | None = None) -> list[Finding]:
        """All findings in `fragment`, given its prefilter hits."""
        ...


class PathPolicy(Protocol):
    """What the runner needs from `secretops.scan.config.ScanPolicy`."""

    def path_allowed(self, rel_path: str) -> bool:
        """True when the policy allows (ignores) everything in `rel_path`."""
        ...


ScannerFactory = Callable[[], FragmentScanner]


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How much work one task carries: a batch closes at `files` files or `bytes` bytes."""

    files: int = 64
    bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan. `include` is the set of classes reported; the others are counted in `hidden`.

    `archives` opens archives (`--no-archives` turns it off), nested up to `archive_depth`, at
    most `max_archive_size` bytes decompressed out of each archive file (and no archive file
    larger than that is opened).
    """

    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    follow_symlinks: bool = False
    jobs: int = 1
    include: frozenset[Classification] = DEFAULT_INCLUDE
    keep_secrets: bool = False
    batch: BatchLimits = BatchLimits()
    archives: bool = True
    archive_depth: int = DEFAULT_ARCHIVE_DEPTH
    max_archive_size: int = DEFAULT_MAX_ARCHIVE_SIZE


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a running scan is, for a progress line."""

    files: int
    bytes: int
    seconds: float


@dataclass(slots=True)
class ScanResult:
    """What a scan found.

    `findings` are sorted (see `sort_key`) and hold no raw value unless `keep_secrets` was set.
    `line_hashes[i]` is a stable identity of `findings[i]` that holds no value and does not depend
    on the fingerprint key: sha256 of rule id, path and the finding's line(s) with the secret
    masked, plus `:n` for the n-th identical one (SARIF `partialFingerprints`).
    `hidden` counts findings of classes not in `include`; `skipped` names the files skipped for
    reasons worth telling (unreadable, missing, too large, loops, engine errors), at most 200.
    """

    findings: list[Finding] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    hidden: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    line_hashes: list[str] = field(default_factory=list)

    def failing(self, threshold: Severity | None) -> list[Finding]:
        """The findings that fail the scan at `threshold` (see `failing`)."""
        return failing(self.findings, threshold)


def failing(findings: Iterable[Finding], threshold: Severity | None) -> list[Finding]:
    """Leaks and weak defaults at or above `threshold`; `None` means nothing fails.

    Test credentials and placeholders never fail a scan, even when shown.
    """
    if threshold is None:
        return []
    return [f for f in findings if f.classification in FAILING_CLASSES and f.severity.rank >= threshold.rank]


def sort_key(finding: Finding) -> tuple[str, int, int, int, str, int, str]:
    """The order of findings in every output: path, cell, line, column, rule id, end line, commit.

    The commit breaks ties in a history scan (the same line of a path in two commits), whose
    chunks finish in any order: without it, the order and so the stable-id numbering of such
    findings would depend on which worker finished first.
    """
    loc = finding.location
    return (loc.path, loc.cell or 0, loc.line, loc.column, finding.rule_id, loc.end_line, loc.commit or "")
