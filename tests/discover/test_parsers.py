"""Each source parser on small inputs, and the classifier's decisions."""

from __future__ import annotations

import pytest

from secretops.discover.classify import classify_env, is_identifier
from secretops.discover.compose import ComposeParser
from secretops.discover.digitalocean import DigitalOceanParser
from secretops.discover.dotenv_example import DotenvExampleParser
from secretops.discover.engine import PARSERS
from secretops.discover.fly import FlyParser
from secretops.discover.github_actions import GitHubActionsParser
from secretops.discover.kubernetes import KubernetesParser
from secretops.discover.markdown import MarkdownParser, sections
from secretops.discover.procfile import ProcfileParser
from secretops.discover.render import RenderParser
from secretops.discover.vercel import VercelParser
from secretops.inventory.models import Strategy


def test_parsers_are_listed_by_id() -> None:
    assert set(PARSERS) == {
        "render", "digitalocean", "vercel", "compose", "dotenv-example", "procfile", "fly",
        "github-actions", "kubernetes", "markdown",
    }  # fmt: skip
    assert all(p.id == key for key, p in PARSERS.items())


@pytest.mark.parametrize(
    "parser",
    [RenderParser(), DigitalOceanParser(), ComposeParser(), GitHubActionsParser(), KubernetesParser()],
    ids=lambda p: p.id,
)
def test_broken_yaml_gives_nothing_not_an_error(parser: object) -> None:
    found = parser.parse("services: [unclosed\n  - {", "x.yaml")  # type: ignore[attr-defined]
    assert found.envs == [] and found.components == []


def test_render_lines_and_markings() -> None:
    text = (
        "services:\n  - type: worker\n    name: q\n    envVars:\n      - key: API_TOKEN\n        sync: false\n"
        "      - key: MODE\n        value: fast\n"
    )
    found = RenderParser().parse(text, "render.yaml", line_offset=10)
    token, mode = found.envs
    assert (token.name, token.secret, token.evidence.line, token.component) == ("API_TOKEN", True, 15, "q")
    assert (mode.name, mode.secret) == ("MODE", None)
    assert [(c.name, c.type) for c in found.components] == [("q", "worker")]


def test_digitalocean_secret_value_is_never_kept() -> None:
    text = "envs:\n  - key: DATABASE_URL\n    type: SECRET\n    value: postgresql://u:hunter2@db.example.net/app\n"
    (env,) = DigitalOceanParser().parse(text, ".do/app.yaml").envs
    assert env.secret is True and env.level == "app"
    assert "hunter2" not in repr(env)
    assert env.host == "db.example.net"  # the host only


def test_compose_literal_values_are_not_consumers() -> None:
    text = (
        "services:\n  web:\n    environment:\n      API_KEY: literal-in-file\n      TOKEN: ${TOKEN}\n"
        "    env_file: [.env, secrets.env]\n"
    )
    found = ComposeParser().parse(text, "app/docker-compose.yml")
    by_name = {e.name: e for e in found.envs}
    assert by_name["API_KEY"].platform == "compose-file"
    assert by_name["TOKEN"].platform == "dotenv" and by_name["TOKEN"].target == "app/.env"
    assert [t.name for t in found.targets] == ["app/.env", "app/secrets.env"]


def test_github_actions_skips_github_token_and_scopes_environments() -> None:
    text = (
        "on: push\njobs:\n  ship:\n    environment: prod\n    runs-on: x\n    steps:\n"
        "      - run: echo ${{ secrets.DEPLOY_KEY }} ${{ secrets.GITHUB_TOKEN }}\n"
    )
    found = GitHubActionsParser().parse(text, ".github/workflows/ship.yml")
    assert [(e.name, e.target, e.component) for e in found.envs] == [("DEPLOY_KEY", "environment:prod", "ship")]
    assert not GitHubActionsParser().parse("name: not a workflow\n", "x.yml").envs


def test_kubernetes_needs_api_version_and_kind() -> None:
    assert not KubernetesParser().parse("kind: Deployment\n", "k8s/x.yaml").components


def test_vercel_secret_reference() -> None:
    found = VercelParser().parse('{"env": {"A_KEY": "@a-key", "PLAIN": "x"}}', "vercel.json")
    assert {e.name: e.secret for e in found.envs} == {"A_KEY": True, "PLAIN": None}
    assert not VercelParser().parse("not json", "vercel.json").envs


def test_fly_env_is_plain_and_processes_are_components() -> None:
    found = FlyParser().parse('app = "a"\n[env]\nMODE = "x"\n[processes]\nworker = "celery"\n', "fly.toml")
    assert [(e.name, e.secret) for e in found.envs] == [("MODE", False)]
    assert [(c.name, c.type) for c in found.components] == [("worker", "worker")]
    assert not FlyParser().parse("app = [", "fly.toml").envs


def test_procfile_release_is_a_job() -> None:
    found = ProcfileParser().parse("web: gunicorn a\nrelease: python manage.py migrate\n", "Procfile")
    assert [(c.name, c.type) for c in found.components] == [("web", "service"), ("release", "job")]
    assert [f.value for f in found.facts_of("migrates")] == ["release"]


def test_dotenv_example_keeps_the_host_only() -> None:
    found = DotenvExampleParser().parse(
        "# c\nDATABASE_URL=postgres://u:pw@x.neon.tech:5432/app\nEMPTY=\n", ".env.example"
    )
    db, empty = found.envs
    assert (db.name, db.host, db.evidence.line) == ("DATABASE_URL", "x.neon.tech", 2)
    assert "pw" not in repr(db) and empty.name == "EMPTY"
    assert {f.key: f.value for f in found.facts} == {"db-port": "5432", "db-name": "app"}


MARKDOWN = """# Shop - Operations Guide

## Environment Variables

### App-level
| Variable | Type | Description |
|---|---|---|
| API_TOKEN | Secret | the token |
| FEATURE_X | Plain | a flag |

### Worker-specific (must be set explicitly)
- `QUEUE_PASSWORD`: the queue

## Local Development
- `LOCAL_ONLY_SECRET` - on your laptop

## Enable Billing (Production)
```bash
BILLING_SECRET=<secret>
PGPASSWORD=<pw> psql -h db.example.net \\
  -U admin
```

## Logs
```bash
doctl apps logs 2119eba2-07b6-405f-a962-d40dd6956137 queue
```
"""


def test_markdown_structure() -> None:
    found = MarkdownParser().parse(MARKDOWN, "ops.md")
    by_name = {e.name: e for e in found.envs}
    assert by_name["API_TOKEN"].secret is True and by_name["API_TOKEN"].level == "app"
    assert by_name["FEATURE_X"].secret is False
    assert by_name["QUEUE_PASSWORD"].component == "worker" and by_name["QUEUE_PASSWORD"].level == "component"
    assert "LOCAL_ONLY_SECRET" not in by_name and "BILLING_SECRET" not in by_name
    assert {f.value for f in found.facts_of("not-deployed")} >= {"LOCAL_ONLY_SECRET", "BILLING_SECRET"}
    assert "PGPASSWORD" not in by_name
    assert [(t.platform, dict(t.ids)) for t in found.targets] == [
        ("digitalocean", {"app_id": "2119eba2-07b6-405f-a962-d40dd6956137"})
    ]
    assert [(c.name, c.type) for c in found.components] == [("queue", "service")]
    assert found.facts_of("app")[0].value == "shop"


def test_markdown_code_fences_hide_headings() -> None:
    secs = sections("# T\n```\n# not a heading\n```\n## Real\n")
    assert [s.title for s in secs] == ["", "T", "Real"]
    assert secs[1].code == [("", 3, "# not a heading", "")]


@pytest.mark.parametrize(
    ("name", "kwargs", "kind", "issuer", "strategy"),
    [
        ("DATABASE_URL", {"host": "ep-x.us-east-2.aws.neon.tech"}, "postgres-password", "postgres", Strategy.ALTERNATE),
        ("DATABASE_URL", {"scheme": "mysql"}, "mysql-password", "mysql", Strategy.ALTERNATE),
        ("REDIS_URL", {}, "redis-password", "redis", Strategy.OVERLAP),
        ("REDIS_URL", {"host": "db-valkey-x.k.db.ondigitalocean.com"}, "redis-password", "manual", Strategy.REPLACE),
        ("CELERY_BROKER_URL", {"host": "eu1-x.upstash.io"}, "redis-password", "manual", Strategy.REPLACE),
        ("SECRET_KEY", {"framework": "django"}, "django-secret-key", "app", Strategy.OVERLAP),
        ("SECRET_KEY", {"framework": "flask"}, "flask-secret-key", "app", Strategy.REPLACE),
        ("OPENAI_API_KEY", {}, "api-key:openai", "manual", Strategy.OVERLAP),
        ("JWT_SECRET_KEY", {}, "jwt-hmac", "app", Strategy.OVERLAP),
        ("STRIPE_WEBHOOK_SECRET", {}, "stripe-webhook-secret", "manual", Strategy.OVERLAP),
        ("VITE_SENTRY_DSN", {}, "sentry-dsn", "manual", Strategy.OVERLAP),
        ("PARTNER_API_PASSWORD", {}, "password", "manual", Strategy.REPLACE),
        ("AWS_SECRET_ACCESS_KEY", {}, "aws-iam-key", "aws-iam", Strategy.OVERLAP),
    ],
)
def test_classify(name: str, kwargs: dict[str, str], kind: str, issuer: str, strategy: Strategy) -> None:
    found = classify_env(name, **kwargs)  # type: ignore[arg-type]
    assert found is not None
    assert (found.kind, found.issuer_kind, found.strategy) == (kind, issuer, strategy)


@pytest.mark.parametrize(
    "name",
    ["RENDER_SERVICE_ID", "TWILIO_ACCOUNT_SID", "SMTP_USER", "ACCESS_TOKEN_EXPIRE_MINUTES", "JWT_ALGORITHM",
     "STRIPE_PUBLISHABLE_KEY", "DEBUG", "DATABASE_POOL_SIZE", "FRONTEND_URL"],
)  # fmt: skip
def test_not_secrets(name: str) -> None:
    assert classify_env(name) is None


def test_declared_plain_and_https_values_are_not_secrets() -> None:
    assert classify_env("API_TOKEN", declared=False) is None
    assert classify_env("WEBHOOK_URL", scheme="https") is None
    assert classify_env("ODD_THING", declared=True) is not None  # a source marked it secret
    assert is_identifier("VERCEL_PROJECT_ID") and not is_identifier("VERCEL_TOKEN")


def test_recursive_aliases_do_not_hang_the_parsers() -> None:
    text = "on: push\nloop: &a [*a]\njobs:\n  j:\n    steps: &b [{run: '${{ secrets.TOKEN_X }}'}, *b]\n"
    found = GitHubActionsParser().parse(text, ".github/workflows/x.yml")
    assert [e.name for e in found.envs] == ["TOKEN_X"]


def test_deep_nesting_gives_nothing_not_a_crash() -> None:
    deep = "[" * 5000 + "]" * 5000
    assert not RenderParser().parse("services: " + deep, "render.yaml").envs
    assert not VercelParser().parse('{"env": ' + deep + "}", "vercel.json").envs
