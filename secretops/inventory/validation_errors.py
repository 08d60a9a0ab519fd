"""A pydantic `ValidationError` of one policy entry as `Problem`s, each at the YAML line of its field.

The error's `loc` is walked back through the data (skipping discriminator tags) to the YAML
path, hence to a line; each error type gets a message and a hint a user can act on (a
"did you mean" for a misspelt field or kind, the likely unit of a bare duration). A message
shows a value's type, never the value (it could be a secret), except short scalars such as
kinds, durations and enum values.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from secretops.inventory.models import DURATION_NEGATIVE, DURATION_NO_UNIT, DURATION_ZERO
from secretops.inventory.problems import LineMap, Problem, YamlPath, format_path

__all__ = ["translate_errors", "type_in_words"]

_SCALARS = (str, int, float, bool)


def type_in_words(value: Any) -> str:
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
    return type_in_words(value)


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


def translate_errors(
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
            message = f"{message.rstrip('.')}, got {type_in_words(err.get('input'))}"
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
    shown = _bare(value) if isinstance(value, _SCALARS) else type_in_words(value)
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
