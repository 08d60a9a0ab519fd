"""The scan runner: walk → read → decode → `Scanner.scan` → collect, on one core or many.

`scan_paths` is the one entry point. The parent process walks the sources (cheap: one `lstat`
per file) and cuts the files into batches of about 64 files or 4 MiB; with `jobs > 1` a
`multiprocessing` pool (fork context on Linux) reads and scans the batches, each worker using one
scanner built once (inherited from the parent on fork, built by the initializer otherwise). With
`jobs == 1`, or when everything fits in one batch, it all runs in-process. Whatever the order
the batches finish in, findings come back sorted by path, cell, line, column and rule id.

The runner also applies what is not the engine's job: the policy's path allowlist (a whole file
allowed by path is not even read), the classes to show (`include`; the others are only counted),
and dropping raw values from findings unless `keep_secrets` is set (`--show-secrets`).

Files over `CHUNK_BYTES` (and archive members as big) are scanned in overlapping chunks
(`sources/stream.py`), so memory stays bounded; a finding counts in the chunk whose core holds
its start. Archives (`sources/archive.py`) are opened in memory unless `archives` is off, and
each member goes through the same reading and scanning as a file. A fragment with `positions`
(a notebook cell, a chunk starting mid-line) has its findings moved to the file's coordinates.

Where each part lives: `pool` (`scan_paths`, the worker processes), `feed` (targets and sources
cut into tasks), `worker` (the work done per file: read, decode, scan), `blocks` (big inputs as
blocks), `positions` (findings moved to the file's coordinates), `merge` (what a task returns and
how the batches add up) and `interface` (options, result, and what the runner needs from the
engine and the policy). The names below are the package's public API.
"""

from secretops.scan.runner.interface import (
    DEFAULT_INCLUDE,
    FAILING_CLASSES,
    BatchLimits,
    FragmentScanner,
    PathPolicy,
    Progress,
    ScannerFactory,
    ScanOptions,
    ScanResult,
    failing,
    sort_key,
)
from secretops.scan.runner.pool import default_jobs, scan_paths

__all__ = [
    "DEFAULT_INCLUDE",
    "FAILING_CLASSES",
    "BatchLimits",
    "FragmentScanner",
    "PathPolicy",
    "Progress",
    "ScanOptions",
    "ScanResult",
    "ScannerFactory",
    "default_jobs",
    "failing",
    "scan_paths",
    "sort_key",
]
