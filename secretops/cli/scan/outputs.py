"""The files a scan writes (`--output`, `--write-baseline`): checked writable before scanning, errors after it.

And whether the report is coloured: only on a terminal, not into a file, not with `NO_COLOR`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from secretops.display import printable
from secretops.errors import ConfigError


def check_writable(path: Path, flag: str) -> None:
    """Raise `ConfigError` (exit 2) now, before scanning, if a file cannot be written at `path`.

    Refused: a directory, an existing path that is not a regular file (a device, FIFO or socket
    would be replaced), a path under a regular file, and a folder where no file can be created
    (read-only file system, no permission). Missing folders are fine (they are created), as long
    as the nearest existing one is writable. The check creates and removes a temporary file, the
    way the atomic write later does; mode bits alone would not tell for root.
    """
    shown = printable(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {shown}: is a directory", hint=f"name a file in it, e.g. {shown}/report")
    if path.exists() and not path.is_file():
        raise ConfigError(
            f"{flag} {shown}: exists and is not a regular file",
            hint="leave the option out to write to standard output, and redirect that",
        )
    folder = path.absolute().parent
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(
            f"{flag} {shown}: {printable(folder)} is not a folder",
            hint="name a file in a folder that exists or can be made",
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".secretops-probe-", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{flag} {shown}: cannot create files in {printable(folder)}: {exc.strerror or type(exc).__name__}",
            hint="choose a writable location",
        ) from exc


def check_outputs(output: Path | None, write_baseline: Path | None) -> None:
    """Every file the scan will write is writable, and no two of them are the same file."""
    if output is not None:
        check_writable(output, "--output")
    if write_baseline is not None:
        check_writable(write_baseline, "--write-baseline")
    if output is not None and write_baseline is not None and output.resolve() == write_baseline.resolve():
        raise ConfigError(
            f"--output and --write-baseline name the same file ({printable(output)})",
            hint="write the report and the baseline to two files",
        )


def write_error(flag: str, path: Path, exc: OSError) -> ConfigError:
    """A write that failed after the scan (disk full, the folder went away): exit 2, not a crash."""
    return ConfigError(
        f"{flag} {printable(path)}: cannot write it: {exc.strerror or type(exc).__name__}",
        hint="the scan ran; fix the location and run it again",
    )


def use_color(output: Path | None) -> bool:
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()
