"""Keyword storms: hits are collapsed, memory per input byte is bounded, time stays linear.

Issue 10, "Keyword storms": the caseless 21-character keyword of `twitter-bearer-token` occurs at
every byte of a run of `a` (base64 of zero bytes looks like this): 8 MB of `a` cost 3.8 s and
435 MB; `- key: x` YAML scanned at about 80 KB/s (2 MB took 168 s: each line's window made the
multiline rule read the next 16 KiB again).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretops.scan import prefilter as prefilter_mod
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Fragment
from secretops.scan.prefilter import STRIDE, Prefilter
from secretops.scan.rules import load_rules
from secretops.values import FingerprintKey

KEY = FingerprintKey(b"k" * 32)
RULES = load_rules()
BACKENDS = [
    b
    for b, present in (("hyperscan", prefilter_mod._hs), ("ahocorasick", prefilter_mod._ac), ("regex", True))
    if present is not None
]
# A bearer token in the provider's shape (21 `A`s, then base64-ish): fake, for tests only.
BEARER = "A" * 21 + "Zq81vPr9Lk3wQmN7xTf2Bc6Hd0Ja4Ye8Wu5Ri1Os3Pk9Lg7Mv2Nb6Xc4Zt8Qa1Ws5Ed9Rf3Tg7Yh2Uj6Ik0Ol"

_RUN = textwrap.dedent(
    """
    import json, sys, time
    from secretops.scan.engine import Scanner
    from secretops.scan.models import Fragment
    from secretops.scan.rules import load_rules
    from secretops.values import FingerprintKey

    scanner = Scanner(load_rules(), FingerprintKey(b"k" * 32))
    unit = sys.argv[1]
    out = {}
    for mb in (2, 8):
        data = (unit * ((mb << 20) // len(unit))).encode()
        start = time.process_time()
        hits = scanner.prefilter_bytes(data)
        text = data.decode()
        if hits is not None:
            hits = scanner.hits_for_text(data, text, hits)
        findings = scanner.scan(Fragment(text, "big/input.yaml"), hits)
        out[mb] = time.process_time() - start
        out[f"findings{mb}"] = len(findings)
        del data, text, hits, findings
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would count pytest's own peak.
    status = open("/proc/self/status").read()
    out["rss_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps(out))
    """
)


def _measure(unit: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _RUN, unit], capture_output=True, text=True, timeout=300, check=True)
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def test_eight_megabytes_of_a_scan_in_bounded_time_and_memory() -> None:
    """The issue's repro, in a fresh process so its peak RSS is the scan's own."""
    got = _measure("a")
    assert got["rss_mb"] < 150, got
    assert got["8"] < 3.0, got  # was 3.8 s (and 148 s for 200 MB)
    assert got["8"] < max(got["2"], 0.02) * 6, f"not linear between 2 MB and 8 MB: {got}"
    assert got["findings8"] == 0


def test_key_yaml_scans_at_megabytes_per_second() -> None:
    """`- key: x` lines (a keyword of a multiline rule on every line) scan at several MB/s, linearly."""
    got = _measure("- key: x\n")
    assert got["rss_mb"] < 150, got
    # The issue measured ~0.08 MB/s; quiet, this machine does 2 to 2.5 MB/s, and a loaded one
    # (other jobs on both cores) 1.8. A floor of 1 MB/s still fails that regression by 12x.
    assert 8 / got["8"] > 1.0, f"{8 / got['8']:.1f} MB/s: {got}"
    assert got["8"] < max(got["2"], 0.02) * 6, f"not linear between 2 MB and 8 MB: {got}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_hits_are_collapsed_to_a_bounded_number(backend: str) -> None:
    """A run of `a` gives a few hits per STRIDE bytes, not one per byte, on every backend."""
    size = 200_000 if backend == "hyperscan" else 20_000
    text = "a" * size
    prefilter = Prefilter(["aaaaaaaaaaaaaaaaaaaaa", "eaa"], backend=backend)
    assert len(prefilter.find(text)) == size - 20  # `find` still reports every occurrence
    collapsed = prefilter.find_packed(text)
    assert 0 < len(collapsed) <= 2 * size // STRIDE + 4
    assert len(prefilter.find_packed("eaa " * 10)) == 10  # few hits: every one, as they are
    assert max(p >> 20 for p in collapsed) == size  # the run's last hit is kept


def _covered(text: str, raw: list[tuple[int, int]], packed: list[int]) -> list[tuple[int, int]]:
    """Raw hits with no collapsed hit of the same keyword on the same line within STRIDE."""
    kept: dict[int, list[int]] = {}
    for p in packed:
        kept.setdefault(p & 0xFFFFF, []).append(p >> 20)
    missing = []
    for end, kw in raw:
        near = [e for e in kept.get(kw, []) if abs(e - end) <= STRIDE and "\n" not in text[min(e, end) : max(e, end)]]
        if not near:
            missing.append((end, kw))
    return missing


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a" * 40, "A" * 300, "a", "b", "x", "\n", "eaa", "aaab", "xaaa", "ab" * 50]),
        max_size=40,
    )
)
def test_every_hit_is_covered_by_a_collapsed_one(parts: list[str]) -> None:
    """Whatever the text, each keyword occurrence has a kept hit of its keyword near it on its line."""
    text = "".join(parts)
    keywords = ["aaaaaaaaaaaaaaaaaaaaa", "eaa", "aaab", "xaaa", "abab", "ba"]
    for backend in BACKENDS:
        prefilter = Prefilter(keywords, backend=backend)
        raw = prefilter.find(text)
        packed = prefilter.find_packed(text, collapse=True)
        assert not _covered(text, raw, packed), backend
        assert len(packed) <= 2 * len(keywords) * (len(text) // STRIDE + text.count("\n") + 1)


def test_a_keyword_just_past_a_storm_is_found() -> None:
    """The storm's run is skipped, but a keyword ending right after it (or across its end) is not."""
    prefilter = Prefilter(["aaaaaaaaaaaaaaaaaaaaa", "aaab", "xaaa", "aaaz"])
    text = "xaaa" + "a" * 5000 + "b" + "a" * 3000 + "z"
    packed = prefilter.find_packed(text, collapse=True)
    ends = {(p >> 20, prefilter.keywords[p & 0xFFFFF]) for p in packed}
    assert (4, "xaaa") in ends
    assert (5005, "aaab") in ends
    assert (len(text), "aaaz") in ends
    assert not _covered(text, prefilter.find(text), packed)


def test_a_bearer_token_inside_a_storm_is_found() -> None:
    """Collapsing hits never hides a credential: a bearer token between two runs of `a` is reported."""
    text = "a" * 300_000 + " " + BEARER + " " + "a" * 300_000 + "\n" + "A" * 100_000 + "\nTOKEN=" + BEARER + "\n"
    found = Scanner(RULES, KEY).scan(Fragment(text, "deploy/app.env"))
    bearer = [f for f in found if f.rule_id == "twitter-bearer-token"]
    assert [f.location.line for f in bearer] == [1, 3]
    assert bearer[0].location.column == 300_002
    assert all(f.classification is Classification.LEAK for f in bearer)


def _storm_corpus() -> list[str]:
    """Texts where keywords repeat densely next to real findings (rule examples)."""
    examples = [ex for rule in RULES for ex in rule.examples if not rule.public][:120]
    texts = []
    for i in range(0, len(examples), 12):
        chunk = examples[i : i + 12]
        texts.append("\n".join(chunk))
        texts.append(" ".join(chunk))  # one long line: windows are hit +- 256 characters
        texts.append(("password " * 40).join(chunk))
        texts.append("\n".join(ex + " " + ex for ex in chunk))
    return texts


def test_collapsed_hits_give_the_same_findings_as_all_hits() -> None:
    """The engine finds the same with collapsed hits as with every occurrence of every keyword."""
    scanner = Scanner(RULES, KEY)
    fewer = 0
    for text in _storm_corpus():
        fragment = Fragment(text, "deploy/app.cfg")
        every = [end << 20 | kw for end, kw in scanner.prefilter.find(text)]
        expected = [(f.rule_id, f.location, f.fingerprint) for f in scanner.scan(fragment, every)]
        collapsed = scanner.prefilter.find_packed(text, collapse=True)
        fewer += len(collapsed) < len(every)
        got = [(f.rule_id, f.location, f.fingerprint) for f in scanner.scan(fragment, collapsed)]
        assert got == expected
    assert fewer >= 10  # the dense texts did collapse: the comparison is not vacuous


def test_private_key_blocks_next_to_each_other_are_each_found() -> None:
    """Multiline rules run once over overlapping reaches; adjacent blocks are still separate findings."""
    rule = RULES.get("generic-private-key")
    assert rule is not None
    header, *body, footer = rule.examples[0].strip().split("\n")
    blocks = ["\n".join([header, *lines, footer]) for lines in (body, body[::-1], body[1:] + body[:1])]
    text = "\n".join([blocks[0], "# comment", blocks[1], blocks[2]]) + "\n"
    found = [f for f in Scanner(RULES, KEY).scan(Fragment(text, "deploy/keys.pem")) if f.kind == "private-key"]
    assert len({f.fingerprint for f in found}) == 3
    height = len(body) + 2
    assert sorted(f.location.line for f in found) == [1, height + 2, 2 * height + 2]


def test_many_findings_on_one_long_line_stay_linear() -> None:
    """Line starts and allow markers are looked up once per line, not once per finding."""
    unit = "DB_PASSWORD=Zq81vPr9Lk3wQ "

    def cpu(n: int) -> float:
        text = unit * n
        scanner = Scanner(RULES, KEY)
        best = float("inf")
        for _ in range(2):
            start = time.process_time()
            scanner.scan(Fragment(text, "deploy/app.env"))
            best = min(best, time.process_time() - start)
        return best

    small, large = cpu(500), cpu(2000)
    assert large < max(small, 0.01) * 6, (small, large)


_CLI = textwrap.dedent(
    """
    import json, resource, sys
    from secretops.cli.app import run

    code = run(sys.argv[1:])
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    # This process's peak from VmHWM (ru_maxrss survives exec: it would count pytest's own peak);
    # forked workers' from RUSAGE_CHILDREN.
    own = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    print(json.dumps({
        "code": code,
        "cpu": sum(u.ru_utime + u.ru_stime for u in usage),
        "rss_mb": max(own, usage[1].ru_maxrss) / 1024,
    }))
    """
)


def test_the_cli_scans_a_file_of_eight_megabytes_of_a_in_bounded_memory(tmp_path: Path) -> None:
    """The same repro end to end: `secretops scan` on the file (read in chunks, workers and all)."""
    target = tmp_path / "zeros.b64"
    target.write_bytes(b"a" * (8 << 20))
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", _CLI, "scan", str(target), "--format", "json", "-o", str(report), "--no-ignore"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["code"] == 0, proc.stderr
    assert got["rss_mb"] < 150, got
    assert got["cpu"] < 10, got
    assert json.loads(report.read_text())["findings"] == []
