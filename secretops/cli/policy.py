"""The `policy` command group: `policy check` (every problem at once) and `policy schema`.

`policy check [PATH]` reads every `*.yaml`/`*.yml` under PATH (default `policies/`, or
`SECRETOPS_POLICIES`) and the folder's `scan.toml` (a `.toml` PATH is checked as a scan policy
alone, with the scan configuration loader and the rule files it adds), prints each problem as
`file:line: field: message` with a hint, and
exits 2 when there is any, 0 when the policies are sound. Warnings (an empty file, `grace: 0s`)
are printed too but do not fail the check. It also checks that every `.env` target exists on
this machine and holds each consumer's key (relative paths resolve against the working
directory, as `rotate` resolves them); `--skip-local-targets` leaves that out, for checking
away from the host that holds the files (CI). `--draft` lists and counts the `<FILL-IN: ...>`
placeholders a `secretops discover` draft leaves (they fail a plain check). `policy schema`
prints the JSON Schema of a policy file for editors.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from secretops.errors import ExitCode, PolicyError
from secretops.fileio import write_atomic
from secretops.inventory.loader import Inventory, collect
from secretops.inventory.problems import Problem
from secretops.inventory.schema import policy_schema
from secretops.settings import Settings

__all__ = ["CheckFormat", "register"]

policy_app = typer.Typer(
    name="policy",
    help="Check policy files (policies/*.yaml) and export their JSON Schema.",
    no_args_is_help=True,
)


class CheckFormat(StrEnum):
    """Output formats of `policy check`."""

    TEXT = "text"
    JSON = "json"


def _ordered(inventory: Inventory, problems: list[Problem]) -> list[Problem]:
    """Errors and warnings together, by file (in inventory order) then line."""
    order = {f: i for i, f in enumerate(inventory.files)}
    return sorted([*problems, *inventory.warnings], key=lambda p: (order.get(p.file, len(order)), p.line or 0))


def _render_text(path: Path, inventory: Inventory, problems: list[Problem]) -> None:
    for problem in _ordered(inventory, problems):
        head = f"{problem.location()}: {problem.field}: " if problem.field else f"{problem.location()}: "
        if problem.severity == "warning":
            typer.echo(head + typer.style("warning: " + problem.message, fg=typer.colors.YELLOW))
        else:
            typer.echo(head + typer.style(problem.message, fg=typer.colors.RED))
        if problem.hint:
            typer.echo(f"    hint: {problem.hint}")
    files = len(inventory.files)
    warned = len(inventory.warnings)
    warnings = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    if problems:
        count = len(problems)
        typer.echo(
            f"{count} problem{'s' if count != 1 else ''}{warnings} in {path} ({files} file{'s' if files != 1 else ''})"
        )
    else:
        typer.echo(
            f"ok: {files} file{'s' if files != 1 else ''}, {len(inventory.secrets)} secrets, "
            f"{len(inventory.issuers)} issuers, {len(inventory.targets)} targets{warnings}"
        )


def _render_json(path: Path, inventory: Inventory, problems: list[Problem], todo: list[Problem] | None = None) -> None:
    doc = {
        "path": str(path),
        "ok": not problems,
        "files": [str(f) for f in inventory.files],
        "counts": {
            "secrets": len(inventory.secrets),
            "issuers": len(inventory.issuers),
            "targets": len(inventory.targets),
            "problems": len(problems),
            "warnings": len(inventory.warnings),
        },
        "problems": [p.to_json() for p in problems],
        "warnings": [p.to_json() for p in inventory.warnings],
    }
    if todo is not None:  # --draft: the placeholders left, counted apart from the problems
        doc["counts"]["to_fill_in"] = len(todo)  # type: ignore[index]
        doc["to_fill_in"] = [p.to_json() for p in todo]
    typer.echo(json.dumps(doc, indent=2))


RENDERERS = {CheckFormat.TEXT: _render_text, CheckFormat.JSON: _render_json}


@policy_app.command("check")
def check_command(
    path: Annotated[
        Path | None,
        typer.Argument(help="Policy directory or file (default: policies/, or SECRETOPS_POLICIES)."),
    ] = None,
    output: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = CheckFormat.TEXT,
    skip_local_targets: Annotated[
        bool,
        typer.Option(
            "--skip-local-targets",
            help="Do not check that .env targets exist here and hold their keys (checking away from their host, "
            "e.g. in CI); rotate still refuses a missing file.",
        ),
    ] = False,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft",
            help="A draft from `secretops discover`: list and count its <FILL-IN: ...> placeholders instead of "
            "failing on them (every other problem still fails).",
        ),
    ] = False,
) -> int:
    """Report every problem in the policy files, with file, line, field and a hint.

    A scan policy (`scan.toml`, `.secretops.toml`, a `pyproject.toml` with a tool.secretops table)
    is checked with the scan configuration loader; a folder's `scan.toml` is checked with its YAML.
    """
    if path is not None and path.suffix == ".toml":
        return _check_scan_files([path], output)
    settings = Settings.from_env(policies_dir=path)
    target = settings.policies_dir
    scan_toml = target / "scan.toml"
    if target.is_dir() and scan_toml.is_file():
        if not policy_files_exist(target):
            return _check_scan_files([scan_toml], output)
        return _check_rotation(target, output, skip_local_targets, draft, scan_problems(scan_toml))
    return _check_rotation(target, output, skip_local_targets, draft, [])


def policy_files_exist(target: Path) -> bool:
    """Whether `target` holds any rotation policy file (`*.yaml`, `*.yml`)."""
    return any(target.glob("**/*.yaml")) or any(target.glob("**/*.yml"))


_SCAN_ERROR = re.compile(r"^(?P<file>.+?)(?::(?P<line>\d+))?: (?:field '(?P<field>[^']+)': )?(?P<message>.*)$", re.S)


def scan_problems(path: Path) -> list[Problem]:
    """The problems of one scan policy file (at most one: the loader stops at the first), with its rules."""
    from secretops.errors import SecretOpsError
    from secretops.scan.config import ScanPolicy
    from secretops.scan.rules.loader import load_rules

    try:
        policy = ScanPolicy.load(path)
        load_rules(extra_files=policy.extra_rule_files, disabled=policy.disabled_rules)
    except SecretOpsError as exc:
        match = _SCAN_ERROR.match(exc.message)
        if match is None or not match["file"].startswith(str(path)):
            return [Problem(path, None, "", exc.message, exc.hint, code="invalid-scan-policy")]
        line = int(match["line"]) if match["line"] else None
        return [Problem(path, line, match["field"] or "", match["message"], exc.hint, code="invalid-scan-policy")]
    return []


def _check_scan_files(paths: list[Path], output: CheckFormat) -> int:
    """`policy check` of scan policy files (TOML): each problem as `file:line: field: message`."""
    for path in paths:
        if not path.is_file():
            raise PolicyError(f"{path}: no such file", hint="pass a scan.toml, .secretops.toml or pyproject.toml")
    problems = [p for path in paths for p in scan_problems(path)]
    if output is CheckFormat.JSON:
        doc = {
            "kind": "scan",
            "files": [str(p) for p in paths],
            "ok": not problems,
            "problems": [p.to_json() for p in problems],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for problem in problems:
            head = f"{problem.location()}: {problem.field}: " if problem.field else f"{problem.location()}: "
            typer.echo(head + typer.style(problem.message, fg=typer.colors.RED))
            if problem.hint:
                typer.echo(f"    hint: {problem.hint}")
        if not problems:
            typer.echo(f"ok: scan policy {', '.join(str(p) for p in paths)}")
    return int(ExitCode.USAGE if problems else ExitCode.OK)


def _check_rotation(
    target: Path, output: CheckFormat, skip_local_targets: bool, draft: bool, scan: list[Problem]
) -> int:
    """`policy check` of the rotation policies (YAML) under `target`, plus its scan.toml's `scan` problems."""
    inventory, problems = collect(target, local_targets=not skip_local_targets)
    problems = [*problems, *scan]
    if not inventory.files:
        raise PolicyError(
            f"no policy files (*.yaml, *.yml) under {target}",
            hint="pass the directory holding your policies, e.g. secretops policy check policies/",
        )
    todo = [p for p in problems if p.code == "to-fill-in"] if draft else []
    if draft:
        problems = [p for p in problems if p.code != "to-fill-in"]
    if draft and output is CheckFormat.JSON:
        _render_json(target, inventory, problems, todo)
    else:
        RENDERERS[output](target, inventory, problems)
    if draft and output is CheckFormat.TEXT:
        _render_todo(todo)
    return int(ExitCode.USAGE if problems else ExitCode.OK)


def _render_todo(todo: list[Problem]) -> None:
    """`--draft`: the placeholders left to fill in, each with file, line and field, and their count."""
    for problem in todo:
        typer.echo(f"{problem.location()}: {problem.field}: " + typer.style(problem.message, fg=typer.colors.CYAN))
    typer.echo(f"{len(todo)} placeholder{'s' if len(todo) != 1 else ''} to fill in")


@policy_app.command("schema")
def schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file instead of stdout.")
    ] = None,
) -> int:
    """Print the JSON Schema of a policy file (for editor validation and completion)."""
    text = json.dumps(policy_schema(), indent=2, sort_keys=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text)
        typer.echo(f"wrote {output}", err=True)
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add the `policy` group to `app`."""
    app.add_typer(policy_app, name="policy")
