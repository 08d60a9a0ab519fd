"""Every built-in rule runs in linear time on hostile input; so does the engine around it.

Issue 10, "Catastrophic regex": 1,600 lines of `-----BEGIN RSA PRIVATE KEY-----` (51 KB) took
140 s. Each rule's regex is run over inputs generated from the rule itself (`adversarial.py`:
its keywords and examples repeated, near-misses, and "pumps" that feed each repetition in the
regex its own characters with no way to finish the match) at two sizes, `SMALL` and
`LARGE = 4 * SMALL`. A rule passes outright when the large input takes under `FAST` seconds of
CPU (nothing to measure: noise would dominate); otherwise the best of a few runs at each size
must scale by less than `MAX_RATIO` (linear is 4, quadratic 16) and stay under `CAP`.
The machine is shared and noisy, so timings are CPU time (`time.process_time`) and the minimum
of several runs.
"""

from __future__ import annotations

import time

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.models import Fragment
from secretops.scan.rules import Rule, builtin_rule_files, load_rule_file, load_rules
from secretops.scan.rules.regexes import compile_regex
from secretops.values import FingerprintKey
from tests.scan.adversarial import inputs, pumps

KEY = FingerprintKey(b"t" * 32)
RULES = [rule for path in builtin_rule_files() for rule in load_rule_file(path)]
# SMALL is above the bounded gaps rules have (up to `{0,2000}?`): below such a bound, a gap read
# from many starts still grows with the input, and the ratio would look quadratic.
SMALL = 4096
LARGE = 4 * SMALL
PROBE = SMALL // 4  # run first: a catastrophic regex fails here without a wait at LARGE
FAST = 0.005  # seconds of CPU at LARGE under which a rule passes without a scaling check
# LARGE/SMALL time ratio: linear is 4, quadratic 16. A bounded gap (`[\s\S]{0,2000}?`) read from
# many starts costs n*B - B*B/2, about 5x here; 10 leaves room for a noisy machine (8.3 was seen
# under load) and still fails anything quadratic (16).
MAX_RATIO = 10.0
CAP = 0.25  # seconds at LARGE (16 KiB): even a linear rule this slow would be a problem
RUNS = 3


def _cpu(rule: Rule, text: str, runs: int) -> float:
    pattern = compile_regex(rule.regex)
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for _m in pattern.finditer(text):
            pass
        best = min(best, time.process_time() - start)
    return best


def test_the_generator_builds_pumps_for_a_known_regex() -> None:
    """The pump generator sees repetitions inside groups, classes and alternations."""
    found = pumps(r"key=(?:[a-f0-9]{32}|x(\s+)y)")
    assert ("key=", "a") in found  # the hex class repeated after its prefix
    assert ("key=x", " ") in found  # the nested whitespace run
    rule = load_rules().get("generic-private-key")
    assert rule is not None
    labels = [label for label, _ in inputs(rule, 256)]
    assert any(label.startswith("pump") for label in labels)
    assert any("cut by one" in label for label in labels)


def test_the_check_catches_a_quadratic_regex() -> None:
    """The same measurement flags a textbook quadratic regex: the check can fail."""
    bad = Rule(
        id="bad-quadratic",
        description="x",
        provider="x",
        kind="x",
        severity=load_rules().rules[0].severity,
        keywords=("key=",),
        regex=r"key=([\w=]+)!",
        examples=("key=Zq81vPr9Lk3wQ!",),
    )
    assert _slowest_scaling(bad) is not None


def _slowest_scaling(rule: Rule) -> str | None:
    """A description of the first input on which `rule` is not linear, or None."""
    small = dict(inputs(rule, SMALL))
    probe = dict(inputs(rule, PROBE))
    for label, text in inputs(rule, LARGE):
        t_probe = _cpu(rule, probe[label], 1)
        if t_probe >= CAP:  # already far too slow at a quarter of the small size: do not wait
            return f"{label}: {t_probe:.2f} s at {len(probe[label])} chars"
        t_large = _cpu(rule, text, 1)
        if t_large < FAST:
            continue
        t_small = _cpu(rule, small[label], 1)
        if t_large < CAP:  # worth a closer look: the best of a few runs at both sizes
            t_large = _cpu(rule, text, RUNS)
            if t_large < FAST:
                continue
            t_small = _cpu(rule, small[label], RUNS)
        ratio = t_large / max(t_small, FAST / 8)
        if ratio >= MAX_RATIO and t_large < CAP:  # one more, longer look before calling it superlinear
            t_small = min(t_small, _cpu(rule, small[label], 2 * RUNS))
            t_large = min(t_large, _cpu(rule, text, 2 * RUNS))
            ratio = t_large / max(t_small, FAST / 8)
        if ratio >= MAX_RATIO or t_large >= CAP:
            return (
                f"{label}: {t_small * 1000:.1f} ms at {len(small[label])} chars,"
                f" {t_large * 1000:.1f} ms at {len(text)} (x{ratio:.1f})"
            )
    return None


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_regex_is_linear_on_adversarial_input(rule: Rule) -> None:
    problem = _slowest_scaling(rule)
    assert problem is None, f"{rule.id}: super-linear regex: {problem}"


# -- the engine ---------------------------------------------------------------------------------------


def _scan_cpu(text: str, path: str = "deploy/keys.txt", runs: int = 2) -> float:
    scanner = Scanner(load_rules(), KEY)
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        scanner.scan(Fragment(text, path))
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize(
    "header",
    [
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    ],
)
def test_private_key_header_storm_scans_in_linear_time(header: str) -> None:
    """The issue's repro: 1,600 header lines (51 KB) took 140 s through the whole engine."""
    t_small = _scan_cpu(f"{header}\n" * 400)
    t_large = _scan_cpu(f"{header}\n" * 1600)
    assert t_large < 1.0, f"{t_large:.2f} s for 1,600 lines of {header}"
    assert t_large < max(t_small, 0.01) * MAX_RATIO, (t_small, t_large)


def test_a_private_key_after_a_header_storm_is_still_found() -> None:
    """Linear does not mean blind: a real block after a storm of bare headers is reported."""
    rule = load_rules().get("generic-private-key")
    assert rule is not None
    text = "-----BEGIN RSA PRIVATE KEY-----\n" * 500 + rule.examples[0] + "\n"
    found = [f for f in Scanner(load_rules(), KEY).scan(Fragment(text, "deploy/keys.txt")) if f.kind == "private-key"]
    assert found, "the key block after the storm was missed"
    assert found[-1].location.line == 501
