"""`.env.example`, `.env.sample`, `.env.template`: the env vars an app reads, with example values.

The example file documents the real `.env` next to it (a `dotenv` target when compose reads
it, or the names a platform's env must hold). Values are examples: only the scheme and host of
a URL value are kept, to tell a Neon database from a Supabase one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from secretops.discover._common import url_parts
from secretops.discover.interface import Discovery, EnvUse, Evidence, Fact, SourceParser

__all__ = ["EXAMPLE", "DotenvExampleParser", "parse_assignments"]

EXAMPLE = "dotenv-example"
"""`EnvUse.platform` of a name read from an example file (or a `KEY=value` block in a guide)."""

_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_NAMES = (".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "env.example")


def parse_assignments(text: str, display: str, line_offset: int, note: str) -> list[EnvUse]:
    """`KEY=value` lines as `EnvUse`s (comments and blank lines skipped)."""
    out: list[EnvUse] = []
    for n, raw in enumerate(text.splitlines(), start=1 + line_offset):
        if raw.lstrip().startswith("#"):
            continue
        m = _ASSIGN.match(raw)
        if not m:
            continue
        value = m.group(2).strip()
        scheme, host = url_parts(value.split(" #")[0])
        out.append(
            EnvUse(m.group(1), Evidence(display, n, f"{m.group(1)} {note}"), platform=EXAMPLE, host=host, scheme=scheme)
        )
    return out


class DotenvExampleParser(SourceParser):
    """Reads example env files."""

    id: ClassVar[str] = "dotenv-example"

    def matches(self, path: Path) -> bool:
        return path.name in _NAMES

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        found.envs.extend(parse_assignments(text, display, line_offset, f"in {Path(display).name}"))
        for n, raw in enumerate(text.splitlines(), start=1 + line_offset):
            m = re.match(r"^\s*[A-Z_]*(?:DATABASE|DB)_URL\s*=\s*\w+://[^@\s]*@[^/:\s]+(?::(\d+))?/(\w+)", raw)
            if m:
                ev = Evidence(display, n, "example database URL")
                if m.group(1):
                    found.facts.append(Fact("db-port", m.group(1), ev))
                found.facts.append(Fact("db-name", m.group(2), ev))
        return found
