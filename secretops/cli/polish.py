"""Help and completion polish applied to the click command typer builds (`polished`).

typer shows a parameter's Python type as its metavar (`<bool>`, `<list[str]>`, `<list[Path]>`).
`polished` walks every command once and sets plain metavars instead: none for flags, a name
such as `PATH`, `FILE`, `SIZE` or `N` for values, and the choices for `--format`, taken from the
formats registry (`secretops.scan.formats.FORMATS`) so new formats show up without an edit here.
`-h` is an alias of `--help` everywhere (click contexts inherit `help_option_names`).
`completion_script` gives the bash, zsh or fish completion script (`secretops completion SHELL`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final

import typer

__all__ = ["HELP_OPTION_NAMES", "SHELLS", "completion_script", "polished"]

HELP_OPTION_NAMES: Final = ["-h", "--help"]
SHELLS: Final = ("bash", "zsh", "fish")
COMPLETE_VAR: Final = "_SECRETOPS_COMPLETE"

# Metavars by parameter name (the Python name typer gives it), where the type alone says too little.
_NAMES: Final = {
    "paths": "PATH",
    "path": "PATH",
    "output": "FILE",
    "policy_path": "FILE",
    "rule_files": "FILE",
    "baseline_path": "FILE",
    "write_baseline": "FILE",
    "include": "CLASS",
    "fail_on": "SEVERITY",
    "max_file_size": "SIZE",
    "max_archive_size": "SIZE",
    "git_range": "RANGE",
    "verify_timeout": "SECONDS",
    "redact": "PERCENT",
    "disable": "RULE_ID",
    "rule": "RULE_ID",
}


def _format_choices() -> list[str]:
    from secretops.scan.formats import FORMATS

    return list(FORMATS)


#: Choices listed in help and offered by completion: (command name, parameter name) -> choices.
_CHOICES: Final[dict[tuple[str, str], Callable[[], list[str]]]] = {("scan", "fmt"): _format_choices}


def _metavar(param: Any) -> str | None:
    """The metavar to show for `param`, or None to leave typer's."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    name = param.name or ""
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_choice", False):
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices or ()) + "]"
    if name in _NAMES:
        return _NAMES[name]
    if desc is None:
        return None
    if getattr(desc, "is_path", False):
        return "PATH"
    annotation = getattr(desc, "annotation", None)
    if annotation is int:
        return "N"
    if annotation is float:
        return "NUMBER"
    return name.upper().replace("-", "_") or None


def _flag_help(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`get_help_option` whose option (built per context) shows no `<bool>`."""

    def get_help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            option.metavar = ""
        return option

    return get_help_option


def _no_type(ctx: Any) -> None:
    return None


def _complete_from(choices: Callable[[], list[str]]) -> Callable[..., list[str]]:
    def complete(ctx: Any, param: Any, incomplete: str) -> list[str]:
        return [c for c in choices() if c.startswith(incomplete)]

    return complete


def _polish(command: Any, name: str) -> None:
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument":
            param.display_type_rich = _no_type  # the metavar says it; no `<list[str]>` beside it
        if getattr(param, "metavar", None) is not None:
            continue
        choices = _CHOICES.get((name, param.name or ""))
        if choices is not None:
            param.metavar = "[" + "|".join(choices()) + "]"
            param._custom_shell_complete = _complete_from(choices)
            continue
        metavar = _metavar(param)
        if metavar is not None:
            param.metavar = metavar
    help_option = getattr(command, "get_help_option", None)
    if help_option is not None:
        command.get_help_option = _flag_help(help_option)
    for sub_name, sub in (getattr(command, "commands", None) or {}).items():
        _polish(sub, sub_name)


def polished(app: typer.Typer) -> Any:
    """The click command for `app`, with plain metavars and choices (see the module docstring)."""
    if COMPLETE_VAR in os.environ:  # a shell asks for completions: typer's shell classes answer
        from typer._completion_classes import completion_init

        completion_init()
    command = typer.main.get_command(app)
    _polish(command, command.name or "")
    return command


def completion_script(shell: str, prog_name: str = "secretops") -> str:
    """The completion script for `shell` (bash, zsh or fish): source it, or save it where the shell looks."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name=prog_name, complete_var=COMPLETE_VAR, shell=shell)
    return script if script.endswith("\n") else script + "\n"
