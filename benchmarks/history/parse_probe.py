"""What reading the history costs secretops before any rule runs: `GitDiffSource` parsing alone.

Measures, on the benchmark repository, the CPU time of (1) git producing `git log -p -U0` for
secretops' arguments, (2) `GitDiffSource.fragments()` parsing it in Python line by line, and
(3) for comparison, a regex that pulls each hunk's added lines out of the same output in blocks
and decodes them (C-speed; a probe of what a block parser could save, not a drop-in: it keeps hunk starts and
counts only). Rules and decoders are not run.

Usage: python -m benchmarks.history.parse_probe [--repo PATH] [--package DIR]
(`--package`: a folder holding a `secretops/` package to measure instead of the installed one)
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.history.build import WORK

# A commit header, a `+++ ` target, or a hunk with its removed lines skipped and added lines kept.
_BLOCKS = re.compile(
    rb"^\x1e[^\n]*|^\+\+\+ [^\n]*|^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@[^\n]*\n(?:[-\\][^\n]*\n)*((?:[+\\][^\n]*\n)*)",
    re.M,
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description="CPU cost of parsing the history, without scanning.")
    parser.add_argument("--repo", type=Path, default=WORK / "repo")
    parser.add_argument("--package", type=Path)
    args = parser.parse_args()
    if args.package:
        sys.path.insert(0, str(args.package))
    from secretops.scan.sources.git import GitDiffSource, history_args

    git_before = _children_cpu()
    cpu = time.process_time()
    fragments = size = 0
    for item in GitDiffSource(str(args.repo), history_args()).fragments():
        text = getattr(item, "text", None)
        if text is not None:
            fragments += 1
            size += len(text)
    parse_cpu = time.process_time() - cpu
    git_cpu = _children_cpu() - git_before
    print(f"GitDiffSource.fragments(): {fragments} fragments, {size / 1e6:.0f} MB of added text")
    print(f"  python CPU {parse_cpu:.1f} s (parse + decode, no rules); git CPU {git_cpu:.1f} s")

    git_before = _children_cpu()
    cpu = time.process_time()
    command = ["git", "-C", str(args.repo), "-c", "core.quotepath=off", *history_args()]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        hunks = added = 0
        tail = b""
        while block := proc.stdout.read(1 << 22):
            data = tail + block
            cut = data.rfind(b"\ndiff --git ")  # parse whole files' diffs; keep the rest for the next block
            if cut < 0:
                tail = data
                continue
            data, tail = data[: cut + 1], data[cut + 1 :]
            for m in _BLOCKS.finditer(data):
                if m.group(2):
                    hunks += 1
                    added += len(m.group(2).replace(b"\n+", b"\n")[1:].decode("utf-8", "surrogateescape"))
        for m in _BLOCKS.finditer(tail):
            if m.group(2):
                hunks += 1
                added += len(m.group(2).replace(b"\n+", b"\n")[1:].decode("utf-8", "surrogateescape"))
    probe_cpu = time.process_time() - cpu
    print(f"regex block probe: {hunks} hunks, {added / 1e6:.0f} MB of added text")
    print(f"  python CPU {probe_cpu:.1f} s; git CPU {_children_cpu() - git_before:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
