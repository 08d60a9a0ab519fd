"""The policy data of a draft: issuers, targets and secrets as `policies/*.yaml` holds them.

`render_policy` turns the secrets `build_draft` grouped into the data `secretops.discover.writer`
writes, with a `<FILL-IN: ...>` placeholder (`draft.PLACEHOLDER_FIELDS`) wherever the sources do not
say the value and a `Note` saying where each decision came from.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from secretops.discover.classify import VENDORS, provider_of, strip_frontend
from secretops.discover.draft_sources import DraftBuilder, DraftTarget, clean_host, slug
from secretops.discover.interface import Evidence
from secretops.discover.writer import Note, placeholder
from secretops.inventory.models import Strategy

if TYPE_CHECKING:
    from secretops.discover.draft import DraftConsumer, DraftSecret

__all__ = ["render_policy"]


def render_policy(b: DraftBuilder, secrets: list[DraftSecret]) -> dict[str, Any]:
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


def _issuer_evidence(b: DraftBuilder, secret: DraftSecret) -> list[Evidence]:
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


def _target_names(b: DraftBuilder) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, t in b.targets.items():
        suffix = {
            "digitalocean": "app",
            "vercel": "frontend",
            "github": "ci" if t.name == "actions" else f"ci-{slug(t.name.split(':', 1)[-1])}",
            "heroku": "heroku",
        }.get(t.platform)
        if suffix is None and t.platform == "dotenv":
            leaf = t.name.replace("\\", "/").rsplit("/", 1)[-1]
            suffix = "env" if leaf == ".env" else slug(leaf)
        if suffix is None:
            suffix = slug(t.name)
        name = suffix if suffix.startswith(b.app.split("-")[0] + "-") else f"{b.app}-{suffix}"
        while name in out.values():
            name += "-2"
        out[key] = name
    return out


def _target_data(b: DraftBuilder, t: DraftTarget, secrets: list[DraftSecret], names: dict[str, str]) -> Any:
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
    binary = (b.fact("compose-command") or "docker compose").split()
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


def _k8s_readers(b: DraftBuilder, t: DraftTarget) -> list[str]:
    return sorted({u.component for u in b.d.envs if u.platform == "kubernetes" and u.target == t.name and u.component})


def _issuer(b: DraftBuilder, secret: DraftSecret, existing: dict[str, Any]) -> tuple[str, Any]:
    cls = secret.cls
    app = b.app
    if cls.issuer_kind == "app":
        return f"{app}-app", {"kind": "app"}
    if cls.issuer_kind in ("postgres", "mysql"):
        host = secret.host or clean_host(b.fact("db-host")) or _compose_db(b)
        user = b.fact("db-user")
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
        port = b.fact("db-port")
        if port and port.isdigit():
            data["port"] = int(port)
        db = b.fact("db-name") or b.fact("db-database")
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
        db_id = b.fact("do-redis")
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
    leaf = cls.vendor or slug(strip_frontend(secret.consumers[0].env))
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


def _compose_db(b: DraftBuilder) -> str | None:
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


def _secret(b: DraftBuilder, secret: DraftSecret, names: dict[str, str]) -> Any:
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


def _template(b: DraftBuilder, secret: DraftSecret, env: str) -> str | None:
    cls = secret.cls
    uses = [u for u in b.d.envs if u.name == env]
    scheme = next((u.scheme for u in uses if u.scheme), None)
    if cls.issuer_kind in ("postgres", "mysql"):
        seen = secret.host or next((f.value for f in b.d.facts_of("db-host") if provider_of(f.value)), None)
        host = (
            secret.host
            or clean_host(b.fact("db-host"))
            or _compose_db(b)
            or placeholder("database host" + (f", {seen} with your project's values" if seen else ""))
        )
        port = b.fact("db-port")
        db = b.fact("db-name") or b.fact("db-database") or placeholder("database name")
        prov = provider_of(secret.host or b.fact("db-host"))
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
        port = b.fact("redis-port")
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


def _health(b: DraftBuilder) -> dict[str, Any]:
    urls = Counter(f.value for f in b.d.facts_of("health") if not re.search(r"localhost|127\.0\.0\.1", f.value))
    if not urls:
        return {
            "url": "https://"
            + placeholder("the app's host, whose health URL proves it works on the new value")
            + "/health"
        }
    url = urls.most_common(1)[0][0]
    out: dict[str, Any] = {"url": url}
    contains = b.fact("health-contains")
    if contains:
        out["contains"] = contains
    return out


def _consumers(b: DraftBuilder, secret: DraftSecret, names: dict[str, str]) -> list[Any]:
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


def _verification(b: DraftBuilder, target: DraftTarget, c: DraftConsumer) -> dict[str, Any]:
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
