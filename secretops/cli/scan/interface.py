"""The choices and values the `scan` and `rules` options take, checked before anything is read.

Each `--format` choice maps to an entry of `secretops.scan.formats.FORMATS` and each `--include`
choice to classes (`INCLUDE_CLASSES`); a bad value is a `ConfigError` (exit 2) naming the
choices (`parse_choice`), as are bad sizes, depths and `--redact` percentages.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final, TypeVar

import typer

from secretops.errors import ConfigError
from secretops.scan.models import Classification, Severity

_E = TypeVar("_E", bound=StrEnum)

#: `--policy` and `--rules`, the same on `scan` and `rules`.
PolicyOption = Annotated[
    Path | None, typer.Option("--policy", help="Scan policy (default: policies/scan.toml when it exists).")
]
RulesOption = Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file (TOML); repeatable.")]


class OutputFormat(StrEnum):
    """`--format` choices; each maps to an entry of `secretops.scan.formats.FORMATS`."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    SARIF = "sarif"
    GITLAB = "gitlab"
    HTML = "html"


class RulesFormat(StrEnum):
    """`secretops rules --format` choices."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


class Include(StrEnum):
    """`--include` choices: classes shown besides leaks and weak defaults."""

    TEST_CREDENTIALS = "test-credentials"
    PLACEHOLDERS = "placeholders"
    ALL = "all"


INCLUDE_CLASSES: Final = {
    Include.TEST_CREDENTIALS: frozenset({Classification.TEST_CREDENTIAL}),
    Include.PLACEHOLDERS: frozenset({Classification.PLACEHOLDER}),
    Include.ALL: frozenset(Classification),
}


class FailOn(StrEnum):
    """`--fail-on` choices: the lowest severity of leak that fails the scan (`never`: none)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    NEVER = "never"

    def threshold(self) -> Severity | None:
        """The severity this choice stands for, `None` for `never`."""
        return None if self is FailOn.NEVER else Severity(self.value)


def parse_choice(enum: type[_E], value: str, flag: str) -> _E:
    """`value` as a member of `enum`, or a `ConfigError` (exit 2) listing the choices.

    Choices are checked here rather than by typer so that a bad value is a plain usage error.
    """
    try:
        return enum(value.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise ConfigError(f"{flag}: {value!r} is not one of {choices}", hint=f"use one of: {choices}") from None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)

_UNITS: Final = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_archive_size(text: str) -> int:
    """`--max-archive-size` in bytes."""
    try:
        return parse_size(text)
    except ConfigError as exc:
        raise ConfigError(exc.message.replace("--max-file-size", "--max-archive-size"), hint=exc.hint) from None


def check_archive_depth(depth: int) -> None:
    if depth < 1:
        raise ConfigError("--archive-depth must be 1 or more", hint="--no-archives leaves archives closed")


def parse_size(text: str) -> int:
    """Bytes in `10MB`, `512k`, `1.5GiB` or `1000` (K, M, G are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"--max-file-size: cannot read {text!r} as a size", hint="write it like 10MB, 512KB or 1GB")
    number, unit, _ = match.groups()
    size = int(float(number) * _UNITS[unit.lower()])
    if size <= 0:
        raise ConfigError("--max-file-size must be more than 0 bytes", hint="write it like 10MB")
    return size


def check_redact(redact: int | None) -> None:
    from secretops.values import MAX_SHOWN_PERCENT

    if redact is not None and not 0 <= redact <= MAX_SHOWN_PERCENT:
        raise ConfigError(
            f"--redact {redact}: must be 0 to {MAX_SHOWN_PERCENT} (percent of a value shown)",
            hint="0 masks values fully; --show-secrets puts raw values in JSON output",
        )
