"""Scan-speed benchmark: secretops against gitleaks, Kingfisher, Betterleaks and detect-secrets.

Builds (or reuses) a large tree of real text files copied from this machine (site-packages of the
venv, the pyenv Python sources, /usr/share/doc, /usr/lib/python3*) under `benchmarks/.work/speed`,
split into two halves `a/` and `b/` so the linearity check can scan half the tree and the whole.
Before each timed run every file is read once (warm page cache), then the tool runs under
`/usr/bin/time -v` for wall-clock time and peak RSS. All tools scan the same directory with their
git modes off (gitleaks/betterleaks `dir`/`fs`, kingfisher `--git-history none`, secretops
`--no-ignore`, detect-secrets `--all-files`).

Usage: python -m benchmarks.speed.run [--jobs N] [--size-mb N] [--tools a,b] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.peers import gitleaks_binary, venv_bin

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / ".work" / "speed"
SOURCES = [
    Path(sys.prefix) / "lib",
    Path("/root/.pyenv/versions"),
    Path("/usr/share/doc"),
    Path("/usr/lib/python3"),
    Path("/usr/lib/python3.11"),
]
TEXT_SUFFIXES = {
    ".py",
    ".pyi",
    ".txt",
    ".md",
    ".rst",
    ".json",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".ini",
    ".html",
    ".js",
    ".ts",
    ".css",
    ".c",
    ".h",
    ".cpp",
    ".hpp",
    ".go",
    ".rs",
    ".java",
    ".rb",
    ".sh",
    ".xml",
    ".csv",
    ".pem",
    ".tmpl",
    ".in",
    ".pxd",
    ".pyx",
    ".sql",
    ".conf",
    ".properties",
    ".env",
    ".tf",
    ".ipynb",
    "",
}
MAX_FILE = 2 * 1024 * 1024


@dataclass
class Run:
    """One timed run of one tool."""

    tool: str
    target: str
    seconds: float
    peak_rss_mb: float
    findings: int | None
    exit_code: int


def _text_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".git"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in TEXT_SUFFIXES or path.is_symlink():
                continue
            try:
                size = path.stat().st_size
                if not 0 < size <= MAX_FILE:
                    continue
                with path.open("rb") as fh:
                    if b"\0" in fh.read(8192):
                        continue
            except OSError:
                continue
            yield path


# Peers skip paths like site-packages/, vendor/ and venv/ by default (gitleaks' global allowlist);
# the copies get neutral folder names so every tool reads the same files.
_RENAMES = {
    "site-packages": "pkgs",
    "dist-packages": "dpkgs",
    "node_modules": "nmods",
    "vendor": "vend",
    "venv": "env",
    ".venv": "env",
    "versions": "vers",
    "third_party": "thirdp",
    "__pycache__": "pyc",
    "lib": "libs",
    "lib64": "libs64",
}


def _neutral(rel: Path) -> Path:
    parts = (_RENAMES.get(part, part) for part in rel.parts)
    return Path(*(re.sub(r"^python(\d)\.?(\d*)$", r"cp\1\2", p) for p in parts))


def build_tree(dest: Path, size_mb: int) -> tuple[int, int]:
    """Copy real text files into `dest/a` and `dest/b` (alternating) until `size_mb`; reuse if built."""
    marker = dest / ".built-v3"
    if marker.exists():
        files, total = (int(x) for x in marker.read_text().split())
        if total >= size_mb * 1024 * 1024 * 0.95:
            return files, total
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    budget = size_mb * 1024 * 1024
    total = files = 0
    for src_root in SOURCES:
        if not src_root.exists():
            continue
        for path in _text_files(src_root):
            half = "a" if files % 2 == 0 else "b"
            target = dest / half / _neutral(path.relative_to(src_root.parent))
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(path, target)
            except OSError:
                continue
            files += 1
            total += target.stat().st_size
            if total >= budget:
                marker.write_text(f"{files} {total}\n")
                return files, total
    marker.write_text(f"{files} {total}\n")
    return files, total


def tree_stats(root: Path) -> tuple[int, int]:
    files = total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if name.startswith(".built"):
                continue
            files += 1
            total += (Path(dirpath) / name).stat().st_size
    return files, total


def warm(root: Path) -> None:
    """Read every file once so each tool starts with the same (hot) page cache."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with (Path(dirpath) / name).open("rb") as fh:
                while fh.read(1 << 20):
                    pass


def compile_bytecode() -> None:
    """Write secretops' `.pyc` files, as a wheel install does (an editable install may not have them).

    Without them every run compiles the package's sources first; with PYTHONDONTWRITEBYTECODE
    set, every run does.
    """
    package = Path(__file__).resolve().parents[2] / "secretops"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, stdout=subprocess.DEVNULL)


def commands(jobs: int, out: Path) -> dict[str, Callable[[Path], list[str]]]:
    """Command line of each tool for a target directory (reports go to `out`)."""
    return {
        "secretops": lambda t: [
            venv_bin("secretops"),
            "scan",
            str(t),
            "--jobs",
            str(jobs),
            "--format",
            "json",
            "--no-ignore",
            "--fail-on",
            "never",
            "--output",
            str(out / "secretops.json"),
        ],
        "gitleaks": lambda t: [
            gitleaks_binary(),
            "dir",
            str(t),
            "--report-format",
            "json",
            "--report-path",
            str(out / "gitleaks.json"),
            "--no-banner",
            "--exit-code",
            "0",
            "--log-level",
            "error",
            "--max-target-megabytes",
            "2",
        ],
        "kingfisher": lambda t: [
            venv_bin("kingfisher"),
            "scan",
            str(t),
            "--git-history",
            "none",
            "--no-validate",
            "--jobs",
            str(jobs),
            "--format",
            "json",
            "--output",
            str(out / "kingfisher.json"),
            "--quiet",
        ],
        "betterleaks": lambda t: [
            venv_bin("betterleaks"),
            "fs",
            str(t),
            "--jobs",
            str(jobs),
            "-o",
            str(out / "betterleaks.json"),
            "--no-banner",
            "-l",
            "error",
        ],
        "detect-secrets": lambda t: [
            venv_bin("detect-secrets"),
            "scan",
            "--all-files",
            "--cores",
            str(jobs),
            str(t),
        ],
    }


_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_WALL = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)")


def timed(tool: str, argv: list[str], target: Path) -> Run:
    """Run `argv` under /usr/bin/time -v; wall-clock from perf_counter, peak RSS from time(1)."""
    warm(target)
    with tempfile.TemporaryFile() as sink:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", *argv], stdout=sink, stderr=subprocess.PIPE, text=True, check=False
        )
        seconds = time.perf_counter() - start
    m = _RSS.search(proc.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    return Run(tool, target.name, seconds, rss, None, proc.returncode)


def main() -> int:
    parser = argparse.ArgumentParser(description="Time secretops and peers on a large local tree.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--size-mb", type=int, default=400)
    parser.add_argument("--tools", default="secretops,gitleaks,kingfisher,betterleaks")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is kept")
    parser.add_argument("--no-linearity", action="store_true")
    args = parser.parse_args()

    tree = WORK / "tree"
    build_tree(tree, args.size_mb)
    full_files, full_bytes = tree_stats(tree)
    half_files, half_bytes = tree_stats(tree / "a")
    print(
        f"tree: {tree} — {full_files} files, {full_bytes / 1e6:.0f} MB (half a/: {half_files} files, "
        f"{half_bytes / 1e6:.0f} MB); jobs={args.jobs}; cpus={os.cpu_count()}\n"
    )

    tools = args.tools.split(",")
    if "secretops" in tools:
        compile_bytecode()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(args.jobs, Path(tmp))
        # Round-robin (tool 1, tool 2, ..., tool 1, ...): a machine that slows down or speeds up
        # during the benchmark then weighs on every tool alike.
        tries: dict[str, list[Run]] = {tool: [] for tool in tools}
        for round_no in range(args.repeat):
            for tool in tools:
                run = timed(tool, cmds[tool](tree), tree)
                tries[tool].append(run)
                print(
                    f"  round {round_no + 1}: {tool}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB peak "
                    f"(exit {run.exit_code})",
                    flush=True,
                )
        for tool in tools:
            runs.append(min(tries[tool], key=lambda r: r.seconds))
        if args.repeat > 1:
            print()
            for tool in tools:
                times = sorted(r.seconds for r in tries[tool])
                print(f"  {tool}: fastest {times[0]:.2f} s, median {times[len(times) // 2]:.2f} s over {len(times)}")
        half: Run | None = None
        if not args.no_linearity and "secretops" in args.tools:
            half = timed("secretops", cmds["secretops"](tree / "a"), tree / "a")

    ours = next((r for r in runs if r.tool == "secretops"), None)
    print("\n| tool | wall s | MB/s | peak RSS MB | secretops speed-up |")
    print("|---|---:|---:|---:|---:|")
    for r in runs:
        mbps = full_bytes / 1e6 / r.seconds
        ratio = f"{r.seconds / ours.seconds:.2f}x" if ours and r is not ours else "—"
        print(f"| {r.tool} | {r.seconds:.1f} | {mbps:.1f} | {r.peak_rss_mb:.0f} | {ratio} |")
    if half is not None and ours is not None:
        per_half = half.seconds / (half_bytes / 1e6)
        per_full = ours.seconds / (full_bytes / 1e6)
        print(
            f"\nlinearity: half tree {half.seconds:.1f} s ({half_bytes / 1e6:.0f} MB, {1 / per_half:.1f} MB/s), "
            f"full tree {ours.seconds:.1f} s ({full_bytes / 1e6:.0f} MB, {1 / per_full:.1f} MB/s); "
            f"time per MB full/half = {per_full / per_half:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
