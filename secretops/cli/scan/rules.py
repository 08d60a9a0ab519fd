"""The `rules` command: the rules in force (built-in, plus extra files, minus disabled ids)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from secretops.cli.scan.build import load_policy, load_ruleset_and_gitleaks
from secretops.cli.scan.interface import PolicyOption, RulesFormat, RulesOption, parse_choice
from secretops.display import printable
from secretops.errors import ExitCode
from secretops.scan.formats import rule_infos
from secretops.settings import Settings


def rules_command(
    policy_path: PolicyOption = None,
    rule_files: RulesOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format: table, json or markdown.")] = "table",
    count: Annotated[bool, typer.Option("--count", help="Print only the number of built-in rules.")] = False,
    no_gitleaks_config: Annotated[
        bool,
        typer.Option("--no-gitleaks-config", help="Do not read the .gitleaks.toml at the repository root."),
    ] = False,
) -> int:
    """List the detection rules in force (built-in, plus extra files, minus disabled ids)."""
    out_format = parse_choice(RulesFormat, fmt, "--format")
    if count:
        from secretops.scan.rules.loader import load_rules

        typer.echo(str(len(load_rules())))
        return int(ExitCode.OK)
    settings = Settings.from_env()
    policy = load_policy(policy_path, settings)
    ruleset, policy = load_ruleset_and_gitleaks(policy, rule_files or (), ["."], no_gitleaks_config)
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
