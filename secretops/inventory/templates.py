"""Value templates: how a consumer's env var is built from a credential's parts.

A template such as `postgresql://{username}:{password|url}@db.example.com/app` renders a
`DATABASE_URL` from a credential, so rotating a password updates every URL that embeds it.
`parse()` runs the other way (used by `store import` to adopt a value already deployed).

Fields: `value` (the secret itself; `password` is an alias), any attribute the issuer records
(`username`, `access_key_id`...), and `previous` (the previous value, for fallbacks such as
Django's `SECRET_KEY_FALLBACKS`). Filters (`FILTERS`) escape a field for where it sits:
`|url` percent-encodes for any part of a URL (userinfo, path, query); `|conninfo` quotes for a
libpq `key=value` connection string (`password={password|conninfo}` renders `password='...'`).
`{{` and `}}` are literal braces. `secretops policy check` refuses a value placed raw in a URL or
conninfo string when its generator can emit a character reserved there (`inventory/escaping.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = ["FILTERS", "Placeholder", "Template", "TemplateError", "conninfo_quote", "conninfo_unquote"]

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([A-Za-z0-9_-]+))?\}")

FILTERS: dict[str, str] = {
    "url": "percent-encodes every character but `A-Z a-z 0-9 - . _ ~` (RFC 3986): for any part of a URL",
    "conninfo": "single-quotes and backslash-escapes (libpq): write `password={password|conninfo}`",
}
"""The template filters and what each does (rendered in docs/policies.md)."""

# How `parse` matches a filtered field: a quoted conninfo value may hold spaces.
_PARSE_PATTERN = {"conninfo": r"'(?:[^'\\]|\\.)*'|[^\s']+?"}


def conninfo_quote(raw: str) -> str:
    """`raw` as a libpq conninfo value: in single quotes, `\\` and `'` escaped with a backslash."""
    return "'" + raw.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo_unquote(text: str) -> str:
    """The value libpq reads from a conninfo value `text` (quoted or bare)."""
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        text = text[1:-1]
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _url_quote(raw: str) -> str:
    return quote(raw, safe="")


_RENDER: dict[str, Callable[[str], str]] = {"url": _url_quote, "conninfo": conninfo_quote}
_UNDO: dict[str, Callable[[str], str]] = {"url": unquote, "conninfo": conninfo_unquote}


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One `{field|filter}` of a template: `name` as written, `field` (`password` -> `value`), span."""

    name: str
    filter: str | None
    start: int
    end: int

    @property
    def field(self) -> str:
        """The credential field it reads (`password` is another name for `value`)."""
        return "value" if self.name == "password" else self.name

    def __str__(self) -> str:
        return "{" + self.name + (f"|{self.filter}" if self.filter else "") + "}"


class TemplateError(ValueError):
    """A template is malformed or a field it needs is missing (names the field, never a value)."""


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed value template. `Template("{value}")` is the identity."""

    source: str

    def __post_init__(self) -> None:
        stripped = _FIELD.sub("", self.source)
        if "{" in stripped or "}" in stripped:
            raise TemplateError(f"unbalanced brace in template {self.source!r}")
        for m in _FIELD.finditer(self.source):
            if m.group(2) and m.group(2) not in FILTERS:
                raise TemplateError(
                    f"unknown filter {m.group(2)}; known: {', '.join(sorted(FILTERS))} (in {m.group(0)})"
                )

    def placeholders(self) -> list[Placeholder]:
        """Every `{field}` / `{field|filter}` in order (literal `{{`/`}}` excluded)."""
        return [
            Placeholder(m.group(1), m.group(2), m.start(), m.end()) for m in _FIELD.finditer(self.source) if m.group(1)
        ]

    @property
    def fields(self) -> frozenset[str]:
        """The field names the template uses (`password` is reported as `value`)."""
        names = {m.group(1) for m in _FIELD.finditer(self.source) if m.group(1)}
        return frozenset("value" if n == "password" else n for n in names)

    def render(self, fields: Mapping[str, str]) -> str:
        """The template with `fields` filled in; raises `TemplateError` naming a missing field."""

        def sub(m: re.Match[str]) -> str:
            token = m.group(0)
            if token == "{{":
                return "{"
            if token == "}}":
                return "}"
            name = m.group(1)
            key = "value" if name == "password" else name
            if key not in fields:
                raise TemplateError(f"template field {{{name}}} has no value for this credential")
            raw = fields[key]
            return _RENDER[m.group(2)](raw) if m.group(2) else raw

        return _FIELD.sub(sub, self.source)

    def parse(self, text: str) -> dict[str, str] | None:
        """The fields that `render` would need to produce `text`, or None when it does not fit."""
        pattern: list[str] = []
        pos = 0
        seen: set[str] = set()
        for m in _FIELD.finditer(self.source):
            pattern.append(re.escape(self.source[pos : m.start()]))
            pos = m.end()
            token = m.group(0)
            if token in ("{{", "}}"):
                pattern.append(re.escape(token[0]))
                continue
            name = m.group(1)
            key = "value" if name == "password" else name
            group = f"f_{key}_{m.group(2) or 'raw'}"
            if group in seen:
                pattern.append(f"(?P={group})")
            else:
                seen.add(group)
                pattern.append(f"(?P<{group}>{_PARSE_PATTERN.get(m.group(2) or '', '.+?')})")
        pattern.append(re.escape(self.source[pos:]))
        match = re.fullmatch("".join(pattern), text, flags=re.DOTALL)
        if match is None:
            return None
        out: dict[str, str] = {}
        for group, raw in match.groupdict().items():
            key, flt = group[2:].rsplit("_", 1)
            value = _UNDO[flt](raw) if flt in _UNDO else raw
            if key in out and out[key] != value:
                return None
            out[key] = value
        return out
