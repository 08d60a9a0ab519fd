"""Reads `policies/*.yaml` into an `Inventory`, reporting every problem with file, line and field.

YAML is composed into nodes first (`yaml.SafeLoader`), so each mapping key and list item has a
line (`LineMap`), then constructed into plain data and validated piece by piece: the file's top
level (`PolicyFile` without its sections), each issuer, each target, each secret. A broken
secret does not hide the problems of its neighbours, and the valid pieces still go through the
whole-inventory checks (`secretops.inventory.check`). A pydantic error's `loc` is walked back
through the data (skipping discriminator tags) to the YAML path, hence to a line.

`load_inventory(path)` returns the `Inventory` or raises `PolicyProblems` (a `PolicyError`)
holding every `Problem`; `collect(path)` returns both, for `secretops policy check`. Warnings
(severity `warning`: an empty file, `grace: 0s`) do not make a policy invalid: they are kept in
`Inventory.warnings`. `local_targets=True` also checks this machine's `.env` targets (they exist,
they hold each consumer's key: `check.check_local_targets`).
"""

from __future__ import annotations

import difflib
import logging
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretops.errors import PolicyError
from secretops.inventory.check import check_inventory
from secretops.inventory.fill_in import check_placeholders, stand_in_placeholders, without_placeholder_noise
from secretops.inventory.local_targets import check_local_targets
from secretops.inventory.models import (
    DURATION_NEGATIVE,
    DURATION_NO_UNIT,
    DURATION_ZERO,
    IssuerSpec,
    PolicyFile,
    SecretSpec,
    TargetSpec,
)
from secretops.inventory.problems import LineMap, Located, Problem, YamlPath, format_path

__all__ = ["Inventory", "PolicyProblems", "collect", "load_inventory", "policy_files"]

logger = logging.getLogger(__name__)

_SECTIONS = ("issuers", "targets", "secrets")
_ISSUER: TypeAdapter[IssuerSpec] = TypeAdapter(IssuerSpec)
_TARGET: TypeAdapter[TargetSpec] = TypeAdapter(TargetSpec)
_SCALARS = (str, int, float, bool)
T = TypeVar("T")


class PolicyProblems(PolicyError):
    """Policy files hold mistakes; `problems` lists every one (file, line, field, hint)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in policy files:\n{lines}",
            hint="fix them, then run `secretops policy check`",
        )


@dataclass(frozen=True)
class Inventory:
    """Every valid secret, issuer and target declared under a policy path, by name.

    Names are global across files. `where(name)` says where a secret was declared.
    """

    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    issuers: dict[str, IssuerSpec] = field(default_factory=dict)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    locations: dict[tuple[str, str], tuple[Path, int]] = field(default_factory=dict, repr=False)
    warnings: tuple[Problem, ...] = ()

    def where(self, secret_name: str) -> tuple[Path, int]:
        """The file and line declaring secret `secret_name` (`KeyError` if unknown)."""
        return self.locations[("secret", secret_name)]

    def where_issuer(self, name: str) -> tuple[Path, int]:
        """The file and line declaring issuer `name`."""
        return self.locations[("issuer", name)]

    def where_target(self, name: str) -> tuple[Path, int]:
        """The file and line declaring target `name`."""
        return self.locations[("target", name)]

    def issuer_of(self, secret_name: str) -> IssuerSpec:
        """The issuer spec of a secret."""
        return self.issuers[self.secrets[secret_name].issuer]


def policy_files(path: Path) -> list[Path]:
    """The policy files under `path`: itself if a file, else its `*.yaml`/`*.yml`, recursively.

    Hidden files and directories are skipped; other files (`scan.toml`, READMEs) are ignored.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise PolicyError(
            f"no policy directory or file at {path}",
            hint="pass a directory of *.yaml policies (default: policies/, or set SECRETOPS_POLICIES)",
        )
    found = [
        p
        for p in path.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    return sorted(found)


def load_inventory(path: Path, *, local_targets: bool = False, base_dir: Path | None = None) -> Inventory:
    """The inventory under `path` (a directory or one file); raises `PolicyProblems` on any problem.

    `local_targets=True` also refuses `.env` targets missing here (see `collect`).
    """
    inventory, problems = collect(path, local_targets=local_targets, base_dir=base_dir)
    if problems:
        raise PolicyProblems(problems)
    return inventory


def collect(
    path: Path, *, local_targets: bool = False, base_dir: Path | None = None
) -> tuple[Inventory, list[Problem]]:
    """The inventory of every valid entry under `path`, and every error found, in file order.

    Warnings go to `Inventory.warnings`. With `local_targets`, `.env` targets are checked on
    this machine's disk: relative paths resolve against `base_dir` (default: the working
    directory, as `secretops rotate` resolves them).
    """
    files = policy_files(path)
    problems: list[Problem] = []
    issuers: list[Located[IssuerSpec]] = []
    targets: list[Located[TargetSpec]] = []
    secrets: list[Located[SecretSpec]] = []
    broken_issuers: set[str] = set()
    broken_targets: set[str] = set()
    secrets_complete = True
    placeholders: list[Problem] = []
    states: list[tuple[Path, Any, LineMap]] = []
    for file in files:
        parsed = _parse(file, problems)
        if parsed is None:
            secrets_complete = False
            continue
        data, lines = parsed
        if _declares_nothing(data):
            problems.append(
                Problem(
                    file,
                    lines.line(()),
                    "",
                    "the file declares no issuers, targets or secrets" + (" (it is empty)" if data is None else ""),
                    "fill it in, or delete it: an empty file may mean the policies meant to be here are missing",
                    "empty-policy",
                    "warning",
                )
            )
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    file,
                    lines.line(()),
                    "",
                    f"the top level must be a mapping (version, issuers, targets, secrets), not {_a(data)}",
                    "start the file with `version: 1` and the sections as keys",
                    "not-a-mapping",
                )
            )
            secrets_complete = False
            continue
        found = check_placeholders(file, data, lines)
        if found:  # validate the rest of the draft around them
            placeholders.extend(found)
            data = stand_in_placeholders(data)
        file_ok = _validate_file(file, data, lines, problems, issuers, targets, secrets, broken_issuers, broken_targets)
        secrets_complete = secrets_complete and file_ok
        if "state" in data:
            states.append((file, data["state"], lines))
    if len(states) > 1:  # each one's own mistakes were named above; here, files that disagree
        from secretops.inventory.state_decl import state_problems

        problems.extend(p for p in state_problems(states)[1] if p.code == "conflicting-state")
    problems.extend(
        check_inventory(
            issuers,
            targets,
            secrets,
            broken_issuers=broken_issuers,
            broken_targets=broken_targets,
            secrets_complete=secrets_complete,
        )
    )
    if local_targets:
        problems.extend(check_local_targets(targets, secrets, base_dir=base_dir))
    if placeholders:  # a draft from `secretops discover`: each placeholder once, not its side effects
        problems = [*without_placeholder_noise(problems, placeholders), *placeholders]
    order = {f: i for i, f in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line or 0))
    errors = [p for p in problems if p.severity == "error"]
    warnings = tuple(p for p in problems if p.severity == "warning")
    inventory = _build(files, issuers, targets, secrets, warnings)
    return inventory, errors


def _declares_nothing(data: Any) -> bool:
    if data is None:
        return True
    return isinstance(data, dict) and not any(data.get(section) for section in (*_SECTIONS, "state"))


def _build(
    files: Sequence[Path],
    issuers: Sequence[Located[IssuerSpec]],
    targets: Sequence[Located[TargetSpec]],
    secrets: Sequence[Located[SecretSpec]],
    warnings: tuple[Problem, ...] = (),
) -> Inventory:
    inventory = Inventory(files=tuple(files), warnings=warnings)
    _index("issuer", issuers, inventory.issuers, inventory.locations)
    _index("target", targets, inventory.targets, inventory.locations)
    _index("secret", secrets, inventory.secrets, inventory.locations)
    return inventory


def _index(
    kind: str,
    entries: Sequence[Located[T]],
    into: dict[str, T],
    locations: dict[tuple[str, str], tuple[Path, int]],
) -> None:
    for entry in entries:
        if entry.name in into:  # a duplicate, already reported: the first one wins
            continue
        into[entry.name] = entry.spec
        locations[(kind, entry.name)] = (entry.file, entry.line())


# ---------------------------------------------------------------- YAML with lines


def _parse(file: Path, problems: list[Problem]) -> tuple[Any, LineMap] | None:
    """The file's data and line map, or None after recording a syntax problem."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(file, None, "", f"not UTF-8 text ({exc.reason})", "save the file as UTF-8", "yaml-syntax")
        )
        return None
    except OSError as exc:
        problems.append(Problem(file, None, "", f"cannot read the file ({exc.strerror})", None, "unreadable"))
        return None
    loader = yaml.SafeLoader(text)
    lines: dict[YamlPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, LineMap({(): 1})
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, file, problems, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        problems.append(
            Problem(
                file,
                mark.line + 1 if mark is not None else None,
                "",
                f"YAML syntax error: {what}",
                "check indentation and quoting around this line (a value with ': ' or '#' needs quotes)",
                "yaml-syntax",
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(file, None, "", f"YAML syntax error: {exc}", None, "yaml-syntax"))
        return None
    finally:
        loader.dispose()
    return data, LineMap(lines)


def _key(node: Node) -> Any:
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return node.value
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError:
        return getattr(node, "value", None)


def _walk(
    node: Node, path: YamlPath, lines: dict[YamlPath, int], file: Path, problems: list[Problem], stack: set[int]
) -> None:
    if id(node) in stack:  # a recursive alias
        return
    stack.add(id(node))
    try:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = _key(key_node)
                if not isinstance(key, str | int):
                    continue
                line = key_node.start_mark.line + 1
                kpath = (*path, key)
                if key in seen:
                    problems.append(
                        Problem(
                            file,
                            line,
                            format_path(kpath),
                            f"duplicate key '{key}' (first at line {seen[key]}; YAML keeps only the last)",
                            "remove one of them",
                            "duplicate-key",
                        )
                    )
                seen[key] = line
                lines[kpath] = line
                _walk(value_node, kpath, lines, file, problems, stack)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                ipath = (*path, i)
                lines[ipath] = item.start_mark.line + 1
                _walk(item, ipath, lines, file, problems, stack)
    finally:
        stack.discard(id(node))


# ---------------------------------------------------------------- validation


def _validate_file(
    file: Path,
    data: dict[Any, Any],
    lines: LineMap,
    problems: list[Problem],
    issuers: list[Located[IssuerSpec]],
    targets: list[Located[TargetSpec]],
    secrets: list[Located[SecretSpec]],
    broken_issuers: set[str],
    broken_targets: set[str],
) -> bool:
    """Validate one file's pieces into the lists; False when a secret could not be read."""
    complete = True
    top = {k: v for k, v in data.items() if k not in _SECTIONS}
    try:
        PolicyFile.model_validate(top)
    except ValidationError as exc:
        problems.extend(_translate(exc, file, (), top, lines, PolicyFile, None))

    for section, adapter, into, broken in (
        ("issuers", _ISSUER, issuers, broken_issuers),
        ("targets", _TARGET, targets, broken_targets),
    ):
        raw = data.get(section)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(
                _shape_problem(file, lines, (section,), raw, f"a mapping of {section[:-1]} names to {section}")
            )
            continue
        for name, body in raw.items():
            path: YamlPath = (section, name)
            if not isinstance(name, str):
                problems.append(
                    Problem(
                        file,
                        lines.line(path),
                        format_path(path),
                        f"{section[:-1]} names are strings, got {_a(name)}",
                        "quote the name",
                        "wrong-type",
                    )
                )
                continue
            try:
                spec = adapter.validate_python(body)
            except ValidationError as exc:
                broken.add(name)
                root = IssuerSpec if section == "issuers" else TargetSpec
                problems.extend(_translate(exc, file, path, body, lines, root, section[:-1]))
                continue
            into.append(Located(name, spec, file, path, lines))  # type: ignore[arg-type]

    raw_secrets = data.get("secrets")
    if raw_secrets is None:
        return complete
    if not isinstance(raw_secrets, list):
        problems.append(
            _shape_problem(
                file, lines, ("secrets",), raw_secrets, "a list of secrets (each item starts with `- name:`)"
            )
        )
        return False
    for i, body in enumerate(raw_secrets):
        path = ("secrets", i)
        try:
            secret = SecretSpec.model_validate(body)
        except ValidationError as exc:
            complete = False
            problems.extend(_translate(exc, file, path, body, lines, SecretSpec, None))
            continue
        secrets.append(Located(secret.name, secret, file, path, lines))
    return complete


def _shape_problem(file: Path, lines: LineMap, path: YamlPath, raw: Any, expected: str) -> Problem:
    return Problem(file, lines.line(path), format_path(path), f"expected {expected}, got {_a(raw)}", None, "wrong-type")


def _a(value: Any) -> str:
    """A value's YAML type in words, never the value itself (it could be a secret)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _show(value: Any) -> str:
    """A short scalar quoted for a message (kinds, durations, enum values), else its type."""
    if isinstance(value, _SCALARS) and len(str(value)) <= 60:
        return repr(value) if isinstance(value, str) else str(value)
    return _a(value)


# Messages of model-level validators (models.py) and the field each one is about.
_MODEL_RULES: tuple[tuple[str, str, str, str], ...] = (
    (
        "grace must be shorter than period",
        "grace",
        "grace-not-shorter",
        "grace is how long the previous value stays valid after a rotation: make it shorter than period",
    ),
    (
        "strategy alternate needs exactly two accounts",
        "accounts",
        "alternate-accounts",
        "name two login roles that take turns, e.g. accounts: [app_a, app_b]",
    ),
    (
        "strategy replace breaks consumers",
        "accept_downtime",
        "replace-needs-accept",
        "set accept_downtime: true, or pick a strategy with overlap (overlap, alternate)",
    ),
    (
        "give exactly one of service_id or env_group_id",
        "service_id",
        "render-service",
        "a Render target is one service (srv-...) or one env group (evg-...)",
    ),
    (
        "password generator needs at least one character class",
        "",
        "generator-classes",
        "enable lowercase, uppercase, digits, or give symbols",
    ),
    ("rsa bits must be between", "bits", "generator-bits", "use 2048, 3072 or 4096"),
    (
        "unknown filter",
        "",
        "unknown-filter",
        "`|url` escapes for a URL, `|conninfo` quotes for a libpq conninfo string (docs/policies.md, Templates)",
    ),
)


def _translate(
    exc: ValidationError,
    file: Path,
    prefix: YamlPath,
    raw: Any,
    lines: LineMap,
    root: Any,
    section: str | None,
) -> list[Problem]:
    """Each pydantic error of one entry as a `Problem` with the YAML line of its field."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        rel, leaf = _yaml_path(raw, loc)
        path = prefix + rel
        etype = err["type"]
        ctx = err.get("ctx") or {}
        message = err["msg"]
        hint: str | None = None
        code = "invalid-value"
        if etype == "missing":
            message = f"missing required field `{path[-1]}`"
            code = "missing-field"
            hint = _describe_field(root, loc)
        elif etype == "extra_forbidden":
            message = f"unknown field `{path[-1]}`"
            code = "unknown-field"
            allowed = _fields_at(root, loc[:-1])
            guess = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
            if guess:
                hint = f"did you mean `{guess[0]}`?"
            elif allowed:
                hint = f"allowed here: {', '.join(allowed)}"
        elif etype in ("union_tag_invalid", "union_tag_not_found"):
            what = section or "entry"
            known = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
            if not known:
                known = _tags(root)
            path = (*path, "kind")
            code = f"unknown-{what}-kind"
            if etype == "union_tag_invalid":
                tag = ctx.get("tag", "")
                message = f"unknown {what} kind '{tag}' (known: {', '.join(known)})"
                guess = difflib.get_close_matches(str(tag), known, n=1, cutoff=0.6)
                hint = f"did you mean '{guess[0]}'?" if guess else "see docs/policies.md for every kind"
            else:
                message = f"missing `kind` (one of: {', '.join(known)})"
                code = "missing-field"
                hint = f"every {what} says what it is: `kind: {known[0]}`" if known else None
        elif etype in ("value_error", "assertion_error"):
            text = str(ctx.get("error", message))
            if "a duration" in text or DURATION_ZERO in text:
                message, hint, code = _duration_problem(text, str(path[-1]) if path else "", err.get("input"))
            else:
                message = text
                for fragment, fld, rule_code, rule_hint in _MODEL_RULES:
                    if fragment in text:
                        code, hint = rule_code, rule_hint
                        if fld and leaf is not None:
                            path = (*path, fld)
                            message = _with_values(text, fld, leaf)
                        break
        elif etype in ("enum", "literal_error"):
            message = f"{message}, got {_show(err.get('input'))}"
        elif etype == "string_pattern_mismatch":
            message = f"does not match {ctx.get('pattern')}"
            if path and path[-1] == "name":  # a name is never a secret: show it
                message = f"{_show(err.get('input'))} {message}"
                hint = "secret names are lowercase letters, digits and . _ / -, e.g. budget-ai/database"
        elif etype.endswith("_type") or etype.endswith("_parsing") or etype == "model_attributes_type":
            message = f"{message.rstrip('.')}, got {_a(err.get('input'))}"
            code = "wrong-type"
        elif "input" in err and isinstance(err["input"], int | float) and not isinstance(err["input"], bool):
            message = f"{message}, got {err['input']}"
        out.append(Problem(file, lines.line(path), format_path(path), message, hint, code))
    return out


# The unit a bare number most likely meant, by field (what its default is written in).
_LIKELY_UNIT = {"period": "d", "grace": "h", "drain": "s", "restart_timeout": "m", "timeout": "s"}
_ZERO_RISK = {
    "period": "a period of 0s would make the secret due on every run",
    "restart_timeout": "the restart command would be killed before it starts",
    "timeout": "every health check would time out",
}
_DEFAULTS = {"period": "90d", "restart_timeout": "5m", "timeout": "10s", "grace": "1h", "drain": "10s"}


def _duration_problem(text: str, fld: str, value: Any) -> tuple[str, str, str]:
    """(message, hint, code) for a duration the models refused; `fld` is the field's name."""
    shown = _bare(value) if isinstance(value, _SCALARS) else _a(value)
    if DURATION_NO_UNIT in text:
        number = str(value).strip()
        unit = _LIKELY_UNIT.get(fld, "s")
        if re.fullmatch(r"-?\d+", number):
            others = ", ".join(f"{number}{u}" for u in ("s", "m", "h", "d") if u != unit)
            hint = f"did you mean {number}{unit}? (or {others})"
        else:
            hint = "write a whole number and one unit: s, m, h, d or w (e.g. 36h for a day and a half)"
        return f"duration {number} has no unit (a bare number is not read as seconds)", hint, "duration-without-unit"
    if DURATION_NEGATIVE in text:
        hint = (
            "write 0s for no grace (the previous value is revoked at once), or a positive duration"
            if fld in ("grace", "drain")
            else f"write a positive duration (the default is {_DEFAULTS.get(fld, '10s')})"
        )
        return f"{fld or 'a duration'} cannot be negative, got {shown}", hint, "negative-duration"
    if DURATION_ZERO in text:
        risk = _ZERO_RISK.get(fld)
        message = f"{fld or 'a duration'} must be longer than 0s" + (f": {risk}" if risk else "")
        return (
            message,
            f"write a positive duration (the default is {_DEFAULTS.get(fld, '10s')})",
            "duration-not-positive",
        )
    return (
        f"invalid duration {_show(value)}: {text}",
        "write a whole number and one unit: s, m, h, d or w (90d, 12h)",
        "bad-duration",
    )


def _with_values(text: str, fld: str, leaf: Any) -> str:
    if fld == "grace" and isinstance(leaf, dict):
        period, grace = leaf.get("period", "90d"), leaf.get("grace", "1h")
        return f"{text} (grace {_bare(grace)}, period {_bare(period)})"
    return text


def _bare(value: Any) -> str:
    shown = _show(value)
    return shown[1:-1] if isinstance(value, str) and shown.startswith("'") else shown


def _yaml_path(raw: Any, loc: tuple[Any, ...]) -> tuple[YamlPath, Any]:
    """`loc` without discriminator tags, as a path in `raw`; and the value the path reaches."""
    path: list[str | int] = []
    cur: Any = raw
    for part in loc:
        if isinstance(cur, dict):
            if part in cur:
                path.append(part)
                cur = cur[part]
                continue
            if str(cur.get("kind")) == str(part):  # a tagged-union member: not in the YAML
                continue
            path.append(part)
            cur = None
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            path.append(part)
            cur = cur[part]
        else:
            path.append(part)
            cur = None
    return tuple(path), cur


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _model_at(root: Any, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model reached by following `loc` (with tags) from `root`."""
    tp = root
    for part in loc:
        tp = _unwrap(tp)
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(part))
            if info is None:
                return None
            tp = info.annotation
        elif origin in (list, tuple, Sequence):
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        elif origin in (Union, types.UnionType):
            tp = next((m for m in get_args(tp) if part in _tags(m)), None)
            if tp is None:
                return None
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _tags(tp: Any) -> list[str]:
    """The `kind` tags of a (tagged union of) model(s)."""
    tp = _unwrap(tp)
    members = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    tags: list[str] = []
    for member in members:
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and "kind" in member.model_fields:
            kind = member.model_fields["kind"].annotation
            if get_origin(kind) is Literal:
                tags.extend(str(a) for a in get_args(kind))
    return tags


def _fields_at(root: Any, loc: tuple[Any, ...]) -> list[str]:
    model = _model_at(root, loc)
    return list(model.model_fields) if model is not None else []


def _describe_field(root: Any, loc: tuple[Any, ...]) -> str | None:
    model = _model_at(root, loc[:-1])
    if model is None:
        return None
    info = model.model_fields.get(str(loc[-1]))
    if info is None or not info.description:
        return f"add `{loc[-1]}:`"
    return f"add `{loc[-1]}:` ({info.description})"
