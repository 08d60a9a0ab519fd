"""`--merge`: adds what is new, never rewrites what the user wrote, lists what the file lacks."""

from __future__ import annotations

from pathlib import Path

import yaml

from secretops.discover.merge import merge_into
from tests.discover.helpers import GUIDES, check_draft, draft_of

POLICY = Path(__file__).resolve().parents[2] / "policies" / "examples" / "benefits-navigator.yaml"


def _without_sentry(tmp_path: Path) -> tuple[Path, str]:
    text = POLICY.read_text(encoding="utf-8")
    start = text.index("  - name: benefits-navigator/sentry-dsn")
    end = text.index("  - name: benefits-navigator/django-secret-key")
    text = (text[:start] + text[end:]).replace("components: [worker, migrate]", "components: [worker]")
    path = tmp_path / "benefits.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


def test_merge_adds_the_missing_secret_and_keeps_every_line(tmp_path: Path) -> None:
    path, original = _without_sentry(tmp_path)
    result, _, _ = draft_of(GUIDES / "benefits-navigator-operations.md")
    merged = merge_into(path, result.draft.data)
    assert _is_subsequence(original.splitlines(), merged.text.splitlines())  # nothing rewritten or dropped
    data = yaml.safe_load(merged.text)
    sentry = [s for s in data["secrets"] if s["kind"] == "sentry-dsn"]
    assert len(sentry) == 1 and sentry[0]["consumers"][0]["target"] == "benefits-nav-staging"  # the user's target
    assert sentry[0]["consumers"][0]["components"] == ["worker"]
    assert sentry[0]["issuer"] in data["issuers"]
    assert len(data["targets"]) == 1  # the DigitalOcean app is the one already declared
    assert any("secret benefits-navigator/sentry-dsn" in a for a in merged.added)
    assert any("DATABASE_URL" in line and "migrate" in line for line in merged.lacking)
    errors, todo = check_draft(tmp_path, merged.text)
    assert todo == []
    assert [p.code for p in errors] == ["worker-missing-secret"]  # what the report said the file lacks


def test_merge_of_a_covering_file_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "benefits.yaml"
    path.write_text(POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    result, _, _ = draft_of(GUIDES / "benefits-navigator-operations.md")
    merged = merge_into(path, result.draft.data)
    assert merged.text == POLICY.read_text(encoding="utf-8")
    assert merged.added == [] and merged.lacking == []


def test_merge_adds_a_new_consumer_to_an_existing_secret(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nissuers:\n  x: {kind: app}\ntargets:\n  web:\n    kind: render\n    service_id: srv-x\n"
        "secrets:\n  - name: a/key\n    kind: app-secret-key\n    issuer: x\n    strategy: replace\n"
        "    accept_downtime: true\n    consumers:\n      - target: web\n        env: SECRET_KEY\n"
        "    verify: {credential: false, prove_dead: false}\n",
        encoding="utf-8",
    )
    draft = {
        "targets": {
            "d-web": {"kind": "render", "service_id": "srv-x"},
            "d-worker": {"kind": "dotenv", "path": "/srv/.env"},
        },
        "issuers": {"d-app": {"kind": "app"}},
        "secrets": [
            {"name": "d/secret-key", "kind": "app-secret-key", "issuer": "d-app",
             "consumers": [{"target": "d-web", "env": "SECRET_KEY"}, {"target": "d-worker", "env": "SECRET_KEY"}]}
        ],
    }  # fmt: skip
    merged = merge_into(path, draft)
    data = yaml.safe_load(merged.text)
    assert [c["target"] for c in data["secrets"][0]["consumers"]] == ["web", "d-worker"]
    assert data["targets"]["d-worker"] == {"kind": "dotenv", "path": "/srv/.env"}
    assert len(data["secrets"]) == 1 and "d-app" not in data["issuers"]


def test_merge_never_claims_an_edit_it_cannot_make(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    original = (
        "version: 1\nissuers:\n  x: {kind: app}\ntargets:\n  web: {kind: render, service_id: srv-x}\n"
        "  env: {kind: dotenv, path: /srv/.env}\n"
        "secrets:\n  - name: a/key\n    kind: django-secret-key\n    issuer: x\n    strategy: replace\n"
        "    accept_downtime: true\n    consumers: [{target: web, env: SECRET_KEY}]\n"
        "    verify: {credential: false, prove_dead: false}\n"
    )
    path.write_text(original, encoding="utf-8")
    draft = {
        "targets": {"d-web": {"kind": "render"}, "d-env": {"kind": "dotenv", "path": "/srv/.env"}},
        "issuers": {"d-app": {"kind": "app"}},
        "secrets": [
            {"name": "d/django-secret-key", "kind": "django-secret-key", "issuer": "d-app", "consumers": [
                {"target": "d-web", "env": "SECRET_KEY"},
                {"target": "d-web", "env": "SECRET_KEY_FALLBACKS", "template": "{previous}", "new": True},
                {"target": "d-env", "env": "SECRET_KEY"},
            ]}
        ],
    }  # fmt: skip
    merged = merge_into(path, draft)
    assert merged.text == original  # a flow list is not edited, a proposed companion not imposed
    assert merged.added == []
    assert any("SECRET_KEY_FALLBACKS" in line for line in merged.lacking)
    assert any("flow list" in line and "d-env" not in line and "env" in line for line in merged.lacking)


def test_merge_into_a_file_with_a_recursive_alias(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nsecrets: &s\n  - *s\n", encoding="utf-8")
    merged = merge_into(path, {"targets": {}, "issuers": {}, "secrets": []})
    assert merged.text == path.read_text(encoding="utf-8")


def test_merge_refuses_broken_yaml_without_quoting_it(tmp_path: Path) -> None:
    import pytest

    from secretops.discover.interface import DiscoverError

    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nsecrets: [\n  password: hunter2-not-for-output\n", encoding="utf-8")
    with pytest.raises(DiscoverError) as err:
        merge_into(path, {})
    assert "hunter2" not in err.value.diagnostics() and "line" in err.value.message
