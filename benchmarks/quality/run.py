"""Run secretops and its peers on the labeled corpus: precision and recall overall, per family, per form.

One run generates the corpus (`corpus.py`: the synthetic projects, then `forms.py`: families x
forms), runs every tool on `repo/` and scores them on the same labels (matching rules in
`score.py`'s docstring). Besides the overall leak precision and recall it prints:

* per family (aws, azure, github, databases, ...) and per form (env, yaml, sql, markdown-table,
  url-userinfo, ...), recall and precision for each tool, over the project corpus and the
  designed forms; a peer's cell is marked `▲` where it finds more credentials than secretops;
* the same for the layouts no rule was designed from ("not designed for": documented config
  layouts and gitleaks' sample-secret layouts), apart;
* false positives on the hard negatives by kind (identifier, doc-example, placeholder,
  off-format), and secretops' false positives by rule.

A false positive is attributed to the family and form of the negative it hit, or of the file it
is in (files.json); one in a project file has no family ("-").

Usage: python -m benchmarks.quality.run [--corpus DIR] [--seed N] [--scale N] [--tools a,b]
       [--details] [--no-forms] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.quality.corpus import forms_reps, generate
from benchmarks.quality.score import DEFAULT_CORPUS, TOOLS, Hit

MARK = "▲"  # the peer finds more credentials than secretops in this row
MARK_P = "◆"  # the peer finds as many or more, with fewer false positives per finding (higher precision)


@dataclass
class Group:
    """Counts for one tool on one slice of the corpus."""

    tp: int = 0
    total: int = 0
    fp: int = 0

    @property
    def recall(self) -> float:
        return self.tp / self.total if self.total else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"tp": self.tp, "total": self.total, "fp": self.fp, "recall": self.recall, "precision": self.precision}


@dataclass
class Result:
    """One tool's score, overall and by slice."""

    tool: str
    overall: Group = field(default_factory=Group)
    test_total: int = 0
    test_hit: int = 0
    seconds: float = 0.0
    error: str | None = None
    subset: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    family: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    form: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    nd_family: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    nd_form: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    fp_by_neg: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp_by_rule: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp_by_class: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # secretops: leak / weak-default
    missed: list[dict[str, object]] = field(default_factory=list)
    false_pos: list[tuple[Hit, str]] = field(default_factory=list)  # (hit, what it hit)

    def count_rule(self, rule: str) -> None:
        name, _, cls = rule.partition(":")
        self.fp_by_rule[name] += 1
        if cls:
            self.fp_by_class[cls] += 1

    def slices(self, subset: str, designed: bool) -> tuple[dict[str, Group], dict[str, Group]]:
        return (self.family, self.form) if designed else (self.nd_family, self.nd_form)


def subset_of(path: str, designed: bool) -> str:
    """Which part of the corpus a path belongs to."""
    if not path.startswith("forms/"):
        return "projects"
    return "forms (designed)" if designed else "forms (not designed for)"


def evaluate(
    tool: str, hits: list[Hit], labels: list[dict[str, object]], files: dict[str, dict[str, object]]
) -> Result:
    """Match `hits` to `labels` and count by slice (see the module docstring)."""
    res = Result(tool)
    by_path: dict[str, list[dict[str, object]]] = defaultdict(list)
    for lab in labels:
        by_path[str(lab["path"])].append(lab)
    found: set[str] = set()
    fp_lines: set[tuple[str, int]] = set()
    rule_of: dict[str, str] = {}
    for h in hits:
        match = None
        for lab in by_path.get(h.path, []):
            if h.path.endswith(".ipynb") or int(str(lab["line"])) <= h.line <= int(str(lab["end_line"])):
                match = lab
                break
        if match is None:
            if (h.path, h.line) in fp_lines:
                continue
            fp_lines.add((h.path, h.line))
            meta = files.get(h.path, {})
            designed = bool(meta.get("designed", True))
            family, form = str(meta.get("family") or "-"), str(meta.get("form") or "-")
            res.overall.fp += 1
            res.subset[subset_of(h.path, designed)].fp += 1
            fam_t, form_t = res.slices("", designed)
            fam_t[family].fp += 1
            form_t[form].fp += 1
            res.count_rule(h.rule)
            res.false_pos.append((h, "unlabeled line"))
            continue
        ident = str(match["id"])
        if ident not in found:
            rule_of[ident] = h.rule
        found.add(ident)
    for lab in labels:
        ident, cls, path = str(lab["id"]), str(lab["cls"]), str(lab["path"])
        designed = bool(lab.get("designed", True))
        family, form = str(lab.get("family") or "-"), str(lab.get("form") or "-")
        fam_t, form_t = res.slices("", designed)
        sub = res.subset[subset_of(path, designed)]
        hit = ident in found
        if cls == "leak":
            for g in (res.overall, sub, fam_t[family], form_t[form]):
                g.total += 1
                g.tp += int(hit)
            if not hit:
                res.missed.append(lab)
            continue
        if cls == "test-credential":
            res.test_total += 1
            res.test_hit += int(hit)
        if not hit:
            continue
        for g in (res.overall, sub, fam_t[family], form_t[form]):
            g.fp += 1
        if cls == "negative":
            res.fp_by_neg[str(lab.get("neg") or "-")] += 1
        res.count_rule(rule_of.get(ident, "?"))
        res.false_pos.append((Hit(path, int(str(lab["line"])), rule_of.get(ident, "?")), f"{cls} {lab.get('neg', '')}"))
    return res


# tables ------------------------------------------------------------------------------------------
def _f(x: float) -> str:
    return f"{x:.3f}"


def overall_table(results: list[Result]) -> str:
    rows = [
        "| tool | precision | recall | F1 | TP | FP | FN | test creds reported | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.error:
            rows.append(f"| {r.tool} | error: {r.error} | | | | | | | |")
            continue
        g = r.overall
        p, rc = g.precision, g.recall
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        leak = f"{r.test_hit}/{r.test_total}"
        counts = f"{g.tp} | {g.fp} | {g.total - g.tp}"
        rows.append(f"| {r.tool} | {_f(p)} | {_f(rc)} | {_f(f1)} | {counts} | {leak} | {r.seconds:.1f} |")
    return "\n".join(rows)


def slice_table(title: str, results: list[Result], pick: str) -> tuple[str, list[str]]:
    """Recall / precision per row for every tool; returns the table and the rows secretops loses."""
    ok = [r for r in results if not r.error]
    if not ok:
        return "", []
    ours = next((r for r in ok if r.tool == "secretops"), None)
    keys: set[str] = set()
    for r in ok:
        keys.update(getattr(r, pick))
    head = f"| {title} | n | " + " | ".join(f"{r.tool} R / P" for r in ok) + " |"
    rows = [head, "|---|---:|" + "---:|" * len(ok)]
    losses: list[str] = []
    for key in sorted(keys):
        groups = [getattr(r, pick).get(key, Group()) for r in ok]
        n = max(g.total for g in groups)
        if n == 0 and all(g.fp == 0 for g in groups):
            continue
        base = getattr(ours, pick).get(key, Group()) if ours else Group()
        cells = []
        beaten = []
        for r, g in zip(ok, groups, strict=True):
            prec = f"{g.precision:.2f}" if g.tp + g.fp else "-"
            cell = f"{g.recall:.2f} / {prec}" if n else f"- / {g.fp} FP"
            if ours is not None and r is not ours and g.tp > base.tp:
                cell += f" {MARK}"
                beaten.append(f"{r.tool} {g.tp} vs {base.tp}")
            elif ours is not None and r is not ours and g.tp and g.tp >= base.tp and g.precision > base.precision:
                cell += f" {MARK_P}"
            cells.append(cell)
        if beaten:
            losses.append(f"{title} {key} (n={n}): " + ", ".join(beaten))
        rows.append(f"| {key} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows), losses


def negatives_table(results: list[Result]) -> str:
    ok = [r for r in results if not r.error]
    kinds = sorted({k for r in ok for k in r.fp_by_neg} | {"identifier", "doc-example", "placeholder", "off-format"})
    rows = ["| negatives reported | " + " | ".join(r.tool for r in ok) + " |", "|---|" + "---:|" * len(ok)]
    for k in kinds:
        rows.append(f"| {k} | " + " | ".join(str(r.fp_by_neg.get(k, 0)) for r in ok) + " |")
    return "\n".join(rows)


def subset_table(results: list[Result]) -> str:
    ok = [r for r in results if not r.error]
    names = sorted({k for r in ok for k in r.subset})
    rows = ["| part | " + " | ".join(f"{r.tool} R / P" for r in ok) + " |", "|---|" + "---:|" * len(ok)]
    for name in names:
        cells = [f"{r.subset[name].recall:.3f} / {r.subset[name].precision:.3f}" for r in ok]
        n = max(r.subset[name].total for r in ok)
        rows.append(f"| {name} ({n} leaks) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def to_json(results: list[Result], meta: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {"corpus": meta, "tools": {}}
    tools: dict[str, object] = {}
    for r in results:
        g = r.overall
        tools[r.tool] = {
            "error": r.error,
            "seconds": r.seconds,
            "precision": g.precision,
            "recall": g.recall,
            "tp": g.tp,
            "fp": g.fp,
            "fn": g.total - g.tp,
            "test_credentials_reported": [r.test_hit, r.test_total],
            "parts": {k: v.as_dict() for k, v in sorted(r.subset.items())},
            "family": {k: v.as_dict() for k, v in sorted(r.family.items())},
            "form": {k: v.as_dict() for k, v in sorted(r.form.items())},
            "not_designed_family": {k: v.as_dict() for k, v in sorted(r.nd_family.items())},
            "not_designed_form": {k: v.as_dict() for k, v in sorted(r.nd_form.items())},
            "negatives_reported": dict(sorted(r.fp_by_neg.items())),
            "false_positives_by_class": dict(sorted(r.fp_by_class.items())),
            "false_positives_by_rule": dict(sorted(r.fp_by_rule.items(), key=lambda kv: -kv[1])),
            "missed": [f"{m['path']}:{m['line']} {m['family']}/{m['form']} {m['kind']}" for m in r.missed],
        }
    out["tools"] = tools
    return out


def run_tools(
    repo: Path, labels: list[dict[str, object]], files: dict[str, dict[str, object]], tools: list[str]
) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in tools:
            start = time.perf_counter()
            try:
                hits = TOOLS[name](repo, Path(tmp))
            except (OSError, ValueError, KeyError) as exc:
                res = Result(name, error=type(exc).__name__)
            else:
                res = evaluate(name, hits, labels, files)
            res.seconds = time.perf_counter() - start
            results.append(res)
    return results


def report(results: list[Result], details: bool) -> tuple[str, list[str]]:
    parts = [overall_table(results), "", subset_table(results), ""]
    losses: list[str] = []
    for title, pick in (("family", "family"), ("form", "form")):
        text, lost = slice_table(title, results, pick)
        parts += [
            f"Designed for (projects + forms), per {title}; {MARK}: finds more than secretops; "
            f"{MARK_P}: finds as many, more precisely",
            "",
            text,
            "",
        ]
        losses += lost
    for title, pick in (("family", "nd_family"), ("form", "nd_form")):
        text, lost = slice_table(f"not-designed {title}", results, pick)
        parts += [f"Not designed for, per {title}", "", text, ""]
        losses += lost
    parts += [negatives_table(results), ""]
    ours = next((r for r in results if r.tool == "secretops" and not r.error), None)
    if ours is not None and ours.fp_by_rule:
        parts += ["| false positives by rule (secretops) | count |", "|---|---:|"]
        parts += [f"| {k} | {v} |" for k, v in sorted(ours.fp_by_rule.items(), key=lambda kv: -kv[1])]
        parts.append("")
        parts.append(
            "secretops false positives by class: " + ", ".join(f"{k} {v}" for k, v in sorted(ours.fp_by_class.items()))
        )
        parts.append("")
    parts.append("secretops loses to a peer: " + ("none" if not losses else ""))
    parts += [f"  {x}" for x in losses]
    if ours is not None and details:
        parts.append("\nsecretops misses:")
        parts += [
            f"  {m['path']}:{m['line']}-{m['end_line']} {m['family']}/{m['form']} {m['kind']}" for m in ours.missed
        ]
        parts.append("secretops false positives:")
        parts += [f"  {h.path}:{h.line} {h.rule} ({what})" for h, what in ours.false_pos]
    return "\n".join(parts), losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--scale", type=int, default=16)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--details", action="store_true", help="list secretops misses and false positives")
    parser.add_argument("--no-forms", action="store_true", help="only the synthetic projects")
    parser.add_argument("--json", type=Path, help="where to write the results (default CORPUS/results.json)")
    args = parser.parse_args(argv)
    labels = [dict(vars(x)) for x in generate(args.corpus, args.seed, args.scale, forms=not args.no_forms)]
    files = json.loads((args.corpus / "files.json").read_text())
    repo = args.corpus / "repo"
    nfiles = sum(1 for p in repo.rglob("*") if p.is_file())
    leaks = sum(1 for x in labels if x["cls"] == "leak")
    tests = sum(1 for x in labels if x["cls"] == "test-credential")
    negs = len(labels) - leaks - tests
    reps = 0 if args.no_forms else forms_reps(args.scale)
    print(
        f"corpus: {nfiles} files, {leaks} leaks, {tests} test credentials, {negs} labeled hard negatives "
        f"(seed {args.seed}, scale {args.scale}, {reps} of each family x form)\n"
    )
    results = run_tools(repo, labels, files, args.tools.split(","))
    text, losses = report(results, args.details)
    print(text)
    meta = {"seed": args.seed, "scale": args.scale, "files": nfiles, "leaks": leaks, "tests": tests, "negatives": negs}
    data = to_json(results, meta)
    data["secretops_loses"] = losses
    out = args.json or args.corpus / "results.json"
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    raise SystemExit(main())
