"""What a scan is built from: the policy, the rules (gitleaks configs too), the git sources, the key.

Also the inventory match (`--inventory`), which opens the store after the scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from secretops.display import printable
from secretops.errors import ConfigError
from secretops.scan.runner import ScanResult
from secretops.settings import Settings

if TYPE_CHECKING:
    from secretops.scan.config import ScanPolicy
    from secretops.scan.rules.interface import RuleSet
    from secretops.scan.sources.git import GitDiffSource
    from secretops.values import FingerprintKey


def load_policy(policy_path: Path | None, settings: Settings, targets: Sequence[str] = (".",)) -> ScanPolicy:
    """`--policy`, else `SECRETOPS_POLICIES`' scan.toml, else the file found from the first target up."""
    from secretops.scan.config import resolve_policy

    if policy_path is not None and not policy_path.is_file():
        raise ConfigError(f"--policy {policy_path}: no such file", hint="give the path of a scan.toml policy")
    explicit = settings.policies_dir if settings.policies_dir != Path("policies") else None
    return resolve_policy(policy_path, explicit, targets)


def load_ruleset(policy: ScanPolicy, rule_files: Sequence[Path]) -> RuleSet:
    from secretops.scan.rules.loader import load_rules

    for path in rule_files:
        if not path.is_file():
            raise ConfigError(f"--rules {path}: no such file", hint="give the path of a rules TOML file")
    return load_rules(extra_files=[*policy.extra_rule_files, *rule_files], disabled=policy.disabled_rules)


def load_ruleset_and_gitleaks(
    policy: ScanPolicy, rule_files: Sequence[Path], targets: Sequence[str], no_gitleaks_config: bool
) -> tuple[RuleSet, ScanPolicy]:
    """The rules as `load_ruleset` loads them, where any file may be a gitleaks config, plus the
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


def match_inventory(result: ScanResult, settings: Settings) -> ScanResult:
    """Findings annotated with the stored secret whose value they are (store errors exit 3 or 4)."""
    from secretops.scan.inventory_match import annotate, fingerprint_index
    from secretops.store import open_store

    store = open_store(settings)
    try:
        return annotate(result, fingerprint_index(store))
    finally:
        store.close()


def git_sources(
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


def resolve_fingerprint_key(
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
