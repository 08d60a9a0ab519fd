"""Policy mistakes that once ended in an outage reported as success, each refused at `policy check`.

Every case asserts the exact message, with file, line and field: a `.env` target that does not
exist (or lacks a consumer's key), a value placed raw in a URL or conninfo string, durations
without a unit or not positive, an unknown filter, an empty file, write-only targets with
nothing to verify the app, and the warnings for `grace: 0s` and `drain: 0s`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.inventory.loader import Inventory, collect
from secretops.inventory.problems import Problem
from secretops.inventory.tables import CHECKS

LOCAL_HINT = (
    "or set `create: true` if the first rotation should create the file: otherwise a rotation would write a "
    "file no app reads, then revoke the value the app still uses"
)


def _collect(tmp_path: Path, text: str, **kw: object) -> tuple[Inventory, list[Problem]]:
    policy = tmp_path / "policies" / "p.yaml"
    policy.parent.mkdir(exist_ok=True)
    policy.write_text(text)
    inventory, problems = collect(policy.parent, **kw)  # type: ignore[arg-type]
    for problem in [*problems, *inventory.warnings]:
        assert problem.code in CHECKS, problem
        assert CHECKS[problem.code][0] == problem.severity, problem
    return inventory, problems


def _problems(tmp_path: Path, text: str, **kw: object) -> list[Problem]:
    return _collect(tmp_path, text, **kw)[1]


def _only(tmp_path: Path, text: str, **kw: object) -> Problem:
    problems = _problems(tmp_path, text, **kw)
    assert len(problems) == 1, problems
    return problems[0]


def _dotenv_policy(path: str, env: str = "SECRET_KEY", extra: str = "", consumer: str = "") -> str:
    return f"""\
issuers: {{app: {{kind: app}}}}
targets:
  web:
    kind: dotenv
    path: {path}{extra}
secrets:
  - name: a/key
    kind: k
    issuer: app
    consumers:
      - {{target: web, env: {env}{consumer}}}
"""


# ---------------------------------------------------------------- targets must exist


def test_a_typo_in_the_file_name_is_refused_with_the_nearest_name(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("SECRET_KEY=old\n")
    problem = _only(tmp_path, _dotenv_policy(f"{tmp_path}/apps.env"), local_targets=True)
    assert (problem.file.name, problem.line, problem.field, problem.code) == (
        "p.yaml",
        5,
        "targets.web.path",
        "missing-target-file",
    )
    assert problem.message == f"{tmp_path}/apps.env does not exist (did you mean app.env?)"
    assert problem.hint == f"fix `path` (did you mean app.env?), {LOCAL_HINT}"


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    problem = _only(tmp_path, _dotenv_policy(f"{tmp_path}/srv/app/.env"), local_targets=True)
    assert (problem.line, problem.field, problem.code) == (5, "targets.web.path", "missing-target-directory")
    assert problem.message == f"directory {tmp_path}/srv/app does not exist (the nearest existing one is {tmp_path})"
    assert problem.hint == f"fix `path`, {LOCAL_HINT}"


def test_a_relative_path_resolves_like_rotate_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.env").write_text("SECRET_KEY=old\n")
    problem = _only(tmp_path, _dotenv_policy("apps.env"), local_targets=True)
    assert problem.message == (
        f"{tmp_path}/apps.env does not exist (did you mean app.env?) (`apps.env` is relative: it resolves against "
        f"the working directory, {tmp_path}, as `secretops rotate` resolves it)"
    )
    # the policy's own directory is not where it looks: the file next to the policy is not found
    (tmp_path / "policies" / "apps.env").parent.mkdir(exist_ok=True)
    (tmp_path / "policies" / "apps.env").write_text("SECRET_KEY=old\n")
    assert [p.code for p in _problems(tmp_path, _dotenv_policy("apps.env"), local_targets=True)] == [
        "missing-target-file"
    ]
    assert _problems(tmp_path, _dotenv_policy("policies/apps.env"), local_targets=True) == []


def test_a_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "app.env").mkdir()
    problem = _only(tmp_path, _dotenv_policy(f"{tmp_path}/app.env"), local_targets=True)
    assert (problem.code, problem.message) == (
        "target-not-a-file",
        f"{tmp_path}/app.env is a directory, not a .env file",
    )


def test_create_true_allows_a_missing_file_and_directory(tmp_path: Path) -> None:
    text = _dotenv_policy(f"{tmp_path}/new/app.env", extra="\n    create: true")
    assert _problems(tmp_path, text, local_targets=True) == []
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_consumer_key_the_file_does_not_hold(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("# app\nSECRET_KEY=old\nDEBUG=0\n")
    problem = _only(tmp_path, _dotenv_policy(f"{tmp_path}/app.env", env="SECRT_KEY"), local_targets=True)
    assert (problem.line, problem.field, problem.code) == (11, "secrets[0].consumers[0].env", "missing-target-key")
    assert problem.message == f"SECRT_KEY is not set in {tmp_path}/app.env (target 'web'); did you mean SECRET_KEY?"
    assert problem.hint == (
        "fix `env`: the app keeps reading the variable it has, which the rotation would revoke; "
        "or set `new: true` on the consumer if the first rotation should add it"
    )
    marked_new = _dotenv_policy(f"{tmp_path}/app.env", env="SENTRY_DSN", consumer=", new: true")
    assert _problems(tmp_path, marked_new, local_targets=True) == []


def test_local_targets_are_checked_only_when_asked(tmp_path: Path) -> None:
    assert _problems(tmp_path, _dotenv_policy(f"{tmp_path}/apps.env")) == []


# ---------------------------------------------------------------- values placed raw in URLs and conninfo


def _db_policy(template: str, generator: str = "{kind: password, length: 32}", accounts: str = "[app_a, app_b]") -> str:
    return f"""\
issuers: {{db: {{kind: postgres, admin_dsn_env: ADMIN}}, vendor: {{kind: manual, instructions: x}}}}
targets: {{web: {{kind: render, service_id: srv-x}}}}
secrets:
  - name: a/db
    kind: postgres-password
    issuer: db
    strategy: alternate
    accounts: {accounts}
    generator: {generator}
    consumers:
      - {{target: web, env: DATABASE_URL, template: "{template}"}}
"""


def test_the_issue_url_mistake_is_refused_with_the_fix(tmp_path: Path) -> None:
    text = _db_policy("postgresql://{username}:{password}@host/db", '{kind: password, symbols: "@/?#", min_each: 3}')
    problem = _only(tmp_path, text)
    assert (problem.line, problem.field, problem.code) == (11, "secrets[0].consumers[0].template", "unescaped-url")
    assert problem.message == (
        "{password} sits in the userinfo of a postgresql:// URL without |url, and generator.symbols may put "
        "`#`, `/`, `?`, `@` there: the app's client would read another host, user or password "
        "(a raw `@` or `/` moves part of the password into the host)"
    )
    assert problem.hint == "write {password|url}: postgresql://{username}:{password|url}@host/db"


@pytest.mark.parametrize(
    ("template", "generator", "found"),
    [
        ("postgresql://{username}:{password|url}@host/db", '{kind: password, symbols: "@/?#%: "}', None),
        ("postgresql://{username}:{password}@host/db", "{kind: password}", None),  # letters and digits only
        ("postgresql://{username}:{password}@host/db", '{kind: password, symbols: "-._~!*"}', None),
        ("postgresql://{username}:{password}@host/db", '{kind: password, symbols: "%"}', "`%`"),
        ("postgresql://{username}:{password}@host/db", '{kind: password, symbols: ":"}', "`:`"),
        ("postgresql://{username}:{password}@host/db", '{kind: password, symbols: "@-", exclude: "@"}', None),
        (
            "postgresql+psycopg2://{username}:{password}@h/db",
            '{kind: password, symbols: "/"}',
            "postgresql+psycopg2://",
        ),
        ("postgresql://{username}:{password}@host/db", "{kind: django-secret-key}", "generator kind django-secret-key"),
        ("postgresql://{username}:{password}@host/db", "{kind: token}", None),  # URL-safe alphabet
        ("mysql://h/db?user={username}&password={password}", '{kind: password, symbols: "&"}', "the query"),
        ("mysql://h/db?user={username}&password={password}", '{kind: password, symbols: "@:/"}', None),
        ("postgresql://{username}:{password}@host/db", "{kind: password, symbols: '\"'}", '`"`'),
    ],
)
def test_url_positions_and_generator_alphabets(
    tmp_path: Path, template: str, generator: str, found: str | None
) -> None:
    problems = _problems(tmp_path, _db_policy(template.replace('"', '\\"'), generator))
    if found is None:
        assert problems == []
    else:
        assert [p.code for p in problems] == ["unescaped-url"]
        assert found in problems[0].message


def test_an_issuer_minted_value_may_hold_anything(tmp_path: Path) -> None:
    text = """\
issuers: {valkey: {kind: manual, instructions: Reset it in the dashboard.}}
targets: {web: {kind: render, service_id: srv-x}}
secrets:
  - name: a/valkey
    kind: redis-password
    issuer: valkey
    generator: {kind: issuer}
    consumers:
      - {target: web, env: REDIS_URL, template: "rediss://default:{password}@cache:25061"}
"""
    problem = _only(tmp_path, text)
    assert problem.message.startswith(
        "{password} sits in the userinfo of a rediss:// URL without |url, and the manual issuer (it mints the value) "
        "may put any character there"
    )
    assert problem.hint == "write {password|url}: rediss://default:{password|url}@cache:25061"


def test_an_issuer_minted_value_in_a_path_is_left_alone(tmp_path: Path) -> None:
    text = """\
issuers: {slack: {kind: manual, instructions: Create a new webhook.}}
targets: {web: {kind: render, service_id: srv-x}}
secrets:
  - name: a/webhook
    kind: slack-webhook
    issuer: slack
    generator: {kind: issuer}
    consumers:
      - {target: web, env: SLACK_URL, template: "https://hooks.slack.com/services/{value}"}
"""
    assert _problems(tmp_path, text) == []  # the value is a path (T0/B0/x): encoding it would break it


def test_a_username_with_a_reserved_character(tmp_path: Path) -> None:
    problem = _only(tmp_path, _db_policy("postgresql://{username}:{password|url}@h/db", accounts="[app@srv, app2@srv]"))
    assert problem.message.startswith(
        "{username} sits in the userinfo of a postgresql:// URL without |url, and accounts"
    )
    assert "`@`" in problem.message
    assert problem.hint == "write {username|url}: postgresql://{username|url}:{password|url}@h/db"


def test_the_wrong_filter_in_a_url(tmp_path: Path) -> None:
    problem = _only(tmp_path, _db_policy("postgresql://{username}:{password|conninfo}@h/db"))
    assert problem.message == (
        "{password|conninfo} sits in the userinfo of a postgresql:// URL, but |conninfo is not URL escaping"
    )


def test_conninfo_with_a_space_or_quote(tmp_path: Path) -> None:
    text = _db_policy("host=db user={username} password={password}", "{kind: password, symbols: ' -'}")
    problem = _only(tmp_path, text)
    assert (problem.line, problem.field, problem.code) == (11, "secrets[0].consumers[0].template", "unescaped-conninfo")
    assert problem.message == (
        "{password} is the value of `password=` in a conninfo string without |conninfo, and generator.symbols may put "
        "space there: libpq would cut or misread the value"
    )
    assert problem.hint == (
        "write password={password|conninfo} (it adds the quotes): host=db user={username} password={password|conninfo}"
    )


def test_conninfo_quoted_by_hand(tmp_path: Path) -> None:
    spaces = _db_policy("host=db user={username} password='{password}'", "{kind: password, symbols: ' '}")
    assert _problems(tmp_path, spaces) == []  # inside quotes a space is fine
    quotes = _db_policy("host=db user={username} password='{password}'", '{kind: password, symbols: "\'"}')
    problem = _only(tmp_path, quotes)
    assert "may put `'` there" in problem.message
    assert problem.hint == (
        "write password={password|conninfo} (it adds the quotes): host=db user={username} password={password|conninfo}"
    )
    escaped = _db_policy("host=db user={username} password={password|conninfo}", '{kind: password, symbols: "\' "}')
    assert _problems(tmp_path, escaped) == []


# ---------------------------------------------------------------- durations


def _secret_with(fields: str, targets: str = "") -> str:
    return f"""\
issuers: {{app: {{kind: app}}}}
targets:
  web: {{kind: dotenv, path: /x/.env, restart: [systemctl, restart, app]{targets}}}
secrets:
  - name: a/key
    kind: k
    issuer: app
{fields}
    consumers:
      - {{target: web, env: K}}
"""


@pytest.mark.parametrize(
    ("fields", "targets", "found"),
    [
        (
            "    period: 90",
            "",
            (
                8,
                "secrets[0].period",
                "duration-without-unit",
                "duration 90 has no unit (a bare number is not read as seconds)",
                "did you mean 90d? (or 90s, 90m, 90h)",
            ),
        ),
        (
            "    grace: 30",
            "",
            (
                8,
                "secrets[0].grace",
                "duration-without-unit",
                "duration 30 has no unit (a bare number is not read as seconds)",
                "did you mean 30h? (or 30s, 30m, 30d)",
            ),
        ),
        (
            "    period: 0d",
            "",
            (
                8,
                "secrets[0].period",
                "duration-not-positive",
                "period must be longer than 0s: a period of 0s would make the secret due on every run",
                "write a positive duration (the default is 90d)",
            ),
        ),
        (
            "    period: -90d",
            "",
            (
                8,
                "secrets[0].period",
                "negative-duration",
                "period cannot be negative, got -90d",
                "write a positive duration (the default is 90d)",
            ),
        ),
        (
            "    grace: -1h",
            "",
            (
                8,
                "secrets[0].grace",
                "negative-duration",
                "grace cannot be negative, got -1h",
                "write 0s for no grace (the previous value is revoked at once), or a positive duration",
            ),
        ),
        (
            "    drain: -5s",
            "",
            (
                8,
                "secrets[0].drain",
                "negative-duration",
                "drain cannot be negative, got -5s",
                "write 0s for no grace (the previous value is revoked at once), or a positive duration",
            ),
        ),
        (
            "    grace: 1.5",
            "",
            (
                8,
                "secrets[0].grace",
                "duration-without-unit",
                "duration 1.5 has no unit (a bare number is not read as seconds)",
                "write a whole number and one unit: s, m, h, d or w (e.g. 36h for a day and a half)",
            ),
        ),
        (
            "",
            ", restart_timeout: 0m",
            (
                3,
                "targets.web.restart_timeout",
                "duration-not-positive",
                "restart_timeout must be longer than 0s: the restart command would be killed before it starts",
                "write a positive duration (the default is 5m)",
            ),
        ),
        (
            "    verify: {health: [{url: 'http://h/health', timeout: 0s}]}",
            "",
            (
                8,
                "secrets[0].verify.health[0].timeout",
                "duration-not-positive",
                "timeout must be longer than 0s: every health check would time out",
                "write a positive duration (the default is 10s)",
            ),
        ),
    ],
)
def test_durations_blame_their_own_field(
    tmp_path: Path, fields: str, targets: str, found: tuple[int, str, str, str, str]
) -> None:
    problem = _only(tmp_path, _secret_with(fields, targets))
    assert (problem.line, problem.field, problem.code, problem.message, problem.hint) == found


def test_each_bad_duration_is_its_own_problem(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _secret_with("    period: 90\n    grace: -1h\n    drain: 10"))
    assert [(p.line, p.field, p.code) for p in problems] == [
        (8, "secrets[0].period", "duration-without-unit"),
        (9, "secrets[0].grace", "negative-duration"),
        (10, "secrets[0].drain", "duration-without-unit"),
    ]


def test_zero_grace_and_drain_are_allowed_with_a_warning(tmp_path: Path) -> None:
    text = """\
issuers: {app: {kind: app}}
targets:
  web: {kind: dotenv, path: /x/.env}
  api: {kind: dotenv, path: /y/.env, restart: [docker, compose, up, -d]}
secrets:
  - name: a/key
    kind: k
    issuer: app
    grace: 0s
    drain: 0s
    consumers:
      - {target: web, env: K}
      - {target: api, env: K}
"""
    inventory, problems = _collect(tmp_path, text)
    assert problems == []
    assert inventory.secrets["a/key"].grace.total_seconds() == 0
    assert [(w.line, w.field, w.code, w.severity) for w in inventory.warnings] == [
        (9, "secrets[0].grace", "zero-grace", "warning"),
        (10, "secrets[0].drain", "zero-drain", "warning"),
    ]
    assert inventory.warnings[0].message == (
        "grace 0s: the previous value is revoked as soon as every consumer is switched; a client that read it just "
        "before (a pooled connection, a process re-reading its .env) fails its next login"
    )
    assert inventory.warnings[1].message == (
        "drain 0s: nothing restarts the readers of web (a .env with no `restart`), and the revoke does not wait for "
        "them to re-read it: a process holding the old value is cut off"
    )


def test_zero_drain_is_silent_when_every_consumer_is_restarted(tmp_path: Path) -> None:
    inventory, problems = _collect(tmp_path, _secret_with("    drain: 0s"))
    assert problems == [] and inventory.warnings == ()


# ---------------------------------------------------------------- filters, empty files


def test_unknown_filter_is_named(tmp_path: Path) -> None:
    text = _db_policy("{password|base64}")
    problem = _only(tmp_path, text)
    assert (problem.line, problem.field, problem.code) == (11, "secrets[0].consumers[0].template", "unknown-filter")
    assert problem.message == "unknown filter base64; known: conninfo, url (in {password|base64})"


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "version: 1\nissuers:\nsecrets: []\n"])
def test_an_empty_file_is_a_warning(tmp_path: Path, text: str) -> None:
    inventory, problems = _collect(tmp_path, text)
    assert problems == []
    assert [(w.file.name, w.line, w.field, w.code, w.message) for w in inventory.warnings] == [
        (
            "p.yaml",
            1,
            "",
            "empty-policy",
            "the file declares no issuers, targets or secrets" + (" (it is empty)" if "version" not in text else ""),
        )
    ]


# ---------------------------------------------------------------- write-only targets


def _write_only(target: str, consumer: str = "", verify: str = "") -> str:
    return f"""\
issuers: {{vendor: {{kind: manual, instructions: Roll it.}}}}
targets:
  t: {target}
secrets:
  - name: a/token
    kind: api-key:vendor
    issuer: vendor
    generator: {{kind: issuer}}
    consumers:
      - {{target: t, env: API_TOKEN{consumer}}}{verify}
"""


def test_a_write_only_target_needs_a_health_check(tmp_path: Path) -> None:
    problem = _only(tmp_path, _write_only("{kind: github, repo: a/b}"))
    assert (problem.line, problem.field, problem.code) == (
        10,
        "secrets[0].consumers[0].health",
        "write-only-unverified",
    )
    assert problem.message == (
        "API_TOKEN on target 't' cannot be read back: GitHub never returns Actions secret values; and no health "
        "check watches the app, so a wrong value there is found only after the old one is revoked, when the app is down"
    )
    assert problem.hint == (
        "add `health: {url: https://<app>/health}` to this consumer (the app that reads it), "
        "or write `verify: accept-unverified` on the consumer to take that risk"
    )


@pytest.mark.parametrize(
    ("target", "consumer", "verify", "flagged"),
    [
        ("{kind: github, repo: a/b}", ", verify: accept-unverified", "", False),
        ("{kind: digitalocean, app_id: x}", ", health: {url: 'https://app/health'}", "", False),
        ("{kind: digitalocean, app_id: x}", "", "\n    verify: {health: [{url: 'https://app/health'}]}", True),
        ("{kind: digitalocean, app_id: x}", "", "", True),
        ("{kind: vercel, project: p}", "", "", True),  # production: the var may be sensitive
        ("{kind: vercel, project: p, environments: [production, development]}", "", "", False),
        ("{kind: render, service_id: srv-x}", "", "", False),
        ("{kind: heroku, app: x}", "", "", False),
    ],
)
def test_which_targets_are_write_only(tmp_path: Path, target: str, consumer: str, verify: str, flagged: bool) -> None:
    codes = [p.code for p in _problems(tmp_path, _write_only(target, consumer, verify))]
    assert codes == (["write-only-unverified"] if flagged else [])
