"""Render blueprints (`render.yaml`): services, workers, cron jobs, env vars and env groups.

Each Render service is its own target (web and worker do not share env vars): an env var under
a service is a consumer on that service. `sync: false` marks a value set in the dashboard (a
secret), `generateValue: true` one Render generates (an app-held key), `fromDatabase` and
`fromService` values Render wires itself (not a secretops consumer: reported, not drafted),
`fromGroup`/`envVarGroups` an env group (its own target).
https://render.com/docs/blueprint-spec
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from secretops.discover._common import compose_all, line_of, mapping, scalar, sequence
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

__all__ = ["RenderParser", "looks_like_blueprint"]

_TYPES: dict[str, ComponentType] = {"web": "service", "pserv": "service", "worker": "worker", "cron": "cron"}


def looks_like_blueprint(data: dict[str, object]) -> bool:
    """A YAML mapping shaped like a blueprint: `services` items with `envVars` or a Render `type`."""
    return "services" in data or "envVarGroups" in data


class RenderParser(SourceParser):
    """Reads `render.yaml` (also a blueprint pasted in a guide's code block)."""

    id: ClassVar[str] = "render"

    def matches(self, path: Path) -> bool:
        return path.name in ("render.yaml", "render.yml")

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        for doc in compose_all(text, display):
            root = mapping(doc)
            for node in sequence(root.get("services")):
                self._service(node, display, line_offset, found)
            for node in sequence(root.get("envVarGroups")):
                group = mapping(node)
                name = scalar(group.get("name")) or "env-group"
                ev = Evidence(display, line_of(node, line_offset), f"Render env group {name}")
                found.targets.append(TargetUse("render", ev, name=f"group:{name}"))
                for env in sequence(group.get("envVars")):
                    self._env(env, display, line_offset, f"group:{name}", None, found)
        return found

    def _service(self, node: object, display: str, offset: int, found: Discovery) -> None:
        svc = mapping(node)  # type: ignore[arg-type]
        name = scalar(svc.get("name")) or "service"
        kind = scalar(svc.get("type")) or "web"
        line = line_of(node, offset)  # type: ignore[arg-type]
        ev = Evidence(display, line, f"Render {kind} service {name}")
        found.targets.append(TargetUse("render", ev, name=name))
        found.components.append(ComponentUse(name, _TYPES.get(kind, "service"), ev, "render", name))
        for env in sequence(svc.get("envVars")):
            self._env(env, display, offset, name, name, found)

    def _env(
        self, node: object, display: str, offset: int, target: str, component: str | None, found: Discovery
    ) -> None:
        env = mapping(node)  # type: ignore[arg-type]
        line = line_of(node, offset)  # type: ignore[arg-type]
        group = scalar(env.get("fromGroup"))
        if group:
            found.targets.append(
                TargetUse("render", Evidence(display, line, f"{target} links env group {group}"), name=f"group:{group}")
            )
            return
        key = scalar(env.get("key"))
        if not key:
            return
        if "fromDatabase" in env or "fromService" in env:
            wired = "fromDatabase" if "fromDatabase" in env else "fromService"
            note = f"{target}: {key} ({wired}: Render sets it)"
            found.facts.append(Fact("platform-wired", f"{target}:{key}", Evidence(display, line, note)))
            return
        sync = scalar(env.get("sync"))
        generated = scalar(env.get("generateValue")) == "true"
        secret: bool | None = True if sync == "false" or generated else None
        note = (
            "sync: false (set in the dashboard)"
            if sync == "false"
            else ("generateValue: true" if generated else "value in the blueprint")
        )
        if "value" in env and not generated and sync != "false":
            secret = None
        found.envs.append(
            EnvUse(
                key,
                Evidence(display, line, f"{target}: {key} ({note})"),
                platform="render",
                target=target,
                component=component,
                level="component",
                secret=secret,
                generated=generated,
            )
        )
