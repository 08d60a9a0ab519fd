"""Long fuzz run: the CI property test (tests/scan/test_fuzz.py) with many more cases.

```bash
python -m benchmarks.fuzz.run --examples 1000000          # the full run (hours on 2 cores)
python -m benchmarks.fuzz.run --examples 100000 --seconds 480   # stop after 8 minutes
```

Runs `tests.scan.fuzz_core.check_case` on Hypothesis-generated cases in one process, stopping at
`--examples` cases or after `--seconds` (checked every 2,000 cases), whichever comes first;
prints cases per second, how many cases held findings and leaks, and the first failure
(Hypothesis shrinks it to a small case).
Exit code 1 when a case failed. `--json FILE` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

from tests.scan.fuzz_core import Case, cases, check_case, harness

_ROUND = 2000


@dataclass
class Figures:
    """What one run measured."""

    examples_asked: int
    seconds_limit: float
    cases: int = 0
    with_findings: int = 0
    with_leaks: int = 0
    findings: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    failure: str | None = None
    hit_time_limit: bool = False
    extrapolated_1m_hours: float = 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000, help="cases to run (default 1,000,000)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds (0: no limit)")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)

    harness()  # load rules and compile the prefilter before the clock starts
    figures = Figures(examples_asked=args.examples, seconds_limit=args.seconds)
    started = time.perf_counter()
    last_case = started  # the rate counts finished cases over the time they took

    def body(case: Case) -> None:
        nonlocal last_case
        result = check_case(case)
        figures.cases += 1
        if result.findings:
            figures.with_findings += 1
            figures.findings += len(result.findings)
        if any(str(f.classification) == "leak" for f in result.findings):
            figures.with_leaks += 1
        last_case = time.perf_counter()

    # Rounds of `_ROUND` cases, each a fresh Hypothesis run with its own seed, so that the time
    # limit is checked between rounds (stopping a Hypothesis run from inside makes it replay).
    rng = random.Random(args.seed)
    while figures.cases < args.examples and not figures.failure:
        if args.seconds and time.perf_counter() - started > args.seconds:
            figures.hit_time_limit = True
            break
        size = min(_ROUND, args.examples - figures.cases)
        run = settings(
            max_examples=size,
            deadline=None,  # timing is measured here, not judged per case
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(cases())(body))
        try:
            seed(rng.getrandbits(64))(run)()
        except Exception as exc:  # Hypothesis re-raises the shrunk failing case
            figures.failure = f"{type(exc).__name__}: {exc}"
        now = time.perf_counter()
        print(f"  {figures.cases} cases, {figures.cases / (now - started):.0f}/s", file=sys.stderr, flush=True)
    figures.seconds = round(last_case - started, 1)
    figures.rate = round(figures.cases / figures.seconds, 1) if figures.seconds else 0.0
    if figures.rate:
        figures.extrapolated_1m_hours = round(1_000_000 / figures.rate / 3600, 2)
    print(json.dumps(asdict(figures), indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return 1 if figures.failure else 0


if __name__ == "__main__":
    sys.exit(main())
