"""Builds the draft inventory from a `Discovery`: secrets, issuers, targets, consumers, components.

`build_draft(discovery, findings, app=...)` decides, for every env var the sources named,
whether it holds a secret (`secretops.discover.classify`), which target it sits on, which
components read it, and groups the env vars that hold one credential into one secret. What it
cannot know becomes a `<FILL-IN: ...>` placeholder; every decision keeps its `Evidence`. The
targets, components and hosts the sources name are indexed by `secretops.discover.draft_sources`;
the policy data is rendered by `secretops.discover.draft_policy`.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from secretops.discover.classify import (
    VENDORS,
    Classification,
    classify_env,
    is_identifier,
    strip_frontend,
)
from secretops.discover.compose import LITERAL
from secretops.discover.draft_policy import render_policy
from secretops.discover.draft_sources import DraftBuilder, DraftTarget, slug
from secretops.discover.interface import Discovery, EnvUse, Evidence
from secretops.discover.markdown import GUIDE
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


def build_draft(discovery: Discovery, findings: Sequence[Finding] = (), *, app: str | None = None) -> Draft:
    """The draft inventory for everything `discovery` holds (see the module docstring)."""
    b = DraftBuilder(discovery, findings, app)
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
    data = render_policy(b, list(secrets.values()))
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
        leaf = slug(stem)
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


def _add_assumed(b: DraftBuilder, by_name: dict[str, list[EnvUse]]) -> None:
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


def _components(b: DraftBuilder, secrets: list[DraftSecret]) -> None:
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


def _resolve(word: str, target: DraftTarget) -> list[str]:
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


def _leaks(b: DraftBuilder, secrets: list[DraftSecret]) -> list[LeakNote]:
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
