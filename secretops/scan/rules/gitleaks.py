"""Read gitleaks' TOML configuration (`.gitleaks.toml`, `--rules gitleaks.toml`) as secretops rules.

Teams moving from gitleaks keep their custom rules: each `[[rules]]` table becomes a `Rule`, its
Go RE2 regex translated to Python `re` (`translate_regex`), its allowlists kept where secretops
can apply them with the same meaning. Whatever cannot be kept is never dropped silently: every
unsupported field, rule or allowlist is named in a notice (`GitleaksConfig.notices`) that the CLI
prints on standard error.

What is translated: `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `tags`,
`[rules.allowlist]` / `[[rules.allowlists]]` (`regexes`, `paths`, `stopwords`), the top-level
`[allowlist]` / `[[allowlists]]` (merged into the scan policy, or into the rules named by
`targetRules`), and `[extend]` (`path` is read too; `disabledRules` disables those ids).

What is not, and what happens instead (always towards more findings, never fewer):
- a rule with only `path` (a file-name rule, e.g. `pkcs12-file`): skipped, secretops rules match text;
- `path` beside `regex`: ignored, the rule runs on every file;
- an allowlist with `regexTarget = "match"` or `"line"`: its regexes are dropped (secretops tests
  allowlist regexes against the secret only, which could allow more than gitleaks would);
- an allowlist with `condition = "AND"` over several criteria: dropped;
- `commits` in an allowlist, `[[rules.required]]` (composite rules), `[extend] url`: ignored;
- `skipReport = true`: the rule is not loaded (gitleaks never reports it either);
- `[extend] useDefault`: gitleaks' own default rules are not loaded; secretops' built-in rules,
  which cover the same providers, always run.
- a regex using RE2 features Python lacks (`\\p{...}` Unicode classes, `\\C`, the `U` flag): skipped.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from secretops.errors import RuleError
from secretops.scan.models import Severity
from secretops.scan.rules.interface import Rule, RuleSet
from secretops.scan.rules.loader import load_rules, regex_problem, shown

if TYPE_CHECKING:
    from secretops.scan.config import ScanPolicy

__all__ = [
    "GITLEAKS_FILE",
    "GitleaksConfig",
    "UnsupportedRegex",
    "find_repo_config",
    "is_gitleaks_config",
    "load_gitleaks_config",
    "load_ruleset",
    "merge_policy",
    "translate_regex",
]

#: The file gitleaks reads at a repository's root.
GITLEAKS_FILE: Final = ".gitleaks.toml"

_TOP_KEYS: Final = frozenset({"title", "description", "minVersion", "extend", "allowlist", "allowlists", "rules"})
_RULE_KEYS: Final = frozenset(
    {"id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags", "allowlist", "allowlists"}
)
_ALLOW_KEYS: Final = frozenset(
    {"description", "regexes", "paths", "stopwords", "regexTarget", "condition", "commits", "targetRules"}
)
_SECRETOPS_ONLY: Final = frozenset({"provider", "kind", "severity", "examples"})
_GITLEAKS_ONLY: Final = frozenset({"secretGroup", "path", "allowlists", "skipReport", "required"})
_ID_CHARS = re.compile(r"[^a-z0-9]+")
_MIN_KEYWORD = 3
_MAX_EXTEND_DEPTH = 8


class UnsupportedRegex(ValueError):
    """A Go RE2 regex uses a feature Python `re` has no equivalent for; the message names it."""


# --- regex translation -------------------------------------------------------------------------

_POSIX: Final = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_FLAGS = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])")
_PY_FLAGS: Final = frozenset("ims")


def translate_regex(go: str) -> str:
    """The Python `re` spelling of a Go RE2 regex; raise `UnsupportedRegex` naming what has none.

    RE2 lets a flag group `(?i)` stand anywhere and apply to the end of the enclosing group
    (across `|`); Python only allows global flags at the very start, so a later one becomes a
    scoped group `(?i:...)` closed where the enclosing group closes and around each `|`.
    `\\z` becomes `\\Z`, `\\Q...\\E` an escaped literal, `\\x{hhhh}` `\\Uhhhhhhhh`, `(?<name>`
    `(?P<name>`, POSIX classes `[[:alpha:]]` their ranges; `[`, `&`, `~`, `|` inside a class are
    escaped (RE2 reads them literally, Python warns of set operations), and `{,n}` (literal in
    RE2) is escaped.
    """
    out: list[str] = []
    extra: list[list[str]] = [[]]  # per open group: scoped flag groups to close with it (and around each `|`)
    i, n = 0, len(go)
    in_class = False
    class_start = 0
    while i < n:
        c = go[i]
        if c == "\\":
            i = _escape(go, i, out, in_class)
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
                out.append("]")
            elif go.startswith("[:", i):
                end = go.find(":]", i + 2)
                name = go[i + 2 : end] if end > 0 else ""
                negate = name.startswith("^")
                if negate or name not in _POSIX:
                    raise UnsupportedRegex(f"POSIX class [:{name}:] inside a class")
                out.append(_POSIX[name])
                i = end + 2
                continue
            elif c in "[&~|":
                out.append("\\" + c)
            elif c == "-" and out and out[-1] == "-":
                out.append("\\-")
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append("[")
            i += 1
            if i < n and go[i] == "^":
                out.append("^")
                i += 1
            class_start = i + 1 if i < n and go[i] == "]" else i
            if i < n and go[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(":
            flags = _FLAGS.match(go, i)
            if go.startswith("(?<", i) and not go.startswith(("(?<=", "(?<!"), i):
                out.append("(?P<")
                extra.append([])
                i += 3
                continue
            if flags is not None:
                on, off, closer = flags.group(1), flags.group(2) or "", flags.group(3)
                bad = set(on + off) - _PY_FLAGS
                if bad:
                    raise UnsupportedRegex(f"flag(s) {''.join(sorted(bad))} (only i, m and s exist in Python)")
                spec = on + (f"-{off}" if off else "")
                if closer == ":":
                    out.append(f"(?{spec}:")
                    extra.append([])
                elif not out and len(extra) == 1 and not off:
                    out.append(f"(?{on})")  # global flags at the very start: Python reads them the same
                elif spec:
                    out.append(f"(?{spec}:")
                    extra[-1].append(spec)
                i = flags.end()
                continue
            out.append("(")
            extra.append([])
            i += 1
            continue
        if c == ")":
            if len(extra) == 1:
                raise UnsupportedRegex("unbalanced ')'")
            out.append(")" * len(extra.pop()) + ")")
            i += 1
            continue
        if c == "|" and extra[-1]:
            # RE2 flags run to the end of the group, across `|`: close and reopen them around it
            out.append(")" * len(extra[-1]) + "|" + "".join(f"(?{spec}:" for spec in extra[-1]))
            i += 1
            continue
        if c == "{" and i + 1 < n and go[i + 1] == ",":
            out.append("\\{")
            i += 1
            continue
        out.append(c)
        i += 1
    out.append(")" * len(extra[0]))
    return "".join(out)


def _escape(go: str, i: int, out: list[str], in_class: bool) -> int:
    """Translate the escape at `go[i]` (a backslash) into `out`; return the index after it."""
    nxt = go[i + 1] if i + 1 < len(go) else ""
    if nxt == "Q":
        end = go.find("\\E", i + 2)
        literal = go[i + 2 :] if end < 0 else go[i + 2 : end]
        out.append("".join("\\" + ch if not ch.isalnum() else ch for ch in literal) if in_class else re.escape(literal))
        return len(go) if end < 0 else end + 2
    if nxt == "z":
        out.append("\\Z")
        return i + 2
    if nxt in ("p", "P"):
        raise UnsupportedRegex("Unicode class \\p / \\P")
    if nxt == "C":
        raise UnsupportedRegex("\\C (any byte)")
    if nxt == "x" and go.startswith("{", i + 2):
        end = go.find("}", i + 3)
        try:
            code = int(go[i + 3 : end], 16)
        except ValueError:
            raise UnsupportedRegex("malformed \\x{...}") from None
        out.append(f"\\U{code:08x}")
        return end + 1
    out.append(go[i : i + 2])
    return i + 2


# --- config loading ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GitleaksConfig:
    """A gitleaks config translated: its rules, global allowlist, disabled ids and notices."""

    path: Path
    rules: tuple[Rule, ...] = ()
    allow_paths: tuple[re.Pattern[str], ...] = ()
    allow_regexes: tuple[re.Pattern[str], ...] = ()
    allow_stopwords: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)


def is_gitleaks_config(data: Mapping[str, Any]) -> bool:
    """Whether parsed TOML is a gitleaks config rather than a secretops rule file.

    A secretops rule file holds only `[[rules]]`, each with `provider`, `kind`, `severity` and
    `examples`; a gitleaks file has other top-level tables (`title`, `[extend]`, `[allowlist]`)
    or rules without those fields, or with gitleaks-only ones (`secretGroup`, `path`).
    """
    if set(data) - {"rules"}:
        return bool(set(data) & (_TOP_KEYS - {"rules"}))
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        return False
    for rule in rules:
        if isinstance(rule, dict) and (set(rule) & _GITLEAKS_ONLY or not set(rule) & _SECRETOPS_ONLY):
            return True
    return False


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc.strerror}", hint="check the path") from exc
    except UnicodeDecodeError as exc:
        raise RuleError(f"{path}: rule file is not UTF-8", hint="save the file as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}", hint="fix the TOML syntax at that line") from exc


def _strings(where: str, name: str, value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: field {name!r}: must be a list of strings", hint="gitleaks writes ['...']")
    return list(value)


@dataclass(slots=True)
class _Allow:
    paths: list[re.Pattern[str]] = field(default_factory=list)
    regexes: list[re.Pattern[str]] = field(default_factory=list)
    stopwords: list[str] = field(default_factory=list)


def _compile(where: str, name: str, go: str) -> re.Pattern[str] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return re.compile(translate_regex(go))
    except UnsupportedRegex:
        return None
    except (re.error, FutureWarning) as exc:
        problem = regex_problem(exc) if isinstance(exc, re.error) else str(exc)
        raise RuleError(f"{where}: field {name!r}: invalid regex ({shown(go)}): {problem}") from None


def _allowlists(
    where: str, table: Mapping[str, Any], notes: list[str], label: str
) -> tuple[_Allow, list[tuple[tuple[str, ...], _Allow]]]:
    """The allowlists of a rule or of the whole file, merged (gitleaks allows a finding when any
    allowlist matches it, and within one, by default, when any criterion does)."""
    entries: list[Any] = []
    if "allowlist" in table:
        entries.append(table["allowlist"])
    more = table.get("allowlists", [])
    entries.extend(more if isinstance(more, list) else [more])
    allow = _Allow()
    targeted: list[tuple[tuple[str, ...], _Allow]] = []
    for index, entry in enumerate(entries):
        at = f"{where} allowlist {index + 1}"
        note = f"{label} allowlist {index + 1}"
        if not isinstance(entry, dict):
            raise RuleError(f"{at}: must be a table", hint="write [rules.allowlist] or [[rules.allowlists]]")
        unknown = sorted(set(entry) - _ALLOW_KEYS)
        if unknown:
            notes.append(f"{note}: field(s) {', '.join(unknown)} not supported, ignored")
        if entry.get("commits"):
            notes.append(f"{note}: 'commits' not supported, ignored (findings in those commits are reported)")
        paths = _strings(at, "paths", entry.get("paths"))
        regexes = _strings(at, "regexes", entry.get("regexes"))
        stopwords = _strings(at, "stopwords", entry.get("stopwords"))
        condition = str(entry.get("condition", "OR")).upper()
        if condition == "AND" and sum(bool(x) for x in (paths, regexes, stopwords)) > 1:
            notes.append(f'{note}: condition = "AND" over several criteria not supported, allowlist not applied')
            continue
        target = str(entry.get("regexTarget", "secret"))
        if regexes and target != "secret":
            notes.append(f"{note}: regexTarget = {target!r} not supported, its regexes not applied")
            regexes = []
        rules = tuple(_strings(at, "targetRules", entry.get("targetRules")))
        part = allow if not rules else _Allow()
        for name, values, sink in (("paths", paths, part.paths), ("regexes", regexes, part.regexes)):
            for value in values:
                pattern = _compile(at, name, value)
                if pattern is None:
                    notes.append(f"{note}: a {name} entry uses RE2 syntax Python lacks, entry not applied")
                else:
                    sink.append(pattern)
        part.stopwords.extend(s.lower() for s in stopwords)
        if rules:
            targeted.append((rules, part))
    return allow, targeted


def load_gitleaks_config(path: Path, reserved_ids: Iterable[str] = ()) -> GitleaksConfig:
    """Translate the gitleaks config at `path` (and the files it `[extend]`s) into secretops rules.

    Rule ids that clash with `reserved_ids` (the built-in rules) are renamed `gitleaks-<id>`;
    ids that are not kebab-case are normalised. Raises `RuleError` for malformed TOML or fields.
    """
    return _load(Path(path), frozenset(reserved_ids), depth=0)


def _load(path: Path, reserved: frozenset[str], depth: int) -> GitleaksConfig:
    if depth > _MAX_EXTEND_DEPTH:
        raise RuleError(f"{path}: [extend] path nests more than {_MAX_EXTEND_DEPTH} files deep", hint="a loop?")
    data = _read(path)
    notes: list[str] = []
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        notes.append(f"top-level field(s) {', '.join(unknown)} not supported, ignored")
    rules: dict[str, Rule] = {}
    base = GitleaksConfig(path=path)
    extend = data.get("extend", {})
    if not isinstance(extend, dict):
        raise RuleError(f"{path}: [extend] must be a table", hint="write [extend] useDefault = true")
    for key in sorted(set(extend) - {"useDefault", "path", "disabledRules", "url"}):
        notes.append(f"[extend] {key} not supported, ignored")
    if extend.get("url"):
        notes.append("[extend] url not supported (secretops does not fetch configs), ignored")
    if extend.get("useDefault"):
        notes.append(
            "[extend] useDefault: gitleaks' default rules are not loaded; secretops' built-in rules run instead"
        )
    if isinstance(extend.get("path"), str):
        parent = (path.parent / extend["path"]).resolve()
        base = _load(parent, reserved, depth + 1)
        notes.extend(f"{parent.name}: {note}" for note in base.notices)
        rules.update({r.id: r for r in base.rules})
    disabled = _strings(f"{path} [extend]", "disabledRules", extend.get("disabledRules"))
    global_notes: list[str] = []
    allow, targeted = _allowlists(f"{path}: [allowlist]", data, global_notes, "global")
    notes.extend(global_notes)
    skipped: dict[str, str] = dict(base.skipped)
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise RuleError(f"{path}: 'rules' must be an array of tables", hint="write each rule as [[rules]]")
    renamed: list[str] = []
    for index, entry in enumerate(entries):
        rule, why = _rule(path, index, entry, reserved, notes)
        if rule is None:
            skipped[str(entry.get("id", f"rules[{index}]")) if isinstance(entry, dict) else str(index)] = why
            continue
        if why:
            renamed.append(why)
        rules[rule.id] = rule
    if renamed:
        notes.append(f"{len(renamed)} rule id(s) clash with built-in rules and were renamed gitleaks-<id>")
    for ids, part in targeted:
        missing = [rid for rid in ids if _new_id(rid, reserved) not in rules]
        if missing:
            notes.append(f"allowlist targetRules names unknown rule(s) {', '.join(missing)}, not applied to them")
        for rid in ids:
            new = _new_id(rid, reserved)
            if new in rules:
                rules[new] = _with_allow(rules[new], part)
    if skipped:
        reasons: dict[str, list[str]] = {}
        for rid, why in skipped.items():
            reasons.setdefault(why, []).append(rid)
        for why, names in reasons.items():
            notes.append(f"{len(names)} rule(s) not loaded ({why}): {', '.join(names)}")
    return GitleaksConfig(
        path=path,
        rules=tuple(rules.values()),
        allow_paths=base.allow_paths + tuple(allow.paths),
        allow_regexes=base.allow_regexes + tuple(allow.regexes),
        allow_stopwords=base.allow_stopwords + tuple(allow.stopwords),
        disabled=base.disabled + tuple(disabled),
        notices=tuple(dict.fromkeys(notes)),
        skipped=skipped,
    )


def _new_id(raw: str, reserved: frozenset[str]) -> str:
    rid = _ID_CHARS.sub("-", raw.lower()).strip("-") or "rule"
    if "-" not in rid:
        rid = f"gitleaks-{rid}"
    return f"gitleaks-{rid}" if rid in reserved else rid


def _with_allow(rule: Rule, part: _Allow) -> Rule:
    return dataclasses.replace(
        rule,
        allow_paths=rule.allow_paths + tuple(part.paths),
        allow_regexes=rule.allow_regexes + tuple(part.regexes),
        allow_stopwords=rule.allow_stopwords + tuple(part.stopwords),
    )


def _rule(path: Path, index: int, entry: object, reserved: frozenset[str], notes: list[str]) -> tuple[Rule | None, str]:
    """One gitleaks rule as a `Rule`, or (None, why it is not loaded). The second item of a
    loaded rule is its original id when it was renamed to avoid a clash, else ''."""
    if not isinstance(entry, dict):
        raise RuleError(f"{path}: rules[{index}] is not a table", hint="write each rule as [[rules]]")
    raw_id = entry.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RuleError(f"{path}: rules[{index}]: field 'id': missing", hint='add id = "my-rule"')
    where = f"{path}: rule {raw_id!r}"
    unknown = sorted(set(entry) - _RULE_KEYS - {"skipReport", "required"})
    if unknown:
        notes.append(f"rule {raw_id}: field(s) {', '.join(unknown)} not supported, ignored")
    if entry.get("skipReport"):
        return None, "skipReport: gitleaks never reports them either"
    if entry.get("required"):
        notes.append(f"rule {raw_id}: [[rules.required]] (composite rule) not supported, the rule reports on its own")
    go = entry.get("regex")
    if go is None:
        return None, "a 'path'-only rule matches file names; secretops rules match text"
    if not isinstance(go, str) or not go:
        raise RuleError(f"{where}: field 'regex': must be a non-empty string")
    try:
        regex = translate_regex(go)
    except UnsupportedRegex as exc:
        return None, f"regex uses RE2 syntax Python lacks: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pattern = re.compile(regex, re.MULTILINE)
    except (re.error, FutureWarning) as exc:
        problem = regex_problem(exc) if isinstance(exc, re.error) else "ambiguous character class"
        raise RuleError(f"{where}: field 'regex': does not compile after translation: {problem}") from None
    if "path" in entry:
        notes.append(f"rule {raw_id}: 'path' beside 'regex' not supported, the rule runs on every file")
    group = entry.get("secretGroup", 0)
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group <= pattern.groups:
        raise RuleError(
            f"{where}: field 'secretGroup': group {group!r} does not exist (the regex has {pattern.groups})"
        )
    if group == 0 and pattern.groups >= 1:
        group = 1  # gitleaks takes the first non-empty group when secretGroup is unset
    entropy = entry.get("entropy")
    if entropy is not None and (isinstance(entropy, bool) or not isinstance(entropy, int | float) or entropy < 0):
        raise RuleError(f"{where}: field 'entropy': must be a non-negative number")
    keywords = tuple(dict.fromkeys(k.lower() for k in _strings(where, "keywords", entry.get("keywords"))))
    if any(len(k) < _MIN_KEYWORD or not k.isascii() for k in keywords):
        notes.append(f"rule {raw_id}: a keyword is shorter than {_MIN_KEYWORD} characters, the rule runs on all text")
        keywords = ()
    rule_notes: list[str] = []
    allow, _ = _allowlists(where, entry, rule_notes, f"rule {raw_id}")
    notes.extend(rule_notes)
    rid = _new_id(raw_id, reserved)
    provider, _, kind = rid.partition("-")
    tags = tuple(dict.fromkeys([*_strings(where, "tags", entry.get("tags")), "gitleaks"]))
    if rid.startswith(("generic-", "gitleaks-generic-")):
        tags = (*tags, "generic")
    description = entry.get("description")
    rule = Rule(
        id=rid,
        description=description if isinstance(description, str) and description else f"gitleaks rule {raw_id}",
        provider=provider,
        kind=kind or "secret",
        severity=Severity.HIGH,
        keywords=keywords,
        regex=regex,
        secret_group=group,
        entropy=float(entropy) if entropy is not None else None,
        allow_regexes=tuple(allow.regexes),
        allow_stopwords=tuple(allow.stopwords),
        allow_paths=tuple(allow.paths),
        tags=tags,
        source=str(path),
    )
    return rule, (raw_id if rid != _ID_CHARS.sub("-", raw_id.lower()).strip("-") else "")


# --- discovery and the combined rule set -------------------------------------------------------


def find_repo_config(targets: Sequence[str]) -> Path | None:
    """The `.gitleaks.toml` at the root of the repository holding the first scanned path, if any.

    The root is the nearest folder at or above the path with a `.git` entry; with none, the
    scanned folder itself. Standard input (`-`) has no repository.
    """
    for target in targets:
        if target == "-":
            continue
        start = Path(target).resolve()
        if not start.is_dir():
            start = start.parent
        for folder in (start, *start.parents):
            if (folder / ".git").exists():
                candidate = folder / GITLEAKS_FILE
                return candidate if candidate.is_file() else None
        candidate = start / GITLEAKS_FILE
        return candidate if candidate.is_file() else None
    return None


def load_ruleset(
    extra_files: Sequence[Path], disabled: Iterable[str] = (), gitleaks_files: Sequence[Path] = ()
) -> tuple[RuleSet, list[GitleaksConfig]]:
    """The built-in rules, plus `extra_files` (secretops or gitleaks format, told apart by
    content), plus `gitleaks_files`, minus `disabled` and each gitleaks file's `disabledRules`.

    Raises `RuleError` as `load_rules` does, also for a policy-disabled id no file defines.
    """
    ours: list[Path] = []
    theirs: list[Path] = list(gitleaks_files)
    for path in extra_files:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            ours.append(Path(path))  # the secretops loader reports the problem
            continue
        (theirs if is_gitleaks_config(data) else ours).append(Path(path))
    # the repository's .gitleaks.toml may also be named with --rules: read each file once
    once: dict[Path, Path] = {}
    for path in theirs:
        once.setdefault(path.resolve(), path)
    theirs = list(once.values())
    base = load_rules(ours)
    rules = list(base.rules)
    reserved = set(base.ids)
    configs: list[GitleaksConfig] = []
    for path in theirs:
        config = load_gitleaks_config(path, reserved)
        configs.append(config)
        clash = [r.id for r in config.rules if r.id in reserved]
        if clash:
            raise RuleError(
                f"{path}: rule {clash[0]!r}: field 'id': duplicated (another rules file defines it)",
                hint="rename the rule in one of the files",
            )
        reserved.update(r.id for r in config.rules)
        rules.extend(config.rules)
    off = tuple(dict.fromkeys(disabled))
    unknown = [rid for rid in off if rid not in reserved]
    if unknown:
        raise RuleError(
            f"cannot disable unknown rule id(s): {', '.join(unknown)}",
            hint="`secretops rules` lists the ids; check the spelling in [rules] disable",
        )
    also_off: list[str] = []
    for index, config in enumerate(configs):
        known = [rid for rid in config.disabled if rid in reserved]
        missing = [rid for rid in config.disabled if rid not in reserved]
        also_off.extend(known)
        if missing:
            configs[index] = dataclasses.replace(
                config,
                notices=(
                    *config.notices,
                    f"[extend] disabledRules: no rule {', '.join(missing)} here (gitleaks default ids), not applied",
                ),
            )
    every_off = tuple(dict.fromkeys([*off, *also_off]))
    kept = tuple(r for r in rules if r.id not in every_off)
    files = (*base.files, *(str(p) for p in theirs))
    return RuleSet(rules=kept, files=files, disabled=every_off), configs


def merge_policy(policy: ScanPolicy, configs: Sequence[GitleaksConfig]) -> ScanPolicy:
    """`policy` with the gitleaks files' global allowlists added."""
    for config in configs:
        policy = dataclasses.replace(
            policy,
            allow_paths=policy.allow_paths + config.allow_paths,
            allow_regexes=policy.allow_regexes + config.allow_regexes,
            allow_stopwords=policy.allow_stopwords + config.allow_stopwords,
        )
    return policy
