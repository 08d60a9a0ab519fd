"""Our own overhead per rotation, with 4 `.env` targets and no restart command (no redeploy wait).

Times `Engine.rotate` end to end (generate, LocalStore writes, issuer calls on the private
PostgreSQL cluster or local Redis, 4 targets written and read back, verify, promote, revoke,
prove dead, journal fsyncs) over N rotations of each secret, and prints median and p90.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import make_project, private_pg

from secretops.rotate.engine import Outcome

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def main() -> int:
    report: dict[str, dict[str, float]] = {}
    with private_pg() as pg, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # drain 0s: this times the engine's own work; the drain is a deliberate wait (see drain.py)
        project = make_project(root, pg, extra_targets=3, drain="0s")  # web + 3 = 4 targets
        try:
            store = project.store()
            engine = project.engine(store)
            for name in ("bench/pg", "bench/redis"):
                times = []
                for _ in range(N):
                    t0 = time.perf_counter()
                    result = engine.rotate(name)
                    times.append(time.perf_counter() - t0)
                    assert result.outcome is Outcome.COMPLETE, result.summary()
                times.sort()
                report[name] = {
                    "rotations": N,
                    "targets": 4,
                    "median_s": round(statistics.median(times), 3),
                    "p90_s": round(times[int(0.9 * (N - 1))], 3),
                    "max_s": round(times[-1], 3),
                }
            store.close()
        finally:
            project.cleanup(pg)
    print(json.dumps(report, indent=2))
    return 0 if all(r["median_s"] < 1.0 for r in report.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
