"""DigitalOcean App Platform specs (`.do/app.yaml`, `app.yaml`): app-level and component envs.

App-level `envs` reach services; the platform does not pass app-level SECRET vars to workers
and jobs (docs/platform-apis.md, section 1), so an env var a worker or job lists is a
component-level consumer there. `type: SECRET` marks a secret; `${db.DATABASE_URL}` bindable
references are wired by the platform and not drafted.
https://docs.digitalocean.com/products/app-platform/reference/app-spec/
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from yaml.nodes import Node

from secretops.discover._common import compose_all, line_of, mapping, scalar, sequence, url_parts
from secretops.discover.interface import (
    ComponentType,
    ComponentUse,
    Discovery,
    EnvUse,
    Evidence,
    Fact,
    Level,
    SourceParser,
    TargetUse,
)

__all__ = ["DigitalOceanParser"]

_SECTIONS: dict[str, ComponentType] = {
    "services": "service",
    "workers": "worker",
    "jobs": "job",
    "static_sites": "static_site",
    "functions": "function",
}


class DigitalOceanParser(SourceParser):
    """Reads an App Platform app spec (also one pasted in a guide's code block)."""

    id: ClassVar[str] = "digitalocean"

    def matches(self, path: Path) -> bool:
        if path.name not in ("app.yaml", "app.yml"):
            return False
        return path.parent.name == ".do" or path.name == "app.yaml"

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        for doc in compose_all(text, display):
            root = mapping(doc)
            spec = mapping(root["spec"]) if "spec" in root else root
            if not any(k in spec for k in ("envs", *_SECTIONS)):
                continue
            app = scalar(spec.get("name")) or "app"
            ev = Evidence(display, line_of(doc, line_offset), f"App Platform app spec {app}")
            found.targets.append(TargetUse("digitalocean", ev, name=app))
            found.facts.append(Fact("app", app, ev))
            for env in sequence(spec.get("envs")):
                self._env(env, display, line_offset, app, None, "app", found)
            for section, kind in _SECTIONS.items():
                for comp in sequence(spec.get(section)):
                    body = mapping(comp)
                    name = scalar(body.get("name")) or kind
                    cev = Evidence(display, line_of(comp, line_offset), f"{kind} {name} in {section}")
                    found.components.append(ComponentUse(name, kind, cev, "digitalocean", app))
                    for env in sequence(body.get("envs")):
                        self._env(env, display, line_offset, app, name, "component", found)
        return found

    def _env(
        self, node: Node, display: str, offset: int, app: str, component: str | None, level: Level, found: Discovery
    ) -> None:
        env = mapping(node)
        key = scalar(env.get("key"))
        if not key:
            return
        value = scalar(env.get("value"))
        line = line_of(node, offset)
        where = f"component {component}" if component else "app level"
        if value and value.strip().startswith("${"):
            found.facts.append(
                Fact(
                    "platform-wired",
                    f"{app}:{key}",
                    Evidence(display, line, f"{key} at {where} is a bindable reference"),
                )
            )
            return
        kind = (scalar(env.get("type")) or "GENERAL").upper()
        scope = (scalar(env.get("scope")) or "RUN_AND_BUILD_TIME").upper()
        scheme, host = url_parts(value) if kind != "SECRET" or not (value or "").startswith("EV[") else (None, None)
        found.envs.append(
            EnvUse(
                key,
                Evidence(display, line, f"{key} at {where} (type {kind}, scope {scope})"),
                platform="digitalocean",
                target=app,
                component=component,
                level=level,
                secret=True if kind == "SECRET" else None,
                host=host,
                scheme=scheme,
            )
        )
