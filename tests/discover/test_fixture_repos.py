"""Fixture repositories: each source parser's draft passes `policy check --draft` with only documented placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.discover.helpers import ASSETS, check_draft, consumers, documented, draft_of, field_name

REPOS = ["render-app", "do-app", "compose-app", "gha-app", "k8s-app", "misc-app"]


@pytest.mark.parametrize("repo", REPOS)
def test_fixture_draft_passes_as_a_draft(repo: str, tmp_path: Path) -> None:
    _, text, _ = draft_of(ASSETS / repo)
    errors, todo = check_draft(tmp_path, text, local=True)  # the compose fixture holds its host's .env
    assert errors == []
    assert all(documented(p) for p in todo), [p.field for p in todo if not documented(p)]
    lines = text.splitlines()
    for problem in todo:  # file, line and field point at the placeholder itself
        assert problem.line is not None and "<FILL-IN:" in lines[problem.line - 1], problem


def test_render_blueprint_web_worker_cron_and_env_group() -> None:
    result, _, data = draft_of(ASSETS / "render-app")
    targets = {t.get("service_id", t.get("env_group_id")): name for name, t in data["targets"].items()}
    assert len(data["targets"]) == 4 and all(t["kind"] == "render" for t in data["targets"].values())
    assert all("<FILL-IN:" in key for key in targets)  # service ids are not in render.yaml
    rows = consumers(data)
    stripe = sorted(name for env, _, _, _ in rows for name in [env] if env == "STRIPE_SECRET_KEY")
    assert len(stripe) == 2  # web and worker, each its own service
    names = {name for name in data["targets"]}
    assert any(n.endswith("shop-worker") for n in names) and any(n.endswith("shop-nightly") for n in names)
    secret_key = next(s for s in data["secrets"] if s["consumers"][0]["env"] == "SECRET_KEY")
    assert secret_key["kind"] == "django-secret-key"  # DJANGO_SETTINGS_MODULE in the blueprint
    assert {c["env"] for c in secret_key["consumers"]} == {"SECRET_KEY", "SECRET_KEY_FALLBACKS"}
    not_drafted = {n.name: n.reason for n in result.draft.not_drafted}
    assert "DATABASE_URL" in not_drafted and "wires" in not_drafted["DATABASE_URL"]  # fromDatabase
    assert "LOG_LEVEL" not in {env for env, _, _, _ in rows}


def test_do_app_spec_workers_and_jobs_get_component_level_secrets() -> None:
    _, _, data = draft_of(ASSETS / "do-app")
    (target,) = data["targets"].values()
    assert {c["name"]: c["type"] for c in target["components"]} == {
        "api": "service",
        "queue": "worker",
        "migrate": "job",
    }
    rows = {env: (comps, app_level) for env, _, comps, app_level in consumers(data)}
    assert rows["DATABASE_URL"] == (("queue", "migrate"), True)
    assert rows["OPENAI_API_KEY"] == (("api", "queue"), False)
    assert rows["REDIS_URL"] == (("queue",), False)
    assert "CACHE_HOST" not in rows and "DEBUG" not in rows  # a bindable reference, a plain var
    env_of = {c["name"]: set(c["env"]) for c in target["components"]}
    assert env_of["migrate"] == {"DATABASE_URL"}


def test_compose_env_file_is_the_dotenv_target() -> None:
    _, _, data = draft_of(ASSETS / "compose-app")
    (target,) = data["targets"].values()
    assert target["kind"] == "dotenv"
    assert target["path"].endswith("compose-app/.env")
    assert target["restart"][-2:] == ["web", "worker"] and "up" in target["restart"]
    envs = {env for env, _, _, _ in consumers(data)}
    assert {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "MAILGUN_API_KEY", "SENTRY_DSN"} <= envs
    assert not envs & {"DEBUG", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    db = next(s for s in data["secrets"] if s["kind"] == "postgres-password")
    assert db["consumers"][0]["template"].endswith("@db:5432/notes")


def test_github_workflow_secrets_per_job_and_environment() -> None:
    result, _, data = draft_of(ASSETS / "gha-app")
    envs = {(env, kind) for env, kind, _, _ in consumers(data)}
    assert envs == {("CODECOV_TOKEN", "github"), ("RENDER_API_KEY", "github")}
    environments = sorted(t.get("environment", "") for t in data["targets"].values())
    assert environments == ["", "production"]
    assert "RENDER_SERVICE_ID" in {n.name for n in result.draft.not_drafted}  # an identifier
    assert all(c.get("verify") == "accept-unverified" for s in data["secrets"] for c in s["consumers"])


def test_kubernetes_secret_key_refs() -> None:
    _, _, data = draft_of(ASSETS / "k8s-app")
    (target,) = data["targets"].values()
    assert target == {
        "kind": "kubernetes",
        "namespace": "shop",
        "secret": "api-secrets",
        "rollout": ["cronjob/report", "deployment/api"],
    } | {k: v for k, v in target.items() if k not in ("kind", "namespace", "secret", "rollout")}
    assert {env for env, _, _, _ in consumers(data)} == {"DATABASE_URL", "STRIPE_SECRET_KEY"}


def test_vercel_fly_and_procfile() -> None:
    _, _, data = draft_of(ASSETS / "misc-app")
    vercel = next(t for t in data["targets"].values() if t["kind"] == "vercel")
    assert vercel["project"] == "prj_misc0000000000000000"  # from .vercel/project.json
    rows = {env: kind for env, kind, _, _ in consumers(data)}
    assert rows["SENDGRID_API_KEY"] == "vercel" and rows["NEXT_PUBLIC_SENTRY_DSN"] == "vercel"
    assert "NEXT_PUBLIC_API_URL" not in rows and "LOG_LEVEL" not in rows and "PORT" not in rows
    assert "heroku" in {t["kind"] for t in data["targets"].values()} or "SECRET_KEY" in rows


def test_placeholder_fields_are_named_in_the_docs() -> None:
    from secretops.discover.draft import PLACEHOLDER_FIELDS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "discover.md").read_text(encoding="utf-8")
    for name in PLACEHOLDER_FIELDS:
        assert f"`{name}`" in docs, name
    assert field_name.__doc__


def test_github_repo_comes_from_the_origin_remote(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        '[remote "origin"]\n\turl = git@github.com:acme/shop.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
        encoding="utf-8",
    )
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.NPM_TOKEN }}\n",
        encoding="utf-8",
    )
    _, text, data = draft_of(tmp_path)
    (target,) = data["targets"].values()
    assert target["repo"] == "acme/shop"
    errors, todo = check_draft(tmp_path, text)
    assert errors == [] and [field_name(p) for p in todo] == ["instructions"]


def test_heroku_guide_drafts_config_vars(tmp_path: Path) -> None:
    guide = tmp_path / "ops.md"
    guide.write_text(
        "# Notes - Operations\n\n## Config\n```bash\nheroku config:set STRIPE_SECRET_KEY=<key> -a notes-prod\n"
        "heroku logs --tail -a notes-prod\n```\n",
        encoding="utf-8",
    )
    _, text, data = draft_of(guide)
    (target,) = data["targets"].values()
    assert target == {"kind": "heroku", "app": "notes-prod"}
    assert consumers(data) == [("STRIPE_SECRET_KEY", "heroku", (), False)]
    errors, todo = check_draft(tmp_path, text)
    assert errors == [] and todo == []
