"""`docker-compose.yml` / `compose.yaml`: services, their `environment` and `env_file`.

A compose service reads its env vars from the `.env` files named by `env_file` (a `dotenv`
target each), and `${VAR}` interpolations in the file come from the project's `.env` next to
it. `environment` entries with a literal value are configuration, not consumers; `VAR: ${VAR}`
and bare `- VAR` pass a value from the host's env or `.env`.
https://docs.docker.com/compose/environment-variables/
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from yaml.nodes import Node

from secretops.discover._common import compose_all, items, line_of, mapping, scalar, sequence, url_parts
from secretops.discover.interface import (
    ComponentType,
    ComponentUse,
    Discovery,
    EnvUse,
    Evidence,
    Fact,
    SourceParser,
    TargetUse,
)

__all__ = ["LITERAL", "ComposeParser"]

LITERAL = "compose-file"
"""`EnvUse.platform` of a value written in the compose file itself: no target can rotate it."""

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?-][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
_DB_IMAGES = {
    "postgres": "postgres",
    "postgis": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "redis": "redis",
    "valkey": "redis",
}


class ComposeParser(SourceParser):
    """Reads a compose file; every `env_file` becomes a `.env` target."""

    id: ClassVar[str] = "compose"

    def matches(self, path: Path) -> bool:
        return path.name in _NAMES or (path.name.startswith("docker-compose.") and path.suffix in (".yml", ".yaml"))

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        base = str(Path(display).parent)
        for doc in compose_all(text, display):
            for name, key_node, body in items(mapping(doc).get("services")):
                svc = mapping(body)
                ev = Evidence(display, line_of(key_node, line_offset), f"compose service {name}")
                image = (scalar(svc.get("image")) or "").split(":")[0].split("/")[-1]
                if image in _DB_IMAGES:
                    found.facts.append(Fact("db-service", f"{_DB_IMAGES[image]}:{name}", ev))
                    for key, knode, value in items(svc.get("environment")):
                        if key in ("POSTGRES_DB", "MYSQL_DATABASE", "MARIADB_DATABASE") and scalar(value):
                            dev = Evidence(display, line_of(knode, line_offset), f"{name}: {key}")
                            found.facts.append(Fact("db-name", str(scalar(value)), dev))
                    continue
                kind: ComponentType = "worker" if re.search(r"worker|celery|queue|rq\b", name) else "service"
                found.components.append(ComponentUse(name, kind, ev, "dotenv", None))
                files = self._env_files(svc.get("env_file"), base)
                for path, node in files:
                    tev = Evidence(display, line_of(node, line_offset), f"{name} reads env_file {path}")
                    ids = (("path", path), ("compose_file", display), ("service", name))
                    found.targets.append(TargetUse("dotenv", tev, name=path, ids=ids))
                self._environment(svc.get("environment"), name, files, display, line_offset, found)
        return found

    def _env_files(self, node: Node | None, base: str) -> list[tuple[str, Node]]:
        entries = sequence(node) or ([node] if node is not None else [])
        out: list[tuple[str, Node]] = []
        for entry in entries:
            path = scalar(entry) or scalar(mapping(entry).get("path"))
            if path:
                out.append((str(Path(base) / path) if base not in ("", ".") else path, entry))
        return out

    def _environment(
        self,
        node: Node | None,
        service: str,
        files: list[tuple[str, Node]],
        display: str,
        offset: int,
        found: Discovery,
    ) -> None:
        pairs: list[tuple[str, str | None, Node]] = []
        for entry in sequence(node):
            text = scalar(entry) or ""
            key, _, literal = text.partition("=")
            pairs.append((key.strip(), literal if "=" in text else None, entry))
        pairs.extend((key, scalar(value), knode) for key, knode, value in items(node))
        target: str
        target = files[0][0] if files else ".env"
        for key, value, entry in pairs:
            if not key:
                continue
            refs = _INTERPOLATION.findall(value) if value else []
            line = line_of(entry, offset)
            if value is None or refs:
                name = key if value is None else (refs[0][0] or refs[0][1])
                found.envs.append(
                    EnvUse(
                        name,
                        Evidence(display, line, f"{service}: {key} from the host env / {target}"),
                        platform="dotenv",
                        target=target,
                        component=service,
                    )
                )
                continue
            scheme, host = url_parts(value)
            found.envs.append(
                EnvUse(
                    key,
                    Evidence(display, line, f"{service}: {key} set in the compose file"),
                    platform=LITERAL,
                    component=service,
                    secret=None,
                    host=host,
                    scheme=scheme,
                )
            )
