"""`required_chars`: characters every match of a rule holds, so the engine can skip a window without them."""

from __future__ import annotations

import random
import re
import time

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.models import Fragment
from secretops.scan.rules import load_rules
from secretops.scan.rules.regexes import line_anchor, required_chars
from secretops.values import FingerprintKey


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        (r"https?://(?P<u>[^:@/\s]{1,64}):(?P<p>[^@\s]{3,128})@host", "@"),
        (r"(?ix) (?P<name>[a-z_]{0,80}token[a-z_]{0,80}) [ \t]*(?::=|=>|=(?!=)|:)[ \t]* (?P<v>\w+)", ":="),
        (r"key(?:=|:)\w+", ":="),
        (r"key[=:]\w+", ":="),
        (r"(?<![@])abc[A-Z]{4}", None),  # a lookbehind reads before the window: it proves nothing
        (r"abc(?=@)", None),  # nor does a lookahead
        (r"abc(?:@)?def", None),  # optional
        (r"abc(?:@|def)", None),  # one branch requires nothing
        (r"(?:a@|b#)x", "#@"),
        (r"(?i)token", None),  # letters are never used (case-insensitive matching)
        (r"x(?:@){2,3}", "@"),
        (r"x[^@]", None),
        (r"x\d+-", "-"),
        (r"(", None),  # does not parse
    ],
)
def test_required_chars(regex: str, expected: str | None) -> None:
    assert required_chars(regex) == expected


RULES = [r for r in load_rules() if r.required is not None]


def test_most_builtin_rules_have_required_chars() -> None:
    assert len(RULES) > 300


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_match_of_a_builtin_example_holds_a_required_char(rule: object) -> None:
    from secretops.scan.rules import Rule

    assert isinstance(rule, Rule) and rule.required is not None
    for example in rule.examples:
        for m in rule.pattern.finditer(example):
            if m.end() > m.start():
                assert any(c in m.group(0) for c in rule.required), (rule.id, rule.required)


def test_a_window_without_the_required_char_is_not_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = [r for r in load_rules() if r.id == "http-url-credentials"]
    assert rules and rules[0].required == "@"
    scanner = Scanner(rules, FingerprintKey(b"k" * 32))
    searched: list[tuple[int, int]] = []
    real = rules[0].pattern

    class Spy:
        def search(self, text: str, start: int, end: int) -> re.Match[str] | None:
            searched.append((start, end))
            return real.search(text, start, end)

        def finditer(self, text: str, start: int, end: int):  # type: ignore[no-untyped-def]
            return real.finditer(text, start, end)

    scanner._pattern(0)
    scanner._patterns[0] = Spy()  # type: ignore[assignment]
    text = "see https://example.com/docs here\nhttps://deploy:Zr8vQ2mKx9@db.example.net/x\n"
    found = scanner.scan(Fragment(text=text, path="notes.md"))
    assert [f.rule_id for f in found] == ["http-url-credentials"]
    assert len(searched) == 1 and text[searched[0][0] : searched[0][1]].startswith("https://deploy")


ANCHORED = [r for r in load_rules() if r.multiline and r.line_anchor is not None]


def test_multiline_rules_with_a_line_anchor() -> None:
    ids = {r.id for r in ANCHORED}
    assert {"netrc-multiline-password", "google-app-password-under-heading"} <= ids
    assert line_anchor(r"^[ \t]{0,20}Machine[ \t]+\S+") == (20, ("Machine",), False)
    assert line_anchor(r"(?im:^[ \t]{0,3}#{1,6}[ \t][^\n]{0,80}?(?:SMTP|gmail))") == (90, ("smtp", "gmail"), True)
    assert line_anchor(r"(?i)^Machine") == (0, ("machine",), True)
    assert line_anchor(r"^\s*machine") is None  # unbounded before the literal
    assert line_anchor(r"machine") is None  # not at a line start
    assert line_anchor(r"^(?=x)machine") is None
    assert line_anchor(r"^ab") is None  # too short a literal


@pytest.mark.parametrize("rule", ANCHORED, ids=lambda r: r.id)
def test_anchored_matches_equal_finditer(rule: object) -> None:
    """`Scanner._anchored` gives exactly `finditer`'s matches, on the rule's examples and on shuffled lines."""
    from secretops.scan.rules import Rule

    assert isinstance(rule, Rule) and rule.line_anchor is not None
    scanner = Scanner([rule], FingerprintKey(b"k" * 32))
    rng = random.Random(rule.id)
    lines = [line for example in rule.examples for line in example.split("\n")]
    lines += [
        "",
        "   ",
        "# Mail (SMTP)",
        "x = 1",
        "  machine  ",
        "MACHINE host",
        "\tlogin a",
        "password pw12",
        "Type = sftp",
    ]
    texts = list(rule.examples)
    for _ in range(60):
        texts.append("\n".join(rng.choice(lines) for _ in range(rng.randint(1, 25))))
    for text in texts:
        if not text.isascii():
            continue
        for ws, we in ((0, len(text)), (rng.randint(0, len(text)), len(text)), (0, rng.randint(0, len(text)))):
            want = [m.span() for m in rule.pattern.finditer(text, ws, we)]
            got = [m.span() for m in scanner._anchored(rule.pattern, rule.line_anchor, text, ws, we)]
            assert got == want, (rule.id, ws, we)


def test_a_line_anchor_on_one_huge_line_stays_linear() -> None:
    """Each occurrence looks back at most `reach` characters for a line start, however long the line.

    The first version looked back to the line's start for every occurrence: quadratic on one
    long line of `machine machine ...` (minified or hostile input).
    """
    rules = [r for r in load_rules() if r.id == "netrc-multiline-password"]
    scanner = Scanner(rules, FingerprintKey(b"k" * 32))
    text = "machine " * 200_000 + "\nmachine db.example.net\nlogin deploy\npassword Zr8vQ2mKx9Lp\n"
    start = time.process_time()
    found = scanner.scan(Fragment(text=text, path=".netrc"))
    assert time.process_time() - start < 5  # about 0.2 s here; the quadratic version took minutes
    assert [f.rule_id for f in found] == ["netrc-multiline-password"]
    assert [m.span() for m in scanner._anchored(rules[0].pattern, rules[0].line_anchor, text, 0, len(text))] == [
        m.span() for m in rules[0].pattern.finditer(text)
    ]
