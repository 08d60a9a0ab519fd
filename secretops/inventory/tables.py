"""The tables the inventory checks apply, as data: strategies, template fields, platform env names, escaping.

`secretops.inventory.check` and `secretops.inventory.escaping` read them; `docs/policies.md`
is rendered from them (`secretops.inventory.docs`), so the reference cannot drift from the
checks. `CHECKS` lists every problem `code` `policy check` reports, with its severity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from secretops.inventory.models import (
    ENV_NAME,
    GeneratorSpec,
    SecretSpec,
    Strategy,
    TargetSpec,
    VercelTargetSpec,
)
from secretops.inventory.problems import Severity

__all__ = [
    "ACCOUNT_ISSUERS",
    "CHECKS",
    "COMMON_TEMPLATE_FIELDS",
    "CONNINFO_KEYWORDS",
    "ENV_NAME_RULES",
    "GENERATOR_TEMPLATE_FIELDS",
    "STRATEGIES",
    "STRATEGY_HINTS",
    "TEMPLATE_FIELDS",
    "URL_ALLOWED",
    "WRITE_ONLY_TARGETS",
    "EnvNameRule",
    "value_characters",
    "write_only_reason",
]

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

STRATEGY_HINTS: dict[tuple[str, Strategy], str] = {
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
