"""The scanner's on-disk cache: compiled prefilter databases and validated rule files.

Both are derived data, keyed by a hash of what they are built from, so a stale entry is never
used: it is simply not found. Nothing here holds a secret. The folder is
`$SECRETOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/secretops`, else `~/.cache/secretops`. Each kind of
entry keeps its newest few files; older ones are removed when a new one is written, so editing a
rule file over and over does not fill the disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Final

from secretops.fileio import write_atomic

__all__ = ["KEEP", "cache_dir", "read_entry", "write_entry"]

log = logging.getLogger(__name__)

#: How many files of one kind (`prefilter`, `rules-core`, ...) the cache keeps.
KEEP: Final = 8


def cache_dir() -> Path:
    """Where the scanner caches derived data."""
    if os.environ.get("SECRETOPS_CACHE_DIR"):
        return Path(os.environ["SECRETOPS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secretops"


def read_entry(kind: str, key: str, suffix: str) -> bytes | None:
    """The cached bytes for `kind` and `key`, or None when there are none (or they cannot be read)."""
    try:
        return (cache_dir() / f"{kind}-{key}{suffix}").read_bytes()
    except OSError:
        return None


def write_entry(kind: str, key: str, suffix: str, data: bytes) -> None:
    """Cache `data` for `kind` and `key` (world-readable: derived, public data), then prune `kind`.

    A cache that cannot be written (read-only home) is not an error: the caller builds the data
    again next time.
    """
    folder = cache_dir()
    try:
        write_atomic(folder / f"{kind}-{key}{suffix}", data, mode=0o644)
    except OSError as exc:
        log.debug("cannot cache %s in %s: %s", kind, folder, exc)
        return
    _prune(folder, kind, suffix)


def _prune(folder: Path, kind: str, suffix: str) -> None:
    """Keep the `KEEP` most recently written files of `kind`; remove the others."""
    prefix = f"{kind}-"
    try:
        with os.scandir(folder) as it:
            entries = [
                (entry.stat().st_mtime_ns, entry.path)
                for entry in it
                if entry.name.startswith(prefix)
                and entry.name.endswith(suffix)
                and "-" not in entry.name[len(prefix) : -len(suffix) or None]
            ]
    except OSError:  # the folder or an entry went away meanwhile: prune next time
        return
    entries.sort(reverse=True)
    for _, path in entries[KEEP:]:
        with contextlib.suppress(OSError):
            os.unlink(path)
