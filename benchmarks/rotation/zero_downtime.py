"""Zero downtime: rotate Postgres (alternate) and Redis (overlap) 20 times each under load.

Two load loops (threads) each open a FRESH connection every few milliseconds with whatever the
`.env` file holds at that moment (re-read every time) and run one query. The `web` target's
restart command stands for "redeploy and wait until live": it returns once the app has served a
request that read the file after the restart began (the loops record that in `served-*`), as a
platform's deploy reaches LIVE only when new instances serve traffic. Grace is 0, so every
revoke happens inside the loop. Result: requests made and failures.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import make_project, pg_works, private_pg, read_env, redis_works

from secretops.rotate.engine import Outcome

ROTATIONS = 20
INTERVAL = 0.003

# The restart command: wait until both loops served a request that began after we started.
WAIT_LIVE = """
import sys, time
t0 = time.time_ns()
deadline = time.time() + 30
files = sys.argv[1:]
while time.time() < deadline:
    if all(int(open(f).read() or 0) > t0 for f in files):
        sys.exit(0)
    time.sleep(0.002)
sys.exit(1)
"""


def loop(kind: str, env_file: Path, served: Path, stop: threading.Event, stats: dict[str, int]) -> None:
    while not stop.is_set():
        started = time.time_ns()
        values = read_env(env_file)
        ok = pg_works(values["DATABASE_URL"]) if kind == "pg" else redis_works(values["REDIS_URL"])
        stats["requests"] += 1
        if not ok:
            stats["failures"] += 1
        served.write_text(str(started))
        time.sleep(INTERVAL)


def main() -> int:
    with private_pg() as pg, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        served = [root / "served-pg", root / "served-redis"]
        for f in served:
            f.write_text("0")
        script = root / "wait_live.py"
        script.write_text(WAIT_LIVE)
        # --no-wait: the control experiment, with no "wait until live" between distribute and revoke.
        restart = None if "--no-wait" in sys.argv else [sys.executable, str(script), *map(str, served)]
        # --no-wait is the control with no wait at all before the revoke: no restart and no drain
        project = make_project(root, pg, restart=restart, drain="0s" if restart is None else None)
        try:
            store = project.store()
            engine = project.engine(store)
            stop = threading.Event()
            stats = {k: {"requests": 0, "failures": 0} for k in ("pg", "redis")}
            threads = [
                threading.Thread(target=loop, args=(k, root / "web.env", f, stop, stats[k]))
                for k, f in zip(("pg", "redis"), served, strict=True)
            ]
            for t in threads:
                t.start()
            outcomes: dict[str, list[str]] = {"bench/pg": [], "bench/redis": []}
            began = time.monotonic()
            try:
                for _ in range(ROTATIONS):
                    for name in outcomes:
                        result = engine.rotate(name)
                        outcomes[name].append(result.outcome.value)
                        if result.outcome is not Outcome.COMPLETE and "--no-wait" not in sys.argv:
                            print(result.summary(), file=sys.stderr)
                            raise SystemExit(1)
                elapsed = time.monotonic() - began
                time.sleep(0.2)
            finally:
                stop.set()
                for t in threads:
                    t.join()
                store.close()
        finally:
            project.cleanup(pg)
    report = {
        "rotations": {n: {"runs": len(o), "complete": o.count("complete")} for n, o in outcomes.items()},
        "load": stats,
        "seconds": round(elapsed, 1),
    }
    print(json.dumps(report, indent=2))
    failed = sum(s["failures"] for s in stats.values())
    return 0 if failed == 0 and all(set(o) == {"complete"} for o in outcomes.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
