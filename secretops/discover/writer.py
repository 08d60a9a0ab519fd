"""Renders a draft inventory as YAML with comments: where each line came from, what to fill in.

The draft is built as plain data (`dict`, `list`, scalars) whose values may be wrapped in
`Note` to carry a trailing comment or comment lines above them. Placeholders are the token
`<FILL-IN: what to put here>` (`placeholder()`), always quoted, so `policy check` finds them
and reports each one with file, line and field (`secretops.inventory.fill_in.PLACEHOLDER`).
Short lists of plain scalars are written in flow style (`[worker, migrate]`); everything else
in block style, so each placeholder has a line of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from secretops.display import printable
from secretops.inventory.fill_in import PLACEHOLDER_PREFIX

__all__ = ["Note", "placeholder", "render_yaml", "scalar"]

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_./@+-]*$")
_RESERVED = re.compile(r"^(true|false|yes|no|on|off|null|y|n|~)$", re.I)


@dataclass(frozen=True, slots=True)
class Note:
    """A value with comments: `above` lines before its key, `after` at the end of its line."""

    value: Any
    after: str | None = None
    above: tuple[str, ...] = field(default=())


def placeholder(what: str) -> str:
    """The placeholder token for `what` (angle brackets and braces removed from the text)."""
    clean = re.sub(r"[<>{}\n]", "", what).strip()
    return f"{PLACEHOLDER_PREFIX} {clean}>"


def scalar(value: Any) -> str:
    """One YAML scalar: bare when unambiguous, else a double-quoted (JSON) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _BARE.match(text) and not _RESERVED.match(text) and not re.fullmatch(r"[0-9.]+[smhdw]?", text):
        return text
    if re.fullmatch(r"\d+[smhdw]", text):
        return text
    return json.dumps(text)  # ASCII: control characters and C1 codes are escaped, never raw in the file


def _comment(text: str) -> str:
    """A comment line: control characters escaped (YAML refuses most of them), one line."""
    return "# " + printable(text.replace("\n", " "))


def _flow(items: Sequence[Any]) -> str | None:
    if all(not isinstance(i, Mapping | list | tuple | Note) for i in items) and not any(
        isinstance(i, str) and i.startswith(PLACEHOLDER_PREFIX) for i in items
    ):
        text = "[" + ", ".join(scalar(i) for i in items) + "]"
        return text if len(text) <= 90 else None
    return None


def render_yaml(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """The YAML text of `data`, after `header` comment lines."""
    out = [_comment(h) if h else "#" for h in header]
    _mapping(data, 0, out)
    return "\n".join(out) + "\n"


def _mapping(data: Mapping[str, Any], indent: int, out: list[str], first_prefix: str | None = None) -> None:
    pad = " " * indent
    for i, (key, raw) in enumerate(data.items()):
        note = raw if isinstance(raw, Note) else None
        value = note.value if note else raw
        lead = first_prefix if (i == 0 and first_prefix is not None) else pad
        if note:
            for line in note.above:
                out.append(pad + _comment(line))
        tail = f"  {_comment(note.after)}" if note and note.after else ""
        if isinstance(value, Mapping):
            if not value:
                out.append(f"{lead}{scalar(key)}: {{}}{tail}")
                continue
            out.append(f"{lead}{scalar(key)}:{tail}")
            _mapping(value, indent + 2, out)
        elif isinstance(value, list | tuple):
            flow = _flow(value) if value else "[]"
            if flow is not None:
                out.append(f"{lead}{scalar(key)}: {flow}{tail}")
                continue
            out.append(f"{lead}{scalar(key)}:{tail}")
            _sequence(value, indent + 2, out)
        else:
            out.append(f"{lead}{scalar(key)}: {scalar(value)}{tail}")


def _sequence(items: Sequence[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for raw in items:
        note = raw if isinstance(raw, Note) else None
        value = note.value if note else raw
        if note:
            for line in note.above:
                out.append(pad + _comment(line))
        tail = f"  {_comment(note.after)}" if note and note.after else ""
        if isinstance(value, Mapping):
            if tail:
                out.append(f"{pad}-{tail}")
                _mapping(value, indent + 2, out)
            else:
                _mapping(value, indent + 2, out, first_prefix=pad + "- ")
        else:
            out.append(f"{pad}- {scalar(value)}{tail}")
