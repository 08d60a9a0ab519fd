"""What a scan tells on standard error besides its report: progress, skips, `-v` logs, a blocked commit's hint."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Final

import typer

from secretops.display import printable
from secretops.errors import ConfigError
from secretops.scan.formats.table import human_bytes, summary
from secretops.scan.runner import Progress, ScanResult
from secretops.scan.sources.interface import SkipReason

if TYPE_CHECKING:
    from secretops.scan.config import ScanPolicy
    from secretops.scan.rules.interface import RuleSet
    from secretops.scan.sources.git import GitDiffSource


_MAX_WARNINGS: Final = 20


class ProgressLine:
    """A carriage-return progress line on stderr, shown once a scan has run for `delay` seconds."""

    def __init__(self, stream: IO[str], delay: float = 2.0) -> None:
        self.stream = stream
        self.delay = delay
        self.shown = False
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.seconds < self.delay or now - self._last < 0.1:
            return
        self._last = now
        rate = progress.bytes / progress.seconds / 1e6 if progress.seconds else 0.0
        self.stream.write(f"\rscanning: {progress.files} files, {human_bytes(progress.bytes)}, {rate:.1f} MB/s\x1b[K")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def warn_skips(result: ScanResult, err: IO[str], *, errors_only: bool = False) -> None:
    for shown, skip in enumerate(result.skipped):
        if errors_only:  # --quiet: a path that does not exist is still said
            if skip.reason == SkipReason.MISSING:
                err.write(f"error: {printable(skip.path)}: no such file or directory\n")
            continue
        if shown >= _MAX_WARNINGS:
            err.write(f"warning: ... and {len(result.skipped) - shown} more skipped files\n")
            break
        path = printable(skip.path)  # a file name can hold ESC, BEL or a newline
        if skip.reason == SkipReason.MISSING:
            err.write(f"error: {path}: no such file or directory\n")
        else:
            detail = f": {printable(skip.detail)}" if skip.detail else ""
            err.write(f"warning: skipped {path} ({printable(skip.reason)}{detail})\n")


_log = logging.getLogger("secretops.scan")

_LEVEL_SET: list[bool] = []  # whether a scan in this process set the `secretops` logger's level


def log_level(verbose: bool, quiet: bool) -> None:
    """`scan -v`: info and debug logs on stderr; `scan -q`: errors only (`secretops -v` works too)."""
    if verbose and quiet:
        raise ConfigError("--quiet and --verbose contradict each other", hint="choose one")
    logger = logging.getLogger("secretops")
    if verbose or quiet:
        logger.setLevel(logging.DEBUG if verbose else logging.ERROR)
        _LEVEL_SET.append(True)
    elif _LEVEL_SET:  # an earlier run in this process (tests, an embedding tool) set it: undo
        logger.setLevel(logging.NOTSET)
        _LEVEL_SET.clear()


def log_plan(targets: Sequence[str], sources: Sequence[GitDiffSource], ruleset: RuleSet, policy: ScanPolicy) -> None:
    """`-v`: what the scan is about to do (paths, git sources, rules in force)."""
    for target in targets:
        _log.info("scan: walking %s", printable(target))
    for source in sources:
        _log.info("scan: reading git changes of %s", printable(source.repo))
    disabled = len(policy.disabled_rules)
    _log.info("scan: %d rules loaded%s", len(tuple(ruleset)), f" ({disabled} disabled by policy)" if disabled else "")


def log_result(result: ScanResult) -> None:
    """`-v`: what the scan read and skipped (counts by reason; names of notable skips)."""
    stats = result.stats
    _log.info("scan: %d files, %d bytes read, %d findings shown", stats.files, stats.bytes, len(result.findings))
    for reason, count in sorted(stats.skipped.items(), key=lambda item: str(item[0])):
        _log.info("scan: skipped %d (%s)", count, printable(str(reason)))
    for skip in result.skipped:
        _log.debug("scan: skipped %s (%s)", printable(skip.path), printable(str(skip.reason)))


def without_summary(text: str, result: ScanResult) -> str:
    """A table report without its summary lines (`--quiet`): the findings only, nothing when none."""
    tail = "\n".join(summary(result)) + "\n"
    if text.endswith(tail):
        text = text[: -len(tail)].rstrip("\n")
        return text + "\n" if text else ""
    return text


def blocked_commit_hint(staged: bool) -> None:
    """What to do next when a commit is blocked: `--staged`, or any scan a pre-commit hook runs."""
    if not (staged or os.environ.get("PRE_COMMIT") == "1"):
        return
    for hint_line in (
        "commit blocked: the changes above hold a credential. Next:",
        "  - a real secret: take it out (read it from the environment or a secret store), then commit again;",
        "    if it was ever committed or pushed, rotate it: secretops compromised NAME (docs/rotation.md)",
        "  - not a secret (an example, a test value): add `secretops:allow` in a comment on that line",
        "  - a known finding you accept for now: record it in the baseline the hook reads",
        "    (secretops scan . --write-baseline .secretops-baseline.json, hook args: --baseline FILE)",
    ):
        typer.echo(hint_line, err=True)
