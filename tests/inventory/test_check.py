"""Whole-inventory checks: references, duplicates, issuer fit, platform env names, DO workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.inventory.loader import collect
from secretops.inventory.models import Strategy
from secretops.inventory.problems import Problem, format_path
from secretops.inventory.tables import ENV_NAME_RULES, STRATEGIES, TEMPLATE_FIELDS


def _problems(tmp_path: Path, text: str) -> list[Problem]:
    (tmp_path / "p.yaml").write_text(text)
    return collect(tmp_path)[1]


def _consumer_policy(target: str, env: str) -> str:
    return f"""\
issuers:
  app: {{kind: app}}
targets:
  t: {target}
secrets:
  - name: a/key
    kind: k
    issuer: app
    consumers:
      - {{target: t, env: "{env}", verify: accept-unverified}}
"""


@pytest.mark.parametrize(
    ("target", "env", "why"),
    [
        ("{kind: github, repo: a/b}", "GITHUB_PAT", "must not start with GITHUB_"),
        ("{kind: github, repo: a/b}", "github_token", "must not start with GITHUB_"),
        ("{kind: github, repo: a/b}", "1TOKEN", "must be letters, digits and underscores"),
        ("{kind: heroku, app: x}", "HEROKU_API_KEY", "must not start with HEROKU_"),
        ("{kind: heroku, app: x}", "__SECRET", "must not start with __"),
        ("{kind: heroku, app: x}", "MY-KEY", "no hyphen"),
        ("{kind: vercel, project: p}", "TZ", "is reserved by the platform"),
        ("{kind: vercel, project: p}", "AWS_SECRET_KEY", "is reserved by the platform"),
        ("{kind: digitalocean, app_id: x}", "MY.KEY", "^[_A-Za-z][_A-Za-z0-9]*$"),
        ("{kind: render, service_id: srv-x}", "MY KEY", "letters, digits and underscores"),
        ("{kind: dotenv, path: .env}", "9LIVES", "not starting with a digit"),
        ("{kind: kubernetes, secret: s}", "a/b", "'-', '_' or '.'"),
        ("{kind: kubernetes, secret: s}", "k" * 254, "at most 253 characters"),
    ],
)
def test_platform_refuses_env_name(tmp_path: Path, target: str, env: str, why: str) -> None:
    problems = _problems(tmp_path, _consumer_policy(target, env))
    assert [(p.code, p.field, p.line) for p in problems] == [("forbidden-env-name", "secrets[0].consumers[0].env", 10)]
    assert why in problems[0].message


@pytest.mark.parametrize(
    ("target", "env"),
    [
        ("{kind: github, repo: a/b}", "GH_PAT"),
        ("{kind: heroku, app: x}", "DATABASE_URL"),
        ("{kind: vercel, project: p}", "AWS_SECRET_ACCESS_KEY"),
        ("{kind: digitalocean, app_id: x}", "_PRIVATE"),
        ("{kind: kubernetes, secret: s}", "db.password"),
        ("{kind: render, service_id: srv-x}", "PORT_SECRET"),
    ],
)
def test_platform_accepts_env_name(tmp_path: Path, target: str, env: str) -> None:
    assert _problems(tmp_path, _consumer_policy(target, env)) == []


def test_worker_and_job_must_get_secrets_at_their_level(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """\
issuers:
  app: {kind: app}
targets:
  do:
    kind: digitalocean
    app_id: x
    components:
      - {name: web, type: service, env: [SECRET_KEY]}
      - {name: worker, type: worker, env: [SECRET_KEY]}
      - {name: migrate, type: job, env: [SECRET_KEY]}
secrets:
  - name: a/key
    kind: k
    issuer: app
    consumers:
      - {target: do, env: SECRET_KEY, app_level: true, components: [worker], verify: accept-unverified}
""",
    )
    assert [(p.code, p.line, p.field) for p in problems] == [
        ("worker-missing-secret", 16, "secrets[0].consumers[0].components")
    ]
    assert "job 'migrate'" in problems[0].message
    assert problems[0].hint == "add `components: [worker, migrate]` to the consumer"


def test_services_get_app_level_secrets(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """\
issuers:
  app: {kind: app}
targets:
  do:
    kind: digitalocean
    app_id: x
    components: [{name: web, type: service, env: [SECRET_KEY, UNMANAGED_SETTING]}]
secrets:
  - name: a/key
    kind: k
    issuer: app
    consumers: [{target: do, env: SECRET_KEY, app_level: true, verify: accept-unverified}]
""",
    )
    assert problems == []


def test_worker_check_skipped_when_some_secret_is_broken(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """\
issuers:
  app: {kind: app}
targets:
  do:
    kind: digitalocean
    app_id: x
    components: [{name: worker, type: worker, env: [SECRET_KEY]}]
secrets:
  - {name: a/key, kind: k, issuer: app, period: soon, consumers: [{target: do, env: SECRET_KEY, components: [worker]}]}
""",
    )
    assert [p.code for p in problems] == ["bad-duration"]


@pytest.mark.parametrize(
    ("issuer", "strategy", "ok"),
    [(kind, strategy, strategy in allowed) for kind, allowed in STRATEGIES.items() for strategy in Strategy],
)
def test_strategy_table(tmp_path: Path, issuer: str, strategy: Strategy, ok: bool) -> None:
    specs = {
        "postgres": "{kind: postgres, admin_dsn_env: ADMIN}",
        "mysql": "{kind: mysql, admin_dsn_env: ADMIN}",
        "redis": "{kind: redis, admin_url_env: ADMIN}",
        "aws-iam": "{kind: aws-iam}",
        "manual": "{kind: manual, instructions: do it}",
        "app": "{kind: app}",
    }
    accounts = {"alternate": "[a, b]"}.get(strategy.value, "[a]")
    if issuer in ("manual", "app") and strategy is not Strategy.ALTERNATE:
        accounts = "[]"
    generator = "{kind: issuer}" if issuer in ("aws-iam", "manual") else "{kind: password}"
    problems = _problems(
        tmp_path,
        f"""\
issuers:
  i: {specs[issuer]}
secrets:
  - name: a/s
    kind: k
    issuer: i
    strategy: {strategy.value}
    accept_downtime: true
    accounts: {accounts}
    generator: {generator}
""",
    )
    codes = [p.code for p in problems]
    assert ("unsupported-strategy" not in codes) == ok, problems


def test_template_fields_follow_the_issuer(tmp_path: Path) -> None:
    assert TEMPLATE_FIELDS["aws-iam"] == ("access_key_id", "user")
    problems = _problems(
        tmp_path,
        """\
issuers:
  iam: {kind: aws-iam}
  cache: {kind: redis, admin_url_env: REDIS_ADMIN}
targets:
  web: {kind: heroku, app: x}
secrets:
  - name: a/aws
    kind: aws-iam-key
    issuer: iam
    accounts: [uploader]
    generator: {kind: issuer}
    consumers:
      - {target: web, env: AWS_ACCESS_KEY_ID, template: "{access_key_id}"}
      - {target: web, env: AWS_USER, template: "{user}"}
      - {target: web, env: AWS_NAME, template: "{username}"}
  - name: a/redis
    kind: redis-password
    issuer: cache
    accounts: [app]
    consumers:
      - {target: web, env: REDIS_URL, template: "redis://{username}:{password|url}@h:6379/{previous}"}
""",
    )
    assert [(p.code, p.field) for p in problems] == [("template-field", "secrets[0].consumers[2].template")]
    assert "{username}" in problems[0].message and "{access_key_id}" in problems[0].message


def test_key_generators_provide_their_attributes(tmp_path: Path) -> None:
    """`{kid}` and `{public_key}` come from the jwt-hmac/ed25519/rsa generators, not the issuer."""
    problems = _problems(
        tmp_path,
        """\
issuers:
  app: {kind: app}
targets:
  web: {kind: heroku, app: x}
secrets:
  - name: a/jwt
    kind: jwt-hmac
    issuer: app
    generator: {kind: jwt-hmac}
    consumers:
      - {target: web, env: JWT_KEY, template: "{kid}:{value}"}
  - name: a/signing
    kind: ed25519
    issuer: app
    generator: {kind: ed25519}
    consumers:
      - {target: web, env: SIGNING_PUBLIC_KEY, template: "{public_key}"}
  - name: a/plain
    kind: token
    issuer: app
    generator: {kind: token}
    consumers:
      - {target: web, env: PLAIN, template: "{kid}:{value}"}
""",
    )
    assert [(p.code, p.field) for p in problems] == [("template-field", "secrets[2].consumers[0].template")]


def test_generator_issuer_only_for_minting_issuers(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "issuers: {app: {kind: app}}\nsecrets:\n  - {name: a/k, kind: k, issuer: app, generator: {kind: issuer}}\n",
    )
    assert [(p.code, p.field) for p in problems] == [("generator-mismatch", "secrets[0].generator.kind")]


def test_accounts_on_an_issuer_without_accounts(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "issuers: {app: {kind: app}}\nsecrets:\n  - {name: a/k, kind: k, issuer: app, accounts: [x]}\n",
    )
    assert [p.code for p in problems] == ["accounts-count"]


def test_alternate_needs_two_different_accounts(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "issuers: {db: {kind: postgres, admin_dsn_env: A}}\n"
        "secrets:\n  - {name: a/db, kind: k, issuer: db, strategy: alternate, accounts: [app, app]}\n",
    )
    assert [p.code for p in problems] == ["alternate-accounts"]
    assert "got 'app' twice" in problems[0].message


def test_alternate_username_can_come_from_a_separate_consumer(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """\
issuers: {db: {kind: postgres, admin_dsn_env: A}}
targets: {web: {kind: render, service_id: srv-x}}
secrets:
  - name: a/db
    kind: k
    issuer: db
    strategy: alternate
    accounts: [a, b]
    consumers:
      - {target: web, env: DB_USER, template: "{username}"}
      - {target: web, env: DB_PASSWORD}
""",
    )
    assert problems == []


def test_duplicate_write_per_component_on_digitalocean(tmp_path: Path) -> None:
    base = """\
issuers: {app: {kind: app}}
targets:
  do:
    kind: digitalocean
    app_id: x
    components: [{name: web, type: service}, {name: worker, type: worker}]
secrets:
  - {name: a/one, kind: k, issuer: app, consumers: [{target: do, env: KEY, components: [web], health: {url: "http://h"}}]}
  - name: a/two
    kind: k
    issuer: app
    consumers: [{target: do, env: KEY, components: [COMPONENT], verify: accept-unverified}]
"""
    assert _problems(tmp_path, base.replace("COMPONENT", "worker")) == []
    problems = _problems(tmp_path, base.replace("COMPONENT", "web"))
    assert [p.code for p in problems] == ["duplicate-write"]
    assert "component web" in problems[0].message


def test_duplicate_component_and_do_env_name(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """\
targets:
  do:
    kind: digitalocean
    app_id: x
    components: [{name: web, type: service, env: [BAD-NAME]}, {name: web, type: worker}]
""",
    )
    assert sorted(p.code for p in problems) == ["duplicate-component", "forbidden-env-name"]


def test_duplicate_target_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("targets: {web: {kind: heroku, app: a}}\n")
    (tmp_path / "b.yaml").write_text("targets: {web: {kind: heroku, app: b}}\n")
    inventory, problems = collect(tmp_path)
    assert [(p.file.name, p.code) for p in problems] == [("b.yaml", "duplicate-target")]
    assert inventory.targets["web"].app == "a"  # type: ignore[union-attr]


def test_token_env_must_be_a_variable_name(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "targets: {web: {kind: render, service_id: srv-x, token_env: 'rnd_abc def'}}\n")
    assert [(p.code, p.field) for p in problems] == [("bad-env-reference", "targets.web.token_env")]
    assert "rnd_abc" not in str(problems[0])


def test_problem_text_and_json() -> None:
    problem = Problem(Path("p.yaml"), 3, "secrets[0].grace", "too long", "shorten it", "grace-not-shorter")
    assert str(problem) == "p.yaml:3: secrets[0].grace: too long (hint: shorten it)"
    assert problem.to_json()["code"] == "grace-not-shorter"
    assert str(Problem(Path("p.yaml"), None, "", "bad")) == "p.yaml: bad"


def test_format_path() -> None:
    assert format_path(("secrets", 0, "consumers", 1, "env")) == "secrets[0].consumers[1].env"
    assert format_path(("targets", "do-app", "kind")) == "targets.do-app.kind"
    assert format_path(("targets", "a b")) == "targets['a b']"


def test_every_target_kind_has_an_env_rule() -> None:
    from typing import get_args

    from secretops.inventory.models import TargetSpec

    union = get_args(TargetSpec)[0]
    kinds = {get_args(member.model_fields["kind"].annotation)[0] for member in get_args(union)}
    assert kinds == set(ENV_NAME_RULES)
