"""Markdown ops guides: env-var tables and lists, app-level vs worker-level sections, commands.

A guide is read by its structure, not as one blob of text:

- **headings** give every line a section; a section titled "app-level" or "worker-level"
  (or "Worker-specific") scopes the variables listed in it, and "Local Development" sections
  describe a developer's machine, not a deploy target;
- **tables** with a variable column (and a "Type" column saying Secret or Plain), and **lists**
  of variables (`- REDIS_URL`, `` - `SECRET_KEY`: ... ``) name env vars;
- **code blocks** are handed to the parser of what they hold: a pasted `render.yaml`, app spec,
  workflow, compose file or `vercel.json` goes to its own parser (`secretops.discover.render`,
  ...), `KEY=value` lines are an env file;
- **commands** name targets and components: `doctl apps logs <app-id> worker`, `heroku ... -a
  app`, `vercel --prod`, `docker-compose exec db psql -U user -d db`, `curl .../health`;
- **prose** names variables (`Update the SECRET_KEY variable`), vendors whose keys are rotated
  ("Generate new keys for services like Plaid, OpenAI") and partner APIs logged into with a
  password.

What a section says about a component ("Sentry captures errors in both Django and Celery")
becomes a `component-reads` fact when the same section names the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from secretops.discover._common import compose_all, mapping, sequence, url_parts
from secretops.discover.compose import ComposeParser
from secretops.discover.digitalocean import DigitalOceanParser
from secretops.discover.dotenv_example import parse_assignments
from secretops.discover.github_actions import GitHubActionsParser, looks_like_workflow
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
from secretops.discover.render import RenderParser
from secretops.discover.vercel import VercelParser

__all__ = ["ENV_TOKEN", "GUIDE", "MarkdownParser", "Section", "framework_facts", "sections"]

GUIDE = "guide"
"""`EnvUse.platform` of a variable a guide names without saying where it is set."""

ENV_TOKEN = re.compile(r"(?<![A-Za-z0-9_<{\[$.-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![A-Za-z0-9_>}\]-])")
_NOT_ENV = re.compile(r"^(YOUR|MY|THE|NEW|OLD|RUN|PRE|POST|GET|PUT|SET|ISO|UTF|HTTP|API)_|_(HERE|ME)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w.+-]*)")
_LIST_ENV = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+`?\$?([A-Z][A-Z0-9_]*[A-Z0-9])`?(?:\s*[:=(\-\u2013\u2014]|\s*$)")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_DOCTL_APP = re.compile(rf"\bdoctl\s+apps\s+([a-z-]+)\s+({_UUID})(?:\s+([a-z][a-z0-9-]*))?")
_DOCTL_DB = re.compile(rf"\bdoctl\s+databases\s+[a-z-]+\s+({_UUID}|[a-z][a-z0-9-]+)")
_HEROKU_APP = re.compile(r"\bheroku\s+[\w:-]+.*?(?:-a|--app)[ =]([a-z][a-z0-9-]+)")
_ENV_COMMANDS: dict[str, re.Pattern[str]] = {
    "heroku": re.compile(r"\bheroku\s+config:(?:set|add|unset|get)\s+(.*)"),
    "vercel": re.compile(r"\bvercel\s+env\s+(?:add|rm|pull)\s+(\S+)"),
    "github": re.compile(r"\bgh\s+secret\s+set\s+(\S+)"),
    "fly": re.compile(r"\b(?:fly|flyctl)\s+secrets\s+set\s+(.*)"),
}
_RENDER_ID = re.compile(r"\b(srv-[a-z0-9]{8,}|crn-[a-z0-9]{8,}|evg-[a-z0-9]{8,})\b")
_COMPOSE = re.compile(
    r"\bdocker(?:-compose|\s+compose)\s+(?:-f\s+\S+\s+)?(exec|logs|restart|up|run|build|ps|down)\b([^\n|;&]*)"
)
_URL = re.compile(r"https?://[^\s`\"'<>)\]]+")
_HEALTH_URL = re.compile(r"https?://[^\s`\"'<>)\]]*/(?:health|healthz|status|ping)[^\s`\"'<>)\]]*")
_STATUS_JSON = re.compile(r"\"status\"\s*:\s*\"([a-z]+)\"")
_PSQL = re.compile(r"\b(psql|pg_dump|pg_restore|pg_dumpall|pg_isready|mysql|mysqldump)\b(.*)")
_HOST_ITEM = re.compile(
    r"^\s*[-*]\s+\*{0,2}(Host|Port|User|Database|Protocol)(?:\*{2}:|:\*{2}|:)\s*`?([^`\s]+)`?", re.I
)
_APP_ID_ITEM = re.compile(rf"\bApp ID\b[^`\n]*`?({_UUID})", re.I)
_FRONTEND_PREFIXES = ("VITE_", "NEXT_PUBLIC_", "REACT_APP_", "NUXT_PUBLIC_", "PUBLIC_", "EXPO_PUBLIC_")

_PLATFORM_WORDS: dict[str, re.Pattern[str]] = {
    "render": re.compile(
        r"\brender(?:\.com|\.yaml| dashboard| service|'s)\b|\bonrender\.com\b"
        r"|\bon render\b|\bto render\b|\brender environment",
        re.I,
    ),
    "digitalocean": re.compile(r"\bapp platform\b|\bdoctl apps\b|\.do/app\.yaml", re.I),
    "vercel": re.compile(r"\bvercel\b", re.I),
    "heroku": re.compile(r"\bheroku\b", re.I),
    "dotenv": re.compile(r"\bdocker-compose\b|\bdocker compose\b", re.I),
}
_FRAMEWORKS: dict[str, re.Pattern[str]] = {
    "django": re.compile(r"\bdjango\b|manage\.py|DJANGO_SETTINGS_MODULE", re.I),
    "flask": re.compile(r"\bflask\b", re.I),
    "fastapi": re.compile(r"\bfastapi\b|\buvicorn\b", re.I),
    "rails": re.compile(r"\brails\b", re.I),
    "celery": re.compile(r"\bcelery\b", re.I),
}
_LOCAL = re.compile(r"\blocal\b|\bdevelopment\b(?!.*\b(?:prod|staging)\b)", re.I)
_NOT_DEPLOYED = re.compile(r"\((?:production|optional|future)\)|\boptional\b", re.I)
_CREDENTIAL_WORDS = re.compile(
    r"\b(key|keys|secret|secrets|token|tokens|credential|credentials|webhook|webhooks|rotate|rotat\w*|api)\b", re.I
)


@dataclass(slots=True)
class Section:
    """A heading and what is under it, up to the next heading of any level."""

    title: str
    level: int
    line: int
    path: tuple[str, ...]
    lines: list[tuple[int, str]] = field(default_factory=list)
    code: list[tuple[str, int, str, str]] = field(default_factory=list)  # (lang, first line, text, text before)

    def text(self) -> str:
        """The prose of the section (no code)."""
        return "\n".join(t for _, t in self.lines)

    def all_text(self) -> str:
        """Prose and code."""
        return self.text() + "\n" + "\n".join(c[2] for c in self.code)


def sections(text: str) -> list[Section]:
    """The guide split at every heading (text before the first heading is a section titled '')."""
    out = [Section("", 0, 1, ())]
    stack: list[tuple[int, str]] = []
    fence: str | None = None
    lang = ""
    start = 0
    buf: list[str] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        m = _FENCE.match(raw)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2):
                before = "\n".join(t for _, t in out[-1].lines[-3:])
                out[-1].code.append((lang.lower(), start, "\n".join(buf), before))
                fence = None
            else:
                buf.append(raw)
            continue
        if m:
            fence, lang, start, buf = m.group(1), m.group(2), n + 1, []
            continue
        h = _HEADING.match(raw)
        if h:
            level = len(h.group(1))
            title = h.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            out.append(Section(title, level, n, tuple(t for _, t in stack)))
            continue
        out[-1].lines.append((n, raw))
    return out


class MarkdownParser(SourceParser):
    """Reads markdown ops guides (`*.md` under docs/, or README/OPERATIONS/DEPLOY files)."""

    id: ClassVar[str] = "markdown"

    def matches(self, path: Path) -> bool:
        return path.suffix.lower() in (".md", ".markdown")

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        secs = sections(text)
        self._title(secs, display, found)
        for sec in secs:
            self._section(sec, display, found)
        self._platforms(text, display, found)
        self._frameworks(text, display, found)
        self._component_types(text, found)
        return found

    def _component_types(self, text: str, found: Discovery) -> None:
        """A component a command names is a worker or a job when the guide calls it one."""
        typed: list[ComponentUse] = []
        for comp in found.components:
            kind: ComponentType = comp.type
            if comp.type == "service" and comp.platform == "digitalocean":
                name = re.escape(comp.name)
                if re.search(r"worker|celery", comp.name, re.I):
                    kind = "worker"
                elif re.search(rf"\b{name}\b[^\n]{{0,40}}\bjob\b|\bjob\b[^\n]{{0,12}}\b{name}\b", text, re.I):
                    kind = "job"
            typed.append(ComponentUse(comp.name, kind, comp.evidence, comp.platform, comp.target))
        found.components[:] = typed

    # ------------------------------------------------------------ whole guide

    def _title(self, secs: list[Section], display: str, found: Discovery) -> None:
        title = next((s for s in secs if s.level == 1), None)
        if title is None:
            return
        parts = [p.strip() for p in re.split(r"\s+[-\u2013\u2014:]\s+|:\s+", title.title) if p.strip()]
        generic = re.compile(r"\b(guide|operations|maintenance|deployment|deploy|runbook|handbook|manual)\b", re.I)
        name = next((p for p in parts if not generic.search(p)), parts[0] if parts else "")
        name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if name:
            found.facts.append(Fact("app", name, Evidence(display, title.line, f"guide title: {title.title}")))

    def _platforms(self, text: str, display: str, found: Discovery) -> None:
        for n, raw in enumerate(text.splitlines(), start=1):
            for platform, pattern in _PLATFORM_WORDS.items():
                if pattern.search(raw):
                    found.facts.append(Fact("platform-mention", platform, Evidence(display, n, f"mentions {platform}")))

    def _frameworks(self, text: str, display: str, found: Discovery) -> None:
        found.extend(framework_facts(text, display))

    # ------------------------------------------------------------ one section

    def _section(self, sec: Section, display: str, found: Discovery) -> None:
        local = any(_LOCAL.search(t) for t in sec.path) and not any(
            re.search(r"staging|production|prod\b", t, re.I) for t in sec.path
        )
        skipped = bool(_NOT_DEPLOYED.search(sec.title))
        scope = _scope(sec)
        hint = _platform_hint(sec)
        before = len(found.envs)
        facts_before = len(found.facts)
        self._tables(sec, display, scope, hint, found)
        self._lists_and_prose(sec, display, scope, hint, found)
        for lang, start, code, context in sec.code:
            self._code(lang, start, code, context, sec, display, hint, found)
        self._items(sec, display, found)
        added = found.envs[before:]
        if local:  # a developer's machine: its database and URLs are not the deployed ones
            keep = ("framework", "platform-mention", "app", "vendor")
            found.facts[facts_before:] = [f for f in found.facts[facts_before:] if f.key in keep]
        if local or skipped:
            why = "a local development section" if local else f"section '{sec.title}' is not the deployed setup"
            for env in added:
                found.facts.append(Fact("not-deployed", env.name, Evidence(env.evidence.path, env.evidence.line, why)))
            del found.envs[before:]
            return
        self._component_mentions(sec, display, added, found)

    def _tables(
        self, sec: Section, display: str, scope: tuple[Level | None, str | None], hint: str | None, found: Discovery
    ) -> None:
        rows: list[tuple[int, list[str]]] = []
        for n, raw in [*sec.lines, (0, "")]:
            if raw.strip().startswith("|"):
                rows.append((n, [c.strip().strip("`").strip() for c in raw.strip().strip("|").split("|")]))
                continue
            if len(rows) >= 3:
                self._table(rows, sec, display, scope, hint, found)
            rows = []

    def _table(
        self,
        rows: list[tuple[int, list[str]]],
        sec: Section,
        display: str,
        scope: tuple[Level | None, str | None],
        hint: str | None,
        found: Discovery,
    ) -> None:
        header = [c.lower() for c in rows[0][1]]
        var_col = next(
            (
                i
                for i, c in enumerate(header)
                if c in ("variable", "name", "key", "env", "env var", "environment variable", "setting")
            ),
            None,
        )
        type_col = next((i for i, c in enumerate(header) if c in ("type", "kind", "secret")), None)
        for n, cells in rows[2:]:
            if var_col is not None and var_col < len(cells):
                name = cells[var_col].split("=")[0].strip()
            elif cells and ENV_TOKEN.fullmatch(cells[0].split("=")[0].strip()):
                name = cells[0].split("=")[0].strip()
            else:
                continue
            if not ENV_TOKEN.fullmatch(name) and not re.fullmatch(r"[A-Z][A-Z0-9_]+", name):
                continue
            declared = cells[type_col].lower() if type_col is not None and type_col < len(cells) else ""
            secret = True if "secret" in declared else (False if declared in ("plain", "general", "public") else None)
            level, component = scope
            note = f"table in '{sec.title}'" + (f" (type {declared})" if declared else "")
            found.envs.append(
                EnvUse(
                    name,
                    Evidence(display, n, f"{name}: {note}"),
                    platform=hint or GUIDE,
                    component=component,
                    level=level,
                    secret=secret,
                )
            )

    def _lists_and_prose(
        self, sec: Section, display: str, scope: tuple[Level | None, str | None], hint: str | None, found: Discovery
    ) -> None:
        level, component = scope
        for n, raw in sec.lines:
            if raw.strip().startswith("|"):
                continue
            m = _LIST_ENV.match(raw)
            names = [m.group(1)] if m and "_" in m.group(1) else []
            names += [t for t in ENV_TOKEN.findall(_strip_placeholders(raw)) if t not in names]
            for name in names:
                if _NOT_ENV.search(name):
                    continue
                line_level, line_comp = level, component
                if re.search(r"worker[- ]level", raw, re.I):
                    line_comp = "worker"
                    line_level = "component"
                found.envs.append(
                    EnvUse(
                        name,
                        Evidence(display, n, f"{name} named in '{sec.title}'"),
                        platform=_prefix_platform(name) or hint or GUIDE,
                        component=line_comp,
                        level=line_level,
                    )
                )
                if line_comp and re.search(r"app[- ]level", raw, re.I):
                    found.envs.append(
                        EnvUse(name, Evidence(display, n, f"{name} at app level"), platform=hint or GUIDE, level="app")
                    )
        if not any(ENV_TOKEN.search(_strip_placeholders(t)) for t in sec.path[-1:]):
            return
        for name in ENV_TOKEN.findall(sec.title):
            if _NOT_ENV.search(name):
                continue
            comp = "worker" if re.search(r"worker[- ]level", sec.text(), re.I) else None
            found.envs.append(
                EnvUse(
                    name,
                    Evidence(display, sec.line, f"{name} in heading '{sec.title}'"),
                    platform=hint or GUIDE,
                    component=comp,
                    level="component" if comp else None,
                )
            )

    def _code(
        self,
        lang: str,
        start: int,
        code: str,
        context: str,
        sec: Section,
        display: str,
        hint: str | None,
        found: Discovery,
    ) -> None:
        offset = start - 1
        if lang in ("yaml", "yml", ""):
            nodes = compose_all(code, display) if lang or ":" in code.split("\n", 1)[0] else []
            root = mapping(nodes[0]) if nodes else {}
            keys = set(root)
            if looks_like_workflow(keys):
                found.extend(GitHubActionsParser().parse(code, display, offset))
                return
            services = root.get("services")
            if sequence(services) and any("envVars" in mapping(s) or "type" in mapping(s) for s in sequence(services)):
                found.extend(RenderParser().parse(code, display, offset))
                return
            if ("workers" in keys or "jobs" in keys or sequence(services)) and not mapping(services):
                found.extend(DigitalOceanParser().parse(code, display, offset))
                return
            if mapping(services):
                found.extend(ComposeParser().parse(code, display, offset))
                return
        if lang == "json" or (lang == "" and code.lstrip().startswith("{")):
            if "vercel.json" in context or "vercel.json" in sec.title:
                found.extend(VercelParser().parse(code, display, offset))
            return
        frontend = bool(re.search(r"\bfrontend\b|\bclient\b", context + " " + " ".join(sec.path), re.I))
        for env in parse_assignments(
            _no_command_prefixes(code), display, offset, f"set in a code block in '{sec.title}'"
        ):
            if _NOT_ENV.search(env.name) or env.name.startswith(("PG", "MYSQL_PWD")):
                continue
            platform = _prefix_platform(env.name) or ("frontend" if frontend else None) or hint or GUIDE
            found.envs.append(EnvUse(env.name, env.evidence, platform=platform, host=env.host, scheme=env.scheme))
        for n, raw in enumerate(code.splitlines(), start=start):
            self._command(raw, n, display, sec, found)
            for url in re.findall(r"\b(?:postgres|postgresql|rediss?)://\S+", raw):
                scheme, host = url_parts(url)
                if host and scheme and "=" not in raw.split(url)[0][-2:]:
                    redis = scheme.startswith("redis")
                    ev = Evidence(display, n, f"example {scheme} URL")
                    found.facts.append(Fact("redis-host" if redis else "db-host", host, ev))
                    tail = re.match(r"[^@]*@[^/:?\s]+(?::(\d+))?(?:/([A-Za-z0-9_]+))?", url.split("://", 1)[1])
                    if tail and tail.group(1):
                        found.facts.append(Fact("redis-port" if redis else "db-port", tail.group(1), ev))
                    if tail and tail.group(2) and not redis:
                        found.facts.append(Fact("db-name", tail.group(2), ev))
            smtp = re.match(r"^\s*(?:SMTP|MAIL|EMAIL)_(?:HOST|SERVER)\s*=\s*([\w.-]+)", raw)
            if smtp:
                found.facts.append(
                    Fact("smtp-host", smtp.group(1), Evidence(display, n, f"mail server {smtp.group(1)}"))
                )
            for name in re.findall(r"\$\{?([A-Z][A-Z0-9]*_[A-Z0-9_]+)\}?", raw):
                if not _NOT_ENV.search(name):
                    found.envs.append(
                        EnvUse(name, Evidence(display, n, f"{name} used by a command"), platform=hint or GUIDE)
                    )

    def _command(self, raw: str, n: int, display: str, sec: Section, found: Discovery) -> None:
        ev = Evidence(display, n, _command_note(raw, f"a command in '{sec.title}'"))
        for m in _DOCTL_APP.finditer(raw):
            found.targets.append(TargetUse("digitalocean", ev, ids=(("app_id", m.group(2)),)))
            comp = m.group(3)
            if comp and m.group(1) in ("logs", "console") and comp not in ("build", "deploy", "run"):
                found.components.append(ComponentUse(comp, "service", ev, "digitalocean", None))
        for m in _DOCTL_DB.finditer(raw):
            redis = re.search(r"valkey|redis", " ".join(sec.path), re.I)
            found.facts.append(Fact("do-redis" if redis else "do-database", m.group(1), ev))
        for m in _HEROKU_APP.finditer(raw):
            found.targets.append(TargetUse("heroku", ev, ids=(("app", m.group(1)),)))
        for platform, pattern in _ENV_COMMANDS.items():
            for m in pattern.finditer(raw):
                for name in re.findall(r"(?<![\w-])([A-Z][A-Z0-9_]*[A-Z0-9])(?==|\s|$)", m.group(1)):
                    note = f"{name} set with a {platform} command in '{sec.title}'"
                    secret = True if platform == "github" else None
                    found.envs.append(EnvUse(name, Evidence(display, n, note), platform=platform, secret=secret))
        for m in _RENDER_ID.finditer(raw):
            found.targets.append(TargetUse("render", ev, ids=(("service_id", m.group(1)),)))
        if re.search(r"^\s*vercel(\s+--prod|\s+deploy|\s*$)", raw):
            found.targets.append(TargetUse("vercel", ev))
        for m in _COMPOSE.finditer(raw):
            words = [w for w in m.group(2).split() if not w.startswith("-")]
            binary = "docker-compose" if "docker-compose" in raw else "docker compose"
            found.facts.append(Fact("compose-command", binary, ev))
            if words and m.group(1) in ("exec", "logs", "restart", "run", "up", "build"):
                found.facts.append(Fact("compose-service", words[0], ev))
        psql = _PSQL.search(raw)
        if psql:
            self._db_command(psql.group(1), psql.group(2), raw, ev, found)
        for url in _health_urls(raw):
            found.facts.append(Fact("health", url, ev))

    def _db_command(self, tool: str, args: str, raw: str, ev: Evidence, found: Discovery) -> None:
        found.facts.append(Fact("database", "mysql" if tool.startswith("mysql") else "postgres", ev))
        for flag, key in (("-h", "db-host"), ("-p", "db-port"), ("-U", "db-user"), ("-d", "db-name")):
            m = re.search(rf"(?:^|\s){flag}\s+([^\s\\]+)", args)
            if m and not m.group(1).startswith(("<", "$")):
                found.facts.append(Fact(key, m.group(1), ev))
        exec_in = re.search(r"exec\s+(?:-\w+\s+)*([a-z][\w-]*)\s+" + tool, raw)
        if exec_in:
            found.facts.append(Fact("db-service", f"postgres:{exec_in.group(1)}", ev))
        for url in _URL.findall(args):
            scheme, host = url_parts(url)
            if host and scheme and scheme.startswith("postgres"):
                found.facts.append(Fact("db-host", host, ev))
        dollar = re.search(r"\$\{?([A-Z][A-Z0-9_]*URL)\}?", args)
        if dollar:
            found.facts.append(Fact("db-env", dollar.group(1), ev))

    def _items(self, sec: Section, display: str, found: Discovery) -> None:
        """`- Host: x`, `- Database: y` under a database section; health URLs and expected replies."""
        title = " ".join(sec.path[-2:]).lower()
        what = (
            "redis"
            if re.search(r"redis|valkey", title)
            else ("postgres" if re.search(r"postgres|database|\bdb\b|supabase|neon", title) else None)
        )
        for n, raw in sec.lines:
            ev = Evidence(display, n, f"a line of '{sec.title}'")
            m = _APP_ID_ITEM.search(raw)
            if m:
                found.targets.append(TargetUse("digitalocean", ev, ids=(("app_id", m.group(1)),)))
            item = _HOST_ITEM.match(raw)
            if item and what:
                prefix = "redis" if what == "redis" else "db"
                iev = Evidence(display, n, f"{item.group(1)} in '{sec.title}'")
                found.facts.append(Fact(f"{prefix}-{item.group(1).lower()}", item.group(2).strip("*"), iev))
            for url in _health_urls(raw):
                found.facts.append(Fact("health", url, Evidence(display, n, f"health URL in '{sec.title}'")))
            status = _STATUS_JSON.search(raw)
            if status and re.search(r"expect|response|return", raw, re.I):
                found.facts.append(Fact("health-contains", status.group(1), ev))
        for _, start, code, _ in sec.code:
            status = _STATUS_JSON.search(code)
            if status and (re.search(r"expect", sec.text(), re.I) or "/health" in sec.all_text()):
                found.facts.append(
                    Fact("health-contains", status.group(1), Evidence(display, start, "expected health reply"))
                )
        self._vendors(sec, display, found)
        self._partner_api(sec, display, found)

    def _vendors(self, sec: Section, display: str, found: Discovery) -> None:
        from secretops.discover.classify import VENDORS

        for vendor, info in VENDORS.items():
            pattern = re.compile(rf"\b{info.word}\b", re.I)
            in_title = bool(pattern.search(sec.title))
            for n, raw in [(sec.line, sec.title), *sec.lines]:
                if not pattern.search(raw):
                    continue
                if in_title or _CREDENTIAL_WORDS.search(raw):
                    note = f"{info.word} named in '{sec.title}'" + ("" if in_title else " with a key, secret or token")
                    found.facts.append(Fact("vendor", vendor, Evidence(display, n, note)))
                    break
            if in_title and info.webhook_env and re.search(r"webhook", sec.all_text(), re.I):
                line = next((n for n, t in sec.lines if re.search(r"webhook", t, re.I)), sec.line)
                found.facts.append(
                    Fact("vendor", f"{vendor}-webhook", Evidence(display, line, f"{info.word} webhooks"))
                )

    def _partner_api(self, sec: Section, display: str, found: Discovery) -> None:
        """A heading "<Name> API" whose request logs in with an account password."""
        m = re.match(r"^([A-Z][A-Za-z]+)\b.*\bAPI\b", sec.title)
        if not m:
            return
        from secretops.discover.classify import VENDORS

        if any(re.search(rf"\b{v.word}\b", sec.title, re.I) for v in VENDORS.values()):
            return
        for _, start, code, _ in sec.code:
            if re.search(r"[\"']password[\"']\s*:", code):
                host = next((url_parts(u)[1] for u in _URL.findall(code)), None)
                line = start + next((i for i, t in enumerate(code.splitlines()) if "password" in t), 0)
                note = f"'{sec.title}' logs in with an account password" + (f" at {host}" if host else "")
                found.facts.append(
                    Fact(
                        "api-password", f"{m.group(1).upper()}|{host or ''}|{sec.title}", Evidence(display, line, note)
                    )
                )
                return

    def _component_mentions(self, sec: Section, display: str, added: list[EnvUse], found: Discovery) -> None:
        """Variables named in a section that also names a worker, a job or Celery."""
        text = sec.title + "\n" + sec.text()
        words = re.findall(r"\b(worker|workers|celery|migrate|migrations|job)\b", text, re.I)
        if not words:
            return
        for env in added:
            if env.component is None:
                found.facts.append(Fact("component-reads", f"{words[0].lower()}:{env.name}", env.evidence))


def framework_facts(text: str, display: str) -> Discovery:
    """`framework` facts (django, flask, fastapi, rails, celery) for each line of `text` naming one."""
    found = Discovery()
    for name, pattern in _FRAMEWORKS.items():
        for n, raw in enumerate(text.splitlines(), start=1):
            if pattern.search(raw):
                found.facts.append(Fact("framework", name, Evidence(display, n, f"mentions {name}")))
    return found


def _command_note(raw: str, what: str) -> str:
    """What a command line is, for evidence, without its arguments (they may hold a value)."""
    words: list[str] = []
    for word in raw.split():
        if len(words) == 3 or not re.fullmatch(r"[a-z][a-z0-9_.-]*", word):
            break
        words.append(word)
    return f"{what}: `{' '.join(words)} ...`" if words else what


def _health_urls(raw: str) -> list[str]:
    """Health URLs on a line, without query strings; none that carries userinfo (a credential)."""
    out = []
    for url in _HEALTH_URL.findall(raw):
        url = url.split("?", 1)[0].split("#", 1)[0].rstrip(".,")
        if "@" not in url:
            out.append(url)
    return out


def _scope(sec: Section) -> tuple[Level | None, str | None]:
    title = sec.title.lower()
    if re.search(r"worker[- ](level|specific|only)|\bworkers?\b.*\benv", title):
        return "component", "worker"
    if re.search(r"app[- ]level|inherited by all", title):
        return "app", None
    return None, None


def _platform_hint(sec: Section) -> str | None:
    joined = " ".join(sec.path)
    if re.search(r"\bfrontend\b|\bclient\b", joined, re.I):
        return "frontend"
    if re.search(r"github actions|ci/cd|\bsecrets configuration\b", joined, re.I):
        return "github-mention"
    return None


def _prefix_platform(name: str) -> str | None:
    return "frontend" if name.startswith(_FRONTEND_PREFIXES) else None


def _strip_placeholders(text: str) -> str:
    return re.sub(r"<[^<>\n]*>|\[[A-Z-]+\]", " ", text)


def _no_command_prefixes(code: str) -> str:
    """Drop `VAR=x command ...` lines and continued lines: they set a client's env, not the app's."""
    out = []
    for raw in code.splitlines():
        stripped = raw.rstrip()
        if stripped.endswith("\\") or (
            re.match(r"^\s*[A-Z_]+=\S*\s+[a-z]", stripped) and not re.match(r"^\s*[A-Z_]+=[^=]*\s#", stripped)
        ):
            out.append("")
            continue
        out.append(raw)
    return "\n".join(out)
