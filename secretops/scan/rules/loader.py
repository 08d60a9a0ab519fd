"""Detection rules as data: parse and validate `rules/*.toml` files into a `RuleSet`.

Every `*.toml` file in this package folder is loaded (sorted by name), then any extra files a
user lists in `policies/scan.toml` or passes with `--rules`. Each rule is checked field by field;
a mistake raises `RuleError` naming the file, the rule id and the field, with a hint.

Rules without `keywords` are allowed, but they run their regex over the whole buffer of every
fragment, which costs far more than a keyword-gated rule: keep them rare, and never ship one in a
built-in file. Regexes are compiled with `re.MULTILINE`, so `^` and `$` match at line edges
wherever the engine runs them (it runs them on windows of a larger buffer).

`Rule` and `RuleSet` are in `interface.py`; `compile_regex` (with the on-disk cache of compiled
regexes), `required_chars` and `line_anchor` in `regexes.py`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any, Final

from secretops import __version__
from secretops.errors import RuleError
from secretops.scan import checksums
from secretops.scan.cache import read_entry, write_entry
from secretops.scan.checksums import CHECKSUMS
from secretops.scan.models import Severity
from secretops.scan.rules import interface, regexes
from secretops.scan.rules.interface import Rule, RuleSet
from secretops.scan.rules.regexes import RegexCodes, compile_regex
from secretops.values import mask

__all__ = ["DECODERS", "builtin_rule_files", "load_rule_file", "load_rules"]

log = logging.getLogger(__name__)

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
    RegexCodes.load([r.regex for r in rules])
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
    validates against (checksums, decoders) or Python changes. `Rule` (what an entry becomes)
    and the regex compiler are in `interface.py` and `regexes.py`: their sources count too."""
    h = hashlib.sha256(f"rules-v1\0{sys.version_info[:2]}\0{__version__}".encode())
    for source in (__file__, interface.__file__, regexes.__file__, checksums.__file__):
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
