"""`rotate`, `history`, `status`, `audit` with SECRETOPS_STATE=postgresql:// (127.0.0.1:5432).

Nothing of the run is left in `.secretops/journal` or `locks/`: the journal, leases and audit
chain are in the test's own schema. Skipped without PostgreSQL unless SECRETOPS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretops.cli.app import run
from tests.cli.test_rotate_cli import env_of, project  # noqa: F401 (fixture)
from tests.state.conftest import PgSchema, pg_schema, pg_state_db  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres


def test_rotate_history_status_audit_on_postgres_state(
    project: Path,  # noqa: F811
    pg_schema: PgSchema,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SECRETOPS_STATE", pg_schema.url)
    assert run(["rotate", "shop/django"]) == 0
    out = capsys.readouterr().out
    assert "shop/django: run r-" in out and "complete" in out
    assert env_of(project / "worker.env")["SECRET_KEY"] != "old-django-key"
    assert not list((project / ".secretops").glob("journal/r-*.jsonl"))
    assert not (project / ".secretops" / "journal" / "audit.jsonl").exists()
    assert not (project / ".secretops" / "locks").exists()
    (run_id,) = [r[0] for r in pg_schema.query("SELECT DISTINCT run_id FROM secretops_runs")]

    assert run(["history", "shop/django"]) == 0
    assert run_id in capsys.readouterr().out
    assert run(["status", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["secrets"]}
    assert rows["shop/django"]["run"]["id"] == run_id and rows["shop/django"]["run"]["state"] == "complete"
    assert run(["audit", "verify"]) == 0
    verdict = capsys.readouterr().out
    assert "1 entries, chain intact" in verdict and "postgresql://" in verdict
    assert run(["audit", "show"]) == 0
    assert run_id in capsys.readouterr().out


def test_reveal_and_compromised_are_audited_in_the_postgres_state(
    project: Path,  # noqa: F811
    pg_schema: PgSchema,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SECRETOPS_STATE", pg_schema.url)
    assert run(["rotate", "shop/django"]) == 0
    assert run(["store", "show", "shop/django", "--reveal", "--yes"]) == 0
    assert run(["compromised", "shop/django", "--yes"]) == 0
    capsys.readouterr()
    actions = [r[0] for r in pg_schema.query("SELECT action FROM secretops_audit ORDER BY seq")]
    assert actions.count("reveal") == 1, actions
    assert actions.count("rotate") == 2, actions  # the scheduled rotation, then the compromised one
    assert not (project / ".secretops" / "journal" / "audit.jsonl").exists()
    assert run(["audit", "verify"]) == 0
