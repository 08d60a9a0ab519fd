"""The `scan` and `rules` commands.

`scan` builds the policy, the rule set and one scanner, hands them to
`secretops.scan.runner.scan_paths`, renders the result with a format from
`secretops.scan.formats`, and turns it into an exit code: 0 when nothing at or above `--fail-on`
leaked, 1 when something did, 2 for bad usage or bad configuration (also when a path given on
the command line does not exist and nothing leaked). With `--verify` each finding also gets a
liveness verdict (`secretops.liveness`); `--fail-on-live` then exits 1 only for a leak verified
live. `rules` lists the rules in force.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Final, TypeVar

import typer

from secretops.display import printable
from secretops.errors import ConfigError, ExitCode
from secretops.scan.baseline import (
    Baseline,
    BaselineKeyError,
    load_baseline,
    without_values,
)
from secretops.scan.formats import RenderOptions, get_format, rule_infos
from secretops.scan.formats.interface import Suppressed
from secretops.scan.formats.table import human_bytes, summary
from secretops.scan.models import Classification, Severity
from secretops.scan.runner import Progress, ScanOptions, ScanResult, default_jobs, scan_paths
from secretops.scan.sources.archive import DEFAULT_ARCHIVE_DEPTH
from secretops.scan.sources.files import DEFAULT_MAX_FILE_SIZE
from secretops.scan.sources.interface import SkipReason
from secretops.settings import Settings

if TYPE_CHECKING:
    from secretops.liveness.check import VerifyOptions
    from secretops.scan.config import ScanPolicy
    from secretops.scan.models import Finding
    from secretops.scan.rules.loader import RuleSet
    from secretops.scan.sources.git import GitDiffSource
    from secretops.values import FingerprintKey

__all__ = ["FailOn", "Include", "OutputFormat", "parse_size", "register"]

_MAX_WARNINGS: Final = 20
_E = TypeVar("_E", bound=StrEnum)


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


def _choice(enum: type[_E], value: str, flag: str) -> _E:
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


def _archive_size(text: str) -> int:
    """`--max-archive-size` in bytes."""
    try:
        return parse_size(text)
    except ConfigError as exc:
        raise ConfigError(exc.message.replace("--max-file-size", "--max-archive-size"), hint=exc.hint) from None


def _check_archive_depth(depth: int) -> None:
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


class _ProgressLine:
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


def _load_policy(policy_path: Path | None, settings: Settings, targets: Sequence[str] = (".",)) -> ScanPolicy:
    """`--policy`, else `SECRETOPS_POLICIES`' scan.toml, else the file found from the first target up."""
    from secretops.scan.config import resolve_policy

    if policy_path is not None and not policy_path.is_file():
        raise ConfigError(f"--policy {policy_path}: no such file", hint="give the path of a scan.toml policy")
    explicit = settings.policies_dir if settings.policies_dir != Path("policies") else None
    return resolve_policy(policy_path, explicit, targets)


def _load_ruleset(policy: ScanPolicy, rule_files: Sequence[Path]) -> RuleSet:
    from secretops.scan.rules.loader import load_rules

    for path in rule_files:
        if not path.is_file():
            raise ConfigError(f"--rules {path}: no such file", hint="give the path of a rules TOML file")
    return load_rules(extra_files=[*policy.extra_rule_files, *rule_files], disabled=policy.disabled_rules)


def _load_ruleset_and_gitleaks(
    policy: ScanPolicy, rule_files: Sequence[Path], targets: Sequence[str], no_gitleaks_config: bool
) -> tuple[RuleSet, ScanPolicy]:
    """The rules as `_load_ruleset` loads them, where any file may be a gitleaks config, plus the
    `.gitleaks.toml` at the scanned repository's root (unless `--no-gitleaks-config`). Each gitleaks
    file's notices (what it uses that secretops does not support) go to standard error; its global
    allowlist joins the policy's."""
    from secretops.scan.rules.gitleaks import find_repo_config, load_ruleset, merge_policy

    for path in rule_files:
        if not path.is_file():
            raise ConfigError(f"--rules {path}: no such file", hint="give the path of a rules TOML file")
    found = None if no_gitleaks_config else find_repo_config(targets)
    if found is not None:
        typer.echo(f"notice: using gitleaks config {printable(found)} (turn off with --no-gitleaks-config)", err=True)
    ruleset, configs = load_ruleset(
        [*policy.extra_rule_files, *rule_files], policy.disabled_rules, [found] if found is not None else []
    )
    for config in configs:
        typer.echo(f"notice: {printable(config.path)}: gitleaks config, {len(config.rules)} rules loaded", err=True)
        for note in config.notices:
            typer.echo(f"notice:   {printable(note)}", err=True)
    return ruleset, merge_policy(policy, configs)


def _match_inventory(result: ScanResult, settings: Settings) -> ScanResult:
    """Findings annotated with the stored secret whose value they are (store errors exit 3 or 4)."""
    from secretops.scan.inventory_match import annotate, fingerprint_index
    from secretops.store import open_store

    store = open_store(settings)
    try:
        return annotate(result, fingerprint_index(store))
    finally:
        store.close()


def _git_sources(
    repos: Sequence[str], history: bool, rev_range: str | None, staged: bool, max_size: int
) -> list[GitDiffSource]:
    """The git sources the flags ask for (one per repository), or none for a files scan."""
    from secretops.scan.sources.git import GitDiffSource, history_args, staged_args

    if not (history or rev_range or staged):
        return []
    if staged and (history or rev_range):
        raise ConfigError(
            "--staged cannot be combined with --git-history or --git-range",
            hint="scan staged changes in a pre-commit hook, history in CI",
        )
    if "-" in repos:
        raise ConfigError("git sources read repositories, not standard input", hint="name the repository folder")
    args = staged_args() if staged else history_args(rev_range)
    return [GitDiffSource(repo, args, max_size=max_size) for repo in repos]


def _warn_skips(result: ScanResult, err: IO[str], *, errors_only: bool = False) -> None:
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


def check_writable(path: Path, flag: str) -> None:
    """Raise `ConfigError` (exit 2) now, before scanning, if a file cannot be written at `path`.

    Refused: a directory, an existing path that is not a regular file (a device, FIFO or socket
    would be replaced), a path under a regular file, and a folder where no file can be created
    (read-only file system, no permission). Missing folders are fine (they are created), as long
    as the nearest existing one is writable. The check creates and removes a temporary file, the
    way the atomic write later does; mode bits alone would not tell for root.
    """
    shown = printable(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {shown}: is a directory", hint=f"name a file in it, e.g. {shown}/report")
    if path.exists() and not path.is_file():
        raise ConfigError(
            f"{flag} {shown}: exists and is not a regular file",
            hint="leave the option out to write to standard output, and redirect that",
        )
    folder = path.absolute().parent
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(
            f"{flag} {shown}: {printable(folder)} is not a folder",
            hint="name a file in a folder that exists or can be made",
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".secretops-probe-", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{flag} {shown}: cannot create files in {printable(folder)}: {exc.strerror or type(exc).__name__}",
            hint="choose a writable location",
        ) from exc


def _check_outputs(output: Path | None, write_baseline: Path | None) -> None:
    """Every file the scan will write is writable, and no two of them are the same file."""
    if output is not None:
        check_writable(output, "--output")
    if write_baseline is not None:
        check_writable(write_baseline, "--write-baseline")
    if output is not None and write_baseline is not None and output.resolve() == write_baseline.resolve():
        raise ConfigError(
            f"--output and --write-baseline name the same file ({printable(output)})",
            hint="write the report and the baseline to two files",
        )


def _fingerprint_key(
    settings: Settings, baseline: Path | None, write_baseline: Path | None, inventory: bool
) -> FingerprintKey:
    """The installation key; a one-off key (with a notice) when no key file can be created.

    A one-off key gives fingerprints that match nothing written by another run, so the options
    that compare fingerprints with such things are refused rather than quietly matching nothing.
    """
    key = settings.fingerprint_key(allow_ephemeral=True)
    if not key.ephemeral:
        return key
    hint = (
        "set SECRETOPS_FINGERPRINT_KEY (64 hex characters: the key the team shares), or point "
        "XDG_CONFIG_HOME or SECRETOPS_FINGERPRINT_KEY_FILE at a writable folder"
    )
    # A baseline (format 2) does not depend on the key; the inventory's fingerprints do.
    for flag, given in (("--inventory", inventory),):
        if given:
            raise ConfigError(
                f"{flag} needs a stable fingerprint key, and none is set or can be created "
                f"({printable(settings.fingerprint_key_path or 'no home folder')})",
                hint=hint,
            )
    typer.echo(
        "notice: no fingerprint key is set and none can be created at "
        f"{printable(settings.fingerprint_key_path or '~/.config (no home folder)')}: this scan uses a "
        "one-off key, so its fingerprints differ from any other run's and a format-1 secretops "
        "--baseline cannot match (it is refused)",
        err=True,
    )
    typer.echo(f"hint: {hint}", err=True)
    return key


def _no_value(finding: Finding) -> Finding:
    """A baselined finding as reports show it: never with its value."""
    return replace(finding, secret=None) if finding.secret is not None else finding


def _use_color(output: Path | None) -> bool:
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def scan_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files and folders to scan, or - for standard input. Default: ."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, json, jsonl, sarif, gitlab or html.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of stdout.")
    ] = None,
    policy_path: Annotated[
        Path | None, typer.Option("--policy", help="Scan policy (default: policies/scan.toml when it exists).")
    ] = None,
    rule_files: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule file (TOML); repeatable.")
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Also show: test-credentials, placeholders or all; repeatable."),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option("--fail-on", help="Lowest leak severity that exits 1: info, low, medium, high, critical, never."),
    ] = "high",
    max_file_size: Annotated[str, typer.Option("--max-file-size", help="Skip files larger than this.")] = "10MB",
    no_ignore: Annotated[bool, typer.Option("--no-ignore", help="Scan files that .gitignore excludes.")] = False,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help="Follow symbolic links (loops are cut).")
    ] = False,
    no_archives: Annotated[
        bool, typer.Option("--no-archives", help="Do not open archives (.zip, .tar, .tar.gz, .gz...): skip them.")
    ] = False,
    archive_depth: Annotated[
        int, typer.Option("--archive-depth", help="Open archives nested this deep (1: no archive in an archive).")
    ] = DEFAULT_ARCHIVE_DEPTH,
    max_archive_size: Annotated[
        str, typer.Option("--max-archive-size", help="Decompress at most this much out of each archive file.")
    ] = "256MB",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: CPU count).")] = None,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Put raw values in JSON output (as 'secret'). Handle with care.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress line on a terminal.")] = True,
    baseline_path: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="Known findings (a secretops or detect-secrets baseline): fail on new ones only."
        ),
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Write every finding shown to this baseline file.")
    ] = None,
    git_history: Annotated[
        bool,
        typer.Option("--git-history", help="Scan the lines every commit of the repositories added (all refs)."),
    ] = False,
    git_range: Annotated[
        str | None,
        typer.Option("--git-range", help="Scan only the commits of this range, e.g. origin/main..HEAD."),
    ] = None,
    staged: Annotated[
        bool, typer.Option("--staged", help="Scan the changes staged for the next commit (pre-commit hook).")
    ] = False,
    inventory: Annotated[
        bool,
        typer.Option("--inventory", help="Name the inventory secret a leaked value is (matched by fingerprint)."),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Ask each provider whether a found value still works: live, dead or unknown."),
    ] = False,
    verify_databases: Annotated[
        bool,
        typer.Option(
            "--verify-databases",
            help="Also log in to the databases the findings name (contacts hosts taken from the scanned text).",
        ),
    ] = False,
    verify_timeout: Annotated[
        float, typer.Option("--verify-timeout", help="Seconds each liveness check may take (default 10).")
    ] = 10.0,
    verify_concurrency: Annotated[
        int, typer.Option("--verify-concurrency", help="Liveness checks run at once (default 8).")
    ] = 8,
    fail_on_live: Annotated[
        bool,
        typer.Option("--fail-on-live", help="Exit 1 only when a leak is verified live (needs --verify)."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Findings and exit code only: no summary, notes or warnings.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log to stderr what the scan does: config file, paths, rules, skips."),
    ] = False,
    redact: Annotated[
        int | None,
        typer.Option(
            "--redact", help="Percent of each value previews show, 0-50 (0: stars only; default: up to 4 characters)."
        ),
    ] = None,
    no_gitleaks_config: Annotated[
        bool,
        typer.Option("--no-gitleaks-config", help="Do not read the .gitleaks.toml at the repository root."),
    ] = False,
) -> int:
    """Scan files, folders, standard input, git history or staged changes for leaked credentials."""
    from secretops.scan.engine import Scanner

    _log_level(verbose, quiet)
    _check_redact(redact)
    out_format = _choice(OutputFormat, fmt, "--format")
    threshold = _choice(FailOn, fail_on, "--fail-on").threshold()
    if jobs is not None and jobs < 1:
        raise ConfigError("--jobs must be 1 or more", hint="--jobs 1 scans in this process")
    verify_options = _verify_options(verify, verify_databases, verify_timeout, verify_concurrency, fail_on_live)
    _check_outputs(output, write_baseline)  # before scanning, not after
    _check_archive_depth(archive_depth)
    settings = Settings.from_env()
    targets = list(paths) if paths else ["."]
    limit = parse_size(max_file_size) if max_file_size else DEFAULT_MAX_FILE_SIZE
    sources = _git_sources(targets, git_history, git_range, staged, limit)
    if sources:
        targets = []  # the paths named the repositories
    classes = set(ScanOptions().include)
    for choice in include or ():
        classes |= INCLUDE_CLASSES[_choice(Include, choice, "--include")]
    policy = _load_policy(policy_path, settings, list(paths) if paths else ["."])
    ruleset, policy = _load_ruleset_and_gitleaks(
        policy, rule_files or (), list(paths) if paths else ["."], no_gitleaks_config
    )
    key = _fingerprint_key(settings, baseline_path, write_baseline, inventory)
    try:
        previous = load_baseline(baseline_path, key) if baseline_path is not None else None  # fails before scanning
    except BaselineKeyError as exc:
        if not key.ephemeral:
            raise
        raise ConfigError(
            f"--baseline {printable(baseline_path)}: its fingerprints cannot match this run's one-off key",
            hint="set SECRETOPS_FINGERPRINT_KEY to the key the baseline was written with",
        ) from exc
    # A detect-secrets baseline matches on a hash of the value: keep values in memory until then.
    # A detect-secrets or format-2 baseline matches on a hash of the value, and a baseline is
    # written with value hashes: keep values in memory until then.
    match_values = (previous is not None and previous.needs_values) or write_baseline is not None
    print_values = show_secrets and out_format in (OutputFormat.JSON, OutputFormat.JSONL)
    scanner = Scanner(ruleset, key, policy, redact=redact)
    _log_plan(targets, sources, ruleset, policy)
    options = ScanOptions(
        max_file_size=limit,
        respect_gitignore=not no_ignore,
        follow_symlinks=follow_symlinks,
        jobs=jobs or default_jobs(),
        include=frozenset(classes),
        keep_secrets=print_values or match_values or verify_options is not None,
        archives=not no_archives,
        archive_depth=archive_depth,
        max_archive_size=_archive_size(max_archive_size),
    )
    line = _ProgressLine(sys.stderr) if progress and sys.stderr.isatty() else None
    try:
        result = scan_paths(targets, lambda: scanner, policy=policy, options=options, progress=line, sources=sources)
    finally:
        if line is not None:
            line.close()

    if write_baseline is not None:
        try:
            Baseline.from_result(result, previous).save(write_baseline)
        except OSError as exc:
            raise _write_error("--write-baseline", write_baseline, exc) from exc
        if not quiet:
            typer.echo(f"baseline: {len(result.findings)} findings written to {printable(write_baseline)}", err=True)
    suppressed: tuple[Suppressed, ...] = ()
    if previous is not None:
        result, suppressed = previous.split(result, printable(baseline_path))
        suppressed = tuple(replace(s, finding=_no_value(s.finding)) for s in suppressed)
    if inventory:
        result = _match_inventory(result, settings)
    if verify_options is not None:
        result = _verify(result, verify_options)
    if (match_values or verify_options is not None) and not print_values:
        result = without_values(result)  # values were kept for matching or liveness only

    render = RenderOptions(
        show_secrets=show_secrets,
        color=_use_color(output),
        rules=rule_infos(ruleset),
        suppressed=suppressed,
        roots=tuple(os.path.abspath(t) for t in targets if t != "-" and os.path.isabs(t)),
    )
    text = get_format(out_format.value).render(result, render)
    _log_result(result)
    if quiet and out_format is OutputFormat.TABLE:
        text = _without_summary(text, result)
    if output is not None:
        from secretops.fileio import write_atomic, write_private

        try:
            if show_secrets:
                write_private(output, text)
            else:
                write_atomic(output, text)
        except OSError as exc:
            raise _write_error("--output", output, exc) from exc
        for summary_line in () if quiet else summary(result):
            typer.echo(summary_line, err=True)
    else:
        typer.echo(text, nl=False)
    _warn_skips(result, sys.stderr, errors_only=quiet)

    if fail_on_live:
        if _live_leaks(result):
            _blocked_commit_hint(staged and not quiet)
            return int(ExitCode.FINDINGS)
    elif result.failing(threshold):
        _blocked_commit_hint(staged and not quiet)
        return int(ExitCode.FINDINGS)
    if result.stats.skipped.get(SkipReason.MISSING):
        return int(ExitCode.USAGE)
    return int(ExitCode.OK)


_log = logging.getLogger("secretops.scan")
_LEVEL_SET: list[bool] = []  # whether a scan in this process set the `secretops` logger's level


def _log_level(verbose: bool, quiet: bool) -> None:
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


def _check_redact(redact: int | None) -> None:
    from secretops.values import MAX_SHOWN_PERCENT

    if redact is not None and not 0 <= redact <= MAX_SHOWN_PERCENT:
        raise ConfigError(
            f"--redact {redact}: must be 0 to {MAX_SHOWN_PERCENT} (percent of a value shown)",
            hint="0 masks values fully; --show-secrets puts raw values in JSON output",
        )


def _log_plan(targets: Sequence[str], sources: Sequence[GitDiffSource], ruleset: RuleSet, policy: ScanPolicy) -> None:
    """`-v`: what the scan is about to do (paths, git sources, rules in force)."""
    for target in targets:
        _log.info("scan: walking %s", printable(target))
    for source in sources:
        _log.info("scan: reading git changes of %s", printable(source.repo))
    disabled = len(policy.disabled_rules)
    _log.info("scan: %d rules loaded%s", len(tuple(ruleset)), f" ({disabled} disabled by policy)" if disabled else "")


def _log_result(result: ScanResult) -> None:
    """`-v`: what the scan read and skipped (counts by reason; names of notable skips)."""
    stats = result.stats
    _log.info("scan: %d files, %d bytes read, %d findings shown", stats.files, stats.bytes, len(result.findings))
    for reason, count in sorted(stats.skipped.items(), key=lambda item: str(item[0])):
        _log.info("scan: skipped %d (%s)", count, printable(str(reason)))
    for skip in result.skipped:
        _log.debug("scan: skipped %s (%s)", printable(skip.path), printable(str(skip.reason)))


def _without_summary(text: str, result: ScanResult) -> str:
    """A table report without its summary lines (`--quiet`): the findings only, nothing when none."""
    tail = "\n".join(summary(result)) + "\n"
    if text.endswith(tail):
        text = text[: -len(tail)].rstrip("\n")
        return text + "\n" if text else ""
    return text


def _blocked_commit_hint(staged: bool) -> None:
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


def _verify_options(
    verify: bool, databases: bool, timeout: float, concurrency: int, fail_on_live: bool
) -> VerifyOptions | None:
    """The liveness options, or None without `--verify`; bad values and `--fail-on-live` alone exit 2."""
    if not verify:
        if fail_on_live:
            raise ConfigError("--fail-on-live needs --verify", hint="run: secretops scan --verify --fail-on-live")
        if databases:
            raise ConfigError(
                "--verify-databases needs --verify", hint="run: secretops scan --verify --verify-databases"
            )
        return None
    # Imported only now: liveness pulls in httpx and its verifiers, ~0.1 s a plain scan does not need.
    from secretops.liveness.check import VerifyOptions
    from secretops.liveness.interface import LivenessError

    try:
        return VerifyOptions(databases=databases, timeout=timeout, concurrency=concurrency)
    except LivenessError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None


def _verify(result: ScanResult, options: VerifyOptions) -> ScanResult:
    """`result` with each finding's liveness (values stay in memory; the caller drops them)."""
    import dataclasses

    from secretops.liveness.check import verify_findings

    return dataclasses.replace(result, findings=verify_findings(result.findings, options))


def _live_leaks(result: ScanResult) -> list[Finding]:
    """Leaks and weak defaults a provider accepted (`--fail-on-live`), whatever their severity."""
    from secretops.scan.runner import FAILING_CLASSES

    return [
        f for f in result.findings if f.classification in FAILING_CLASSES and f.liveness is not None and f.liveness.live
    ]


def _write_error(flag: str, path: Path, exc: OSError) -> ConfigError:
    """A write that failed after the scan (disk full, the folder went away): exit 2, not a crash."""
    return ConfigError(
        f"{flag} {printable(path)}: cannot write it: {exc.strerror or type(exc).__name__}",
        hint="the scan ran; fix the location and run it again",
    )


def rules_command(
    policy_path: Annotated[
        Path | None, typer.Option("--policy", help="Scan policy (default: policies/scan.toml when it exists).")
    ] = None,
    rule_files: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule file (TOML); repeatable.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format: table, json or markdown.")] = "table",
    count: Annotated[bool, typer.Option("--count", help="Print only the number of built-in rules.")] = False,
    no_gitleaks_config: Annotated[
        bool,
        typer.Option("--no-gitleaks-config", help="Do not read the .gitleaks.toml at the repository root."),
    ] = False,
) -> int:
    """List the detection rules in force (built-in, plus extra files, minus disabled ids)."""
    out_format = _choice(RulesFormat, fmt, "--format")
    if count:
        from secretops.scan.rules.loader import load_rules

        typer.echo(str(len(load_rules())))
        return int(ExitCode.OK)
    settings = Settings.from_env()
    policy = _load_policy(policy_path, settings)
    ruleset, policy = _load_ruleset_and_gitleaks(policy, rule_files or (), ["."], no_gitleaks_config)
    if out_format is RulesFormat.MARKDOWN:
        from secretops.scan.rules.reference import render_markdown

        typer.echo(render_markdown(ruleset), nl=False)
        return int(ExitCode.OK)
    infos = sorted(rule_infos(ruleset).values(), key=lambda r: r.id)
    if out_format is RulesFormat.JSON:
        doc = [
            {"id": r.id, "severity": r.severity, "provider": r.provider, "kind": r.kind, "description": r.description}
            for r in infos
        ]
        typer.echo(json.dumps(doc, indent=2))
        return int(ExitCode.OK)
    headers = ("ID", "SEVERITY", "PROVIDER", "KIND", "DESCRIPTION")
    rows = [tuple(printable(c) for c in (r.id, r.severity, r.provider, r.kind, r.description)) for r in infos]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    disabled = len(policy.disabled_rules)
    typer.echo(f"\n{len(rows)} rules" + (f" ({disabled} disabled by policy)" if disabled else ""))
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add `scan` and `rules` to `app`."""
    app.command("scan")(scan_command)
    app.command("rules")(rules_command)
