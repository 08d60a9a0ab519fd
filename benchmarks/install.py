"""Install size and startup: the scanner-only base install against `[all]`.

    python -m benchmarks.install            # two fresh venvs under a temp dir, real `pip install`

Creates an empty venv (the reference), one with `pip install .` (the base install) and one with
`pip install '.[all]'`, prints each one's size on disk (`du`), and times `secretops --version`
and `secretops scan --help` in each (10 runs, wall and CPU seconds, median). Takes a minute or
two (pip resolves from the index); not part of the test suite (tests/install/ checks the same
install offline).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _du(path: Path) -> int:
    total = 0
    for top, _dirs, files in os.walk(path):
        for name in files:
            p = Path(top, name)
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def _time(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU (user + sys, children) seconds of `argv` over `runs` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=120)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="secretops-install-") as tmp:
        root = Path(tmp)
        rows = []
        for label, spec in (("empty venv", None), ("base (scanner)", str(REPO)), ("[all]", f"{REPO}[all]")):
            env_dir = root / label.split()[0].strip("[]")
            venv.create(env_dir, with_pip=True)
            if spec is not None:
                subprocess.run(
                    [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", spec], check=True, timeout=900
                )
            size = _du(env_dir)
            timing = ""
            if spec is not None:
                exe = str(env_dir / "bin" / "secretops")
                vw, vc = _time([exe, "--version"], args.runs)
                hw, hc = _time([exe, "scan", "--help"], args.runs)
                timing = f"--version {vw:.2f} s wall / {vc:.2f} s CPU; scan --help {hw:.2f} s / {hc:.2f} s"
            rows.append((label, size, timing))
        ref = rows[0][1]
        for label, size, timing in rows:
            extra = f" (+{(size - ref) / 1e6:.0f} MB)" if size != ref else ""
            print(f"{label:16} {size / 1e6:6.0f} MB{extra:12} {timing}")
        wall, cpu = _time([str(root / "empty" / "bin" / "python"), "-c", "pass"], args.runs)
        print(f"{'python -c pass':16} {wall:.2f} s wall / {cpu:.2f} s CPU (this machine's floor)")


if __name__ == "__main__":
    main()
