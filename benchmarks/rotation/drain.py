"""Drain: a client that re-reads `.env` before every connection, with no restart command, during N rotations.

The `web` target has no `restart` command, so nothing tells the engine when a reader has picked
up the new value: the reader re-reads `web.env` before each fresh connection to a private
scram-sha-256 PostgreSQL cluster and runs `SELECT 1`. The engine rotates `bench/pg` (strategy
`alternate`, grace 0 so every revoke happens inside the loop) ROTATIONS times, once with the
default `drain` (10 s) and once with `drain: 0s`. A failed connection is one the app would have
seen fail. `--think S` makes the client wait S seconds between reading the file and connecting
(an app that read its config a moment ago: a pool warming up, a slow start). `--pause S` idles S
seconds after each rotation, so a `drain: 0s` run spans as many connections as a default one
(whose drain idles before each revoke instead). Prints a JSON report per mode.

    python benchmarks/rotation/drain.py                             # both modes
    python benchmarks/rotation/drain.py --mode no-drain --think 0.2 # only grace 0s, drain 0s
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import make_project, pg_works, private_pg, read_env

from secretops.rotate.engine import Outcome

ROTATIONS = 10
PACE = 0.005  # seconds between connections of the one client


def client(env_file: Path, stop: threading.Event, stats: dict[str, Any], think: float) -> None:
    """Re-read the file, (think,) connect, query; count connections and failures."""
    while not stop.is_set():
        url = read_env(env_file)["DATABASE_URL"]
        if think:
            time.sleep(think)
        stats["connections"] += 1
        if not pg_works(url):
            stats["failures"] += 1
            stats["failed_at"].append(round(time.monotonic() - stats["t0"], 3))
        time.sleep(PACE)


def run(mode: str, rotations: int, think: float, pause: float) -> dict[str, Any]:
    """One mode: `default` (drain 10s) or `no-drain` (drain 0s); grace 0s in both."""
    with private_pg() as pg, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = make_project(root, pg, restart=None, drain="0s" if mode == "no-drain" else None)
        try:
            store = project.store()
            engine = project.engine(store)
            stop = threading.Event()
            stats: dict[str, Any] = {"connections": 0, "failures": 0, "failed_at": [], "t0": time.monotonic()}
            thread = threading.Thread(target=client, args=(root / "web.env", stop, stats, think))
            thread.start()
            outcomes: list[str] = []
            revokes: list[float] = []
            began = time.monotonic()
            try:
                time.sleep(0.5)  # the client is up before the first rotation
                for _ in range(rotations):
                    result = engine.rotate("bench/pg")
                    outcomes.append(result.outcome.value)
                    revokes.append(round(time.monotonic() - stats["t0"], 3))
                    if result.outcome is not Outcome.COMPLETE:
                        print(result.summary())
                        break
                    time.sleep(pause)
                elapsed = time.monotonic() - began
                time.sleep(0.5)
            finally:
                stop.set()
                thread.join()
                store.close()
        finally:
            project.cleanup(pg)
    return {
        "mode": mode,
        "grace": "0s",
        "drain": "0s" if mode == "no-drain" else "10s (default)",
        "think_s": think,
        "pause_s": pause,
        "rotations": len(outcomes),
        "complete": outcomes.count("complete"),
        "connections": stats["connections"],
        "failed_connections": stats["failures"],
        "failed_at_s": stats["failed_at"][:20],
        "rotation_done_at_s": revokes,
        "seconds": round(elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["default", "no-drain", "both"], default="both")
    parser.add_argument("--rotations", type=int, default=ROTATIONS, help="at most 50")
    parser.add_argument("--think", type=float, default=0.0, help="seconds between reading .env and connecting")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to idle after each rotation (at most 30)")
    args = parser.parse_args()
    modes = ["default", "no-drain"] if args.mode == "both" else [args.mode]
    reports = [
        run(m, max(1, min(args.rotations, 50)), min(max(args.think, 0.0), 5.0), min(max(args.pause, 0.0), 30.0))
        for m in modes
    ]
    print(json.dumps(reports, indent=2))
    default = next((r for r in reports if r["mode"] == "default"), None)
    ok = default is None or (default["failed_connections"] == 0 and default["complete"] == default["rotations"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
