"""`Procfile`: the process types (web, worker, release, clock) of a Heroku-style app.

Each process type is a component. On Heroku every dyno shares the app's config vars, so a
Procfile adds no consumer of its own; it tells discover that a worker or release phase exists
(a `release:` running migrations reads the database URL).
https://devcenter.heroku.com/articles/procfile
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from secretops.discover.interface import ComponentType, ComponentUse, Discovery, Evidence, Fact, SourceParser, TargetUse

__all__ = ["ProcfileParser"]

_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


class ProcfileParser(SourceParser):
    """Reads `Procfile`."""

    id: ClassVar[str] = "procfile"

    def matches(self, path: Path) -> bool:
        return path.name == "Procfile"

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        found.targets.append(
            TargetUse("heroku", Evidence(display, 1 + line_offset, "a Procfile (Heroku-style processes)"))
        )
        for n, raw in enumerate(text.splitlines(), start=1 + line_offset):
            m = _LINE.match(raw.strip())
            if not m:
                continue
            name, command = m.group(1), m.group(2)
            kind: ComponentType = "service" if name == "web" else ("job" if name == "release" else "worker")
            ev = Evidence(display, n, f"process {name}")
            found.components.append(ComponentUse(name, kind, ev, "heroku", None))
            if re.search(r"migrat", command):
                found.facts.append(Fact("migrates", name, ev))
            if re.search(r"\bcelery\b", command):
                found.facts.append(Fact("framework", "celery", ev))
        return found
