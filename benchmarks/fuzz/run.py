"""Long fuzz run: the CI property test (tests/scan/test_fuzz.py) with many more cases.

```bash
python -m benchmarks.fuzz.run --examples 1000000 --workers 2     # the full run
python -m benchmarks.fuzz.run --examples 100000 --seconds 480   # stop after 8 minutes
```

Runs `tests.scan.fuzz_core.check_case` on Hypothesis-generated cases, in `--workers` processes
(default 1), each with its own seed (`--seed K` gives worker i the seed K + i) and its share of
`--examples`, stopping at `--examples` cases or after `--seconds` (checked between rounds of
2,000 cases), whichever comes first; prints cases per second, how many cases held findings and
leaks, and the first failure of each worker (with `--keep-going`, every failure, and the worker
goes on with its next round). Rounds generate without shrinking; a round that
fails is run again with the same seed and shrinking on, so Hypothesis reports a small case.
Exit code 1 when a case failed. `--json FILE` writes the figures (summed over the workers, and
each worker's own). `--replay SEED` runs one logged round again (2,000 cases, or `--examples` if fewer: the round's
size) and prints its shrunk failing case.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

from secretops.scan.formats import sarif
from tests.scan.fuzz_core import Case, cases, check_case, harness, remove_folder

_ROUND = 2000


@dataclass
class Figures:
    """What one worker, or the whole run, measured."""

    examples_asked: int
    seconds_limit: float
    seeds: list[int | None] = field(default_factory=list)
    # What was tested: the commit, the scanner files that differed from it when the run loaded
    # them (others edit the same checkout), and how many rules were loaded.
    commit: str = ""
    uncommitted: list[str] = field(default_factory=list)
    rules: int = 0
    cases: int = 0
    with_findings: int = 0
    with_leaks: int = 0
    findings: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    failures: int = 0
    failure: str | None = None
    failing_case: str | None = None  # repr of the shrunk case (rule examples: fake values)
    failing_round_seed: int | None = None
    all_failures: list[dict[str, Any]] = field(default_factory=list)  # with --keep-going
    hit_time_limit: bool = False
    stopped: bool = False  # by SIGTERM/SIGINT, after the round under way
    extrapolated_1m_hours: float = 0.0
    workers: list[dict[str, Any]] = field(default_factory=list)


def _settings(size: int, shrink: bool) -> settings:
    return settings(
        max_examples=size,
        deadline=None,  # timing is measured here, not judged per case
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        # No explicit examples, no database to reuse, no target() calls: generating is all a
        # round does until a case fails; then the same seed is run again with shrinking.
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
    )


_STOP: list[int] = []  # the signal that asked this process to stop after its current round


def _stop_after_round(signum: int, _frame: object) -> None:
    _STOP.append(signum)


def _read_metadata_once() -> None:
    """The SARIF format reads the installed package's metadata on every render (~0.3 ms, an
    eighth of a case); it is the same for the whole process, so it is read once here. The output
    is the same bytes. (Whichever helpers this checkout has; none is required.)"""
    targets = [(sarif, "_information_uri")]
    try:
        from secretops.scan.formats import tool_uri
    except ImportError:
        pass
    else:
        targets += [(tool_uri, "_from_project_urls"), (tool_uri, "_from_direct_url")]
    for module, name in targets:
        function = getattr(module, name, None)
        if callable(function) and not hasattr(function, "cache_info"):
            setattr(module, name, functools.cache(function))


def work(
    examples: int, seconds: float, base_seed: int | None, started: float, log: str = "", keep_going: bool = False
) -> Figures:
    """Run rounds of cases in this process until `examples` cases or `seconds` since `started`.

    A failure stops the worker, unless `keep_going`: then it is recorded and the next round runs.
    """
    harness()  # load rules and compile the prefilter before the clock starts
    _read_metadata_once()
    figures = Figures(examples_asked=examples, seconds_limit=seconds, seeds=[base_seed])
    last_case = started  # the rate counts finished cases over the time they took
    counting = True
    failing: list[Case] = []

    def body(case: Case) -> None:
        nonlocal last_case
        try:
            result = check_case(case)
        except Exception:
            failing.append(case)  # the last one recorded after shrinking is the shrunk case
            if counting:
                figures.cases += 1
            raise
        if not counting:
            return
        figures.cases += 1
        if result.findings:
            figures.with_findings += 1
            figures.findings += len(result.findings)
        if any(str(f.classification) == "leak" for f in result.findings):
            figures.with_leaks += 1
        last_case = time.perf_counter()

    # Rounds of `_ROUND` cases, each a fresh Hypothesis run with its own seed, so that the time
    # limit is checked between rounds (stopping a Hypothesis run from inside makes it replay).
    rng = random.Random(base_seed)
    while figures.cases < examples and (keep_going or not figures.failure):
        if seconds and time.perf_counter() - started > seconds:
            figures.hit_time_limit = True
            break
        if _STOP:
            figures.stopped = True
            break
        size = min(_ROUND, examples - figures.cases)
        round_seed = rng.getrandbits(64)
        try:
            seed(round_seed)(_settings(size, shrink=False)(given(cases())(body)))()
        except Exception as first:
            figures.failures += 1
            counting = False
            failing.clear()
            error: Exception = first
            try:  # the same seed generates the same cases, up to the failing one; now shrink it
                seed(round_seed)(_settings(size, shrink=True)(given(cases())(body)))()
            except Exception as shrunk:
                error = shrunk
            counting = True
            message = f"{type(error).__name__}: {error}"
            case = repr(failing[-1]) if failing else None
            print(f"  {log}FAILURE in round seed {round_seed} ({size} cases): {message[:300]}", file=sys.stderr)
            print(f"  {log}shrunk case: {case}", file=sys.stderr, flush=True)
            if len(figures.all_failures) < 50:
                figures.all_failures.append({"round_seed": round_seed, "failure": message, "case": case})
            if not figures.failure:
                figures.failure, figures.failing_case, figures.failing_round_seed = message, case, round_seed
        now = time.perf_counter()
        print(f"  {log}{figures.cases} cases, {figures.cases / (now - started):.0f}/s", file=sys.stderr, flush=True)
    figures.seconds = round(last_case - started, 1)
    figures.rate = round(figures.cases / figures.seconds, 1) if figures.seconds else 0.0
    return figures


def replay(round_seed: int, size: int = _ROUND) -> int:
    """Run one round again, with shrinking (a round seed and size from a run's log or JSON)."""
    harness()
    failing: list[Case] = []

    def body(case: Case) -> None:
        try:
            check_case(case)
        except Exception:
            failing.append(case)
            raise

    try:
        seed(round_seed)(_settings(size, shrink=True)(given(cases())(body)))()
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}\nshrunk case: {failing[-1] if failing else None!r}")
        return 1
    print(f"round seed {round_seed}: {size} cases, no failure")
    return 0


def _worker(args: tuple[int, float, int | None, float, str, bool]) -> Figures:
    signal.signal(signal.SIGINT, _stop_after_round)
    signal.signal(signal.SIGTERM, _stop_after_round)
    try:
        return work(*args)
    finally:
        remove_folder()  # a pool worker ends without running atexit


def _checkout() -> tuple[str, list[str]]:
    """HEAD and the files under secretops/ that differ from it (empty when git is missing)."""
    repo = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "secretops"], cwd=repo, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "", []
    return head.stdout.strip(), [line[3:] for line in status.stdout.splitlines()]


def _send(job: tuple[int, float, int | None, float, str, bool], conn: Connection) -> None:
    conn.send(_worker(job))
    conn.close()


def _in_processes(jobs: list[tuple[int, float, int | None, float, str, bool]]) -> list[Figures]:
    """One forked process per job (they inherit the compiled rules and share the parent's clock:
    perf_counter is system-wide on Linux); SIGTERM/SIGINT to the parent is passed on to them."""
    ctx = multiprocessing.get_context("fork")
    procs, conns = [], []
    for job in jobs:
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_send, args=(job, writer))
        proc.start()
        writer.close()  # a worker that dies before sending makes recv() raise EOFError
        procs.append(proc)
        conns.append(reader)

    def forward(signum: int, _frame: object) -> None:
        for proc in procs:
            if proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    parts: list[Figures] = [conn.recv() for conn in conns]
    for proc in procs:
        proc.join()
    return parts


def _sum(parts: list[Figures], examples: int, seconds: float) -> Figures:
    total = Figures(examples_asked=examples, seconds_limit=seconds, seeds=[p.seeds[0] for p in parts])
    for p in parts:
        total.cases += p.cases
        total.with_findings += p.with_findings
        total.with_leaks += p.with_leaks
        total.findings += p.findings
        total.failures += p.failures
        total.all_failures += p.all_failures
        total.hit_time_limit |= p.hit_time_limit
        total.stopped |= p.stopped
        if p.failure and not total.failure:
            total.failure, total.failing_case, total.failing_round_seed = (
                p.failure,
                p.failing_case,
                p.failing_round_seed,
            )
    # The workers ran side by side: the run took as long as the slowest one.
    total.seconds = max((p.seconds for p in parts), default=0.0)
    total.rate = round(total.cases / total.seconds, 1) if total.seconds else 0.0
    if len(parts) > 1:
        total.workers = [{k: v for k, v in asdict(p).items() if k != "workers"} for p in parts]
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000, help="cases to run (default 1,000,000)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds (0: no limit)")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed of worker 0 (default: random)")
    parser.add_argument("--workers", type=int, default=1, help="processes, each with its own seed (default 1)")
    parser.add_argument("--keep-going", action="store_true", help="after a failure, record it and go on")
    parser.add_argument("--replay", type=int, default=None, help="run one round of this seed (--examples cases)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.replay is not None:
        return replay(args.replay, min(args.examples, _ROUND))

    base = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
    n = max(1, args.workers)
    shares = [args.examples // n + (1 if i < args.examples % n else 0) for i in range(n)]
    commit, uncommitted = _checkout()
    h = harness()  # loaded before forking, so each worker inherits the compiled rules
    started = time.perf_counter()
    jobs = [(shares[i], args.seconds, base + i, started, f"[{i}] " if n > 1 else "", args.keep_going) for i in range(n)]
    # SIGTERM or Ctrl-C (to the process or its group) stops each worker after its current round
    # and the figures so far are still written.
    if n == 1:
        signal.signal(signal.SIGINT, _stop_after_round)
        signal.signal(signal.SIGTERM, _stop_after_round)
        parts = [work(*jobs[0])]
    else:
        parts = _in_processes(jobs)
    figures = _sum(parts, args.examples, args.seconds)
    figures.commit, figures.uncommitted, figures.rules = commit, uncommitted, len(h.rules)
    if figures.rate:
        figures.extrapolated_1m_hours = round(1_000_000 / figures.rate / 3600, 2)
    print(json.dumps(asdict(figures), indent=2))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return 1 if figures.failure else 0


if __name__ == "__main__":
    sys.exit(main())
