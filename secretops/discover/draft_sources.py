"""What a `Discovery` says, indexed for `build_draft`: its targets, components, hosts and facts.

`DraftBuilder` collects the targets (one per platform app, service or file) and the components
that read env vars, picks the server and frontend targets a variable goes to when a guide does
not say where (`secretops.discover.draft`, module docstring), and keeps what the draft leaves
out (`not_drafted`) and the evidence of every decision.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from secretops.discover.classify import provider_of, strip_frontend
from secretops.discover.compose import LITERAL
from secretops.discover.dotenv_example import EXAMPLE
from secretops.discover.interface import ComponentUse, Discovery, EnvUse, Evidence, Fact, TargetUse
from secretops.scan.models import Finding

if TYPE_CHECKING:
    from secretops.discover.draft import NotDrafted

__all__ = ["DraftBuilder", "DraftTarget", "clean_host", "slug"]

_SERVER_ORDER = ("digitalocean", "render", "heroku", "kubernetes", "dotenv")
_FAKE_HOSTS = re.compile(
    r"^(host|hostname|localhost|127\.0\.0\.1|db\.example\.com|example\.com|your[-\w]*)$|[\[\]<>{}]"
)


@dataclass(slots=True)
class DraftTarget:
    key: str
    platform: str
    name: str
    evidence: list[Evidence] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)  # name -> type
    component_evidence: dict[str, Evidence] = field(default_factory=dict)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "app"


def clean_host(host: str | None, services: Iterable[str] = ()) -> str | None:
    if not host or _FAKE_HOSTS.search(host):
        return None
    return host if "." in host or host in services else None


class DraftBuilder:
    def __init__(self, discovery: Discovery, findings: Sequence[Finding], app: str | None) -> None:
        self.d = discovery
        self.findings = findings
        self.app = slug(app or self.fact("app") or "app")
        frameworks = Counter(f.value for f in discovery.facts_of("framework") if f.value != "celery")
        self.framework = frameworks.most_common(1)[0][0] if frameworks else None
        self.celery = any(f.value == "celery" for f in discovery.facts_of("framework"))
        self.targets: dict[str, DraftTarget] = {}
        self.not_drafted: list[NotDrafted] = []
        self.evidence: list[tuple[str, list[Evidence]]] = []

    def fact(self, key: str) -> str | None:
        facts = self.d.facts_of(key)
        return facts[0].value if facts else None

    def _facts(self, key: str) -> list[Fact]:
        return self.d.facts_of(key)

    # ------------------------------------------------------------ targets

    def _target(self, platform: str, name: str, ev: Evidence | None = None) -> DraftTarget:
        key = f"{platform}:{name}"
        found = self.targets.get(key)
        if found is None:
            found = self.targets[key] = DraftTarget(key, platform, name)
        if ev is not None and ev not in found.evidence:
            found.evidence.append(ev)
        return found

    def collect_targets(self) -> None:
        mentions = Counter(f.value for f in self._facts("platform-mention"))
        structured = [t for t in self.d.targets if t.platform != "digitalocean" or t.name]
        for use in self.d.targets:
            self._add_target(use)
        self.mentions = mentions
        self.server = self._server_platform(mentions, structured)
        self.frontend = (
            "vercel" if mentions.get("vercel") or any(t.platform == "vercel" for t in self.targets.values()) else None
        )

    def _add_target(self, use: TargetUse) -> None:
        ids = dict(use.ids)
        if use.platform == "digitalocean":
            existing = [t for t in self.targets.values() if t.platform == "digitalocean"]
            same = next((t for t in existing if ids.get("app_id") and t.ids.get("app_id") == ids.get("app_id")), None)
            target = same or (
                existing[0] if existing else self._target("digitalocean", use.name or "app", use.evidence)
            )
            if use.evidence not in target.evidence:
                target.evidence.append(use.evidence)
            target.ids.update(ids)
            return
        if use.platform == "render":
            if "service_id" in ids and not use.name:
                unnamed = [t for t in self.targets.values() if t.platform == "render" and "service_id" not in t.ids]
                target = unnamed[0] if unnamed else self._target("render", "web", use.evidence)
            else:
                target = self._target("render", use.name or "web", use.evidence)
            target.ids.update(ids)
            return
        if use.platform == "vercel":
            target = self._target("vercel", "frontend", use.evidence)
            target.ids.update(ids)
            if use.name:
                target.ids.setdefault("project", use.name)
            return
        target = self._target(use.platform, use.name or use.platform, use.evidence)
        if "service" in ids and "service" in target.ids and ids["service"] not in target.ids["service"].split(","):
            ids["service"] = target.ids["service"] + "," + ids["service"]
        target.ids.update(ids)

    def _server_platform(self, mentions: Counter[str], structured: list[TargetUse]) -> str:
        have = {t.platform for t in self.targets.values()}
        for platform in _SERVER_ORDER:
            if platform in have and platform != "dotenv":
                return platform
        if mentions.get("render", 0) >= 2:
            return "render"
        if mentions.get("heroku", 0) >= 2:
            return "heroku"
        return "dotenv"

    def _server_target(self) -> DraftTarget:
        candidates = [t for t in self.targets.values() if t.platform == self.server]
        if self.server == "render":
            web = [
                t
                for t in candidates
                if not t.name.startswith("group:") and t.components.get(t.name, "service") == "service"
            ]
            if web or candidates:
                return (web or candidates)[0]
            return self._target("render", "web")
        if candidates:
            return candidates[0]
        if self.server == "dotenv":
            return self._target("dotenv", ".env")
        return self._target(self.server, self.server)

    def _frontend_target(self) -> DraftTarget:
        if self.frontend:
            return self._target("vercel", "frontend")
        return self._server_target()

    # ------------------------------------------------------------ components

    def collect_components(self) -> None:
        for comp in self.d.components:
            target = self._component_target(comp)
            if target is None:
                continue
            old = target.components.get(comp.name)
            if old is None or (old == "service" and comp.type != "service"):
                target.components[comp.name] = comp.type
                target.component_evidence[comp.name] = comp.evidence

    def _component_target(self, comp: ComponentUse) -> DraftTarget | None:
        if comp.platform == "digitalocean":
            dos = [t for t in self.targets.values() if t.platform == "digitalocean"]
            return dos[0] if dos else None
        if comp.platform == "render" and comp.target:
            return self._target("render", comp.target)
        return None

    # ------------------------------------------------------------ env vars

    def env_target(self, use: EnvUse) -> DraftTarget | None:
        platform = use.platform
        if platform in (LITERAL, "fly"):
            return None
        if platform == "render":
            return self._target("render", use.target or "web")
        if platform == "digitalocean":
            dos = [t for t in self.targets.values() if t.platform == "digitalocean"]
            return dos[0] if dos else self._target("digitalocean", use.target or "app")
        if platform == "github":
            return self._target("github", use.target or "actions")
        if platform == "kubernetes":
            return self._target("kubernetes", use.target or "app")
        if platform == "vercel":
            return self._target("vercel", "frontend")
        if platform == "dotenv":
            return self._target("dotenv", use.target or ".env")
        if platform == "frontend":
            return self._frontend_target()
        if platform == EXAMPLE:
            envs = [t for t in self.targets.values() if t.platform == "dotenv"]
            sibling = re.sub(r"\.(example|sample|template|dist)$", "", use.evidence.path)
            match = next((t for t in envs if t.ids.get("path") == sibling), envs[0] if envs else None)
            return match or self._server_target()
        if platform == "github-mention":
            seen = any(u.name == use.name and u.platform == "github" for u in self.d.envs)
            return self._target("github", "actions") if seen else self._server_target()
        return self._server_target()

    def host_for(self, name: str, uses: list[EnvUse]) -> tuple[str | None, str | None, str | None]:
        """(clean host, any host for the provider, scheme) of `name`."""
        hosts = [u.host for u in uses if u.host]
        scheme = next((u.scheme for u in uses if u.scheme), None)
        stem = strip_frontend(name)
        redis_like = re.search(r"REDIS|VALKEY|BROKER|CACHE", stem) or (scheme or "").startswith("redis")
        db_like = not redis_like and re.search(r"DATABASE|_DB_|^DB_|POSTGRES|PG_|MYSQL", stem)
        if redis_like or db_like:
            hosts += [f.value for f in self._facts("redis-host" if redis_like else "db-host")]
        services = [f.value.split(":", 1)[1] for f in self._facts("db-service")]
        clean = next((h for h in hosts if clean_host(h, services)), None)
        managed = next((h for h in hosts if provider_of(h)), None)
        return clean, (clean or managed or (hosts[0] if hosts else None)), scheme
