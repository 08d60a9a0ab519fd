"""What the rules know about a regex: its compiled form (cached on disk), required characters, line anchor.

`compile_regex` compiles a rule regex as the engine runs it (`re.MULTILINE`), once per process,
from the compiled code `RegexCodes` keeps in the cache when `load_rules` found it there.
`required_chars` and `line_anchor` read the regex's parse tree for what lets the engine skip
windows and positions where the rule cannot match. All of it uses CPython's `re` internals;
any surprise falls back to `re.compile` or to knowing nothing.
"""

from __future__ import annotations

import array
import functools
import hashlib
import importlib
import logging
import marshal
import re
import sys
import zlib
from collections.abc import Sequence
from typing import Any, Final

from secretops.scan.cache import read_entry, write_entry

__all__ = ["RegexCodes", "compile_regex", "line_anchor", "required_chars"]

log = logging.getLogger(__name__)


# CPython's `re` internals (the parser, the code generator, `_sre`): `RegexCodes`, `required_chars`.
_sre: Any = importlib.import_module("_sre")


_sre_constants: Any = importlib.import_module("re._constants")

_sre_parser: Any = importlib.import_module("re._parser")

_sre_compiler: Any = importlib.import_module("re._compiler")


@functools.cache
def compile_regex(regex: str) -> re.Pattern[str]:
    """A rule regex compiled as the engine runs it (`re.MULTILINE`), once per process.

    Compiling all 957 built-in regexes with `re.compile` takes about 0.13 s of CPU, most of it
    in `re`'s parser written in Python; a scan compiles only the rules whose keywords occur in
    what it reads, and each worker process does so again. When `load_rules` found the rules'
    compiled code in the cache (`RegexCodes`), the pattern is built from it directly.
    """
    entry = _REGEX_CODES.get(regex)
    if entry is not None:
        pattern = RegexCodes.build(regex, entry)
        if pattern is not None:
            return pattern
    return re.compile(regex, re.MULTILINE)


_Required = str | None

_RegexEntry = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...], _Required]

_REGEX_CODES: dict[str, _RegexEntry] = {}


def _entry_ok(regex: object, entry: object) -> bool:
    """Whether a cached entry has the shape `_RegexEntry` (a foreign or older entry is not used)."""
    return (
        isinstance(regex, str)
        and type(entry) is tuple
        and len(entry) == 6
        and type(entry[0]) is int
        and type(entry[1]) is bytes
        and type(entry[2]) is int
        and type(entry[3]) is dict
        and type(entry[4]) is tuple
        and (entry[5] is None or type(entry[5]) is str)
    )


class RegexCodes:
    """The compiled form of the rules' regexes (`re.MULTILINE`), kept in the on-disk cache.

    `re.compile` parses a pattern in Python and hands the resulting code (a list of integers)
    to `_sre.compile`; the cache keeps that code, so a later process calls `_sre.compile` alone.
    The entry is keyed by the exact Python version, `re`'s code magic and a CRC of the regexes;
    it is written only after each rebuilt pattern compared equal to `re.compile`'s own (equal
    flags, groups and code), and carries a CRC-32 of its contents, checked when read: an entry
    damaged on disk is never used (the regexes are then compiled as usual). Like the prefilter's
    compiled database, the cache folder is trusted as the user's own: whoever can write it can
    change what the scanner matches. Everything here is CPython's
    `re` internals: any surprise falls back to `re.compile`.
    """

    KIND: Final = "regex"
    SUFFIX: Final = ".bin"

    @staticmethod
    def key(regexes: Sequence[str]) -> str:
        """The entry's name: the Python and `re` it was built by, and a CRC of the regexes.

        A stale or colliding entry cannot give a regex the wrong code: codes are looked up by
        the regex's own text, so at worst a regex is missing and compiled as usual.
        """
        crc = zlib.crc32("\0".join(regexes).encode("utf-8", "surrogatepass"))
        version = f"regex-v4\0{sys.version}\0{_sre_constants.MAGIC}\0{_sre.CODESIZE}\0{len(regexes)}\0{crc}"
        return hashlib.sha256(version.encode()).hexdigest()[:32]

    @staticmethod
    def build(regex: str, entry: _RegexEntry) -> re.Pattern[str] | None:
        flags, code, groups, groupindex, indexgroup, _ = entry
        try:
            pattern: re.Pattern[str] = _sre.compile(
                regex, flags, array.array("I", code).tolist(), groups, groupindex, indexgroup
            )
        except Exception as exc:  # CPython internals changed under the cache key: compile as usual
            log.debug("cannot rebuild a cached regex: %s", type(exc).__name__)
            return None
        return pattern

    @staticmethod
    def entry(regex: str) -> _RegexEntry | None:
        """What rebuilds `re.compile(regex, re.MULTILINE)`, or None when it would not rebuild it exactly."""
        try:
            parsed = _sre_parser.parse(regex, re.MULTILINE)
            code = _sre_compiler._code(parsed, re.MULTILINE)
            groupindex = dict(parsed.state.groupdict)
            indexgroup: list[str | None] = [None] * parsed.state.groups
            for name, index in groupindex.items():
                indexgroup[index] = name
            if array.array("I").itemsize != _sre.CODESIZE:
                return None
            entry: _RegexEntry = (
                int(re.MULTILINE | parsed.state.flags),
                array.array("I", code).tobytes(),
                parsed.state.groups - 1,
                groupindex,
                tuple(indexgroup),
                _rarest(parsed),
            )
        except Exception:  # an invalid regex (validation reports it) or other internals: not cached
            return None
        rebuilt = RegexCodes.build(regex, entry)
        if rebuilt is None or rebuilt != re.compile(regex, re.MULTILINE):
            return None
        return entry

    @classmethod
    def load(cls, regexes: Sequence[str]) -> None:
        """Make `compile_regex` build these regexes from cached code; cache it first when missing."""
        key = cls.key(regexes)
        data = read_entry(cls.KIND, key, cls.SUFFIX)
        codes = cls._decode(data) if data is not None else None
        if codes is None:
            codes = {}
            for regex in dict.fromkeys(regexes):
                entry = cls.entry(regex)
                if entry is not None:
                    codes[regex] = entry
            payload = marshal.dumps(codes)
            write_entry(cls.KIND, key, cls.SUFFIX, zlib.crc32(payload).to_bytes(4, "big") + payload)
        _REGEX_CODES.update(codes)

    @staticmethod
    def _decode(data: bytes) -> dict[str, _RegexEntry] | None:
        crc, payload = data[:4], data[4:]
        if zlib.crc32(payload).to_bytes(4, "big") != crc:  # damaged on disk (not a defence: see `load`)
            log.debug("ignoring a damaged regex cache entry")
            return None
        try:
            # Our own entry (checked above), of plain values only: `marshal` is the fastest reader
            # of it (about 1 ms for every built-in rule), and nothing read is executed.
            codes = marshal.loads(payload)  # noqa: S302
        except Exception:  # a foreign entry: compile as usual
            return None
        if not isinstance(codes, dict) or not all(_entry_ok(regex, e) for regex, e in codes.items()):
            return None
        return codes


#: How often a character occurs in source text, roughly (others: rarer still); `required_chars`
#: keeps the rarest group, where a missing character rules out the most windows.
_CHAR_COST: Final = {" ": 16, ".": 4, "_": 4, "(": 3, ")": 3, ",": 3, "-": 3, "/": 2, "=": 2, ":": 2, '"': 2, "'": 2}


@functools.cache
def required_chars(regex: str) -> str | None:
    """Characters of which every match of `regex` holds at least one, or None when none is known.

    Read from the regex's parse tree: a literal outside anything optional, a class of such
    literals, a branch where each alternative requires one (their union). Only ASCII characters
    that are not letters count, so case-insensitive matching changes nothing, and lookarounds
    are left out (a lookbehind reads before the window). Of the groups found the rarest is
    kept (`_CHAR_COST`). A window holding none of them holds no match: the engine skips the rule
    there without running its regex. Kept in the cache beside the compiled code.
    """
    entry = _REGEX_CODES.get(regex)
    if entry is not None:
        return entry[5]
    try:
        parsed = _sre_parser.parse(regex, re.MULTILINE)
    except (re.error, RecursionError):
        return None
    return _rarest(parsed)


def _rarest(parsed: Any) -> str | None:
    groups = set(_required(list(parsed)))
    if not groups:
        return None
    return "".join(sorted(min(groups, key=lambda g: (sum(_CHAR_COST.get(c, 1) for c in g), sorted(g)))))


def _uncased(code: int) -> bool:
    ch = chr(code)
    return ch.isascii() and not ch.isalpha()


def _required(items: Sequence[tuple[Any, Any]]) -> list[frozenset[str]]:
    c = _sre_constants
    out: list[frozenset[str]] = []
    for op, av in items:
        if op is c.LITERAL:
            if _uncased(av):
                out.append(frozenset(chr(av)))
        elif op is c.IN:
            if all(iop is c.LITERAL and _uncased(iav) for iop, iav in av):
                out.append(frozenset(chr(iav) for _, iav in av))
        elif op is c.SUBPATTERN:
            out.extend(_required(list(av[-1])))
        elif op is c.ATOMIC_GROUP:
            out.extend(_required(list(av)))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if av[0] >= 1:
                out.extend(_required(list(av[2])))
        elif op is c.BRANCH:
            branches = [_required(list(b)) for b in av[1]]
            if branches and all(branches):
                out.append(frozenset().union(*(min(b, key=len) for b in branches)))
    return [g for g in out if g]


#: A line anchor further than this from the line start is not worth it (`line_anchor`).
_MAX_ANCHOR_REACH: Final = 1024


@functools.cache
def line_anchor(regex: str) -> tuple[int, tuple[str, ...], bool] | None:
    """`(reach, literals, caseless)` when every match of `regex` (compiled with `re.MULTILINE`)
    starts a line and has one of `literals` (ASCII, at least 3 characters; lowercase when
    `caseless`) starting at most `reach` characters after its start; else None.

    Read from the parse tree: `^` first (groups around it opened), then items of bounded width
    (their widths add up to `reach`), then a literal run or a branch whose alternatives each
    begin with one. `caseless` when the regex or an opened group turns on `re.IGNORECASE`. The
    engine then tries such a multiline rule only at the line starts before the literals'
    occurrences instead of at every position of its reach (`Scanner._anchored`).
    """
    try:
        parsed = _sre_parser.parse(regex, re.MULTILINE)
    except (re.error, RecursionError):
        return None
    c = _sre_constants
    caseless = bool(parsed.state.flags & re.IGNORECASE)
    items = list(parsed)
    while items and items[0][0] is c.SUBPATTERN and not items[0][1][2] & re.MULTILINE:
        caseless = caseless or bool(items[0][1][1] & re.IGNORECASE)
        items = list(items[0][1][-1]) + items[1:]  # a group opened: its items come first
    if not items or items[0] != (c.AT, c.AT_BEGINNING):
        return None
    reach = 0
    index = 1
    while index < len(items):
        op, av = items[index]
        if op is c.SUBPATTERN and not av[2] & re.MULTILINE:
            caseless = caseless or bool(av[1] & re.IGNORECASE)
            items[index : index + 1] = list(av[-1])
            continue
        literals = _leading_literals(items[index:])
        if literals is not None:
            if reach > _MAX_ANCHOR_REACH:
                return None
            return reach, tuple(dict.fromkeys(x.lower() for x in literals)) if caseless else literals, caseless
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return None  # keep it simple: only consuming items before the literal
        width = _sre_parser.SubPattern(parsed.state, [items[index]]).getwidth()[1]
        if width >= _sre_constants.MAXREPEAT:
            return None
        reach += width
        index += 1
    return None


def _leading_literals(items: Sequence[tuple[Any, Any]]) -> tuple[str, ...] | None:
    """The literal run (3+ ASCII characters) the items begin with, or one per alternative of a branch."""
    c = _sre_constants
    run = ""
    for op, av in items:
        if op is not c.LITERAL or not chr(av).isascii():
            break
        run += chr(av)
    if len(run) >= 3:
        return (run,)
    if run or not items or items[0][0] is not c.BRANCH:
        return None
    out: list[str] = []
    for alternative in items[0][1][1]:
        found = _leading_literals(list(alternative))
        if found is None:
            return None
        out.extend(found)
    return tuple(dict.fromkeys(out))
