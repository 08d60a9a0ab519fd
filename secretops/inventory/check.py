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
  and jobs, which do not receive app-level SECRET vars (docs/platform-apis.md, section 1).

The tables are data, so `docs/policies.md` is rendered from them (`secretops.inventory.docs`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from secretops.inventory.models import (
    ENV_NAME,
    ConsumerSpec,
    DigitalOceanTargetSpec,
    IssuerSpec,
    MysqlIssuerSpec,
    PostgresIssuerSpec,
    RedisIssuerSpec,
    SecretSpec,
    Strategy,
    TargetSpec,
)

__all__ = [
    "ACCOUNT_ISSUERS",
    "ENV_NAME_RULES",
    "GENERATOR_TEMPLATE_FIELDS",
    "STRATEGIES",
    "TEMPLATE_FIELDS",
    "EnvNameRule",
    "LineMap",
    "Located",
    "Problem",
    "YamlPath",
    "check_inventory",
    "format_path",
]

YamlPath = tuple[str | int, ...]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a policy file: where it is, which field, what is wrong, what to do.

    `code` is a stable kebab-case id of the kind of mistake (`unknown-target-kind`,
    `duplicate-secret`, ...), for JSON output and tests. No message carries a secret value.
    """

    file: Path
    line: int | None
    field: str
    message: str
    hint: str | None = None
    code: str = "invalid"

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

    def problem(self, sub: tuple[str | int, ...], message: str, hint: str | None, code: str) -> Problem:
        """A `Problem` at a field of this entry."""
        return Problem(self.file, self.line(*sub), self.field(*sub), message, hint, code)


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
