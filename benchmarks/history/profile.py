"""Where secretops' history scan spends its time: cProfile of the parent and of every worker.

Runs `secretops scan REPO --git-history --jobs N --format json --fail-on never -o FILE` in this
process under cProfile, with the runner's worker entry point (`_run_batch`) wrapped so each
forked worker profiles every task it runs (one `.prof` per task, summed per run afterwards).
Prints the top functions of the parent and of all workers together, by own time (CPU time of
each process unless --wall: git's own CPU is in no Python profile, `run.py` shows it as the
`git log` floor).

Usage: python -m benchmarks.history.profile [--jobs N] [--range A..B] [--top N] [--out DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.history.build import WORK


def main() -> int:
    parser = argparse.ArgumentParser(description="Profile a secretops history scan (parent and workers).")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--range", help="a --git-range instead of the whole history (faster)")
    parser.add_argument("--repo", type=Path, default=WORK / "repo")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=WORK / "profile")
    parser.add_argument("--wall", action="store_true", help="wall-clock timer (default: CPU time of the process)")
    args = parser.parse_args()
    # CPU time by default: on a loaded machine a wall-clock profile mostly measures waiting (for
    # the CPU, and for git on the pipe, whose own CPU is not in any Python profile).
    timer = time.perf_counter if args.wall else time.process_time
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.prof"):
        old.unlink()

    from secretops.cli.entry import main as cli_main
    from secretops.scan.runner import pool as runner

    original = runner._run_batch
    counter = itertools.count()

    def _run_batch(items: Any) -> Any:
        prof = cProfile.Profile(timer)
        prof.enable()
        try:
            return original(items)
        finally:
            prof.disable()
            prof.dump_stats(str(args.out / f"worker-{os.getpid()}-{next(counter)}.prof"))

    # The pool pickles the task function by name: the wrapper must answer to the original's name.
    _run_batch.__module__ = original.__module__
    _run_batch.__qualname__ = original.__qualname__
    runner._run_batch = _run_batch

    with tempfile.TemporaryDirectory() as tmp:
        scope = ["--git-range", args.range] if args.range else ["--git-history"]
        sys.argv = ["secretops", "scan", str(args.repo), *scope, "--jobs", str(args.jobs)]
        sys.argv += ["--format", "json", "--fail-on", "never", "-o", str(Path(tmp) / "report.json")]
        parent = cProfile.Profile(timer)
        parent.enable()
        try:
            cli_main()
        except SystemExit:
            pass
        finally:
            parent.disable()
    parent.dump_stats(str(args.out / "parent.prof"))

    print(f"== parent (jobs={args.jobs}), by own time")
    pstats.Stats(str(args.out / "parent.prof")).sort_stats("tottime").print_stats(args.top)
    workers = sorted(str(p) for p in args.out.glob("worker-*.prof"))
    if workers:
        pids = {Path(w).name.split("-")[1] for w in workers}
        print(f"== workers: {len(workers)} tasks in {len(pids)} processes, summed, by own time")
        pstats.Stats(*workers).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
