"""A policy mistake (`Problem`) and where it is (`LineMap`, `Located`): what the loader and the checks exchange.

`secretops.inventory.loader` builds a `LineMap` per file and wraps each valid entry in a
`Located`; every check (`secretops.inventory.check`, `.escaping`, `.local_targets`, `.fill_in`)
reports `Problem`s through them, so each one carries its file, line and field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

__all__ = ["LineMap", "Located", "Problem", "Severity", "YamlPath", "format_path", "suggest"]

YamlPath = tuple[str | int, ...]
Severity = Literal["error", "warning"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a policy file: where it is, which field, what is wrong, what to do.

    `code` is a stable kebab-case id of the kind of mistake (`unknown-target-kind`,
    `duplicate-secret`, ...; every one is in `CHECKS`), for JSON output and tests. A `warning`
    is a risk the policy may take on purpose: it is shown, but the policy is still valid.
    No message carries a secret value.
    """

    file: Path
    line: int | None
    field: str
    message: str
    hint: str | None = None
    code: str = "invalid"
    severity: Severity = "error"

    def location(self) -> str:
        """`file:line`, or just the file when the line is unknown."""
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def __str__(self) -> str:
        head = (
            f"{self.location()}: {self.field}: {self.message}" if self.field else f"{self.location()}: {self.message}"
        )
        return f"{head} (hint: {self.hint})" if self.hint else head

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        return {
            "file": str(self.file),
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


def format_path(path: Iterable[str | int]) -> str:
    """A YAML path as people write it: `secrets[0].consumers[1].env`, `targets.web.kind`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True, slots=True)
class LineMap:
    """The 1-based line of every mapping key and list item of one YAML file, by YAML path."""

    lines: Mapping[YamlPath, int] = field(default_factory=dict)

    def line(self, path: YamlPath) -> int:
        """The line of `path`, or of its longest declared prefix (a missing field's parent)."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1

    def has(self, path: YamlPath) -> bool:
        """Whether `path` was written in the file (not a default)."""
        return path in self.lines


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A validated policy entry (`spec`) with its name and where it was declared."""

    name: str
    spec: T
    file: Path
    path: YamlPath
    lines: LineMap

    def line(self, *sub: str | int) -> int:
        """The line of a field of this entry (or of the entry, for a field left to its default)."""
        return self.lines.line(self.path + sub)

    def field(self, *sub: str | int) -> str:
        """The dotted path of a field of this entry."""
        return format_path(self.path + sub)

    def problem(
        self, sub: tuple[str | int, ...], message: str, hint: str | None, code: str, severity: Severity = "error"
    ) -> Problem:
        """A `Problem` at a field of this entry."""
        return Problem(self.file, self.line(*sub), self.field(*sub), message, hint, code, severity)


def suggest(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None
