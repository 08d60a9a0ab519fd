"""Acceptance on the five example ops guides: the draft covers each hand-written policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.discover.coverage import measure, policy_for
from tests.discover.helpers import GUIDES, check_draft, consumers, documented, draft_of

GUIDE_FILES = sorted(GUIDES.glob("*.md"))


def test_there_are_five_guides() -> None:
    assert len(GUIDE_FILES) == 5
    assert all(policy_for(g).is_file() for g in GUIDE_FILES)


@pytest.mark.parametrize("guide", GUIDE_FILES, ids=lambda p: p.stem)
def test_draft_covers_the_hand_written_policy(guide: Path) -> None:
    coverage = measure(guide)
    assert coverage.missing == (), coverage.missing
    assert coverage.full


@pytest.mark.parametrize("guide", GUIDE_FILES, ids=lambda p: p.stem)
def test_no_secret_the_guide_does_not_mention(guide: Path) -> None:
    result, _, _ = draft_of(guide)
    text = guide.read_text(encoding="utf-8")
    lines = text.splitlines()
    for secret in result.draft.secrets:
        envs = [c.env for c in secret.consumers]
        if any(re.search(rf"\b{re.escape(e)}\b", text) for e in envs):
            continue
        # an assumed name: its evidence is a line of this guide that names what it stands for
        assumed = [ev for c in secret.consumers for ev in c.evidence if "name assumed" in ev.note]
        assert assumed, f"{secret.name} ({envs}) is neither named in {guide.name} nor backed by a mention"
        for ev in assumed:
            assert ev.path == str(guide) and 1 <= ev.line <= len(lines)


@pytest.mark.parametrize("guide", GUIDE_FILES, ids=lambda p: p.stem)
def test_draft_passes_policy_check_as_a_draft(guide: Path, tmp_path: Path) -> None:
    _, text, _ = draft_of(guide)
    errors, todo = check_draft(tmp_path, text)
    assert errors == []
    assert todo, "every guide leaves something to fill in (at least the admin DSN or a service id)"
    assert all(documented(p) for p in todo), [p.field for p in todo if not documented(p)]


def test_benefits_navigator_worker_gets_its_secrets_at_component_level() -> None:
    _, _, data = draft_of(GUIDES / "benefits-navigator-operations.md")
    by_env = {env: (kind, comps, app_level) for env, kind, comps, app_level in consumers(data)}
    for env in ("REDIS_URL", "CELERY_BROKER_URL", "OPENAI_API_KEY"):
        kind, comps, app_level = by_env[env]
        assert kind == "digitalocean"
        assert "worker" in comps, env
        assert app_level, f"{env} is app-level too (the guide's table)"
    assert by_env["DATABASE_URL"][1] == ("worker", "migrate")
    target = next(iter(data["targets"].values()))
    assert target["app_id"] == "2119eba2-07b6-405f-a962-d40dd6956137"
    types = {c["name"]: c["type"] for c in target["components"]}
    assert types == {"web": "service", "worker": "worker", "migrate": "job"}


def test_benefits_navigator_valkey_is_one_secret_reset_in_the_console() -> None:
    result, _, data = draft_of(GUIDES / "benefits-navigator-operations.md")
    valkey = next(s for s in data["secrets"] if s["kind"] == "redis-password")
    assert {c["env"] for c in valkey["consumers"]} == {"REDIS_URL", "CELERY_BROKER_URL"}
    assert data["issuers"][valkey["issuer"]]["kind"] == "manual"  # DO managed Valkey: no ACL users
    assert valkey["strategy"] == "replace" and valkey["accept_downtime"] is True
    db = data["issuers"][next(s for s in data["secrets"] if s["kind"] == "postgres-password")["issuer"]]
    assert db["host"].endswith(".db.ondigitalocean.com") and db["sslmode"] == "require"
    assert {n.name for n in result.draft.not_drafted} >= {"AWS_SECRET_ACCESS_KEY"}  # the optional S3 setup


def test_budget_ai_leaked_password_is_a_finding_never_a_value(tmp_path: Path) -> None:
    guide = GUIDES / "budget-ai-operations.md"
    result, text, data = draft_of(guide)
    leaked = re.search(r"Password: (\S+)", guide.read_text(encoding="utf-8"))
    assert leaked is not None
    assert leaked.group(1) not in text
    assert [(leak.rule_id, leak.secret) for leak in result.draft.leaks] == [
        ("neon-postgres-password", "budget-ai/database")
    ]
    leak = result.draft.leaks[0]
    assert leak.fingerprint.startswith("hmac-sha256:") and leak.fingerprint in text  # named in the draft's comments
    db = next(s for s in data["secrets"] if s["name"] == "budget-ai/database")
    issuer = data["issuers"][db["issuer"]]
    assert issuer["host"].endswith(".neon.tech") and issuer["sslmode"] == "require"
    kinds = {s["kind"] for s in data["secrets"]}
    assert {"api-key:plaid", "api-key:openai", "flask-secret-key", "postgres-password"} <= kinds


def test_debt_profile_compose_host_gets_a_dotenv_target_and_the_db_service_host() -> None:
    _, _, data = draft_of(GUIDES / "debt-profile-maintenance.md")
    (target,) = data["targets"].values()
    assert target["kind"] == "dotenv"
    assert target["restart"][:3] == ["docker-compose", "up", "-d"]
    db = next(s for s in data["secrets"] if s["kind"] == "postgres-password")
    assert "@db/debtprofile" in db["consumers"][0]["template"]


def test_malar_market_targets_by_platform() -> None:
    _, _, data = draft_of(GUIDES / "malar-market-deployment.md")
    by_env = {env: kind for env, kind, _, _ in consumers(data)}
    assert by_env["VITE_SENTRY_DSN"] == "vercel" and by_env["SENTRY_DSN"] == "render"
    assert by_env["RENDER_API_KEY"] == "github" and by_env["VERCEL_TOKEN"] == "github"
    assert "RENDER_SERVICE_ID" not in by_env and "VERCEL_ORG_ID" not in by_env  # identifiers
    sentry = [s for s in data["secrets"] if s["kind"] == "sentry-dsn"]
    assert len(sentry) == 1  # one Sentry project for both halves
