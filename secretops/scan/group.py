"""Multi-line credentials: gather the parts of one credential into one candidate.

A password rarely travels alone: a bullet list (`Host:`, `Database:`, `User:`, `Password:`),
a `.env` block (`DB_HOST=`, `DB_USER=`, `DB_PASSWORD=`), psql flags (`-h HOST -p PORT -U USER -d
DB`) or a CI `services:` block name the host, port, database and user nearby. `attach_context`
fills a password candidate's `context` from its block (the lines around it up to a blank line or
a code fence), and infers the provider and kind (a `*.neon.tech` host is Neon Postgres).
`absorb_identifiers` folds a public identifier (an AWS access key id) into the nearby secret of
the same provider, so the pair is one finding with the id in its context. A rule tagged
`identifier` is folded the same way, but stays a finding of its own (at its rule's, lower,
severity) when no secret is near: a lone AWS access key id is worth reporting, a pair is one
credential.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from secretops.scan.rules.interface import Rule

__all__ = ["Candidate", "absorb_identifiers", "attach_context", "infer_provider"]

BLOCK_LINES: Final = 8
PAIR_LINES: Final = 8
IDENTIFIER_TAG: Final = "identifier"


@dataclass(slots=True)
class Candidate:
    """A regex hit on its way to becoming a `Finding` (offsets index the fragment text)."""

    rule: Rule
    start: int
    end: int
    value: str
    line: int
    name: str | None = None
    quoted: bool = True
    op: str | None = None
    provider: str = ""
    kind: str = ""
    context: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


# Hosts that say who runs the database (suffix -> provider, kind). Order matters: first match wins.
_HOST_PROVIDERS: Final = (
    (".neon.tech", "neon", "postgres-password"),
    (".supabase.co", "supabase", "postgres-password"),
    (".supabase.com", "supabase", "postgres-password"),
    (".db.ondigitalocean.com", "digitalocean", None),
    (".rds.amazonaws.com", "aws-rds", None),
    (".render.com", "render", "postgres-password"),
    (".postgres.database.azure.com", "azure", "postgres-password"),
    (".mysql.database.azure.com", "azure", "mysql-password"),
    (".psdb.cloud", "planetscale", "mysql-password"),
    (".cockroachlabs.cloud", "cockroachdb", "postgres-password"),
    (".mongodb.net", "mongodb-atlas", "mongodb-password"),
    (".upstash.io", "upstash", "redis-password"),
    (".redislabs.com", "redis-cloud", "redis-password"),
    (".redis-cloud.com", "redis-cloud", "redis-password"),
    (".elephantsql.com", "elephantsql", "postgres-password"),
    (".aivencloud.com", "aiven", None),
    (".sentry.io", "sentry", None),
)
_NAME_KINDS: Final = (
    (re.compile(r"(?i)postgres|(?:^|[_-])pg|psql|pgpass"), "postgres", "postgres-password"),
    (re.compile(r"(?i)mysql|mariadb"), "mysql", "mysql-password"),
    (re.compile(r"(?i)redis|valkey"), "redis", "redis-password"),
    (re.compile(r"(?i)mongo"), "mongodb", "mongodb-password"),
    (re.compile(r"(?i)smtp|mail"), "smtp", "smtp-password"),
)
_PORT_KINDS: Final = {
    "5432": "postgres-password",
    "25060": "postgres-password",
    "3306": "mysql-password",
    "6379": "redis-password",
    "25061": "redis-password",
    "27017": "mongodb-password",
}


def infer_provider(host: str) -> tuple[str, str | None] | None:
    """`(provider, kind)` for a managed-database host (`kind` None when the host does not say), or None."""
    lowered = "." + host.lower().rstrip(".")
    for suffix, provider, kind in _HOST_PROVIDERS:
        if lowered.endswith(suffix):
            return provider, kind
    return None


# `Key: value`, `KEY=value`, `**Key:** value`, `"key": "value"` on one line.
_KV = re.compile(
    r"""^[\s>*#|`-]*(?:\*\*)?["'`]?(?P<key>[A-Za-z][A-Za-z0-9_. -]{0,40}?)["'`]?(?:\*\*)?\s*(?:\*\*)?
        \s*(?::|=)\s*(?:\*\*)?\s*["'`]?(?P<value>[^\s"'`,;|]+)""",
    re.VERBOSE,
)
#: A two-column Markdown table row of connection details: `| Host | db.example.net |`.
_TABLE_KV = re.compile(
    r"""^[ \t>]*\|[ \t]*(?:\*\*)?`?(?P<key>[A-Za-z][A-Za-z0-9_. -]{0,40}?)`?(?:\*\*)?[ \t]*\|
        [ \t]*(?:\*\*)?`?(?P<value>[^\s`|]+)`?(?:\*\*)?[ \t]*\|""",
    re.VERBOSE,
)
_FLAG = re.compile(
    r"(?:^|\s)(?:-(?P<short>[hpUd])\s*(?P<sv>[A-Za-z0-9_.][A-Za-z0-9_.-]*)"
    r"|--(?P<long>host|port|username|user|dbname|database)[= ](?P<lv>[A-Za-z0-9_.][A-Za-z0-9_.-]*))"
)
# Command-line flags name a database only in a database client's command line.
_DB_CLIENT = re.compile(
    r"\b(?:psql|pg_dump|pg_dumpall|pg_restore|pg_basebackup|createdb|dropdb|mysql|mysqldump|mariadb|redis-cli|mongosh|mongo)\b"
)
_FLAG_NAMES: Final = {
    "h": "host",
    "p": "port",
    "U": "user",
    "d": "database",
    "host": "host",
    "port": "port",
    "username": "user",
    "user": "user",
    "dbname": "database",
    "database": "database",
}


def _key_attr(key: str) -> str | None:
    k = key.strip().lower().replace(" ", "_").replace("-", "_").replace(".", "_")
    if k in {"host", "hostname", "server", "host_name", "endpoint", "address"} or k.endswith(("_host", "host_name")):
        return "host"
    if k == "pghost":
        return "host"
    if k == "port" or k.endswith("_port") or k == "pgport":
        return "port"
    if k in {"database", "db", "dbname", "db_name", "database_name", "pgdatabase", "name_of_database"} or k.endswith(
        ("_db", "_database", "_dbname", "_db_name")
    ):
        return "database"
    if k in {"user", "username", "user_name", "login", "role", "pguser"} or k.endswith(
        ("_user", "_username", "_user_name", "_login")
    ):
        return "user"
    return None


def _prefix(name: str | None) -> str:
    if not name:
        return ""
    bare = name.strip("\"'`*").lower()
    return bare.rsplit("_", 1)[0] if "_" in bare else ""


def _block(text: str, line_start: int) -> list[tuple[int, int, str]]:
    """(distance, line_start, line_text) for lines around the one at `line_start`, within its block."""
    out: list[tuple[int, int, str]] = []
    end = text.find("\n", line_start)
    end = len(text) if end < 0 else end
    out.append((0, line_start, text[line_start:end]))
    pos = line_start
    for distance in range(1, BLOCK_LINES + 1):  # upwards
        if pos <= 0:
            break
        prev_start = text.rfind("\n", 0, pos - 1) + 1
        line = text[prev_start : pos - 1]
        pos = prev_start
        if not line.strip() or line.lstrip().startswith("```"):
            break
        out.append((distance, prev_start, line))
    pos = end
    for distance in range(1, BLOCK_LINES + 1):  # downwards
        if pos >= len(text):
            break
        next_start = pos + 1
        next_end = text.find("\n", next_start)
        next_end = len(text) if next_end < 0 else next_end
        line = text[next_start:next_end]
        pos = next_end
        if not line.strip() or line.lstrip().startswith("```"):
            break
        out.append((distance, next_start, line))
    return out


def attach_context(candidate: Candidate, text: str, line_start: int) -> None:
    """Fill host/port/database/user from the candidate's block, then infer provider and kind.

    Only password-like candidates gather context from their block; a value the rule's own regex
    captured (a URI's host) is never overwritten.
    """
    rule = candidate.rule
    if "password" in candidate.kind or candidate.kind in {"password", "database-credential"}:
        prefix = _prefix(candidate.name)
        best: dict[str, tuple[tuple[int, int], str]] = {}
        block = _block(text, line_start)
        flags_apply = any(_DB_CLIENT.search(line) for _, _, line in block)
        for distance, _, line in block:
            found: list[tuple[str, str, bool]] = []
            for m in _FLAG.finditer(line) if flags_apply else ():
                attr = _FLAG_NAMES[m.group("short") or m.group("long")]
                found.append((attr, m.group("sv") or m.group("lv"), False))
            kv = _KV.match(line) or _TABLE_KV.match(line)
            if kv and distance > 0:
                attr_name = _key_attr(kv.group("key"))
                if attr_name:
                    same_prefix = bool(prefix) and kv.group("key").lower().startswith(prefix + "_")
                    found.append((attr_name, kv.group("value"), same_prefix))
            for attr_name, value, same_prefix in found:
                if attr_name == "port" and not value.isdigit():
                    continue
                if value.startswith(("$", "<", "{")):
                    continue
                score = (0 if same_prefix else 1, distance)
                if attr_name not in best or score < best[attr_name][0]:
                    best[attr_name] = (score, value)
        for attr_name, (_, value) in best.items():
            candidate.context.setdefault(attr_name, value)
    _infer(candidate, rule)


def _infer(candidate: Candidate, rule: Rule) -> None:
    host = candidate.context.get("host")
    by_host = infer_provider(host) if host else None
    if by_host:
        provider, kind = by_host
        if rule.generic or rule.provider in {"postgres", "mysql", "redis", "generic", "mongodb"}:
            candidate.provider = provider
        if kind and (rule.generic or candidate.kind in {"password", "database-credential"}):
            candidate.kind = kind
    if rule.generic and candidate.kind == "password":
        for pattern, provider, kind in _NAME_KINDS:
            if candidate.name and pattern.search(candidate.name):
                candidate.kind = kind
                if candidate.provider == rule.provider:
                    candidate.provider = provider
                break
        else:
            port_kind = _PORT_KINDS.get(candidate.context.get("port", ""))
            if port_kind:
                candidate.kind = port_kind
    if rule.generic and candidate.provider == rule.provider and by_host is None:
        for pattern, provider, kind in _NAME_KINDS:
            if kind == candidate.kind and (candidate.name and pattern.search(candidate.name)):
                candidate.provider = provider


def _takes_a_user(secret: Candidate) -> bool:
    """Whether `secret` is a password-like credential whose user name an identifier may be."""
    return secret.rule.generic or secret.rule.provider == "generic" or "password" in secret.kind


def absorb_identifiers(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Fold each identifier into the nearest secret candidate of the same provider.

    Identifiers are public rules and rules tagged `identifier`. The identifier's value goes into
    the secret's context under its kind minus the provider prefix (`aws-access-key-id` ->
    `access_key_id`), and the identifier is no candidate of its own any more. With no secret of
    its provider within `PAIR_LINES`, a tagged identifier joins a secret on its own line (an AWS
    SES SMTP user name beside its password), or else stays a candidate: it is reported alone at
    its rule's severity. A public identifier with no secret nearby is dropped: never a leak.
    """

    def identifier(c: Candidate) -> bool:
        return c.rule.public or IDENTIFIER_TAG in c.rule.tags

    secrets = [c for c in candidates if not identifier(c)]
    alone: set[int] = set()
    for ident in (c for c in candidates if identifier(c)):
        best: Candidate | None = None
        best_distance = PAIR_LINES + 1
        for secret in secrets:
            if secret.rule.provider != ident.rule.provider:
                continue
            distance = abs(secret.line - ident.line)
            if distance < best_distance:
                best, best_distance = secret, distance
        if best is None and not ident.rule.public:
            # Beside a password on its own line (an SES SMTP user name and its password), not
            # another provider's token that happens to share the line (`sk-proj-...AKIA...`).
            best = next((s for s in secrets if s.line == ident.line and _takes_a_user(s)), None)
        if best is not None:
            kind = ident.rule.kind
            if kind.startswith(ident.rule.provider + "-"):
                kind = kind[len(ident.rule.provider) + 1 :]
            best.context.setdefault(kind.replace("-", "_"), ident.value)
        elif not ident.rule.public:
            alone.add(id(ident))
    if not alone:
        return secrets
    return [c for c in candidates if not identifier(c) or id(c) in alone]
