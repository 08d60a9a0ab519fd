"""Whole-inventory checks: what no single policy object can know about itself.

`secretops.inventory.loader` validates each issuer, target and secret on its own (the pydantic
models) and hands the valid ones here, each `Located` in its file. `check_inventory` then finds
every mistake that needs the whole inventory, and returns them all at once as `Problem`s:

- references: a secret's `issuer`, a consumer's `target`, a consumer's DigitalOcean `components`;
- duplicates: secret, issuer and target names (across files), and two consumers writing the same
  (target, env var, component);
- issuer fit: the strategy the issuer kind supports (`STRATEGIES`), the number of `accounts`,
  the template fields the issuer provides (`TEMPLATE_FIELDS`), `{username}` under `alternate`;
- platforms: env var names each platform accepts (`ENV_NAME_RULES`), and DigitalOcean workers
  and jobs, which do not receive app-level SECRET vars (docs/platform-apis.md, section 1);
- escaping: a value placed raw in a URL or a libpq conninfo string while its generator can emit
  a character reserved there (`URL_ALLOWED`, `value_characters`);
- write-only targets (`WRITE_ONLY_TARGETS`): a consumer there needs a health check, or
  `verify: accept-unverified`;
- risks that stay allowed, as warnings: `grace: 0s`, `drain: 0s` with a `.env` nothing restarts.

`check_local_targets` is the part that reads this machine's disk: every `.env` target must exist
(unless `create: true`) and hold each consumer's key (unless `new: true`). `policy check` runs it;
`collect(..., local_targets=False)` skips it (checking away from the host that holds the files).

The tables are data, so `docs/policies.md` is rendered from them (`secretops.inventory.docs`);
`CHECKS` lists every problem `code` with its severity.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from secretops.inventory.models import (
    ENV_NAME,
    ConsumerSpec,
    DigitalOceanTargetSpec,
    DotenvTargetSpec,
    GeneratorSpec,
    IssuerSpec,
    MysqlIssuerSpec,
    PostgresIssuerSpec,
    RedisIssuerSpec,
    SecretSpec,
    Strategy,
    TargetSpec,
    VercelTargetSpec,
)
from secretops.inventory.templates import Placeholder, Template

__all__ = [
    "ACCOUNT_ISSUERS",
    "CHECKS",
    "CONNINFO_KEYWORDS",
    "ENV_NAME_RULES",
    "GENERATOR_TEMPLATE_FIELDS",
    "PLACEHOLDER",
    "PLACEHOLDER_PREFIX",
    "STRATEGIES",
    "TEMPLATE_FIELDS",
    "URL_ALLOWED",
    "WRITE_ONLY_TARGETS",
    "EnvNameRule",
    "LineMap",
    "Located",
    "Problem",
    "Severity",
    "YamlPath",
    "check_inventory",
    "check_local_targets",
    "check_placeholders",
    "format_path",
    "stand_in_placeholders",
    "value_characters",
    "without_placeholder_noise",
    "write_only_reason",
]

YamlPath = tuple[str | int, ...]
Severity = Literal["error", "warning"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a policy file: where it is, which field, what is wrong, what to do.

    `code` is a stable kebab-case id of the kind of mistake (`unknown-target-kind`,
    `duplicate-secret`, ...; every one is in `CHECKS`), for JSON output and tests. A `warning`
    is a risk the policy may take on purpose: it is shown, but the policy is still valid.
    No message carries a secret value.
    """

    file: Path
    line: int | None
    field: str
    message: str
    hint: str | None = None
    code: str = "invalid"
    severity: Severity = "error"

    def location(self) -> str:
        """`file:line`, or just the file when the line is unknown."""
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def __str__(self) -> str:
        head = (
            f"{self.location()}: {self.field}: {self.message}" if self.field else f"{self.location()}: {self.message}"
        )
        return f"{head} (hint: {self.hint})" if self.hint else head

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        return {
            "file": str(self.file),
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


def format_path(path: Iterable[str | int]) -> str:
    """A YAML path as people write it: `secrets[0].consumers[1].env`, `targets.web.kind`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True, slots=True)
class LineMap:
    """The 1-based line of every mapping key and list item of one YAML file, by YAML path."""

    lines: Mapping[YamlPath, int] = field(default_factory=dict)

    def line(self, path: YamlPath) -> int:
        """The line of `path`, or of its longest declared prefix (a missing field's parent)."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1

    def has(self, path: YamlPath) -> bool:
        """Whether `path` was written in the file (not a default)."""
        return path in self.lines


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A validated policy entry (`spec`) with its name and where it was declared."""

    name: str
    spec: T
    file: Path
    path: YamlPath
    lines: LineMap

    def line(self, *sub: str | int) -> int:
        """The line of a field of this entry (or of the entry, for a field left to its default)."""
        return self.lines.line(self.path + sub)

    def field(self, *sub: str | int) -> str:
        """The dotted path of a field of this entry."""
        return format_path(self.path + sub)

    def problem(
        self, sub: tuple[str | int, ...], message: str, hint: str | None, code: str, severity: Severity = "error"
    ) -> Problem:
        """A `Problem` at a field of this entry."""
        return Problem(self.file, self.line(*sub), self.field(*sub), message, hint, code, severity)


# ---------------------------------------------------------------- tables (rendered in docs/policies.md)

STRATEGIES: dict[str, tuple[Strategy, ...]] = {
    # PostgreSQL has one password per role: two roles take turns, or one is replaced.
    "postgres": (Strategy.ALTERNATE, Strategy.REPLACE),
    # MySQL 8.0.14+ keeps a secondary password (RETAIN CURRENT PASSWORD); MariaDB does not.
    "mysql": (Strategy.ALTERNATE, Strategy.OVERLAP, Strategy.REPLACE),
    # Redis 6+/Valkey ACL users hold several passwords at once.
    "redis": (Strategy.OVERLAP, Strategy.REPLACE),
    # An IAM user has two access key slots.
    "aws-iam": (Strategy.OVERLAP,),
    "manual": (Strategy.REPLACE, Strategy.OVERLAP),
    "app": (Strategy.REPLACE, Strategy.OVERLAP),
}
"""Strategies each issuer kind supports (design.md, "Rotation strategies")."""

TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "postgres": ("username",),
    "mysql": ("username",),
    "redis": ("username",),
    "aws-iam": ("access_key_id", "user"),
    "manual": (),
    "app": (),
}
"""Template fields each issuer kind records, besides `value` (alias `password`) and `previous`."""

COMMON_TEMPLATE_FIELDS = ("value", "previous")

GENERATOR_TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "jwt-hmac": ("kid",),
    "ed25519": ("kid", "public_key", "public_key_sha256"),
    "rsa": ("kid", "public_key", "public_key_sha256"),
}
"""Template fields a generator records beside the value (`secretops/rotate/generators.py`)."""

ACCOUNT_ISSUERS: dict[str, str] = {
    "postgres": "login role",
    "mysql": "user",
    "redis": "ACL user",
    "aws-iam": "IAM user",
}
"""Issuer kinds that rotate a named account, and what that account is called."""


@dataclass(frozen=True, slots=True)
class EnvNameRule:
    """The env var (or secret key) names a platform accepts, and where that is documented."""

    pattern: str
    described: str
    reserved: frozenset[str] = frozenset()
    reserved_prefixes: tuple[str, ...] = ()
    prefixes_ignore_case: bool = False
    max_length: int | None = None
    source: str = ""

    def violation(self, name: str) -> str | None:
        """Why `name` is refused, or None when it is accepted."""
        if not re.fullmatch(self.pattern, name):
            return f"must be {self.described}"
        if self.max_length is not None and len(name) > self.max_length:
            return f"must be at most {self.max_length} characters"
        if name in self.reserved:
            return "is reserved by the platform"
        probe = name.upper() if self.prefixes_ignore_case else name
        for prefix in self.reserved_prefixes:
            if probe.startswith(prefix):
                return f"must not start with {prefix}"
        return None


_PORTABLE = EnvNameRule(
    pattern=ENV_NAME.pattern,
    described="letters, digits and underscores, not starting with a digit",
    source="POSIX.1-2017, 8.1 Environment Variable Definition",
)

ENV_NAME_RULES: dict[str, EnvNameRule] = {
    "dotenv": _PORTABLE,
    "render": EnvNameRule(
        pattern=ENV_NAME.pattern,
        described="letters, digits and underscores, not starting with a digit",
        source="https://render.com/docs/environment-variables",
    ),
    "digitalocean": EnvNameRule(
        pattern=r"^[_A-Za-z][_A-Za-z0-9]*$",
        described="letters, digits and underscores, not starting with a digit (^[_A-Za-z][_A-Za-z0-9]*$)",
        source="DigitalOcean App Platform API, app spec env `key`",
    ),
    "vercel": EnvNameRule(
        pattern=ENV_NAME.pattern,
        described="letters, digits and underscores, not starting with a digit",
        reserved=frozenset(
            {
                "AWS_SECRET_KEY",
                "AWS_EXECUTION_ENV",
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_FUNCTION_VERSION",
                "NOW_REGION",
                "TZ",
                "LAMBDA_TASK_ROOT",
                "LAMBDA_RUNTIME_DIR",
            }
        ),
        source="https://vercel.com/docs/environment-variables/reserved-environment-variables",
    ),
    "heroku": EnvNameRule(
        pattern=r"^[A-Za-z0-9_]+$",
        described="letters, digits and underscores only (no hyphen)",
        reserved_prefixes=("HEROKU_", "__"),
        source="https://devcenter.heroku.com/articles/config-vars",
    ),
    "github": EnvNameRule(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        described="letters, digits and underscores, not starting with a digit",
        reserved_prefixes=("GITHUB_",),
        prefixes_ignore_case=True,
        source="GitHub Actions docs, 'Naming your secrets'",
    ),
    "kubernetes": EnvNameRule(
        pattern=r"^[-._a-zA-Z0-9]+$",
        described="letters, digits, '-', '_' or '.' (a Secret data key)",
        max_length=253,
        source="https://kubernetes.io/docs/concepts/configuration/secret/",
    ),
}
"""Env var name rules by target kind (keep to what each platform documents)."""

_STRATEGY_HINTS: dict[tuple[str, Strategy], str] = {
    ("postgres", Strategy.OVERLAP): "PostgreSQL has one password per role: use `strategy: alternate` with two accounts",
    ("redis", Strategy.ALTERNATE): "Redis ACL users hold two passwords at once: use `strategy: overlap`",
    ("aws-iam", Strategy.ALTERNATE): "an IAM user has two key slots: use `strategy: overlap`",
    ("aws-iam", Strategy.REPLACE): "an IAM user has two key slots: use `strategy: overlap`",
    ("manual", Strategy.ALTERNATE): "use `strategy: overlap` if the vendor keeps the old key valid for a while",
    ("app", Strategy.ALTERNATE): "use `strategy: overlap` (e.g. Django SECRET_KEY_FALLBACKS) or `replace`",
}


WRITE_ONLY_TARGETS: dict[str, str] = {
    "github": "GitHub never returns Actions secret values",
    "digitalocean": "App Platform returns SECRET vars encrypted (EV[...]) and cannot decrypt them for us",
    "vercel": "a Vercel var may be `sensitive`, which cannot be read back (only `development` refuses sensitive vars)",
}
"""Target kinds whose values cannot be read back, and why (docs/platform-apis.md)."""


def write_only_reason(target: TargetSpec) -> str | None:
    """Why the values on `target` cannot be read back, or None when they can."""
    if isinstance(target, VercelTargetSpec) and "development" in target.environments:
        return None  # Vercel refuses `sensitive` for development, so these vars stay readable
    return WRITE_ONLY_TARGETS.get(target.kind)


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")

URL_ALLOWED: dict[str, frozenset[str]] = {
    # RFC 3986 userinfo is unreserved / pct-encoded / sub-delims / ":", but `user:password`
    # splits at the first ":" (and some clients split at any), so ":" is refused raw too.
    "userinfo": _UNRESERVED | _SUB_DELIMS,
    "host": _UNRESERVED | _SUB_DELIMS,
    # pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
    "path": _UNRESERVED | _SUB_DELIMS | frozenset(":@"),
    # query = *( pchar / "/" / "?" ), less what separates or rewrites form fields (& ; = +)
    "query": (_UNRESERVED | _SUB_DELIMS | frozenset(":@/?")) - frozenset("&;=+"),
    "fragment": _UNRESERVED | _SUB_DELIMS | frozenset(":@/?"),
}
"""Characters that may stand raw in each part of a URL; any other needs `|url` (RFC 3986)."""

CONNINFO_KEYWORDS = frozenset(
    {
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "options", "sslmode",
        "sslpassword", "sslcert", "sslkey", "sslrootcert", "application_name", "service", "target_session_attrs",
    }
)  # fmt: skip
"""libpq connection keywords: `keyword={field}` in a template is a conninfo value."""

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_GENERATOR_CHARACTERS: dict[str, str] = {
    "token": _B64 + "-_",  # secrets.token_urlsafe
    "jwt-hmac": _B64 + "-_",  # base64url without padding
    "django-secret-key": "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)",  # Django's alphabet
    "ed25519": _B64 + "+/=- \n",  # PEM
    "rsa": _B64 + "+/=- \n",
}
_ISSUER_CHARACTERS: dict[str, str] = {
    "aws-iam": _B64 + "+/",  # secret access keys are base64
}
_SAFE_FIELDS = {"access_key_id": _B64, "kid": "0123456789abcdef", "public_key_sha256": "0123456789abcdef"}

CHECKS: dict[str, tuple[Severity, str]] = {
    "yaml-syntax": ("error", "the file is not valid YAML (the line of the error), or not UTF-8"),
    "unreadable": ("error", "the policy file cannot be read"),
    "empty-policy": ("warning", "a policy file declares no issuers, targets or secrets"),
    "duplicate-key": ("error", "a key appears twice in one mapping (YAML would silently keep the last)"),
    "not-a-mapping": ("error", "the top level is a list or a scalar"),
    "missing-field": ("error", "a required field is absent (including an issuer's or target's `kind`)"),
    "unknown-field": ("error", 'a misspelt or unsupported field, with a "did you mean"'),
    "wrong-type": ("error", "a list where a mapping belongs, a string for a list, ..."),
    "invalid-value": ("error", "a value out of range, a bad pattern, an unknown strategy, a malformed template"),
    "bad-duration": ("error", "a duration such as `90x`"),
    "duration-without-unit": ("error", "a bare number such as `period: 90` (not seconds: write `90d`)"),
    "negative-duration": ("error", "a negative duration (`grace: -1h`)"),
    "duration-not-positive": ("error", "a zero `period`, `restart_timeout` or health check `timeout`"),
    "unknown-issuer-kind": ("error", "`kind: postgress`, with the known kinds"),
    "unknown-target-kind": ("error", "`kind: rendr`, with the known kinds"),
    "unknown-issuer": ("error", "a reference to an issuer no file declares"),
    "unknown-target": ("error", "a reference to a target no file declares"),
    "unknown-component": ("error", "a consumer's `components` entry the DigitalOcean target does not declare"),
    "components-not-digitalocean": ("error", "`components`/`app_level` on a target that is not DigitalOcean"),
    "duplicate-secret": ("error", "the same secret name twice (across files too)"),
    "conflicting-state": ("error", "two policy files declare different `state:` (where rotation state lives)"),
    "duplicate-issuer": ("error", "the same issuer name twice (across files too)"),
    "duplicate-target": ("error", "the same target name twice (across files too)"),
    "duplicate-component": ("error", "the same component twice in one DigitalOcean target"),
    "duplicate-write": ("error", "two consumers write the same env var (and component) of one target"),
    "grace-not-shorter": ("error", "`grace` is not shorter than `period`"),
    "unsupported-strategy": ("error", "the issuer kind cannot do that strategy (table below)"),
    "alternate-accounts": ("error", "`alternate` without two different accounts"),
    "accounts-count": (
        "error",
        "a single-account strategy without exactly one account, or accounts on an issuer with none",
    ),
    "alternate-username": ("error", "`alternate` but no consumer on a target gets `{username}`"),
    "replace-needs-accept": ("error", "`replace` without `accept_downtime: true`"),
    "template-field": ("error", "a template field the issuer does not provide (`{username}` with an `app` issuer)"),
    "unknown-filter": ("error", "a template filter that does not exist (`{password|base64}`), with the known ones"),
    "unescaped-url": (
        "error",
        "a field placed raw in a URL while its value may hold a character reserved there: use `|url`",
    ),
    "unescaped-conninfo": (
        "error",
        "a field placed raw in a conninfo string (`password={password}`) while its value may hold a space,"
        " `'` or `\\`: use `|conninfo`",
    ),
    "generator-mismatch": ("error", "generator `issuer` for an issuer that does not mint values"),
    "generator-classes": ("error", "a password generator with no character class"),
    "generator-bits": ("error", "an RSA key size out of range"),
    "forbidden-env-name": ("error", "an env var name the platform refuses (table below)"),
    "worker-missing-secret": ("error", "a DigitalOcean worker or job needs an env var no consumer writes at its level"),
    "bad-env-reference": (
        "error",
        "`admin_dsn_env`/`admin_url_env`/`token_env` holds something that is not a variable name",
    ),
    "render-service": ("error", "a Render target without exactly one of `service_id` and `env_group_id`"),
    "write-only-unverified": (
        "error",
        "a consumer on a write-only target with no health check and no `verify: accept-unverified`",
    ),
    "zero-grace": ("warning", "`grace: 0s`: the previous value is revoked as soon as consumers switch"),
    "zero-drain": ("warning", "`drain: 0s` while a `.env` consumer has no restart command"),
    "missing-target-file": (
        "error",
        "a `.env` target's file does not exist (no `create: true`), with the nearest file name",
    ),
    "missing-target-directory": ("error", "a `.env` target's directory does not exist (no `create: true`)"),
    "target-not-a-file": ("error", "a `.env` target's path is a directory"),
    "target-unreadable": ("error", "a `.env` target's file cannot be read"),
    "missing-target-key": (
        "error",
        "a consumer's env var is not in its `.env` file (no `new: true`), with the nearest key",
    ),
    "to-fill-in": (
        "error",
        "a `<FILL-IN: ...>` placeholder left by `secretops discover`; `policy check --draft` counts them instead",
    ),
}
"""Every problem `code` that `policy check` reports, its severity and what it means (docs)."""


def value_characters(
    secret: SecretSpec, issuer_kind: str | None, field_name: str = "value"
) -> tuple[frozenset[str] | None, str]:
    """The characters template field `field_name` may hold (None: any), and what says so.

    The second item names the policy field responsible, for messages: `generator.symbols`,
    `generator kind django-secret-key`, `accounts`, ...
    """
    if field_name in ("username", "user"):
        return frozenset("".join(secret.accounts)), "accounts"
    if field_name in _SAFE_FIELDS:
        return frozenset(_SAFE_FIELDS[field_name]), field_name
    if field_name == "public_key":
        return frozenset(_GENERATOR_CHARACTERS["rsa"]), f"generator kind {secret.generator.kind}"
    gen = secret.generator
    if gen.kind == "password":
        return _password_characters(gen), "generator.symbols" if gen.symbols else "generator"
    if gen.kind in _GENERATOR_CHARACTERS:
        return frozenset(_GENERATOR_CHARACTERS[gen.kind]), f"generator kind {gen.kind}"
    if issuer_kind in _ISSUER_CHARACTERS:
        return frozenset(_ISSUER_CHARACTERS[issuer_kind]), f"the {issuer_kind} issuer"
    return None, f"the {issuer_kind or 'issuer'} issuer (it mints the value)"


def _password_characters(gen: GeneratorSpec) -> frozenset[str]:
    chars = ""
    if gen.lowercase:
        chars += "abcdefghijklmnopqrstuvwxyz"
    if gen.uppercase:
        chars += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if gen.digits:
        chars += "0123456789"
    chars += gen.symbols
    return frozenset(c for c in chars if c not in gen.exclude)


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _known(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none declared"


# ---------------------------------------------------------------- the checks


def check_inventory(
    issuers: Sequence[Located[IssuerSpec]],
    targets: Sequence[Located[TargetSpec]],
    secrets: Sequence[Located[SecretSpec]],
    *,
    broken_issuers: Set[str] = frozenset(),
    broken_targets: Set[str] = frozenset(),
    secrets_complete: bool = True,
) -> list[Problem]:
    """Every whole-inventory problem among the valid entries.

    `broken_issuers`/`broken_targets` are names declared but invalid (already reported): a
    reference to one is not reported again. `secrets_complete` is False when some secret failed
    validation, so "no secret writes X" cannot be concluded.
    """
    problems: list[Problem] = []
    issuer_by_name = _first_by_name(issuers, "issuer", problems)
    target_by_name = _first_by_name(targets, "target", problems)
    _first_by_name(secrets, "secret", problems)
    for issuer in issuers:
        problems.extend(_check_issuer(issuer))
    for target in targets:
        problems.extend(_check_target(target))
    for secret in secrets:
        problems.extend(_check_secret(secret, issuer_by_name, target_by_name, broken_issuers, broken_targets))
    problems.extend(_check_duplicate_writes(secrets, target_by_name))
    problems.extend(_check_do_components(secrets, target_by_name, secrets_complete))
    for secret in secrets:
        found = issuer_by_name.get(secret.spec.issuer)
        problems.extend(_check_escaping(secret, found.spec.kind if found is not None else None))
        problems.extend(_check_write_only(secret, target_by_name))
        problems.extend(_check_revoke_risks(secret, target_by_name))
    return problems


def _first_by_name(entries: Sequence[Located[T]], what: str, problems: list[Problem]) -> dict[str, Located[T]]:
    first: dict[str, Located[T]] = {}
    for entry in entries:
        seen = first.get(entry.name)
        if seen is None:
            first[entry.name] = entry
            continue
        sub: tuple[str | int, ...] = ("name",) if what == "secret" else ()
        problems.append(
            entry.problem(
                sub,
                f"duplicate {what} name '{entry.name}' (first declared at {seen.file}:{seen.line()})",
                f"{what} names are global across policy files: rename one of them",
                f"duplicate-{what}",
            )
        )
    return first


def _check_issuer(issuer: Located[IssuerSpec]) -> list[Problem]:
    spec = issuer.spec
    problems: list[Problem] = []
    env_field: str | None = None
    if isinstance(spec, PostgresIssuerSpec | MysqlIssuerSpec):
        env_field = "admin_dsn_env"
    elif isinstance(spec, RedisIssuerSpec):
        env_field = "admin_url_env"
    if env_field is not None:
        name = getattr(spec, env_field)
        if not ENV_NAME.fullmatch(name):
            problems.append(
                issuer.problem(
                    (env_field,),
                    f"{env_field} must name an environment variable (letters, digits, underscores)",
                    "give the variable's name (e.g. NEON_ADMIN_DSN), never the connection string itself",
                    "bad-env-reference",
                )
            )
    return problems


def _check_target(target: Located[TargetSpec]) -> list[Problem]:
    spec = target.spec
    problems: list[Problem] = []
    token_env = getattr(spec, "token_env", None)
    if isinstance(token_env, str) and not ENV_NAME.fullmatch(token_env):
        problems.append(
            target.problem(
                ("token_env",),
                "token_env must name an environment variable (letters, digits, underscores)",
                "give the variable's name (e.g. RENDER_API_KEY), never the token itself",
                "bad-env-reference",
            )
        )
    if isinstance(spec, DigitalOceanTargetSpec):
        seen: dict[str, int] = {}
        rule = ENV_NAME_RULES["digitalocean"]
        for ci, comp in enumerate(spec.components):
            if comp.name in seen:
                problems.append(
                    target.problem(
                        ("components", ci, "name"),
                        f"duplicate component '{comp.name}'",
                        "each App Platform component is listed once",
                        "duplicate-component",
                    )
                )
            seen.setdefault(comp.name, ci)
            for ei, env in enumerate(comp.env):
                why = rule.violation(env)
                if why:
                    problems.append(
                        target.problem(
                            ("components", ci, "env", ei),
                            f"env var name '{env}' {why} on digitalocean",
                            f"rename it; see {rule.source}",
                            "forbidden-env-name",
                        )
                    )
    return problems


def _check_secret(
    secret: Located[SecretSpec],
    issuers: Mapping[str, Located[IssuerSpec]],
    targets: Mapping[str, Located[TargetSpec]],
    broken_issuers: Set[str],
    broken_targets: Set[str],
) -> list[Problem]:
    spec = secret.spec
    problems: list[Problem] = []
    issuer = issuers.get(spec.issuer)
    if issuer is None and spec.issuer not in broken_issuers:
        guess = _suggest(spec.issuer, issuers)
        problems.append(
            secret.problem(
                ("issuer",),
                f"unknown issuer '{spec.issuer}' (declared: {_known(issuers)})",
                f"did you mean '{guess}'?" if guess else "declare it under `issuers:` in any policy file",
                "unknown-issuer",
            )
        )
    if issuer is not None:
        problems.extend(_check_issuer_fit(secret, issuer.spec))
    for ci, consumer in enumerate(spec.consumers):
        target = targets.get(consumer.target)
        if target is None:
            if consumer.target not in broken_targets:
                guess = _suggest(consumer.target, targets)
                problems.append(
                    secret.problem(
                        ("consumers", ci, "target"),
                        f"unknown target '{consumer.target}' (declared: {_known(targets)})",
                        f"did you mean '{guess}'?" if guess else "declare it under `targets:` in any policy file",
                        "unknown-target",
                    )
                )
            continue
        problems.extend(_check_consumer(secret, ci, consumer, target))
    return problems


def _check_issuer_fit(secret: Located[SecretSpec], issuer: IssuerSpec) -> list[Problem]:
    spec = secret.spec
    kind = issuer.kind
    problems: list[Problem] = []
    supported = STRATEGIES[kind]
    if spec.strategy not in supported:
        default = "" if "strategy" in spec.model_fields_set else " (the default)"
        problems.append(
            secret.problem(
                ("strategy",),
                f"strategy {spec.strategy.value}{default} is not supported by {kind} issuers "
                f"(supported: {', '.join(s.value for s in supported)})",
                _STRATEGY_HINTS.get((kind, spec.strategy), f"use one of: {', '.join(s.value for s in supported)}"),
                "unsupported-strategy",
            )
        )
    account = ACCOUNT_ISSUERS.get(kind)
    if spec.strategy is Strategy.ALTERNATE and len(spec.accounts) == 2 and spec.accounts[0] == spec.accounts[1]:
        problems.append(
            secret.problem(
                ("accounts",),
                f"strategy alternate needs two different accounts, got '{spec.accounts[0]}' twice",
                "name two login roles that take turns, e.g. [app_a, app_b]",
                "alternate-accounts",
            )
        )
    elif account is not None and spec.strategy is not Strategy.ALTERNATE and len(spec.accounts) != 1:
        problems.append(
            secret.problem(
                ("accounts",),
                f"{_article(kind)} {kind} secret with strategy {spec.strategy.value} names exactly one {account} "
                f"in `accounts`, got {len(spec.accounts)}",
                f"write `accounts: [<{account}>]`",
                "accounts-count",
            )
        )
    elif account is None and spec.accounts:
        problems.append(
            secret.problem(
                ("accounts",),
                f"{_article(kind)} {kind} issuer has no accounts, but `accounts` lists {len(spec.accounts)}",
                "remove `accounts`",
                "accounts-count",
            )
        )
    if spec.generator.kind == "issuer" and kind not in ("aws-iam", "manual"):
        problems.append(
            secret.problem(
                ("generator", "kind"),
                f"{_article(kind)} {kind} issuer does not mint values: generator kind 'issuer' is only for aws-iam "
                "and manual",
                "use a generator such as {kind: password, length: 32}",
                "generator-mismatch",
            )
        )
    provided = (
        set(COMMON_TEMPLATE_FIELDS)
        | set(TEMPLATE_FIELDS[kind])
        | set(GENERATOR_TEMPLATE_FIELDS.get(spec.generator.kind, ()))
    )
    alternate_targets: dict[str, bool] = {}
    for ci, consumer in enumerate(spec.consumers):
        used = consumer.rendered().fields
        missing = sorted(used - provided)
        if missing:
            names = ", ".join(f"{{{m}}}" for m in missing)
            problems.append(
                secret.problem(
                    ("consumers", ci, "template"),
                    f"template uses {names}, but {_article(kind)} {kind} issuer provides only "
                    f"{', '.join('{' + p + '}' for p in sorted(provided))}",
                    "write the fixed parts literally, or pick the issuer that records this field",
                    "template-field",
                )
            )
        if spec.strategy is Strategy.ALTERNATE:
            alternate_targets[consumer.target] = alternate_targets.get(consumer.target, False) or ("username" in used)
    for target_name, has_username in alternate_targets.items():
        if has_username:
            continue
        ci = next(i for i, c in enumerate(spec.consumers) if c.target == target_name)
        problems.append(
            secret.problem(
                ("consumers", ci, "template"),
                f"strategy alternate switches between accounts {' and '.join(spec.accounts) or '(none)'}, "
                f"but no consumer on target '{target_name}' gets {{username}}",
                "build the value with {username}, e.g. postgresql://{username}:{password|url}@host/db, "
                "or add a consumer with template '{username}'",
                "alternate-username",
            )
        )
    return problems


def _check_consumer(
    secret: Located[SecretSpec], ci: int, consumer: ConsumerSpec, target: Located[TargetSpec]
) -> list[Problem]:
    problems: list[Problem] = []
    kind = target.spec.kind
    rule = ENV_NAME_RULES[kind]
    why = rule.violation(consumer.env)
    if why:
        problems.append(
            secret.problem(
                ("consumers", ci, "env"),
                f"env var name '{consumer.env}' {why} on {kind} (target '{target.name}')",
                f"rename it; see {rule.source}",
                "forbidden-env-name",
            )
        )
    spec = target.spec
    if isinstance(spec, DigitalOceanTargetSpec):
        declared = [c.name for c in spec.components]
        for pi, name in enumerate(consumer.components):
            if name not in declared:
                guess = _suggest(name, declared)
                problems.append(
                    secret.problem(
                        ("consumers", ci, "components", pi),
                        f"unknown component '{name}' on digitalocean target '{target.name}' "
                        f"(declared: {_known(declared)})",
                        f"did you mean '{guess}'?" if guess else f"declare it under targets.{target.name}.components",
                        "unknown-component",
                    )
                )
    elif consumer.components or consumer.app_level:
        which = "components" if consumer.components else "app_level"
        problems.append(
            secret.problem(
                ("consumers", ci, which),
                f"`{which}` only applies to digitalocean targets; '{target.name}' is a {kind} target",
                "remove it (on Render, a worker is its own service: declare it as another target)",
                "components-not-digitalocean",
            )
        )
    return problems


def _slots(consumer: ConsumerSpec, target: TargetSpec) -> list[str]:
    if not isinstance(target, DigitalOceanTargetSpec):
        return [""]
    slots = list(consumer.components)
    if consumer.app_level or not consumer.components:
        slots.append("(app level)")
    return slots


def _check_duplicate_writes(
    secrets: Sequence[Located[SecretSpec]], targets: Mapping[str, Located[TargetSpec]]
) -> list[Problem]:
    problems: list[Problem] = []
    writers: dict[tuple[str, str, str], tuple[Located[SecretSpec], int]] = {}
    for secret in secrets:
        for ci, consumer in enumerate(secret.spec.consumers):
            target = targets.get(consumer.target)
            if target is None:
                continue
            for slot in _slots(consumer, target.spec):
                key = (consumer.target, consumer.env, slot)
                first = writers.get(key)
                if first is None:
                    writers[key] = (secret, ci)
                    continue
                other, oci = first
                where = f" component {slot}" if slot else ""
                problems.append(
                    secret.problem(
                        ("consumers", ci, "env"),
                        f"{consumer.env} on target '{consumer.target}'{where} is also written by secret "
                        f"'{other.name}' ({other.file}:{other.line('consumers', oci)})",
                        "one env var has one source: remove one consumer or rename the variable",
                        "duplicate-write",
                    )
                )
                break
    return problems


def _check_do_components(
    secrets: Sequence[Located[SecretSpec]],
    targets: Mapping[str, Located[TargetSpec]],
    secrets_complete: bool,
) -> list[Problem]:
    """DigitalOcean workers and jobs only see env vars written at their own component level."""
    problems: list[Problem] = []
    for target in targets.values():
        spec = target.spec
        if not isinstance(spec, DigitalOceanTargetSpec):
            continue
        writes = [
            (secret, ci, consumer)
            for secret in secrets
            for ci, consumer in enumerate(secret.spec.consumers)
            if consumer.target == target.name
        ]
        for comp_i, comp in enumerate(spec.components):
            if comp.type not in ("worker", "job"):
                continue
            for ei, env in enumerate(comp.env):
                same = [w for w in writes if w[2].env == env]
                if any(comp.name in consumer.components for _, _, consumer in same):
                    continue
                if same:
                    secret, ci, consumer = same[0]
                    sub: tuple[str | int, ...] = ("consumers", ci, "components" if consumer.components else "env")
                    problems.append(
                        secret.problem(
                            sub,
                            f"{comp.type} '{comp.name}' on digitalocean target '{target.name}' needs {env}, but this "
                            f"consumer does not write it at {comp.type} level: DigitalOcean does not pass app-level "
                            f"SECRET vars to {comp.type}s",
                            f"add `components: [{', '.join([*consumer.components, comp.name])}]` to the consumer",
                            "worker-missing-secret",
                        )
                    )
                elif secrets_complete:
                    problems.append(
                        target.problem(
                            ("components", comp_i, "env", ei),
                            f"{comp.type} '{comp.name}' needs {env}, but no secret writes it",
                            f"add a consumer `{{target: {target.name}, env: {env}, components: [{comp.name}]}}` "
                            "to the secret that holds it, or remove it from the component's env",
                            "worker-missing-secret",
                        )
                    )
    return problems


# ---------------------------------------------------------------- escaping (URLs, conninfo)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_CONNINFO_KEY = re.compile(r"(?:^|[\s'])([A-Za-z_]+)\s*=\s*(')?$")


def _flatten(text: str) -> str:
    """Literal text of a template fragment, each placeholder as one neutral character."""

    def one(m: re.Match[str]) -> str:
        return m.group(0)[0] if m.group(0) in ("{{", "}}") else "x"

    return re.sub(r"\{\{|\}\}|\{[A-Za-z_][A-Za-z0-9_]*(?:\|[A-Za-z0-9_-]+)?\}", one, text)


def _url_part(before: str, after: str) -> tuple[str, str] | None:
    """(scheme, part of the URL) a placeholder sits in, or None when it is not in a URL."""
    found = None
    for m in _SCHEME.finditer(before):
        found = m
    if found is None or re.search(r"\s", before[found.end() :]):
        return None
    scheme = found.group(0)[:-3]
    rest = before[found.end() :]
    if "#" in rest:
        return scheme, "fragment"
    if "?" in rest:
        return scheme, "query"
    if "/" in rest:
        return scheme, "path"
    if "@" in rest:
        return scheme, "host"
    authority_tail = re.split(r"[/?#\s]", after, maxsplit=1)[0]
    return scheme, "userinfo" if "@" in authority_tail else "host"


def _shown(chars: Iterable[str]) -> str:
    names = {" ": "space", "\n": "newline", "\t": "tab"}
    listed = sorted(chars)
    out = ", ".join(names.get(c, f"`{c}`") if c != "`" else "a backquote" for c in listed[:12])
    return out + (f" and {len(listed) - 12} more" if len(listed) > 12 else "")


def _with_filter(template: str, ph: Placeholder, flt: str, *, drop_quotes: bool = False) -> str:
    start, end = ph.start, ph.end
    if drop_quotes and template[start - 1 : start] == "'" and template[end : end + 1] == "'":
        start, end = start - 1, end + 1
    return template[:start] + "{" + ph.name + "|" + flt + "}" + template[end:]


def _check_escaping(secret: Located[SecretSpec], issuer_kind: str | None) -> list[Problem]:
    """A field placed raw where its value's characters would change how the string parses."""
    problems: list[Problem] = []
    for ci, consumer in enumerate(secret.spec.consumers):
        source = consumer.template
        for ph in Template(source).placeholders():
            before, after = _flatten(source[: ph.start]), _flatten(source[ph.end :])
            url = _url_part(before, after)
            if url is not None:
                problem = _url_problem(secret, ci, ph, source, url, issuer_kind)
            else:
                problem = _conninfo_problem(secret, ci, ph, source, before, issuer_kind)
            if problem is not None:
                problems.append(problem)
    return problems


def _risky(secret: SecretSpec, issuer_kind: str | None, ph: Placeholder, allowed: Set[str]) -> tuple[str, str] | None:
    """(what may appear, who says so) when `ph`'s value may hold a character outside `allowed`."""
    chars, source = value_characters(secret, issuer_kind, ph.field)
    if chars is None:
        return "any character", source
    bad = chars - allowed
    if not bad:
        return None
    return _shown(bad), source


_MISREAD = {
    "userinfo": "another host, user or password (a raw `@` or `/` moves part of the password into the host)",
    "host": "another host or port",
    "path": "another path (database name)",
    "query": "other parameters",
    "fragment": "a shorter value",
}


def _url_problem(
    secret: Located[SecretSpec],
    ci: int,
    ph: Placeholder,
    source: str,
    url: tuple[str, str],
    issuer_kind: str | None,
) -> Problem | None:
    scheme, part = url
    if ph.filter == "url":
        return None
    sub = ("consumers", ci, "template")
    fixed = _with_filter(source, ph, "url")
    if ph.filter is not None:
        return secret.problem(
            sub,
            f"{ph} sits in the {part} of a {scheme}:// URL, but |{ph.filter} is not URL escaping",
            f"write {{{ph.name}|url}}: {fixed}",
            "unescaped-url",
        )
    chars, _ = value_characters(secret.spec, issuer_kind, ph.field)
    if chars is None and part != "userinfo":
        return None  # an issuer-minted value in a path may be meant as one (a webhook's `T0/B0/x`)
    risky = _risky(secret.spec, issuer_kind, ph, URL_ALLOWED[part])
    if risky is None:
        return None
    what, who = risky
    return secret.problem(
        sub,
        f"{ph} sits in the {part} of a {scheme}:// URL without |url, and {who} may put {what} there: "
        f"the app's client would read {_MISREAD[part]}",
        f"write {{{ph.name}|url}}: {fixed}",
        "unescaped-url",
    )


def _conninfo_problem(
    secret: Located[SecretSpec], ci: int, ph: Placeholder, source: str, before: str, issuer_kind: str | None
) -> Problem | None:
    m = _CONNINFO_KEY.search(before)
    if m is None or m.group(1) not in CONNINFO_KEYWORDS or ph.filter == "conninfo":
        return None
    quoted = m.group(2) is not None
    sub = ("consumers", ci, "template")
    fixed = _with_filter(source, ph, "conninfo", drop_quotes=quoted)
    keyword = f"`{m.group(1)}=`"
    if ph.filter is not None:
        return secret.problem(
            sub,
            f"{ph} is the value of {keyword} in a conninfo string, but |{ph.filter} is not conninfo quoting",
            f"write {m.group(1)}={{{ph.name}|conninfo}} (it adds the quotes): {fixed}",
            "unescaped-conninfo",
        )
    allowed = frozenset(chr(c) for c in range(33, 127)) - frozenset("'\\")
    if quoted:
        allowed |= frozenset(" \t")
    risky = _risky(secret.spec, issuer_kind, ph, allowed)
    if risky is None:
        return None
    what, who = risky
    return secret.problem(
        sub,
        f"{ph} is the value of {keyword} in a conninfo string without |conninfo, and {who} may put {what} there: "
        "libpq would cut or misread the value",
        f"write {m.group(1)}={{{ph.name}|conninfo}} (it adds the quotes): {fixed}",
        "unescaped-conninfo",
    )


# ---------------------------------------------------------------- write-only targets, revoke risks


def _check_write_only(secret: Located[SecretSpec], targets: Mapping[str, Located[TargetSpec]]) -> list[Problem]:
    problems: list[Problem] = []
    for ci, consumer in enumerate(secret.spec.consumers):
        target = targets.get(consumer.target)
        if target is None or consumer.verify == "accept-unverified":
            continue
        why = write_only_reason(target.spec)
        # The consumer's own check: a secret-level `verify.health` may watch another app entirely, and the
        # revoke (rotate/revoke_rules.py) accepts only this consumer's `health` or `accept-unverified`.
        if why is None or consumer.health is not None:
            continue
        problems.append(
            secret.problem(
                ("consumers", ci, "health"),
                f"{consumer.env} on target '{target.name}' cannot be read back: {why}; and no health check watches "
                "the app, so a wrong value there is found only after the old one is revoked, when the app is down",
                "add `health: {url: https://<app>/health}` to this consumer (the app that reads it), "
                "or write `verify: accept-unverified` on the consumer to take that risk",
                "write-only-unverified",
            )
        )
    return problems


def _unrestarted(secret: SecretSpec, targets: Mapping[str, Located[TargetSpec]]) -> list[str]:
    names: list[str] = []
    for consumer in secret.consumers:
        target = targets.get(consumer.target)
        spec = None if target is None else target.spec
        if isinstance(spec, DotenvTargetSpec) and not spec.restart and consumer.target not in names:
            names.append(consumer.target)
    return names


def _check_revoke_risks(secret: Located[SecretSpec], targets: Mapping[str, Located[TargetSpec]]) -> list[Problem]:
    """Warnings: `grace: 0s` and `drain: 0s` stay allowed, but say what they risk."""
    spec = secret.spec
    problems: list[Problem] = []
    if spec.grace == timedelta(0) and spec.strategy is not Strategy.REPLACE and spec.consumers:
        problems.append(
            secret.problem(
                ("grace",),
                "grace 0s: the previous value is revoked as soon as every consumer is switched; a client that read "
                "it just before (a pooled connection, a process re-reading its .env) fails its next login",
                "keep a grace of some minutes (the default is 1h) unless the old value must stop working at once",
                "zero-grace",
                "warning",
            )
        )
    unrestarted = _unrestarted(spec, targets)
    if spec.drain == timedelta(0) and unrestarted and spec.strategy is not Strategy.REPLACE:
        problems.append(
            secret.problem(
                ("drain",),
                f"drain 0s: nothing restarts the readers of {', '.join(unrestarted)} (a .env with no `restart`), and "
                "the revoke does not wait for them to re-read it: a process holding the old value is cut off",
                "keep a drain longer than the time your app takes to re-read its .env (the default is 10s), "
                "or give the target a `restart` command",
                "zero-drain",
                "warning",
            )
        )
    return problems


# ---------------------------------------------------------------- files on this machine


def check_local_targets(
    targets: Sequence[Located[TargetSpec]],
    secrets: Sequence[Located[SecretSpec]],
    *,
    base_dir: Path | None = None,
) -> list[Problem]:
    """`.env` targets that do not exist here (unless `create: true`), and keys they lack (unless `new: true`).

    A relative `path` resolves against `base_dir` (default: the working directory), the same
    way `secretops rotate` resolves it. Reads key names only, never values.
    """
    from secretops.targets.dotenv import inspect_dotenv, resolve_path

    problems: list[Problem] = []
    seen: set[str] = set()
    keys: dict[str, frozenset[str]] = {}
    for target in targets:
        spec = target.spec
        if not isinstance(spec, DotenvTargetSpec) or target.name in seen:
            continue
        seen.add(target.name)
        path = resolve_path(spec, base_dir)
        state = inspect_dotenv(path)
        if state.keys is not None:
            keys[target.name] = state.keys
            continue
        if spec.create and state.problem in ("missing-file", "missing-directory"):
            continue
        relative = not Path(spec.path).expanduser().is_absolute()
        resolved = (
            f" (`{spec.path}` is relative: it resolves against the working directory, "
            f"{base_dir if base_dir is not None else Path.cwd()}, as `secretops rotate` resolves it)"
            if relative
            else ""
        )
        code = {
            "missing-file": "missing-target-file",
            "missing-directory": "missing-target-directory",
            "not-a-file": "target-not-a-file",
        }.get(state.problem or "", "target-unreadable")
        hint = "fix `path`" + (f" (did you mean {state.suggestion}?)" if state.suggestion else "")
        if code in ("missing-target-file", "missing-target-directory"):
            hint += (
                ", or set `create: true` if the first rotation should create the file: otherwise a rotation would "
                "write a file no app reads, then revoke the value the app still uses"
            )
        problems.append(target.problem(("path",), f"{state.detail}{resolved}", hint, code))
    for secret in secrets:
        for ci, consumer in enumerate(secret.spec.consumers):
            held = keys.get(consumer.target)
            if held is None or consumer.new or consumer.env in held:
                continue
            guess = _suggest(consumer.env, held)
            target_spec = next(t.spec for t in targets if t.name == consumer.target)
            assert isinstance(target_spec, DotenvTargetSpec)
            where = resolve_path(target_spec, base_dir)
            problems.append(
                secret.problem(
                    ("consumers", ci, "env"),
                    f"{consumer.env} is not set in {where} (target '{consumer.target}')"
                    + (f"; did you mean {guess}?" if guess else ""),
                    "fix `env`: the app keeps reading the variable it has, which the rotation would revoke; "
                    "or set `new: true` on the consumer if the first rotation should add it",
                    "missing-target-key",
                )
            )
    return problems


# ---------------------------------------------------------------- draft placeholders (secretops discover)

PLACEHOLDER_PREFIX = "<FILL-IN:"
PLACEHOLDER = re.compile(r"<FILL-IN:\s*([^<>]*?)\s*>")
"""What `secretops discover` writes where it cannot know a value: `<FILL-IN: admin DSN env var>`."""


def check_placeholders(file: Path, data: Any, lines: LineMap) -> list[Problem]:
    """A `to-fill-in` problem for every placeholder in a policy file's data, with its line and field."""
    problems: list[Problem] = []
    stack: list[tuple[YamlPath, Any]] = [((), data)]
    seen: set[int] = set()  # a recursive YAML alias (`&a [*a]`) would otherwise loop forever
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            stack.extend(((*path, str(k)), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            for m in PLACEHOLDER.finditer(node):
                problems.append(
                    Problem(
                        file,
                        lines.line(path),
                        format_path(path),
                        f"to fill in: {m.group(1)}",
                        "replace the placeholder (the comment above it says where to find the value)",
                        "to-fill-in",
                    )
                )
    return problems


def stand_in_placeholders(data: Any) -> Any:
    """`data` with each placeholder replaced by a distinct stand-in (`FILL_IN_1`, ...).

    The rest of a draft is then validated as usual: a placeholder written where a pattern is
    checked (`https://<FILL-IN: app host>/health`, `<FILL-IN: owner>/<FILL-IN: repository>`)
    leaves a value of the right shape, and two placeholder accounts stay two different ones.
    """
    count = 0

    def one(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"FILL_IN_{count}"

    inside: set[int] = set()  # containers on the current path: a recursive alias is left as it is

    def walk(node: Any) -> Any:
        if isinstance(node, dict | list):
            if id(node) in inside:
                return node
            inside.add(id(node))
            try:
                if isinstance(node, dict):
                    return {k: walk(v) for k, v in node.items()}
                return [walk(v) for v in node]
            finally:
                inside.discard(id(node))
        if isinstance(node, str) and PLACEHOLDER_PREFIX in node:
            return PLACEHOLDER.sub(one, node)
        return node

    return walk(data)


def without_placeholder_noise(problems: Sequence[Problem], placeholders: Sequence[Problem]) -> list[Problem]:
    """`problems` less those a placeholder causes: on its line, or on its field or one inside it.

    A placeholder is not a valid repository name, env var name or URL, so the field it stands in
    also fails its own check; that failure says nothing the `to-fill-in` problem does not.
    """
    lines = {(p.file, p.line) for p in placeholders}
    fields = {(p.file, p.field) for p in placeholders}

    def caused(problem: Problem) -> bool:
        if (problem.file, problem.line) in lines:
            return True
        return any(
            f == problem.file and (problem.field == name or problem.field.startswith((name + ".", name + "[")))
            for f, name in fields
        )

    return [p for p in problems if p.code == "to-fill-in" or not caused(p)]
