"""The `secretops` root command: registers each command group and maps errors to exit codes.

`run(argv)` is the one entry point, used by the console script and by tests, so that tests see
exactly the exit codes and messages a user sees. A `SecretOpsError` becomes its message on
stderr and its `exit_code`; anything else is a bug (exit 128) with the traceback shown only when
`SECRETOPS_DEBUG=1`.

Command groups are imported only when needed: `secretops scan` must not pay for boto3, psycopg
and hvac (about 0.8 s here), so `run` builds an app holding just the group the command belongs
to, and the full app only for help and unknown commands.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any

import typer

from secretops import __version__
from secretops.cli.polish import HELP_OPTION_NAMES, SHELLS, completion_script, polished
from secretops.display import printable
from secretops.errors import ConfigError, ExitCode, SecretOpsError
from secretops.extras import MissingExtraError, import_optional

__all__ = ["main", "run"]  # and `app`, built on first access (see `__getattr__`)

# Command group modules (in help order) and the commands each registers.
_GROUPS: dict[str, tuple[str, ...]] = {
    "scan": ("scan", "rules"),
    "baseline": ("baseline",),
    "policy": ("policy",),
    "inventory": ("inventory", "status"),
    "store": ("store",),
    "rotate": ("rotate", "resume", "history", "compromised"),
    "discover": ("discover",),
    "audit": ("audit",),
    "state": ("state",),
    "serve": ("serve",),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"secretops {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging (never shows a value)."),
) -> None:
    """Find leaked credentials, and rotate them without downtime."""
    level = logging.DEBUG if verbose else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def _completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.", metavar="SHELL")],
) -> None:
    """Print the shell completion script: `source <(secretops completion bash)`, or save it for your shell."""
    if shell not in SHELLS:
        raise ConfigError(f"completion: {shell!r} is not one of {', '.join(SHELLS)}", hint="secretops completion bash")
    typer.echo(completion_script(shell), nl=False)


class _SafeFormatter(logging.Formatter):
    """Log lines with control characters escaped: messages name scanned files, and a file name
    can hold ESC, BEL or a newline (a forged log line, a cleared screen)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return "\n".join(printable(line) for line in super().formatException(ei).split("\n"))


@cache
def _build(groups: tuple[str, ...]) -> typer.Typer:
    """A root app with the given command groups registered."""
    root = typer.Typer(
        name="secretops",
        help="Find leaked credentials, and rotate them without downtime.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": HELP_OPTION_NAMES},  # -h too, inherited by every command
    )
    root.callback()(_root)
    root.command("completion")(_completion)
    for group in groups:
        try:
            module = import_optional(f"secretops.cli.{group}", f"secretops {_GROUPS[group][0]}")
        except MissingExtraError as exc:
            if len(groups) == 1:
                raise  # the command the user ran: exit 2, naming the extra
            _register_missing(root, group, exc)  # help lists it, and says what to install
            continue
        module.register(root)
    return root


def _register_missing(root: typer.Typer, group: str, error: MissingExtraError) -> None:
    """Stand-ins for a group whose driver is not installed (a scanner-only install's `rotate`)."""

    def missing() -> None:
        raise error

    for command in _GROUPS[group]:
        root.command(
            command,
            help=f"(not installed: needs the {error.extra!r} extra)",
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(missing)


def _app_for(args: Sequence[str]) -> typer.Typer:
    """The smallest app that can run `args`: the command's own group, or all of them."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command is None and "--version" in args:
        return _build(())  # `--version` imports no command group (CI calls it; keep it instant)
    for group, commands in _GROUPS.items():
        if command in commands:
            return _build((group,))
    return _build(tuple(_GROUPS))


def __getattr__(name: str) -> Any:
    """`app`: the full typer app (for `typer.testing.CliRunner` and documentation tools)."""
    if name == "app":
        return _build(tuple(_GROUPS))
    raise AttributeError(name)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = polished(_app_for(args)).main(args=args, prog_name="secretops", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    except SecretOpsError as exc:
        typer.echo(f"error: {_diagnostics(exc)}", err=True)
        return int(exc.exit_code)
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]
            return int(ExitCode.USAGE)
        if os.environ.get("SECRETOPS_DEBUG") == "1":
            traceback.print_exc()
        typer.echo(
            f"secretops: unexpected {type(exc).__name__} (a bug; rerun with SECRETOPS_DEBUG=1 for the traceback)",
            err=True,
        )
        return int(ExitCode.BUG)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def _diagnostics(exc: SecretOpsError) -> str:
    """`exc.diagnostics()` with control characters escaped line by line (messages name files)."""
    return "\n".join(printable(line) for line in exc.diagnostics().split("\n"))


def _is_usage_error(exc: BaseException) -> bool:
    """True for click's usage errors, whichever copy of click typer uses (typer 0.29 vendors one).

    Matched by their shape (`ClickException` in the class names, `show()`, an int `exit_code`)
    so the mapping to exit code 2 survives typer switching between click and its own copy.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "ClickException" in names and callable(getattr(exc, "show", None))


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
