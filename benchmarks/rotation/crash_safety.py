"""Crash safety: SIGKILL the rotation at every step boundary, then `secretops resume`.

For each secret (Postgres alternate, Redis overlap) and each boundary, `secretops rotate NAME`
runs in a subprocess with `SECRETOPS_TEST_CRASH_AT=<step>` (the engine's test hook: it sends
SIGKILL to its own process just before that step; inert when unset). Then we check that the
consumer's `.env` value still works, run `secretops resume`, and check that the run completed,
the `.env` value works, the value before the run is refused, and the store has no pending
version left. Prints a Markdown table.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _common import make_project, pg_works, private_pg, read_env, redis_works

from secretops.store.interface import Label

POINTS = [
    "generate", "stage", "apply", "distribute:web", "redeploy:web", "verify",
    "promote", "grace", "drain", "revoke", "prove-dead", "mark-revoked",
]  # fmt: skip
CLI = [sys.executable, "-c", "from secretops.cli.app import main; main()"]


def main() -> int:
    rows = []
    ok_all = True
    with private_pg() as pg, tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), pg, drain="0s")  # crash points, not the drain's wait
        try:
            for name, var, works in (("bench/pg", "DATABASE_URL", pg_works), ("bench/redis", "REDIS_URL", redis_works)):
                for point in POINTS:
                    before = read_env(project.root / "web.env")[var]
                    env = dict(project.env, SECRETOPS_TEST_CRASH_AT=point)
                    killed = subprocess.run([*CLI, "rotate", name], env=env, capture_output=True, check=False)
                    after_kill = works(read_env(project.root / "web.env")[var])
                    resumed = subprocess.run([*CLI, "resume"], env=project.env, capture_output=True, text=True,
                                             check=False)  # fmt: skip
                    now = read_env(project.root / "web.env")[var]
                    store = project.store()
                    pending = store.get(name, Label.PENDING)
                    store.close()
                    row = {
                        "secret": name,
                        "killed before": point,
                        "exit": killed.returncode,
                        "consumer works after kill": after_kill,
                        "resume exit": resumed.returncode,
                        "complete": "complete" in resumed.stdout,
                        "consumer works after resume": works(now),
                        "old value refused": now != before and not works(before),
                        "no pending left": pending is None,
                    }
                    good = (
                        row["exit"] == -9 and after_kill and resumed.returncode == 0 and row["complete"]
                        and row["consumer works after resume"] and row["old value refused"] and row["no pending left"]
                    )  # fmt: skip
                    ok_all &= good
                    rows.append(row)
                    if not good:
                        print(resumed.stdout, resumed.stderr, file=sys.stderr)
        finally:
            project.cleanup(pg)
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(("yes" if v is True else "NO" if v is False else str(v)) for v in row.values()) + " |")
    print(f"\n{sum(1 for _ in rows)} crashes, all converged: {ok_all}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
