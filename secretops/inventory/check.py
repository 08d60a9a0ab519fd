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
- escaping (`secretops.inventory.escaping`): a value placed raw in a URL or a libpq conninfo
  string while its generator can emit a character reserved there (`URL_ALLOWED`, `value_characters`);
- write-only targets (`WRITE_ONLY_TARGETS`): a consumer there needs a health check, or
  `verify: accept-unverified`;
- risks that stay allowed, as warnings: `grace: 0s`, `drain: 0s` with a `.env` nothing restarts.

The rest of the inventory checks live beside this module: `problems` (`Problem`, `LineMap`,
`Located`), `tables` (the tables above as data, so `docs/policies.md` is rendered from them by
`secretops.inventory.docs`; `CHECKS` lists every problem `code` with its severity),
`local_targets` (`check_local_targets`, the part that reads this machine's disk: every `.env`
target must exist, unless `create: true`, and hold each consumer's key, unless `new: true`;
`policy check` runs it, `collect(..., local_targets=False)` skips it) and `fill_in` (the
`<FILL-IN: ...>` placeholders of a `secretops discover` draft).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import timedelta
from typing import TypeVar

from secretops.inventory.escaping import check_escaping
from secretops.inventory.models import (
    ENV_NAME,
    ConsumerSpec,
    DigitalOceanTargetSpec,
    DotenvTargetSpec,
    IssuerSpec,
    MysqlIssuerSpec,
    PostgresIssuerSpec,
    RedisIssuerSpec,
    SecretSpec,
    Strategy,
    TargetSpec,
)
from secretops.inventory.problems import Located, Problem, suggest
from secretops.inventory.tables import (
    ACCOUNT_ISSUERS,
    COMMON_TEMPLATE_FIELDS,
    ENV_NAME_RULES,
    GENERATOR_TEMPLATE_FIELDS,
    STRATEGIES,
    STRATEGY_HINTS,
    TEMPLATE_FIELDS,
    WRITE_ONLY_TARGETS,
    write_only_reason,
)

# `WRITE_ONLY_TARGETS` is documented here (above) and `secretops.targets.presence` imports it from here.
__all__ = ["WRITE_ONLY_TARGETS", "check_inventory"]

T = TypeVar("T")


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
        problems.extend(check_escaping(secret, found.spec.kind if found is not None else None))
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
        guess = suggest(spec.issuer, issuers)
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
                guess = suggest(consumer.target, targets)
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
                STRATEGY_HINTS.get((kind, spec.strategy), f"use one of: {', '.join(s.value for s in supported)}"),
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
                guess = suggest(name, declared)
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
