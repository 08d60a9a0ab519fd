"""The data the scanner exchanges: what it reads (`Fragment`) and what it reports (`Finding`).

A `Finding` never holds a raw value in a printable field: `preview` is masked and
`fingerprint` is a keyed hash. `secret` keeps the value in memory (as a `SecretValue`) only so
that `--show-secrets` and inventory matching can use it; formats emit it only when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from secretops.values import SecretValue

if TYPE_CHECKING:
    from secretops.liveness.interface import LivenessResult

__all__ = [
    "Classification",
    "Finding",
    "Fragment",
    "InventoryMatch",
    "Location",
    "PositionMap",
    "ScanStats",
    "Severity",
]


class Classification(StrEnum):
    """What a hit is. Only `leak` (and `weak-default`) fail a scan."""

    LEAK = "leak"
    TEST_CREDENTIAL = "test-credential"
    PLACEHOLDER = "placeholder"
    WEAK_DEFAULT = "weak-default"


class Severity(StrEnum):
    """How bad a leak of this kind is. Ordered: `Severity.HIGH.rank > Severity.MEDIUM.rank`."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order info < low < medium < high < critical."""
        return list(Severity).index(self)


class PositionMap(Protocol):
    """Where a place in a fragment's text is in the file it came from, when that is not 1:1.

    A notebook cell's text is its JSON strings decoded and joined; a piece of a big file may start
    in the middle of a line. The runner calls `locate` on each finding's start and end.
    """

    def locate(self, line: int, column: int) -> tuple[int, int]:
        """The file's 1-based (line, column) for `line` (with `line_offset` added) and `column` of the text."""
        ...


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of text with its origin.

    `line_offset` is the number of lines before `text` in the original (0 for a whole file), so
    a match on line n of `text` (1-based) is reported at line `line_offset + n`. `cell` is the
    notebook cell number (1-based) for notebook sources; `commit`, `author` and `date` are set by
    git history sources. `positions`, when set, maps the engine's line and column in `text` to
    the file's (see `PositionMap`): the runner applies it to every finding.
    """

    text: str
    path: str
    line_offset: int = 0
    cell: int | None = None
    commit: str | None = None
    author: str | None = None
    date: str | None = None
    positions: PositionMap | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: 1-based line and column; `end_line` is the last line it spans.

    Line and column are always those of the file as stored: for a notebook, of the `.ipynb` JSON
    (with `cell` the 1-based cell number); for an archive member, of the member, whose `path` is
    written `bundle.zip!config/.env` (nested: `outer.tar.gz!inner.zip!app/.env`).
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    cell: int | None = None
    commit: str | None = None


@dataclass(frozen=True, slots=True)
class InventoryMatch:
    """The inventory secret a finding's value is, matched by fingerprint (never by value).

    `state` is the version's standing in the store: `current`, `previous` or `pending` (the
    value may still work: rotate it), `revoked` (revoked at the issuer), or `retired` (an older
    version the store keeps).
    """

    secret: str
    version: int
    state: str

    @property
    def live(self) -> bool:
        """Whether the value may still work at its issuer."""
        return self.state in ("current", "previous", "pending")


@dataclass(frozen=True, slots=True)
class Finding:
    """One credential found, possibly assembled from several lines.

    `context` carries the non-secret parts of a credential (host, port, database, user,
    account id...) and never the value. `reasons` explain the classification in words a user
    can act on (for example `placeholder: angle-bracket template <DB_PASSWORD>`). `liveness` is
    set by `scan --verify` (`secretops.liveness.check.verify_findings`), None otherwise.
    """

    rule_id: str
    kind: str
    provider: str
    classification: Classification
    severity: Severity
    confidence: str  # "high" | "medium" | "low"
    location: Location
    fingerprint: str
    preview: str
    context: Mapping[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    secret: SecretValue | None = field(default=None, repr=False, compare=False)
    inventory: InventoryMatch | None = None
    liveness: LivenessResult | None = None


@dataclass(slots=True)
class ScanStats:
    """Counters for one scan: what was read, what was skipped and why."""

    files: int = 0
    bytes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def skip(self, reason: str) -> None:
        """Count one source skipped for `reason` (for example `binary`, `too-large`)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
