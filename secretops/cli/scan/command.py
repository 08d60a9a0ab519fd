"""The `scan` command: options parsed, objects built, `scan_paths` called, the result rendered, an exit code."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from secretops.cli.scan.build import (
    git_sources,
    load_policy,
    load_ruleset_and_gitleaks,
    match_inventory,
    resolve_fingerprint_key,
)
from secretops.cli.scan.interface import (
    INCLUDE_CLASSES,
    FailOn,
    Include,
    OutputFormat,
    PolicyOption,
    RulesOption,
    check_archive_depth,
    check_redact,
    parse_archive_size,
    parse_choice,
    parse_size,
)
from secretops.cli.scan.outputs import check_outputs, use_color, write_error
from secretops.cli.scan.report import (
    ProgressLine,
    blocked_commit_hint,
    log_level,
    log_plan,
    log_result,
    warn_skips,
    without_summary,
)
from secretops.cli.scan.verify import live_leaks, parse_verify_options, verify_liveness
from secretops.display import printable
from secretops.errors import ConfigError, ExitCode
from secretops.scan.baseline import Baseline, BaselineKeyError, load_baseline, without_values
from secretops.scan.formats import RenderOptions, get_format, rule_infos
from secretops.scan.formats.interface import Suppressed
from secretops.scan.formats.table import summary
from secretops.scan.runner import ScanOptions, default_jobs, scan_paths
from secretops.scan.sources.archive import DEFAULT_ARCHIVE_DEPTH
from secretops.scan.sources.files import DEFAULT_MAX_FILE_SIZE
from secretops.scan.sources.interface import SkipReason
from secretops.settings import Settings

if TYPE_CHECKING:
    from secretops.scan.models import Finding


def _no_value(finding: Finding) -> Finding:
    """A baselined finding as reports show it: never with its value."""
    return replace(finding, secret=None) if finding.secret is not None else finding


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
    policy_path: PolicyOption = None,
    rule_files: RulesOption = None,
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

    log_level(verbose, quiet)
    check_redact(redact)
    out_format = parse_choice(OutputFormat, fmt, "--format")
    threshold = parse_choice(FailOn, fail_on, "--fail-on").threshold()
    if jobs is not None and jobs < 1:
        raise ConfigError("--jobs must be 1 or more", hint="--jobs 1 scans in this process")
    verify_options = parse_verify_options(verify, verify_databases, verify_timeout, verify_concurrency, fail_on_live)
    check_outputs(output, write_baseline)  # before scanning, not after
    check_archive_depth(archive_depth)
    settings = Settings.from_env()
    targets = list(paths) if paths else ["."]
    limit = parse_size(max_file_size) if max_file_size else DEFAULT_MAX_FILE_SIZE
    sources = git_sources(targets, git_history, git_range, staged, limit)
    if sources:
        targets = []  # the paths named the repositories
    classes = set(ScanOptions().include)
    for choice in include or ():
        classes |= INCLUDE_CLASSES[parse_choice(Include, choice, "--include")]
    policy = load_policy(policy_path, settings, list(paths) if paths else ["."])
    ruleset, policy = load_ruleset_and_gitleaks(
        policy, rule_files or (), list(paths) if paths else ["."], no_gitleaks_config
    )
    key = resolve_fingerprint_key(settings, baseline_path, write_baseline, inventory)
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
    log_plan(targets, sources, ruleset, policy)
    options = ScanOptions(
        max_file_size=limit,
        respect_gitignore=not no_ignore,
        follow_symlinks=follow_symlinks,
        jobs=jobs or default_jobs(),
        include=frozenset(classes),
        keep_secrets=print_values or match_values or verify_options is not None,
        archives=not no_archives,
        archive_depth=archive_depth,
        max_archive_size=parse_archive_size(max_archive_size),
    )
    line = ProgressLine(sys.stderr) if progress and sys.stderr.isatty() else None
    try:
        result = scan_paths(targets, lambda: scanner, policy=policy, options=options, progress=line, sources=sources)
    finally:
        if line is not None:
            line.close()

    if write_baseline is not None:
        try:
            Baseline.from_result(result, previous).save(write_baseline)
        except OSError as exc:
            raise write_error("--write-baseline", write_baseline, exc) from exc
        if not quiet:
            typer.echo(f"baseline: {len(result.findings)} findings written to {printable(write_baseline)}", err=True)
    suppressed: tuple[Suppressed, ...] = ()
    if previous is not None:
        result, suppressed = previous.split(result, printable(baseline_path))
        suppressed = tuple(replace(s, finding=_no_value(s.finding)) for s in suppressed)
    if inventory:
        result = match_inventory(result, settings)
    if verify_options is not None:
        result = verify_liveness(result, verify_options)
    if (match_values or verify_options is not None) and not print_values:
        result = without_values(result)  # values were kept for matching or liveness only

    render = RenderOptions(
        show_secrets=show_secrets,
        color=use_color(output),
        rules=rule_infos(ruleset),
        suppressed=suppressed,
        roots=tuple(os.path.abspath(t) for t in targets if t != "-" and os.path.isabs(t)),
    )
    text = get_format(out_format.value).render(result, render)
    log_result(result)
    if quiet and out_format is OutputFormat.TABLE:
        text = without_summary(text, result)
    if output is not None:
        from secretops.fileio import write_atomic, write_private

        try:
            if show_secrets:
                write_private(output, text)
            else:
                write_atomic(output, text)
        except OSError as exc:
            raise write_error("--output", output, exc) from exc
        for summary_line in () if quiet else summary(result):
            typer.echo(summary_line, err=True)
    else:
        typer.echo(text, nl=False)
    warn_skips(result, sys.stderr, errors_only=quiet)

    if fail_on_live:
        if live_leaks(result):
            blocked_commit_hint(staged and not quiet)
            return int(ExitCode.FINDINGS)
    elif result.failing(threshold):
        blocked_commit_hint(staged and not quiet)
        return int(ExitCode.FINDINGS)
    if result.stats.skipped.get(SkipReason.MISSING):
        return int(ExitCode.USAGE)
    return int(ExitCode.OK)
