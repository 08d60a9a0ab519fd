"""Adversarial inputs for a rule regex, generated from the rule itself.

For every rule: its keywords repeated (alone, with a separator, upper-cased), its examples
repeated whole and cut short by one character (near-misses that make a backtracking engine try
every split), and "pumps" built from the regex's own parse tree: for each repetition in the
regex, a string matching everything before it, then the repeated body's own characters many
times, with no way to finish the match. Long runs of each character class the regex uses come
out of the pumps too (a class inside a repetition is its body).

`inputs(rule, size)` yields `(label, text)` pairs of about `size` characters each; the same
label at another size is the same shape, longer, so timings at two sizes can be compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from secretops.scan.rules import Rule

try:  # Python 3.11 moved sre_parse under re._parser.
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["inputs", "pumps"]

_C = sre_constants
_CATEGORY_CHAR = {
    _C.CATEGORY_DIGIT: "7",
    _C.CATEGORY_NOT_DIGIT: "a",
    _C.CATEGORY_SPACE: " ",
    _C.CATEGORY_NOT_SPACE: "a",
    _C.CATEGORY_WORD: "a",
    _C.CATEGORY_NOT_WORD: "-",
}
_PROBES = "aA7 -_=+/.:\n\t\"'xZ0%@"
_MAX_PUMPS = 24  # per rule: the regexes are small, this keeps the test's budget
_MAX_LABEL = 60


def _in_set(items: list[tuple[Any, Any]], ch: str) -> bool:
    negate = False
    hit = False
    code = ord(ch)
    for op, av in items:
        if op is _C.NEGATE:
            negate = True
        elif op is _C.LITERAL:
            hit = hit or av == code
        elif op is _C.RANGE:
            hit = hit or av[0] <= code <= av[1]
        elif op is _C.CATEGORY:
            hit = hit or bool(re.fullmatch(_category_regex(av), ch))
    return hit != negate


def _category_regex(category: Any) -> str:
    return {
        _C.CATEGORY_DIGIT: r"\d",
        _C.CATEGORY_NOT_DIGIT: r"\D",
        _C.CATEGORY_SPACE: r"\s",
        _C.CATEGORY_NOT_SPACE: r"\S",
        _C.CATEGORY_WORD: r"\w",
        _C.CATEGORY_NOT_WORD: r"\W",
    }.get(category, ".")


def _set_chars(items: list[tuple[Any, Any]]) -> str:
    """Up to four distinct characters the set matches (a mix makes a run less uniform)."""
    chars = [ch for ch in _PROBES if _in_set(items, ch)]
    for op, av in items:
        if op is _C.LITERAL and chr(av) not in chars:
            chars.append(chr(av))
        elif op is _C.RANGE and chr(av[0]) not in chars:
            chars.append(chr(av[0]))
        elif op is _C.CATEGORY and _CATEGORY_CHAR.get(av, "a") not in chars and _in_set(items, _CATEGORY_CHAR[av]):
            chars.append(_CATEGORY_CHAR[av])
    return "".join(chars[:4]) or "a"


def _witness(seq: Any, groups: dict[int, str]) -> str:
    """One short string that matches `seq` (lookarounds ignored), recording group texts."""
    out: list[str] = []
    for op, av in seq:
        if op is _C.LITERAL:
            out.append(chr(av))
        elif op is _C.NOT_LITERAL:
            out.append("a" if av != ord("a") else "b")
        elif op is _C.ANY:
            out.append("a")
        elif op is _C.IN:
            out.append(_set_chars(av)[0])
        elif op is _C.BRANCH:
            out.append(_witness(av[1][0], groups))
        elif op is _C.SUBPATTERN:
            text = _witness(av[-1], groups)
            if av[0] is not None:
                groups[av[0]] = text
            out.append(text)
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
            lo, _hi, body = av
            out.append(_witness(body, groups) * max(lo, 0))
        elif op is _C.GROUPREF:
            out.append(groups.get(av, ""))
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            out.append(_witness(av, groups))
        # AT, ASSERT, ASSERT_NOT, GROUPREF_EXISTS: nothing to add
    return "".join(out)


def _bodies(body: Any) -> list[str]:
    """Strings to repeat for a repetition's body: its witness and, for a class, a mix of its characters."""
    out = [_witness(body, {})]
    if len(body) == 1 and body[0][0] is _C.IN:
        out.append(_set_chars(body[0][1]))
    return [b for b in dict.fromkeys(out) if b]


def pumps(regex: str) -> list[tuple[str, str]]:
    """`(prefix, body)` pairs: `prefix` leads the regex to a repetition, `body` feeds that repetition."""
    try:
        tree = sre_parse.parse(regex, re.MULTILINE)
    except re.error:
        return []
    found: list[tuple[str, str]] = []

    def walk(seq: Any, prefix: str, groups: dict[int, str]) -> None:
        for i, (op, av) in enumerate(seq):
            before = prefix + _witness(list(seq)[:i], dict(groups))
            if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
                _lo, hi, body = av
                if hi is _C.MAXREPEAT or hi > 1:
                    for b in _bodies(body):
                        found.append((before, b))
                walk(body, before, dict(groups))
            elif op is _C.SUBPATTERN:
                walk(av[-1], before, dict(groups))
            elif op is _C.BRANCH:
                for alt in av[1]:
                    walk(alt, before, dict(groups))
            elif op is getattr(_C, "ATOMIC_GROUP", None):
                walk(av, before, dict(groups))
            elif op in (_C.ASSERT, _C.ASSERT_NOT):
                walk(av[1], before, dict(groups))

    walk(tree, "", {})
    return list(dict.fromkeys(found))


def _fill(unit: str, size: int) -> str:
    if not unit:
        return ""
    return unit * max(1, size // len(unit))


def inputs(rule: Rule, size: int) -> Iterator[tuple[str, str]]:
    """`(label, text)` adversarial inputs of about `size` characters for `rule`."""
    for kw in rule.keywords:
        yield f"keyword {kw!r} repeated", _fill(kw, size)
        yield f"keyword {kw!r} upper, spaced", _fill(kw.upper() + " ", size)
        yield f"keyword {kw!r} with '='", _fill(kw + "=", size)
    for i, example in enumerate(rule.examples[:2]):
        yield f"example {i} repeated", _fill(example, size)
        if len(example) > 1:
            yield f"example {i} cut by one, repeated", _fill(example[:-1], size)
            yield f"example {i} cut by one, then a line", _fill(example[:-1] + "\n", size)
    for j, (prefix, body) in enumerate(pumps(rule.regex)[:_MAX_PUMPS]):
        label = f"pump {j}: {prefix[:20]!r} + {body[:12]!r}*n"[:_MAX_LABEL]
        yield label, prefix + _fill(body, size)
        yield label + " (prefix repeated)", _fill(prefix + body * 8, size)
