"""The `secretops` console script.

`secretops --version` answers before typer is imported: CI and wrappers call it first thing,
and importing typer (with click and rich) is most of its cost. Everything else goes to
`secretops.cli.app.main`, which imports only the command group it runs.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        from secretops import __version__

        sys.stdout.write(f"secretops {__version__}\n")
        sys.stdout.flush()
        sys.exit(0)
    from secretops.cli.app import main as app_main

    app_main()
