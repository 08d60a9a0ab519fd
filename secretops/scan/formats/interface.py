"""The output seam: a `Format` renders a `ScanResult` as text (table, JSON, SARIF).

Formats never print a raw value, except `JsonFormat` when `RenderOptions.show_secrets` is set
(`--show-secrets`, for pipelines that need it). Rule descriptions come from the rule set through
`RenderOptions.rules`, so a format does not load rules itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from secretops import __version__
from secretops.errors import SecretOpsError
from secretops.scan.models import Finding
from secretops.scan.runner import ScanResult

__all__ = ["Format", "FormatError", "RenderOptions", "RuleInfo", "Suppressed", "rule_infos"]


class FormatError(SecretOpsError):
    """An output cannot be produced (an unknown format name)."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What outputs say about a rule: its id, description, default severity, provider and kind."""

    id: str
    description: str = ""
    severity: str = "high"
    provider: str = ""
    kind: str = ""
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()  # https:// URLs; the first is SARIF's `helpUri`


def rule_infos(rules: Iterable[Any]) -> dict[str, RuleInfo]:
    """`RuleInfo`s keyed by id from any rule objects with `id`, `description`, `severity`...

    Takes the engine's `Rule`s duck-typed, so formats do not depend on the rule loader.
    """
    infos: dict[str, RuleInfo] = {}
    for rule in rules:
        rule_id = str(rule.id)
        infos[rule_id] = RuleInfo(
            id=rule_id,
            description=str(getattr(rule, "description", "") or ""),
            severity=str(getattr(rule, "severity", "high")),
            provider=str(getattr(rule, "provider", "") or ""),
            kind=str(getattr(rule, "kind", "") or ""),
            tags=tuple(str(t) for t in (getattr(rule, "tags", ()) or ())),
            references=tuple(str(r) for r in (getattr(rule, "references", ()) or ())),
        )
    return infos


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding a baseline knows: not counted as new, but shown as suppressed where a format can
    (SARIF `suppressions`). `state` is the baseline's audit mark, `justification` its note."""

    finding: Finding
    stable_id: str
    state: str = "unaudited"
    justification: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render: raw values (JSON only), colour (table only), rule metadata, tool version."""

    show_secrets: bool = False
    color: bool = False
    rules: Mapping[str, RuleInfo] = field(default_factory=dict)
    tool_version: str = __version__
    suppressed: tuple[Suppressed, ...] = ()  # baselined findings (SARIF writes them as suppressions)
    roots: tuple[str, ...] = ()  # the scan's absolute roots (SARIF `originalUriBaseIds`)


class Format(ABC):
    """An output format for scan results."""

    id: ClassVar[str]

    @abstractmethod
    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """The whole output as one string, ending with a newline."""
