"""`vercel.json` and Vercel env references: the project's env vars, and `.vercel/project.json`.

Old `vercel.json` files hold `env`/`build.env` maps whose `@name` values refer to Vercel
secrets; a `.vercel/project.json` names the linked project. Frontend code reads build-time vars
under a public prefix (`VITE_`, `NEXT_PUBLIC_`): those end up in the bundle, so only a DSN or a
publishable key belongs there, never a server secret.
https://vercel.com/docs/projects/project-configuration
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

from secretops.discover._common import find_line
from secretops.discover.interface import Discovery, EnvUse, Evidence, SourceParser, TargetUse

__all__ = ["VercelParser"]

logger = logging.getLogger(__name__)


class VercelParser(SourceParser):
    """Reads `vercel.json` and `.vercel/project.json`."""

    id: ClassVar[str] = "vercel"

    def matches(self, path: Path) -> bool:
        return path.name == "vercel.json" or (path.name == "project.json" and path.parent.name == ".vercel")

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        try:
            data: Any = json.loads(text)
        except (ValueError, RecursionError):
            logger.debug("%s: not JSON", display)
            return found
        if not isinstance(data, dict):
            return found
        ids = tuple((k, str(data[k])) for k in ("projectId", "orgId") if isinstance(data.get(k), str))
        name = data.get("name") if isinstance(data.get("name"), str) else None
        ev = Evidence(display, 1 + line_offset, "Vercel project configuration")
        found.targets.append(TargetUse("vercel", ev, name=name, ids=ids))
        envs: dict[str, Any] = {}
        for section in (
            data.get("env"),
            (data.get("build") or {}).get("env") if isinstance(data.get("build"), dict) else None,
        ):
            if isinstance(section, dict):
                envs.update(section)
        for key, value in envs.items():
            line = find_line(text, f'"{key}"', line_offset)
            secret = True if isinstance(value, str) and value.startswith("@") else None
            note = f"{key} refers to Vercel secret {value}" if secret else f"{key} in vercel.json"
            found.envs.append(EnvUse(key, Evidence(display, line, note), platform="vercel", secret=secret))
        return found
