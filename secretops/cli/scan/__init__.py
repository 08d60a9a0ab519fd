"""The `scan` and `rules` commands.

`scan` builds the policy, the rule set and one scanner, hands them to
`secretops.scan.runner.scan_paths`, renders the result with a format from
`secretops.scan.formats`, and turns it into an exit code: 0 when nothing at or above `--fail-on`
leaked, 1 when something did, 2 for bad usage or bad configuration (also when a path given on
the command line does not exist and nothing leaked). With `--verify` each finding also gets a
liveness verdict (`secretops.liveness`); `--fail-on-live` then exits 1 only for a leak verified
live. `rules` lists the rules in force.

Where each part lives: `command` (`scan`), `rules` (`rules`), `interface` (the options' choices
and values), `build` (policy, rules, git sources, fingerprint key, inventory match), `outputs`
(the files a scan writes, colour), `report` (progress, skips, logs and hints on standard error)
and `verify` (`--verify`, `--fail-on-live`). The names below are the package's public API.
"""

import typer

from secretops.cli.scan.command import scan_command
from secretops.cli.scan.interface import FailOn, Include, OutputFormat, parse_size
from secretops.cli.scan.rules import rules_command

__all__ = ["FailOn", "Include", "OutputFormat", "parse_size", "register"]


def register(app: typer.Typer) -> None:
    """Add `scan` and `rules` to `app`."""
    app.command("scan")(scan_command)
    app.command("rules")(rules_command)
