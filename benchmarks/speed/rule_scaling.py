"""Rule count against throughput: the engine alone over one tree with N of the built-in rules.

Issue 11 asks that breadth not cost speed. This script reads every file of a tree into memory
once, then for each rule count N scans all of them in this process the way the runner does
(Hyperscan over the raw bytes, decode only files with a keyword hit, then the rules of the hit
keywords over their windows) with a `Scanner` of N rules drawn at random (seed 0, kept in load
order: the same draw every run), and prints the
CPU time (`time.process_time`, fastest of `--repeat`), MB/s, keyword count and findings. Start-up
(imports, rule loading, process pool) is left out: see `run.py` for the whole command.

Usage: python -m benchmarks.speed.rule_scaling [--tree DIR] [--counts 100,250,500,0] [--repeat 2]
(0 means every rule).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

from benchmarks.speed.run import WORK
from secretops.scan.engine import Scanner
from secretops.scan.models import Fragment
from secretops.scan.rules.loader import load_rules
from secretops.scan.sources.interface import decode_plain, has_bom
from secretops.values import FingerprintKey


def _files(root: Path) -> list[bytes]:
    out = []
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            if not name.startswith(".built"):
                out.append((Path(dirpath) / name).read_bytes())
    return out


def _scan_all(scanner: Scanner, files: list[bytes]) -> int:
    found = 0
    for data in files:
        if b"\0" in data[:8192] or has_bom(data):
            continue
        hits = scanner.prefilter_bytes(data)
        if hits is not None and not hits:
            continue
        text = decode_plain(data)
        if hits is not None:
            hits = scanner.hits_for_text(data, text, hits)
        found += len(scanner.scan(Fragment(text=text, path="f"), hits))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=WORK / "tree" / "a")
    parser.add_argument("--counts", default="100,250,500,0")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rules = list(load_rules())
    files = _files(args.tree)
    size = sum(len(f) for f in files)
    print(f"tree {args.tree}: {len(files)} files, {size / 1e6:.0f} MB; {len(rules)} rules\n")
    print("| rules | keywords | CPU s | MB/s | findings (all classes) |")
    print("|---:|---:|---:|---:|---:|")
    key = FingerprintKey(b"\x01" * 32)
    for count in (int(c) for c in args.counts.split(",")):
        picked = sorted(random.Random(0).sample(range(len(rules)), count)) if 0 < count < len(rules) else None
        subset = [rules[i] for i in picked] if picked is not None else rules
        scanner = Scanner(subset, key)
        scanner.compile_all()
        best = float("inf")
        found = 0
        for _ in range(args.repeat):
            start = time.process_time()
            found = _scan_all(scanner, files)
            best = min(best, time.process_time() - start)
        keywords = len(scanner.prefilter.keywords)
        print(f"| {len(subset)} | {keywords} | {best:.2f} | {size / 1e6 / best:.0f} | {found} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
