"""What classification returns: a `Verdict` (the class and the reasons a user can act on)."""

from __future__ import annotations

from dataclasses import dataclass

from secretops.scan.models import Classification, Severity


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classification with its reasons; `classification` None means: not a credential, drop it.

    `severity` and `confidence`, when set, replace what the engine would derive from the rule
    and the class (a value with no live shape in a test path is lowered to `low`).
    """

    classification: Classification | None
    reasons: tuple[str, ...]
    severity: Severity | None = None
    confidence: str | None = None
