"""Run secretops and its peers on the labeled corpus and print one precision/recall table.

A finding matches a labeled credential when it is in the same file and its line falls inside the
credential's line span (notebooks: same file, since tools number notebook lines differently).
Each credential counts once however many findings hit it. A finding on no label is a false
positive (counted once per file and line); a finding on a test credential is a false positive
too, and counts towards the test-credential leakage rate. secretops is scored on the findings it
classifies as `leak` or `weak-default` (what fails a scan); peers have no classes, so every
finding of theirs counts.

A finding on a labeled hard negative (`cls` "negative", from forms.py) is a false positive.

Usage: python -m benchmarks.quality.score [--corpus DIR] [--seed N] [--scale N] [--tools a,b]
(the same as `python -m benchmarks.quality.run`, which adds per-family and per-form tables)
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.peers import gitleaks_binary, venv_bin

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent / ".work" / "quality"


@dataclass(frozen=True)
class Hit:
    """One finding reduced to what the scorer needs."""

    path: str
    line: int
    rule: str


@dataclass
class Score:
    """Counts for one tool."""

    tool: str
    tp: int = 0
    fp: int = 0
    leaks: int = 0
    test_total: int = 0
    test_hit: int = 0
    neg_hit: int = 0
    seconds: float = 0.0
    missed: list[dict[str, object]] = field(default_factory=list)
    false_pos: list[Hit] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [found, total]
    error: str | None = None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.leaks if self.leaks else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def leakage(self) -> float:
        return self.test_hit / self.test_total if self.test_total else 0.0


def _norm(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def run_secretops(repo: Path, out: Path) -> list[Hit]:
    report = out / "secretops.json"
    subprocess.run(
        [
            venv_bin("secretops"),
            "scan",
            ".",
            "--format",
            "json",
            "--include",
            "all",
            "--fail-on",
            "never",
            "--no-ignore",
            "--output",
            str(report),
        ],
        cwd=repo,
        check=False,
        capture_output=True,
    )
    data = json.loads(report.read_text())
    return [
        Hit(_norm(f["path"]), int(f["line"]), f"{f['rule_id']}:{f['class']}")
        for f in data["findings"]
        if f["class"] in ("leak", "weak-default")
    ]


def run_gitleaks(repo: Path, out: Path) -> list[Hit]:
    report = out / "gitleaks.json"
    subprocess.run(
        [
            gitleaks_binary(),
            "dir",
            ".",
            "--report-format",
            "json",
            "--report-path",
            str(report),
            "--no-banner",
            "--exit-code",
            "0",
            "--log-level",
            "error",
        ],
        cwd=repo,
        check=False,
        capture_output=True,
    )
    return [Hit(_norm(f["File"]), int(f["StartLine"]), f["RuleID"]) for f in json.loads(report.read_text())]


def run_betterleaks(repo: Path, out: Path) -> list[Hit]:
    report = out / "betterleaks.json"
    subprocess.run(
        [venv_bin("betterleaks"), "fs", ".", "-o", str(report), "--no-banner", "-l", "error"],
        cwd=repo,
        check=False,
        capture_output=True,
    )
    data = json.loads(report.read_text())
    return [
        Hit(_norm(f["location"]["path"]), int(f["location"]["start_line"]), f["rule_id"])
        for f in data.get("findings") or []
    ]


def run_kingfisher(repo: Path, out: Path) -> list[Hit]:
    report = out / "kingfisher.jsonl"
    subprocess.run(
        [
            venv_bin("kingfisher"),
            "scan",
            ".",
            "--git-history",
            "none",
            "--no-validate",
            "--no-dedup",
            "--format",
            "jsonl",
            "--output",
            str(report),
            "--quiet",
        ],
        cwd=repo,
        check=False,
        capture_output=True,
    )
    hits: list[Hit] = []
    for line in report.read_text().splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        f = obj.get("finding")
        if isinstance(f, dict):
            hits.append(Hit(_norm(f["path"]), int(f["line"]), obj["rule"]["id"]))
    return hits


def run_detect_secrets(repo: Path, out: Path) -> list[Hit]:
    proc = subprocess.run(
        [venv_bin("detect-secrets"), "scan", "--all-files", "."],
        cwd=repo,
        check=False,
        capture_output=True,
        text=True,
    )
    (out / "detect-secrets.json").write_text(proc.stdout)
    data = json.loads(proc.stdout)
    return [Hit(_norm(path), int(r["line_number"]), r["type"]) for path, rs in data["results"].items() for r in rs]


TOOLS: dict[str, Callable[[Path, Path], list[Hit]]] = {
    "secretops": run_secretops,
    "gitleaks": run_gitleaks,
    "kingfisher": run_kingfisher,
    "betterleaks": run_betterleaks,
    "detect-secrets": run_detect_secrets,
}


def score(tool: str, hits: list[Hit], labels: list[dict[str, object]]) -> Score:
    """Match `hits` to `labels` (see module docstring)."""
    by_path: dict[str, list[dict[str, object]]] = defaultdict(list)
    for lab in labels:
        by_path[str(lab["path"])].append(lab)
    s = Score(tool)
    found: set[str] = set()
    fp_keys: set[tuple[str, int]] = set()
    for h in hits:
        match = None
        for lab in by_path.get(h.path, []):
            notebook = h.path.endswith(".ipynb")
            if notebook or int(str(lab["line"])) <= h.line <= int(str(lab["end_line"])):
                match = lab
                break
        if match is None:
            if (h.path, h.line) not in fp_keys:
                fp_keys.add((h.path, h.line))
                s.false_pos.append(h)
            continue
        found.add(str(match["id"]))
    for lab in labels:
        kind = str(lab["kind"])
        if lab["cls"] == "leak":
            s.leaks += 1
            counts = s.by_kind.setdefault(kind, [0, 0])
            counts[1] += 1
            if lab["id"] in found:
                s.tp += 1
                counts[0] += 1
            else:
                s.missed.append(lab)
        elif lab["cls"] == "test-credential":
            s.test_total += 1
            if lab["id"] in found:
                s.test_hit += 1
        elif lab["id"] in found:  # a hard negative (forms.py): any finding on it is a false positive
            s.neg_hit += 1
    s.fp = len(fp_keys) + s.test_hit + s.neg_hit
    return s


def table(scores: list[Score]) -> str:
    rows = [
        "| tool | precision | recall | F1 | TP | FP | FN | test creds reported | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        if s.error:
            rows.append(f"| {s.tool} | error: {s.error} | | | | | | | |")
            continue
        rows.append(
            f"| {s.tool} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.tp} | {s.fp} | {s.leaks - s.tp} | "
            f"{s.test_hit}/{s.test_total} ({s.leakage:.1%}) | {s.seconds:.1f} |"
        )
    return "\n".join(rows)


def kind_table(s: Score) -> str:
    fp_by_rule: dict[str, int] = defaultdict(int)
    for h in s.false_pos:
        fp_by_rule[h.rule.split(":")[0]] += 1
    rows = ["| kind (secretops) | found | total | recall |", "|---|---:|---:|---:|"]
    for kind, (hit, total) in sorted(s.by_kind.items()):
        rows.append(f"| {kind} | {hit} | {total} | {hit / total:.2f} |")
    if fp_by_rule:
        rows.append("")
        rows.append("| false positives by rule (secretops) | count |")
        rows.append("|---|---:|")
        for rule, n in sorted(fp_by_rule.items(), key=lambda kv: -kv[1]):
            rows.append(f"| {rule} | {n} |")
    return "\n".join(rows)


def main() -> int:
    """The old entry point: the same options, now the full run (`benchmarks.quality.run`)."""
    from benchmarks.quality import run

    return run.main()


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    raise SystemExit(main())
