"""Value templates: how a consumer's env var is built from a credential's parts.

A template such as `postgresql://{username}:{password|url}@db.example.com/app` renders a
`DATABASE_URL` from a credential, so rotating a password updates every URL that embeds it.
`parse()` runs the other way (used by `store import` to adopt a value already deployed).

Fields: `value` (the secret itself; `password` is an alias), any attribute the issuer records
(`username`, `access_key_id`...), and `previous` (the previous value, for fallbacks such as
Django's `SECRET_KEY_FALLBACKS`). Filters: `|url` percent-encodes for a URI userinfo part.
`{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = ["Template", "TemplateError"]

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([a-z]+))?\}")
_FILTERS = frozenset({"url"})


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
            if m.group(2) and m.group(2) not in _FILTERS:
                raise TemplateError(f"unknown filter |{m.group(2)} (known: {', '.join(sorted(_FILTERS))})")

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
            return quote(raw, safe="") if m.group(2) == "url" else raw

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
                pattern.append(f"(?P<{group}>.+?)")
        pattern.append(re.escape(self.source[pos:]))
        match = re.fullmatch("".join(pattern), text, flags=re.DOTALL)
        if match is None:
            return None
        out: dict[str, str] = {}
        for group, raw in match.groupdict().items():
            key, flt = group[2:].rsplit("_", 1)
            value = unquote(raw) if flt == "url" else raw
            if key in out and out[key] != value:
                return None
            out[key] = value
        return out
