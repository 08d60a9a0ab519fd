"""`fly.toml`: the Fly.io app, its processes and its plain `[env]` vars.

Secrets on Fly are set with `fly secrets set` and never appear in `fly.toml`; what the file
tells discover is the app name, the process groups (components) and which vars are plain
configuration (`[env]`), so they are not drafted as secrets. secretops has no Fly target kind
yet: the report says so rather than drafting one.
https://fly.io/docs/reference/configuration/
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any, ClassVar

from secretops.discover._common import find_line
from secretops.discover.interface import ComponentType, ComponentUse, Discovery, EnvUse, Evidence, Fact, SourceParser

__all__ = ["FlyParser"]

logger = logging.getLogger(__name__)


class FlyParser(SourceParser):
    """Reads `fly.toml`."""

    id: ClassVar[str] = "fly"

    def matches(self, path: Path) -> bool:
        return path.name == "fly.toml"

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError):
            logger.debug("%s: not TOML", display)
            return found
        app = data.get("app")
        if isinstance(app, str):
            found.facts.append(
                Fact("fly-app", app, Evidence(display, find_line(text, "app", line_offset), f"Fly app {app}"))
            )
        processes = data.get("processes")
        if isinstance(processes, dict):
            for name in processes:
                kind: ComponentType = "worker" if "worker" in name else "service"
                ev = Evidence(display, find_line(text, name, line_offset), f"Fly process {name}")
                found.components.append(ComponentUse(str(name), kind, ev, "fly", None))
        env = data.get("env")
        if isinstance(env, dict):
            for key in env:
                ev = Evidence(display, find_line(text, str(key), line_offset), f"{key} is plain [env] configuration")
                found.envs.append(EnvUse(str(key), ev, platform="fly", secret=False))
        return found
