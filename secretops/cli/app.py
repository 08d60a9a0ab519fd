"""The `secretops` root command: registers each command group and maps errors to exit codes.

`run(argv)` is the one entry point, used by the console script and by tests, so that tests see
exactly the exit codes and messages a user sees. A `SecretOpsError` becomes its message on
stderr and its `exit_code`; anything else is a bug (exit 128) with the traceback shown only when
`SECRETOPS_DEBUG=1`.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence

import typer

from secretops import __version__
from secretops.cli import inventory, policy, rotate, scan, store
from secretops.errors import ExitCode, SecretOpsError

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="secretops",
    help="Find leaked credentials, and rotate them without downtime.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"secretops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging (never shows a value)."),
) -> None:
    """Find leaked credentials, and rotate them without downtime."""
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


for _module in (scan, policy, inventory, store, rotate):
    _module.register(app)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="secretops", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    except SecretOpsError as exc:
        typer.echo(f"error: {exc.diagnostics()}", err=True)
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
