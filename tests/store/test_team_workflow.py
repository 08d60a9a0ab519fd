"""docs/examples/workflows/rotate.yml: a valid GitHub workflow whose commands are real secretops CLI.

The recipe in docs/team.md (rotate on a cron, `compromised` on `workflow_dispatch`, state in
PostgreSQL, values in Vault or the PostgreSQL store) is this file, shown verbatim.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from tests.helpers import service_unavailable

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "docs" / "examples" / "workflows" / "rotate.yml"
TEAM = REPO / "docs" / "team.md"


def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _steps() -> list[dict[str, Any]]:
    return [step for job in _workflow()["jobs"].values() for step in job["steps"]]


def _cli() -> Any:
    """The click command tree of the real CLI (typer may bring its own click: compared by shape)."""
    from secretops.cli.app import app

    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    return group


def _invocations() -> list[tuple[list[str], dict[str, Any]]]:
    """Each `secretops ...` command line of a run step, split as a shell would, with its step."""
    found = []
    for step in _steps():
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith("secretops "):
                found.append((shlex.split(line, comments=True)[1:], step))
    return found


def _check_argv(argv: list[str], step: dict[str, Any]) -> None:
    """`argv` names a real command and only options it has, with at most as many arguments as it takes."""
    command = _cli()
    words = list(argv)
    while hasattr(command, "commands"):
        assert words, f"{argv}: a command group needs a subcommand"
        name = words.pop(0)
        assert name in command.commands, f"secretops has no command {name!r} (in {argv})"
        command = command.commands[name]
    options = {opt: p for p in command.params if p.param_type_name == "option" for opt in p.opts + p.secondary_opts}
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    positional = 0
    while words:
        word = words.pop(0)
        if word.startswith("$"):  # a variable from the step's env: an option list, or one argument
            expression = str(step.get("env", {}).get(word.strip("${}"), ""))
            flags = re.findall(r"'(--[a-z-]+)'", expression)
            if flags:
                words[:0] = flags
                continue
            positional += 1
            continue
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            assert name in options, f"secretops {command.name} has no option {name} (in {argv})"
            option = options[name]
            if not option.is_flag and "=" not in word:
                assert words, f"{name} needs a value (in {argv})"
                words.pop(0)
            continue
        positional += 1
    takes = sum(1 if a.nargs == 1 else 99 for a in arguments)
    assert positional <= takes, f"secretops {command.name} takes {takes} argument(s), {positional} given ({argv})"


def test_the_workflow_matches_the_github_workflow_schema() -> None:
    found = shutil.which("check-jsonschema") or shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if found is None:
        service_unavailable("check-jsonschema is not installed (it is in the test extra)")
    result = subprocess.run(
        [found, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_rotates_on_a_schedule_and_handles_a_compromise_on_dispatch() -> None:
    doc = _workflow()
    triggers = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads a bare `on` as true
    assert [entry["cron"] for entry in triggers["schedule"]]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"compromised", "force"}
    commands = [argv[0] for argv, _ in _invocations()]
    assert commands == ["state", "rotate", "compromised", "status"]
    rotate = next(argv for argv, _ in _invocations() if argv[0] == "rotate")
    assert "--due" in rotate
    compromised, step = next((argv, step) for argv, step in _invocations() if argv[0] == "compromised")
    assert compromised[1] == "$SECRET" and step["env"]["SECRET"] == "${{ inputs.compromised }}"
    assert "workflow_dispatch" in step["if"] and "inputs.compromised != ''" in step["if"]


def test_every_command_uses_real_secretops_options() -> None:
    invocations = _invocations()
    assert len(invocations) >= 3
    for argv, step in invocations:
        _check_argv(argv, step)


def test_the_option_checker_rejects_what_the_cli_does_not_have() -> None:
    for wrong in (["rotate", "--due-soon"], ["compromised", "--secret", "x"], ["state", "explode"], ["status", "a"]):
        with pytest.raises(AssertionError):
            _check_argv(wrong, {})


def test_inputs_reach_the_shell_through_the_environment_only() -> None:
    for step in _steps():
        assert "${{" not in str(step.get("run", "")), f"step {step.get('name')!r} interpolates into its script"


def test_state_in_postgres_and_values_in_vault_or_the_postgres_store() -> None:
    env = next(iter(_workflow()["jobs"].values()))["env"]
    for name in (
        "SECRETOPS_STATE",
        "SECRETOPS_FINGERPRINT_KEY",
        "VAULT_ADDR",
        "SECRETOPS_STORE",
        "SECRETOPS_STORE_KEY",
    ):
        assert name in env
    for name in ("SECRETOPS_STATE", "SECRETOPS_FINGERPRINT_KEY", "SECRETOPS_STORE", "SECRETOPS_STORE_KEY"):
        assert env[name] == f"${{{{ secrets.{name} }}}}", f"{name} must come from a repository secret"


def test_secretops_is_installed_from_the_repository_pinned() -> None:
    installs = [str(s["run"]) for s in _steps() if "pip install" in str(s.get("run", ""))]
    assert installs == ['pip install "secretops[all] @ git+https://github.com/OWNER/secretops@v0.1.0"']
    text = WORKFLOW.read_text() + TEAM.read_text()
    bare = re.compile(r"pip install ['\"]?secretops(\[[a-z,]+\])?['\"]?(?!\s*@)(\s|$)")
    assert bare.search("pip install secretops\n") and bare.search('pip install "secretops[all]" ')
    assert not bare.search(text)


def test_team_md_shows_the_workflow_verbatim() -> None:
    team = TEAM.read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", team, flags=re.DOTALL)
    assert WORKFLOW.read_text() in blocks
