"""Detection rules as data: parse and validate `rules/*.toml` files into a `RuleSet`.

Every `*.toml` file in this package folder is loaded (sorted by name), then any extra files a
user lists in `policies/scan.toml` or passes with `--rules`. Each rule is checked field by field;
a mistake raises `RuleError` naming the file, the rule id and the field, with a hint.

Rules without `keywords` are allowed, but they run their regex over the whole buffer of every
fragment, which costs far more than a keyword-gated rule: keep them rare, and never ship one in a
built-in file. Regexes are compiled with `re.MULTILINE`, so `^` and `$` match at line edges
wherever the engine runs them (it runs them on windows of a larger buffer).
"""

from __future__ import annotations

import array
import functools
import hashlib
import importlib
import json
import logging
import marshal
import re
import sys
import tomllib
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Final

from secretops import __version__
from secretops.errors import RuleError
from secretops.scan import checksums
from secretops.scan.cache import read_entry, write_entry
from secretops.scan.checksums import CHECKSUMS
from secretops.scan.models import Severity
from secretops.values import mask

__all__ = [
    "DECODERS",
    "Rule",
    "RuleSet",
    "builtin_rule_files",
    "compile_regex",
    "line_anchor",
    "load_rule_file",
    "load_rules",
    "required_chars",
]

log = logging.getLogger(__name__)

# CPython's `re` internals (the parser, the code generator, `_sre`): `_RegexCodes`, `required_chars`.
_sre: Any = importlib.import_module("_sre")
_sre_constants: Any = importlib.import_module("re._constants")
_sre_parser: Any = importlib.import_module("re._parser")
_sre_compiler: Any = importlib.import_module("re._compiler")

#: Names accepted by a rule's `decode` key.
DECODERS: Final = frozenset({"base64"})

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_LOWER_NAME = re.compile(r"^[a-z0-9][a-z0-9.+_-]*$")
_CONTEXT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MIN_KEYWORD = 3

_TOP_KEYS: Final = frozenset({"rules"})
_ALLOWLIST_KEYS: Final = frozenset({"regexes", "stopwords", "paths"})
_RULE_KEYS: Final = frozenset(
    {
        "id",
        "description",
        "provider",
        "kind",
        "severity",
        "keywords",
        "regex",
        "secret_group",
        "entropy",
        "public",
        "checksum",
        "examples",
        "counterexamples",
        "allowlist",
        "context",
        "tags",
        "multiline",
        "decode",
        "references",
    }
)
_REQUIRED: Final = ("id", "description", "provider", "kind", "severity", "keywords", "regex", "examples")


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule, validated.

    `secret_group` names the regex group holding the secret (0 is the whole match). `context`
    maps a context name (`host`, `user`, ...) to a regex group whose text is reported alongside
    the finding. A `public` rule finds identifiers that are not secret (an AWS access key id, a
    Stripe publishable key): they are never leaks, and the engine attaches them as context to a
    nearby secret of the same provider. `source` is the file the rule came from.
    """

    id: str
    description: str
    provider: str
    kind: str
    severity: Severity
    keywords: tuple[str, ...]
    regex: str
    secret_group: int | str = 0
    entropy: float | None = None
    public: bool = False
    checksum: str | None = None
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()
    allow_regexes: tuple[re.Pattern[str], ...] = ()
    allow_stopwords: tuple[str, ...] = ()
    allow_paths: tuple[re.Pattern[str], ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    multiline: bool = False
    decode: str | None = None
    references: tuple[str, ...] = ()
    source: str = ""

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled regex (compiled on first use, once per process, with `re.MULTILINE`)."""
        return compile_regex(self.regex)

    @property
    def required(self) -> str | None:
        """Characters of which every match holds at least one (`required_chars`), or None."""
        return required_chars(self.regex)

    @property
    def line_anchor(self) -> tuple[int, tuple[str, ...], bool] | None:
        """`(reach, literals, caseless)`: every match starts a line, a literal that far on (`line_anchor`)."""
        return line_anchor(self.regex)

    @property
    def generic(self) -> bool:
        """True for catch-all rules (tag `generic`); a specific rule wins over them on the same span."""
        return "generic" in self.tags


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The enabled rules, in load order, with the files they came from.

    `digest` is a hash of everything that shapes the compiled prefilter (the keywords), used as
    the cache key for the on-disk Hyperscan database.
    """

    rules: tuple[Rule, ...]
    files: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    @property
    def ids(self) -> tuple[str, ...]:
        """Rule ids in load order."""
        return tuple(r.id for r in self.rules)

    @property
    def digest(self) -> str:
        """SHA-256 over the rules' keywords (what the prefilter database depends on)."""
        h = hashlib.sha256()
        for rule in self.rules:
            h.update(rule.id.encode())
            h.update(b"\0")
            h.update("\x1f".join(rule.keywords).encode())
            h.update(b"\n")
        return h.hexdigest()


@functools.cache
def compile_regex(regex: str) -> re.Pattern[str]:
    """A rule regex compiled as the engine runs it (`re.MULTILINE`), once per process.

    Compiling all 957 built-in regexes with `re.compile` takes about 0.13 s of CPU, most of it
    in `re`'s parser written in Python; a scan compiles only the rules whose keywords occur in
    what it reads, and each worker process does so again. When `load_rules` found the rules'
    compiled code in the cache (`_RegexCodes`), the pattern is built from it directly.
    """
    entry = _REGEX_CODES.get(regex)
    if entry is not None:
        pattern = _RegexCodes.build(regex, entry)
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


class _RegexCodes:
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
        rebuilt = _RegexCodes.build(regex, entry)
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


def builtin_rule_files() -> list[Path]:
    """The rule files shipped in `secretops/scan/rules/`, sorted by name."""
    folder = resources.files("secretops.scan.rules")
    return sorted(
        (Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda p: p.name,
    )


def load_rules(extra_files: Sequence[Path] = (), disabled: Iterable[str] = ()) -> RuleSet:
    """Load the built-in rules plus `extra_files`, minus the ids in `disabled`.

    Raises `RuleError` for a malformed file, a duplicated id, or a disabled id that no file
    defines (a typo would otherwise silently keep the rule on).
    """
    files = builtin_rule_files() + [Path(p) for p in extra_files]
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in load_rule_file(path):
            if rule.id in seen:
                raise RuleError(
                    f"{path}: rule {rule.id!r}: field 'id': duplicated (already defined in {seen[rule.id]})",
                    hint="rule ids are unique; rename the new rule or disable the old one by id",
                )
            seen[rule.id] = str(path)
            rules.append(rule)
    off = tuple(dict.fromkeys(disabled))
    unknown = [rid for rid in off if rid not in seen]
    if unknown:
        raise RuleError(
            f"cannot disable unknown rule id(s): {', '.join(unknown)}",
            hint="`secretops rules` lists the ids; check the spelling in [rules] disable",
        )
    kept = tuple(r for r in rules if r.id not in off)
    _RegexCodes.load([r.regex for r in rules])
    return RuleSet(rules=kept, files=tuple(str(p) for p in files), disabled=off)


def load_rule_file(path: Path) -> list[Rule]:
    """Parse one rule file; raise `RuleError` naming file, rule id and field on any mistake.

    A file that passed validation once is cached (`secretops.scan.cache`), keyed by a hash of its
    bytes: loading it again skips TOML parsing and validation, and its regexes are compiled only
    when the engine first needs them.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc.strerror}", hint="check the path") from exc
    kind = "rules-" + re.sub(r"[^a-z0-9]+", "_", path.stem.lower())
    key = hashlib.sha256(raw + _cache_salt()).hexdigest()[:32]
    cached = _from_cache(read_entry(kind, key, ".json"), path)
    if cached is not None:
        return cached
    rules = _parse_rule_file(path, raw)
    write_entry(kind, key, ".json", json.dumps([_to_cache(rule) for rule in rules]).encode())
    return rules


def _parse_rule_file(path: Path, raw: bytes) -> list[Rule]:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RuleError(f"{path}: rule file is not UTF-8", hint="save the file as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}", hint="fix the TOML syntax at that line") from exc
    extra = set(data) - _TOP_KEYS
    if extra:
        raise RuleError(
            f"{path}: unknown top-level key(s): {', '.join(sorted(extra))}",
            hint="a rule file holds only [[rules]] tables",
        )
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise RuleError(f"{path}: 'rules' must be an array of tables", hint="write each rule as [[rules]]")
    out: list[Rule] = []
    ids: set[str] = set()
    for index, entry in enumerate(entries):
        rule = _parse_rule(path, index, entry)
        if rule.id in ids:
            raise RuleError(f"{path}: rule {rule.id!r}: field 'id': duplicated in this file", hint="ids are unique")
        ids.add(rule.id)
        out.append(rule)
    return out


class _Fields:
    """Typed access to one rule table, raising `RuleError` with file, id and field."""

    def __init__(self, path: Path, rule_id: str, table: Mapping[str, Any]) -> None:
        self.path = path
        self.rule_id = rule_id
        self.table = table

    def error(self, name: str, problem: str, hint: str | None = None) -> RuleError:
        return RuleError(
            f"{self.path}: rule {self.rule_id!r}: field {name!r}: {problem}",
            hint=hint or "docs/rules.md describes every field of a rule",
        )

    def str_(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.table.get(name, default)
        if value is None:
            if required:
                raise self.error(name, "missing", hint=f'add {name} = "..."')
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(name, "must be a non-empty string")
        return value

    def strs(self, name: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.table.get(name)
        if value is None:
            if required:
                raise self.error(name, "missing", hint=f'add {name} = ["..."]')
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, "must be a list of strings")
        return tuple(value)

    def bool_(self, name: str) -> bool:
        value = self.table.get(name, False)
        if not isinstance(value, bool):
            raise self.error(name, "must be true or false")
        return value

    def regexes(self, name: str, values: Sequence[str]) -> tuple[re.Pattern[str], ...]:
        out = []
        for index, value in enumerate(values):
            try:
                out.append(re.compile(value))
            except re.error as exc:
                # An allowlist regex often spells out the value it allows: never quote it.
                raise self.error(name, f"invalid regex (entry {index}, {shown(value)}): {regex_problem(exc)}") from None
        return tuple(out)


def shown(value: str) -> str:
    """How an error message names a value from a rule or policy file: masked, as previews are.

    A field that should hold a severity or a keyword may hold a pasted credential, and an
    allowlist regex often holds the value it allows: a message shows at most a quarter of it
    (4 characters), never the rest. The field name and index say which entry is wrong.
    """
    return repr(mask(value))


_QUOTED = re.compile(r"'[^']*'|\\.|(?<=range )\S+")


def regex_problem(exc: re.error) -> str:
    """What is wrong with a regex, without the parts of it that `re.error` quotes (group names,
    escapes): `missing ), unterminated subpattern at position 3`."""
    problem = _QUOTED.sub("...", exc.msg)
    return f"{problem} at position {exc.pos}" if exc.pos is not None else problem


@functools.cache
def _cache_salt() -> bytes:
    """Part of every cache key: a cached file is validated again when the loader, what it
    validates against (checksums, decoders) or Python changes."""
    h = hashlib.sha256(f"rules-v1\0{sys.version_info[:2]}\0{__version__}".encode())
    for source in (__file__, checksums.__file__):
        if source:
            h.update(Path(source).read_bytes())
    return h.digest()


_TUPLE_FIELDS: Final = ("keywords", "examples", "counterexamples", "allow_stopwords", "tags", "references")


def _to_cache(rule: Rule) -> dict[str, Any]:
    out = {f.name: getattr(rule, f.name) for f in fields(rule) if f.name != "source"}
    out["severity"] = rule.severity.value
    out["allow_regexes"] = [p.pattern for p in rule.allow_regexes]
    out["allow_paths"] = [p.pattern for p in rule.allow_paths]
    out["context"] = dict(rule.context)
    return out


def _from_cache(data: bytes | None, path: Path) -> list[Rule] | None:
    """Rules from a cache entry, or None when there is none or it is unusable (then parse the file)."""
    if data is None:
        return None
    try:
        entries = json.loads(data)
        rules = []
        for entry in entries:
            entry["severity"] = Severity(entry["severity"])
            entry["allow_regexes"] = tuple(re.compile(p) for p in entry["allow_regexes"])
            entry["allow_paths"] = tuple(re.compile(p) for p in entry["allow_paths"])
            for name in _TUPLE_FIELDS:
                entry[name] = tuple(entry[name])
            rules.append(Rule(**entry, source=str(path)))
        return rules
    except Exception as exc:  # a damaged or foreign entry: parse the file instead
        log.debug("ignoring unusable rule cache for %s: %s", path, type(exc).__name__)
        return None


def _parse_rule(path: Path, index: int, entry: object) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"{path}: rules[{index}] is not a table", hint="write each rule as [[rules]]")
    raw_id = entry.get("id")
    rule_id = raw_id if isinstance(raw_id, str) and raw_id else f"rules[{index}]"
    f = _Fields(path, rule_id, entry)
    unknown = sorted(set(entry) - _RULE_KEYS)
    if unknown:
        raise f.error(unknown[0], "unknown key", hint=f"known keys: {', '.join(sorted(_RULE_KEYS))}")
    for name in _REQUIRED:
        if name not in entry:
            raise f.error(name, "missing", hint="see docs/rules.md for the required fields")
    rid = f.str_("id", required=True)
    assert rid is not None
    if not _ID.match(rid):
        raise f.error("id", f"{rid!r} is not kebab-case <vendor>-<kind>", hint="for example 'neon-postgres-password'")
    description = f.str_("description", required=True) or ""
    provider = f.str_("provider", required=True) or ""
    kind = f.str_("kind", required=True) or ""
    for name, value in (("provider", provider), ("kind", kind)):
        if not _LOWER_NAME.match(value):
            raise f.error(name, f"{shown(value)} must be lowercase letters, digits, '.', '_', '+' or '-'")
    sev = f.str_("severity", required=True) or ""
    try:
        severity = Severity(sev)
    except ValueError:
        raise f.error("severity", f"{shown(sev)} is not one of {', '.join(s.value for s in Severity)}") from None

    keywords = f.strs("keywords", required=True)
    for index, kw in enumerate(keywords):
        if kw != kw.lower() or not kw.isascii() or len(kw) < _MIN_KEYWORD or kw != kw.strip("\n"):
            raise f.error(
                "keywords",
                f"entry {index} {shown(kw)} must be a lowercase ASCII literal of at least {_MIN_KEYWORD} characters",
                hint="short keywords make the prefilter useless; pick a distinctive prefix",
            )

    regex = f.str_("regex", required=True) or ""
    try:
        pattern = compile_regex(regex)
    except re.error as exc:
        raise f.error("regex", f"does not compile: {regex_problem(exc)}", hint="rules use Python `re` syntax") from None

    group = entry.get("secret_group", 0)
    if isinstance(group, bool) or not isinstance(group, int | str):
        raise f.error("secret_group", "must be a group number or a group name")
    if isinstance(group, int) and not 0 <= group <= pattern.groups:
        raise f.error("secret_group", f"group {group} does not exist (the regex has {pattern.groups})")
    if isinstance(group, str) and group not in pattern.groupindex:
        raise f.error("secret_group", f"the regex has no group named {group!r}")

    entropy = entry.get("entropy")
    if entropy is not None and (isinstance(entropy, bool) or not isinstance(entropy, int | float) or entropy < 0):
        raise f.error("entropy", "must be a non-negative number (bits per character)")

    checksum = f.str_("checksum")
    if checksum is not None and checksum not in CHECKSUMS:
        raise f.error("checksum", f"unknown validator {shown(checksum)}", hint=f"known: {', '.join(sorted(CHECKSUMS))}")
    decode = f.str_("decode")
    if decode is not None and decode not in DECODERS:
        raise f.error("decode", f"unknown decoder {shown(decode)}", hint=f"known: {', '.join(sorted(DECODERS))}")

    context_raw = entry.get("context", {})
    if not isinstance(context_raw, dict):
        raise f.error("context", "must be a table of context name = regex group name")
    context: dict[str, str] = {}
    for name, grp in context_raw.items():
        if not _CONTEXT_NAME.match(name) or not isinstance(grp, str):
            raise f.error("context", f"entry {name!r} must map a lowercase name to a group name string")
        if grp not in pattern.groupindex:
            raise f.error("context", f"entry {name!r}: the regex has no group named {grp!r}")
        context[name] = grp

    allow = entry.get("allowlist", {})
    if not isinstance(allow, dict):
        raise f.error("allowlist", "must be a table with regexes, stopwords and paths")
    bad = sorted(set(allow) - _ALLOWLIST_KEYS)
    if bad:
        raise f.error(f"allowlist.{bad[0]}", "unknown key", hint="allowlist keys: regexes, stopwords, paths")
    af = _Fields(path, rule_id, allow)
    allow_regexes = af.regexes("allowlist.regexes", af.strs("regexes"))
    allow_paths = af.regexes("allowlist.paths", af.strs("paths"))
    stopwords = tuple(s.lower() for s in af.strs("stopwords"))

    examples = f.strs("examples", required=True)
    if not examples:
        raise f.error("examples", "needs at least one example", hint="an example is text the rule must find")

    return Rule(
        id=rid,
        description=description,
        provider=provider,
        kind=kind,
        severity=severity,
        keywords=tuple(dict.fromkeys(keywords)),
        regex=regex,
        secret_group=group,
        entropy=float(entropy) if entropy is not None else None,
        public=f.bool_("public"),
        checksum=checksum,
        examples=examples,
        counterexamples=f.strs("counterexamples"),
        allow_regexes=allow_regexes,
        allow_stopwords=stopwords,
        allow_paths=allow_paths,
        context=context,
        tags=f.strs("tags"),
        multiline=f.bool_("multiline"),
        decode=decode,
        references=_references(f),
        source=str(path),
    )


def _references(f: _Fields) -> tuple[str, ...]:
    """The rule's documentation links: https URLs of the provider's own token-format docs."""
    refs = f.strs("references")
    for index, ref in enumerate(refs):
        if not ref.startswith("https://") or any(ch.isspace() for ch in ref):
            raise f.error("references", f"entry {index} must be an https:// URL", hint="link the provider's docs")
    return refs


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
