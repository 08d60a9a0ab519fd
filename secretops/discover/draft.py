"""Builds the draft inventory from a `Discovery`: secrets, issuers, targets, consumers, components.

`build_draft(discovery, findings, app=...)` decides, for every env var the sources named,
whether it holds a secret (`secretops.discover.classify`), which target it sits on, which
components read it, and groups the env vars that hold one credential into one secret. What it
cannot know becomes a `<FILL-IN: ...>` placeholder; every decision keeps its `Evidence`.

Rules that are not in the sources, written down here and in docs/discover.md:

- a variable a guide names without saying where goes to the app's server target (the
  DigitalOcean app, else the Render service, else Heroku, else the compose host's `.env`); a
  frontend build variable (`VITE_...`) to the frontend target (Vercel);
- a DigitalOcean worker or job that reads a secret gets it at component level, also when the
  secret is app-level: the platform does not pass app-level SECRET vars to them;
- a worker runs the app's code, so it reads the app's database; a job that runs migrations
  reads it too (delete the component from the consumer if yours does not);
- a vendor whose keys a guide rotates but whose variable it does not name gets the vendor's
  conventional variable (`OPENAI_API_KEY`), and a Django or Flask app its `SECRET_KEY`,
  marked "name assumed" in the draft.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from secretops.discover.classify import (
    VENDORS,
    Classification,
    classify_env,
    is_identifier,
    provider_of,
    strip_frontend,
)
from secretops.discover.compose import LITERAL
from secretops.discover.dotenv_example import EXAMPLE
from secretops.discover.interface import ComponentUse, Discovery, EnvUse, Evidence, Fact, TargetUse
from secretops.discover.markdown import GUIDE
from secretops.discover.writer import Note, placeholder
from secretops.inventory.models import Strategy
from secretops.scan.models import Finding

__all__ = ["PLACEHOLDER_FIELDS", "Draft", "DraftSecret", "LeakNote", "NotDrafted", "build_draft"]

PLACEHOLDER_FIELDS: dict[str, str] = {
    "admin_dsn_env": "the env var holding an admin connection string for the database (never the app's own)",
    "admin_url_env": "the env var holding an admin redis:// URL (an ACL user allowed ACL SETUSER)",
    "accounts": "the login roles (alternate: two that take turns) or the ACL/IAM user the app uses",
    "template": "the database or Redis host and database name the app connects to",
    "app_id": "the DigitalOcean App Platform app id (`doctl apps list`)",
    "service_id": "the Render service id (`srv-...`, in the dashboard URL)",
    "env_group_id": "the Render env group id (`evg-...`)",
    "project": "the Vercel project name or id",
    "repo": "the GitHub `owner/repository` whose Actions secrets hold the value",
    "app": "the Heroku app name",
    "path": "the absolute path of the `.env` file docker-compose reads on the host",
    "instructions": "how a person mints a new value of a vendor discover does not know",
    "url": "the app's host in a health check URL (write-only targets: DigitalOcean, Vercel)",
}
"""Every field where a draft may hold a `<FILL-IN: ...>` placeholder, and what goes there (docs/discover.md)."""

_WIRED = "the platform wires it (fromDatabase / bindable reference)"
_SERVER_ORDER = ("digitalocean", "render", "heroku", "kubernetes", "dotenv")
_FAKE_HOSTS = re.compile(
    r"^(host|hostname|localhost|127\.0\.0\.1|db\.example\.com|example\.com|your[-\w]*)$|[\[\]<>{}]"
)


@dataclass(frozen=True, slots=True)
class NotDrafted:
    """A variable the sources name that the draft leaves out, and why."""

    name: str
    reason: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class LeakNote:
    """A credential the scanner found while discovering, and the draft secret it belongs to."""

    rule_id: str
    location: str
    fingerprint: str
    preview: str
    secret: str | None


@dataclass(slots=True)
class DraftConsumer:
    """One consumer of a draft secret."""

    target: str
    env: str
    evidence: list[Evidence] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    app_level: bool = False
    template: str | None = None
    new: bool = False
    assumed: bool = False
    note: str | None = None


@dataclass(slots=True)
class DraftSecret:
    """One secret of the draft, with the classification it came from."""

    name: str
    cls: Classification
    issuer: str
    consumers: list[DraftConsumer] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    leaks: list[LeakNote] = field(default_factory=list)
    host: str | None = None


@dataclass(slots=True)
class Draft:
    """The whole draft: the policy data to write, and the report of how it was decided."""

    app: str
    data: dict[str, Any]
    secrets: list[DraftSecret]
    evidence: list[tuple[str, list[Evidence]]]
    not_drafted: list[NotDrafted]
    leaks: list[LeakNote]
    targets: dict[str, dict[str, Any]]
    components: dict[str, list[tuple[str, str]]]


@dataclass(slots=True)
class _Target:
    key: str
    platform: str
    name: str
    evidence: list[Evidence] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)  # name -> type
    component_evidence: dict[str, Evidence] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "app"


def _clean_host(host: str | None, services: Iterable[str] = ()) -> str | None:
    if not host or _FAKE_HOSTS.search(host):
        return None
    return host if "." in host or host in services else None


class _Builder:
    def __init__(self, discovery: Discovery, findings: Sequence[Finding], app: str | None) -> None:
        self.d = discovery
        self.findings = findings
        self.app = _slug(app or self._fact("app") or "app")
        frameworks = Counter(f.value for f in discovery.facts_of("framework") if f.value != "celery")
        self.framework = frameworks.most_common(1)[0][0] if frameworks else None
        self.celery = any(f.value == "celery" for f in discovery.facts_of("framework"))
        self.targets: dict[str, _Target] = {}
        self.not_drafted: list[NotDrafted] = []
        self.evidence: list[tuple[str, list[Evidence]]] = []

    def _fact(self, key: str) -> str | None:
        facts = self.d.facts_of(key)
        return facts[0].value if facts else None

    def _facts(self, key: str) -> list[Fact]:
        return self.d.facts_of(key)

    # ------------------------------------------------------------ targets

    def _target(self, platform: str, name: str, ev: Evidence | None = None) -> _Target:
        key = f"{platform}:{name}"
        found = self.targets.get(key)
        if found is None:
            found = self.targets[key] = _Target(key, platform, name)
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

    def _server_target(self) -> _Target:
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

    def _frontend_target(self) -> _Target:
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

    def _component_target(self, comp: ComponentUse) -> _Target | None:
        if comp.platform == "digitalocean":
            dos = [t for t in self.targets.values() if t.platform == "digitalocean"]
            return dos[0] if dos else None
        if comp.platform == "render" and comp.target:
            return self._target("render", comp.target)
        return None

    # ------------------------------------------------------------ env vars

    def env_target(self, use: EnvUse) -> _Target | None:
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
        clean = next((h for h in hosts if _clean_host(h, services)), None)
        managed = next((h for h in hosts if provider_of(h)), None)
        return clean, (clean or managed or (hosts[0] if hosts else None)), scheme


def build_draft(discovery: Discovery, findings: Sequence[Finding] = (), *, app: str | None = None) -> Draft:
    """The draft inventory for everything `discovery` holds (see the module docstring)."""
    b = _Builder(discovery, findings, app)
    b.collect_targets()
    b.collect_components()
    by_name: dict[str, list[EnvUse]] = {}
    for use in discovery.envs:
        by_name.setdefault(use.name, []).append(use)
    _add_assumed(b, by_name)
    plain_declared = {u.name for u in discovery.envs if u.secret is False}
    wired = {f.value.split(":", 1)[1] for f in discovery.facts_of("platform-wired")}
    secrets: dict[str, DraftSecret] = {}
    for name, uses in by_name.items():
        declared: bool | None = True if any(u.secret for u in uses) else (False if name in plain_declared else None)
        host, any_host, scheme = b.host_for(name, uses)
        database = "mysql" if any(f.value == "mysql" for f in discovery.facts_of("database")) else None
        cls = classify_env(
            name, declared=declared, scheme=scheme, host=any_host, framework=b.framework, database=database
        )
        if cls is None:
            if declared and is_identifier(strip_frontend(name)):
                b.not_drafted.append(
                    NotDrafted(
                        name, "an identifier, not a credential (kept as a secret by its platform)", uses[0].evidence
                    )
                )
            continue
        placed = [(u, t) for u in uses if (t := b.env_target(u)) is not None]
        if not placed:
            why = (
                "only set in the compose file itself (no target holds it)"
                if any(u.platform == LITERAL for u in uses)
                else "no target holds it"
            )
            if any(u.platform == "fly" for u in uses):
                why = "a Fly.io secret: secretops has no Fly target yet (rotate it with `fly secrets set`)"
            if name in wired:
                why = _WIRED
            b.not_drafted.append(NotDrafted(name, why, uses[0].evidence))
            continue
        if name in wired and all(u.platform in ("render", "digitalocean") for u, _ in placed):
            b.not_drafted.append(NotDrafted(name, _WIRED, uses[0].evidence))
            continue
        group = cls.group
        secret = secrets.get(group)
        if secret is None:
            secret = secrets[group] = DraftSecret(_secret_name(b.app, name, cls), cls, "", host=host)
        secret.host = secret.host or host
        for use, target in placed:
            _consume(secret, target.key, use)
    drafted = {c.env for s in secrets.values() for c in s.consumers}
    for fact in discovery.facts_of("platform-wired"):
        key = fact.value.split(":", 1)[1]
        if key not in drafted and classify_env(key) is not None:
            b.not_drafted.append(NotDrafted(key, _WIRED, fact.evidence))
    for fact in discovery.facts_of("not-deployed"):
        if fact.value not in {c.env for s in secrets.values() for c in s.consumers}:
            cls = classify_env(fact.value)
            if cls is not None:
                b.not_drafted.append(NotDrafted(fact.value, fact.evidence.note, fact.evidence))
    _components(b, list(secrets.values()))
    leaks = _leaks(b, list(secrets.values()))
    data = _render(b, list(secrets.values()))
    return Draft(
        b.app,
        data,
        list(secrets.values()),
        b.evidence,
        _dedupe(b.not_drafted),
        leaks,
        {k: {"platform": t.platform, "name": t.name} for k, t in b.targets.items()},
        {k: list(t.components.items()) for k, t in b.targets.items()},
    )


def _dedupe(items: Iterable[NotDrafted]) -> list[NotDrafted]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.name not in seen:
            seen.add(item.name)
            out.append(item)
    return out


def _secret_name(app: str, env: str, cls: Classification) -> str:
    stem = strip_frontend(env)
    if cls.kind in ("postgres-password", "mysql-password"):
        leaf = "database"
    elif cls.kind == "redis-password":
        leaf = "redis"
    elif cls.kind == "django-secret-key":
        leaf = "django-secret-key"
    elif cls.kind == "sentry-dsn":
        leaf = "sentry-dsn"
    elif cls.kind == "aws-iam-key":
        leaf = "aws-access-key"
    else:
        leaf = _slug(stem)
    return f"{app}/{leaf}"


def _consume(secret: DraftSecret, target: str, use: EnvUse, *, assumed: bool = False) -> None:
    consumer = next((c for c in secret.consumers if c.target == target and c.env == use.name), None)
    if consumer is None:
        consumer = DraftConsumer(target, use.name, assumed=assumed)
        secret.consumers.append(consumer)
    consumer.evidence.append(use.evidence)
    if use.evidence not in secret.evidence:
        secret.evidence.append(use.evidence)
    if use.level == "app" or (use.level is None and use.component is None):
        consumer.app_level = True
    if use.component and use.component not in consumer.components:
        consumer.components.append(use.component)


def _add_assumed(b: _Builder, by_name: dict[str, list[EnvUse]]) -> None:
    """Variables the sources imply but do not name: a vendor's key, a framework's key, the database."""
    names = set(by_name)

    def add(name: str, ev: Evidence, note: str) -> None:
        use = EnvUse(name, Evidence(ev.path, ev.line, f"{note} (name assumed)"), platform=GUIDE, secret=True)
        by_name.setdefault(name, []).append(use)
        names.add(name)

    for fact in b.d.facts_of("vendor"):
        vid, _, webhook = fact.value.partition("-")
        vendor = VENDORS[vid]
        if webhook:
            if vendor.webhook_env and vendor.webhook_env not in names:
                add(vendor.webhook_env, fact.evidence, f"{vendor.word} webhooks are configured: their signing secret")
            continue
        if vid in ("render", "vercel", "digitalocean"):
            continue  # a hosting platform, not a key the app holds
        if any(n.startswith(vendor.prefixes or (vendor.env,)) or n == vendor.env for n in names):
            continue
        add(vendor.env, fact.evidence, f"{vendor.word} key mentioned")
    for fact in b.d.facts_of("api-password"):
        word, _, _rest = fact.value.partition("|")
        name = f"{word}_API_PASSWORD"
        if name not in names:
            add(name, fact.evidence, "partner API password")
    if (
        b.framework in ("django", "flask", "fastapi", "rails")
        and not any(re.fullmatch(r"(DJANGO_|FLASK_|APP_)?SECRET_KEY(_BASE)?", n) for n in names)
        and b.framework in ("django", "flask")
    ):
        fw = next(f for f in b.d.facts_of("framework") if f.value == b.framework)
        add("SECRET_KEY", fw.evidence, f"a {b.framework.title()} app signs sessions with SECRET_KEY")
    db_facts = [f for f in b.d.facts_of("database")] + [f for f in b.d.facts_of("db-service")]
    has_db = any(re.search(r"DATABASE|POSTGRES|_DB_URL|MYSQL", n) for n in names if classify_env(n) is not None)
    if db_facts and not has_db and (b.d.facts_of("db-name") or b.d.facts_of("db-service")):
        add("DATABASE_URL", db_facts[0].evidence, "the app's database")


def _components(b: _Builder, secrets: list[DraftSecret]) -> None:
    """Component-level reads: scoped sections, mentions, and the worker/migration rules."""
    reads = [(f.value.split(":", 1)[0], f.value.split(":", 1)[1], f.evidence) for f in b.d.facts_of("component-reads")]
    for secret in secrets:
        for consumer in secret.consumers:
            target = b.targets[consumer.target]
            if target.platform != "digitalocean":
                consumer.components = (
                    [c for c in consumer.components if c in target.components] if target.platform == "render" else []
                )
                continue
            resolved: list[str] = []
            for word in consumer.components:
                resolved.extend(_resolve(word, target))
            for word, env, ev in reads:
                if env == consumer.env:
                    for comp in _resolve(word, target):
                        if comp not in resolved:
                            resolved.append(comp)
                            consumer.evidence.append(ev)
            if secret.cls.kind in ("postgres-password", "mysql-password"):
                for comp, kind in target.components.items():
                    if (kind == "worker" or (kind == "job" and "migrat" in comp)) and comp not in resolved:
                        resolved.append(comp)
                        why = "runs the app's code and its ORM" if kind == "worker" else "runs the migrations"
                        consumer.evidence.append(
                            Evidence(
                                target.component_evidence[comp].path,
                                target.component_evidence[comp].line,
                                f"{kind} {comp} {why}",
                            )
                        )
            consumer.components = [c for c in dict.fromkeys(resolved) if target.components.get(c) in ("worker", "job")]
            services = [c for c in dict.fromkeys(resolved) if target.components.get(c) not in ("worker", "job")]
            if services and not consumer.app_level:
                consumer.components = [*services, *consumer.components]


def _resolve(word: str, target: _Target) -> list[str]:
    word = word.lower()
    if word in target.components:
        return [word]
    if word in ("worker", "workers", "celery"):
        return [c for c, k in target.components.items() if k == "worker"]
    if word in ("migrate", "migrations"):
        return [c for c in target.components if "migrat" in c]
    if word == "job":
        return [c for c, k in target.components.items() if k == "job"]
    return []


def _leaks(b: _Builder, secrets: list[DraftSecret]) -> list[LeakNote]:
    out: list[LeakNote] = []
    for f in b.findings:
        if f.classification != "leak":
            continue
        loc = f"{f.location.path}:{f.location.line}"
        owner = None
        host = f.context.get("host")
        for secret in secrets:
            near = any(e.path == f.location.path and abs(e.line - f.location.line) <= 1 for e in secret.evidence)
            same_host = host is not None and host == secret.host
            kind = f.kind == secret.cls.kind or (f.provider and f.provider == secret.cls.vendor)
            if near or same_host or (kind and secret.cls.kind.startswith("api-key")):
                owner = secret
                break
        note = LeakNote(f.rule_id, loc, f.fingerprint, f.preview, owner.name if owner else None)
        if owner is not None:
            owner.leaks.append(note)
        out.append(note)
    return out


# ---------------------------------------------------------------- the policy data


def _render(b: _Builder, secrets: list[DraftSecret]) -> dict[str, Any]:
    names = _target_names(b)
    issuers: dict[str, Any] = {}
    rendered: list[Any] = []
    used_targets: set[str] = set()
    for secret in secrets:
        issuer_name, issuer = _issuer(b, secret, issuers)
        secret.issuer = issuer_name
        if issuer_name not in issuers:
            issuers[issuer_name] = issuer
            b.evidence.append((f"issuer {issuer_name}", _issuer_evidence(b, secret)))
        rendered.append(_secret(b, secret, names))
        used_targets.update(c.target for c in secret.consumers)
        b.evidence.append((f"secret {secret.name}: {secret.cls.reason}", secret.evidence))
        for c in secret.consumers:
            where = f" components {c.components}" if c.components else ""
            b.evidence.append((f"consumer {c.env} on {names[c.target]}{where}", c.evidence))
    targets = {names[k]: _target_data(b, b.targets[k], secrets, names) for k in b.targets if k in used_targets}
    for key in used_targets:
        t = b.targets[key]
        seen = t.evidence or [f.evidence for f in b.d.facts_of("platform-mention") if f.value == t.platform][:3]
        b.evidence.append((f"target {names[key]} ({t.platform})", seen))
        for comp, ev in t.component_evidence.items():
            b.evidence.append((f"component {comp} ({t.components[comp]}) of {names[key]}", [ev]))
    return {
        "version": 1,
        "app": b.app,
        "description": Note(f"Draft inventory of {b.app}, proposed by secretops discover.", above=()),
        "issuers": issuers,
        "targets": targets,
        "secrets": rendered,
    }


def _issuer_evidence(b: _Builder, secret: DraftSecret) -> list[Evidence]:
    """Where the issuer's host, user and database (or the vendor's mention) came from."""
    kind = secret.cls.kind
    keys = {
        "postgres-password": ("db-host", "db-port", "db-name", "db-database", "db-user", "db-service"),
        "mysql-password": ("db-host", "db-port", "db-name", "db-user", "db-service"),
        "redis-password": ("redis-host", "redis-port", "do-redis"),
    }.get(kind, ("vendor", "api-password", "smtp-host"))
    out = [
        f.evidence
        for f in b.d.facts
        if f.key in keys and (f.key != "vendor" or f.value.split("-")[0] == secret.cls.vendor)
    ]
    return out or secret.evidence[:1]


def _target_names(b: _Builder) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, t in b.targets.items():
        suffix = {
            "digitalocean": "app",
            "vercel": "frontend",
            "github": "ci" if t.name == "actions" else f"ci-{_slug(t.name.split(':', 1)[-1])}",
            "heroku": "heroku",
        }.get(t.platform)
        if suffix is None and t.platform == "dotenv":
            leaf = t.name.replace("\\", "/").rsplit("/", 1)[-1]
            suffix = "env" if leaf == ".env" else _slug(leaf)
        if suffix is None:
            suffix = _slug(t.name)
        name = suffix if suffix.startswith(b.app.split("-")[0] + "-") else f"{b.app}-{suffix}"
        while name in out.values():
            name += "-2"
        out[key] = name
    return out


def _target_data(b: _Builder, t: _Target, secrets: list[DraftSecret], names: dict[str, str]) -> Any:
    if t.platform == "digitalocean":
        app_id = t.ids.get("app_id")
        comps = []
        for comp, kind in t.components.items():
            if kind not in ("service", "worker", "job", "static_site", "function"):
                continue
            env = sorted(
                {
                    c.env
                    for s in secrets
                    for c in s.consumers
                    if c.target == t.key and (comp in c.components or (kind == "service" and c.app_level))
                }
            )
            comps.append({"name": comp, "type": kind, "env": env})
        return {
            "kind": "digitalocean",
            "app_id": app_id
            or Note(
                placeholder("App Platform app id (doctl apps list)"),
                above=("the app's id: `doctl apps list` prints it",),
            ),
            "token_env": "DIGITALOCEAN_TOKEN",
            "components": comps,
        }
    if t.platform == "render":
        if t.name.startswith("group:"):
            return {
                "kind": "render",
                "env_group_id": t.ids.get("env_group_id")
                or placeholder(f"id of Render env group {t.name[6:]} (evg-...)"),
            }
        sid = t.ids.get("service_id")
        return {
            "kind": "render",
            "service_id": sid
            or Note(
                placeholder(f"Render service id of {t.name} (srv-..., in the dashboard URL)"),
                above=(f"Render service {t.name}: its id is in the dashboard URL (dashboard.render.com/web/srv-...)",),
            ),
            "token_env": "RENDER_API_KEY",
        }
    if t.platform == "vercel":
        project = t.ids.get("projectId") or t.ids.get("project")
        return {
            "kind": "vercel",
            "project": project or placeholder("Vercel project name or id (vercel project ls)"),
            "environments": ["production"],
            "token_env": "VERCEL_TOKEN",
        }
    if t.platform == "github":
        repo = t.ids.get("repo")
        out: dict[str, Any] = {
            "kind": "github",
            "repo": repo
            or Note(
                placeholder("GitHub owner") + "/" + placeholder("repository"),
                above=("the GitHub repository that runs these workflows",),
            ),
        }
        if "environment" in t.ids:
            out["environment"] = t.ids["environment"]
        return out
    if t.platform == "heroku":
        return {"kind": "heroku", "app": t.ids.get("app") or placeholder("Heroku app name (heroku apps)")}
    if t.platform == "kubernetes":
        rollout = sorted({c for s in secrets for c0 in s.consumers if c0.target == t.key for c in _k8s_readers(b, t)})
        return {
            "kind": "kubernetes",
            "namespace": t.ids.get("namespace", "default"),
            "secret": t.ids.get("secret", t.name),
            "rollout": rollout,
        }
    path = t.ids.get("path")
    binary = (b._fact("compose-command") or "docker compose").split()
    service = next(
        (f.value for f in b.d.facts_of("compose-service") if f.value in ("web", "app", "api", "backend")), None
    )
    out = {
        "kind": "dotenv",
        "path": path
        or Note(
            placeholder("absolute path of the .env file docker-compose reads on the host"),
            above=("the .env next to docker-compose.yml on the host (compose reads it at `up`)",),
        ),
    }
    if "compose_file" in t.ids:
        services = t.ids.get("service", "web").split(",")
        out["restart"] = Note(
            ["docker", "compose", "-f", t.ids["compose_file"], "up", "-d", "--no-deps", *services],
            after="`up -d` recreates the containers so they read the new values (`restart` does not)",
        )
    elif service or b.d.facts_of("compose-command"):
        out["restart"] = Note(
            [*binary, "up", "-d", "--no-deps", service or "web"],
            after="`up -d` recreates the container so it reads the new values (`restart` does not)",
        )
    return out


def _k8s_readers(b: _Builder, t: _Target) -> list[str]:
    return sorted({u.component for u in b.d.envs if u.platform == "kubernetes" and u.target == t.name and u.component})


def _issuer(b: _Builder, secret: DraftSecret, existing: dict[str, Any]) -> tuple[str, Any]:
    cls = secret.cls
    app = b.app
    if cls.issuer_kind == "app":
        return f"{app}-app", {"kind": "app"}
    if cls.issuer_kind in ("postgres", "mysql"):
        host = secret.host or _clean_host(b._fact("db-host")) or _compose_db(b)
        user = b._fact("db-user")
        prov = provider_of(
            secret.host or next((f.value for f in b.d.facts_of("db-host") if provider_of(f.value)), None)
        )
        data: dict[str, Any] = {
            "kind": cls.issuer_kind,
            "admin_dsn_env": Note(
                placeholder(
                    "name of the env var holding an admin DSN for this database"
                    + (f" (the guide logs in as {user})" if user else "")
                ),
                above=("secretops reads the admin connection string from this env var; keep it out of the app",),
            ),
        }
        if host:
            data["host"] = host
        port = b._fact("db-port")
        if port and port.isdigit():
            data["port"] = int(port)
        db = b._fact("db-name") or b._fact("db-database")
        if db:
            data["database"] = db
        if prov and prov[1] and cls.issuer_kind == "postgres":
            data["sslmode"] = prov[1]
        name = f"{app}-db"
        return _unique(name, existing), Note(data, above=(f"{cls.provider or cls.issuer_kind} ({cls.reason})",))
    if cls.issuer_kind == "redis":
        return _unique(f"{app}-redis", existing), {
            "kind": "redis",
            "admin_url_env": placeholder(
                "name of the env var holding an admin redis:// URL (an ACL user allowed ACL SETUSER)"
            ),
        }
    if cls.kind == "redis-password":
        db_id = b._fact("do-redis")
        url = (
            f"https://cloud.digitalocean.com/databases/{db_id}"
            if db_id and cls.provider and "DigitalOcean" in cls.provider
            else None
        )
        data = {
            "kind": "manual",
            "instructions": f"Reset the password in the {cls.provider or 'provider'} console,"
            " then paste the new password here.",
        }
        if url:
            data["url"] = url
        return _unique(f"{app}-redis", existing), Note(
            data,
            above=(
                f"{cls.provider}: no ACL users to overlap, so the password is reset and consumers break"
                " until redeployed",
            ),
        )
    if cls.issuer_kind == "aws-iam":
        return _unique(f"{app}-aws", existing), {"kind": "aws-iam"}
    vendor = VENDORS.get(cls.vendor or "")
    leaf = cls.vendor or _slug(strip_frontend(secret.consumers[0].env))
    data = {"kind": "manual"}
    if vendor is not None:
        if vendor.url:
            data["url"] = vendor.url
        data["instructions"] = vendor.instructions
        if vendor.revoke:
            data["revoke_instructions"] = vendor.revoke
    elif cls.kind == "smtp-password" and any(f.value.endswith("gmail.com") for f in b.d.facts_of("smtp-host")):
        data.update(
            url="https://myaccount.google.com/apppasswords",
            instructions="Create a new Google app password and paste it here.",
            revoke_instructions="Delete the previous app password on the same page.",
        )
    else:
        env = strip_frontend(secret.consumers[0].env)
        partner = next(
            (f.value.split("|") for f in b.d.facts_of("api-password") if env.startswith(f.value.split("|")[0] + "_")),
            None,
        )
        if partner is not None and partner[1]:
            what = f"how the password of the account at {partner[1]} ({partner[2]}) is changed, and by whom"
        else:
            what = f"how a person mints a new {env} (which dashboard or contact)"
        data["instructions"] = placeholder(what)
    if cls.kind == "stripe-webhook-secret":
        data = {
            "kind": "manual",
            "url": "https://dashboard.stripe.com/webhooks",
            "instructions": "Roll the signing secret of the webhook endpoint (expire the old one later) and paste"
            " the new whsec_ value here.",
        }
        leaf = "stripe-webhook"
    name = f"{app}-{leaf}"
    if existing.get(name) == data:
        return name, data  # the same dashboard mints both
    return _unique(name, existing), data


def _compose_db(b: _Builder) -> str | None:
    """The compose service that runs the database: its name is the host on the compose network."""
    services = [
        f.value.split(":", 1)[1] for f in b.d.facts_of("db-service") if f.value.startswith(("postgres:", "mysql:"))
    ]
    return services[0] if services else None


def _unique(name: str, existing: dict[str, Any]) -> str:
    out = name
    n = 2
    while out in existing:
        out = f"{name}-{n}"
        n += 1
    return out


def _secret(b: _Builder, secret: DraftSecret, names: dict[str, str]) -> Any:
    cls = secret.cls
    above = [f"{cls.reason}."]
    for ev in secret.evidence[:3]:
        above.append(f"evidence: {ev}")
    for leak in secret.leaks:
        above.append(
            f"LEAKED: secretops found this credential at {leak.location} ({leak.rule_id},"
            f" fingerprint {leak.fingerprint}):"
            " rotate it first (secretops store import, then secretops compromised)"
        )
    data: dict[str, Any] = {"name": secret.name, "kind": cls.kind, "issuer": secret.issuer}
    strategy = cls.strategy
    if cls.issuer_kind in ("postgres", "mysql"):
        data["accounts"] = [
            placeholder("first login role the app uses (alternate: two roles take turns)"),
            placeholder("second login role, a copy of the first"),
        ]
        data["strategy"] = "alternate"
        data["period"], data["grace"] = "90d", "1h"
        data["generator"] = {"kind": "password", "length": 32}
    elif cls.issuer_kind == "redis":
        data["accounts"] = [placeholder("the ACL user the app logs in as")]
        data["strategy"] = "overlap"
        data["period"], data["grace"] = "180d", "10m"
        data["generator"] = {"kind": "password", "length": 32}
    elif cls.issuer_kind == "aws-iam":
        data["accounts"] = [placeholder("IAM user whose access key the app holds")]
        data["strategy"] = "overlap"
        data["period"], data["grace"] = "90d", "1d"
        data["generator"] = {"kind": "issuer"}
    else:
        data["strategy"] = strategy.value
        if strategy is Strategy.REPLACE:
            data["accept_downtime"] = Note(True, after="one value at a time: consumers break until they are redeployed")
        data["period"] = "90d" if cls.issuer_kind == "app" or cls.kind.startswith("api-key:openai") else "180d"
        data["grace"] = {"django-secret-key": "14d", "jwt-hmac": "7d"}.get(
            cls.kind, "1d" if strategy is Strategy.OVERLAP else "5m"
        )
        gen = {"django-secret-key": {"kind": "django-secret-key"}, "jwt-hmac": {"kind": "jwt-hmac", "bits": 256}}
        data["generator"] = gen.get(
            cls.kind, {"kind": "token", "length": 64} if cls.issuer_kind == "app" else {"kind": "issuer"}
        )
    data["consumers"] = _consumers(b, secret, names)
    if cls.issuer_kind in ("manual", "app"):
        data["verify"] = {"credential": False, "prove_dead": False}
    data["owner"] = b.app
    return Note(data, above=tuple(above))


def _template(b: _Builder, secret: DraftSecret, env: str) -> str | None:
    cls = secret.cls
    uses = [u for u in b.d.envs if u.name == env]
    scheme = next((u.scheme for u in uses if u.scheme), None)
    if cls.issuer_kind in ("postgres", "mysql"):
        seen = secret.host or next((f.value for f in b.d.facts_of("db-host") if provider_of(f.value)), None)
        host = (
            secret.host
            or _clean_host(b._fact("db-host"))
            or _compose_db(b)
            or placeholder("database host" + (f", {seen} with your project's values" if seen else ""))
        )
        port = b._fact("db-port")
        db = b._fact("db-name") or b._fact("db-database") or placeholder("database name")
        prov = provider_of(secret.host or b._fact("db-host"))
        base = (
            "mysql"
            if cls.issuer_kind == "mysql"
            else (scheme if scheme in ("postgres", "postgresql") else "postgresql")
        )
        query = "?sslmode=require" if prov and prov[1] and cls.issuer_kind == "postgres" else ""
        prov = prov or provider_of(seen)
        query = "?sslmode=require" if prov and prov[1] and cls.issuer_kind == "postgres" else ""
        at = f"{host}:{port}" if port and port.isdigit() else host
        return f"{base}://{{username|url}}:{{password|url}}@{at}/{db}{query}"
    if cls.kind == "redis-password":
        host = secret.host or placeholder("redis host")
        port = b._fact("redis-port")
        managed = cls.issuer_kind == "manual"
        base = (
            "rediss"
            if managed
            or (scheme == "rediss")
            or any(f.value.startswith("rediss") for f in b.d.facts_of("redis-protocol"))
            else (scheme or "redis")
        )
        user = "default" if managed else "{username|url}"
        return f"{base}://{user}:{{password|url}}@{host}{':' + port if port and port.isdigit() else ''}"
    if cls.kind == "aws-iam-key" and env == "AWS_ACCESS_KEY_ID":
        return "{access_key_id}"
    return None


def _health(b: _Builder) -> dict[str, Any]:
    urls = Counter(f.value for f in b.d.facts_of("health") if not re.search(r"localhost|127\.0\.0\.1", f.value))
    if not urls:
        return {
            "url": "https://"
            + placeholder("the app's host, whose health URL proves it works on the new value")
            + "/health"
        }
    url = urls.most_common(1)[0][0]
    out: dict[str, Any] = {"url": url}
    contains = b._fact("health-contains")
    if contains:
        out["contains"] = contains
    return out


def _consumers(b: _Builder, secret: DraftSecret, names: dict[str, str]) -> list[Any]:
    out: list[Any] = []
    for c in secret.consumers:
        target = b.targets[c.target]
        entry: dict[str, Any] = {"target": names[c.target], "env": c.env}
        template = _template(b, secret, c.env)
        if template:
            entry["template"] = template
        if target.platform == "digitalocean":
            entry["app_level"] = c.app_level or not c.components
            if c.components:
                entry["components"] = c.components
        entry.update(_verification(b, target, c))
        notes = [f"{n.note}" for n in c.evidence if "name assumed" in n.note][:1]
        out.append(Note(entry, above=tuple(f"{n}: check the name the code reads" for n in notes)))
        companion = _companion(secret, c)
        if companion:
            extra = {"target": names[c.target], "env": companion, "template": "{previous}", "new": True}
            if target.platform == "digitalocean":
                extra["app_level"] = entry["app_level"]
                if c.components:
                    extra["components"] = c.components
            extra.update(_verification(b, target, c))
            why = (
                "Django 4.1+: settings.py must read it into SECRET_KEY_FALLBACKS"
                if secret.cls.kind == "django-secret-key"
                else "the app must also accept tokens signed with this key"
            )
            out.append(
                Note(
                    extra,
                    above=(
                        f"overlap: the previous key, so sessions survive the rotation ({why});"
                        " if the app cannot, delete this consumer and use strategy: replace",
                    ),
                )
            )
    return out


def _companion(secret: DraftSecret, c: DraftConsumer) -> str | None:
    if secret.cls.kind == "django-secret-key" and c.env.endswith("SECRET_KEY"):
        return c.env + "_FALLBACKS"
    if secret.cls.kind == "jwt-hmac" and not re.search(r"PREVIOUS|OLD", c.env):
        return c.env.replace("SECRET_KEY", "PREVIOUS_SECRET_KEY") if "SECRET_KEY" in c.env else c.env + "_PREVIOUS"
    return None


def _verification(b: _Builder, target: _Target, c: DraftConsumer) -> dict[str, Any]:
    if target.platform == "github":
        return {
            "verify": Note(
                "accept-unverified", after="GitHub never returns secret values; the next workflow run is the check"
            )
        }
    if target.platform == "vercel" and c.env.startswith(("VITE_", "NEXT_PUBLIC_", "REACT_APP_")):
        return {"verify": Note("accept-unverified", after="a build-time value baked into the bundle")}
    if target.platform in ("digitalocean", "vercel"):
        return {"health": _health(b)}
    return {}
