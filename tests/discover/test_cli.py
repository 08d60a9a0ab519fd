"""`secretops discover` and `secretops policy check --draft` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from secretops.cli.app import run
from tests.discover.helpers import ASSETS, GUIDES


def test_discover_writes_the_draft_and_the_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "draft-budget-ai.yaml"
    code = run(["discover", str(GUIDES / "budget-ai-operations.md"), "--output", str(out)])
    assert code == 1  # the guide prints a live Neon password: a finding
    err = capsys.readouterr().err
    assert "neon-postgres-password" in err and "-> budget-ai/database" in err and "hmac-sha256:" in err
    assert "budget-ai-operations.md:" in err  # evidence names file:line
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["app"] == "budget-ai"
    assert "npg_" not in out.read_text(encoding="utf-8")

    assert run(["policy", "check", str(out)]) == 2  # a plain check refuses placeholders
    capsys.readouterr()
    assert run(["policy", "check", "--draft", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "4 placeholders to fill in" in shown
    assert f"{out}:" in shown and "admin_dsn_env: to fill in:" in shown


def test_discover_to_stdout_with_a_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    code = run(["discover", str(ASSETS / "do-app"), "--report", str(report), "--format", "json"])
    assert code == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["app"] == "ledger"
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["placeholders"] > 0 and doc["findings"] == []
    items = {e["item"] for e in doc["evidence"]}
    assert any(i.startswith("component queue (worker)") for i in items)
    assert all(ev["line"] >= 1 for e in doc["evidence"] for ev in e["evidence"])


def test_policy_check_draft_json_counts_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.yaml"
    assert run(["discover", str(ASSETS / "gha-app"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert run(["policy", "check", "--draft", "--format", "json", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and doc["problems"] == []
    assert doc["counts"]["to_fill_in"] == len(doc["to_fill_in"]) > 0
    assert {p["code"] for p in doc["to_fill_in"]} == {"to-fill-in"}


def test_draft_still_fails_on_a_real_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.yaml"
    assert run(["discover", str(ASSETS / "do-app"), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8").replace("components: [queue, migrate]", "components: [queue]")
    out.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert run(["policy", "check", "--draft", str(out)]) == 2
    assert "needs DATABASE_URL" in capsys.readouterr().out
    assert run(["policy", "check", "--draft", "--format", "json", str(out)]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert [p["code"] for p in doc["problems"]] == ["worker-missing-secret"]
    assert doc["counts"]["to_fill_in"] > 0


def test_discover_merge_updates_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.yaml"
    original = (Path(__file__).resolve().parents[2] / "policies" / "examples" / "benefits-navigator.yaml").read_text()
    policy.write_text(original, encoding="utf-8")
    assert run(["discover", str(GUIDES / "benefits-navigator-operations.md"), "--merge", str(policy)]) == 0
    assert policy.read_text(encoding="utf-8") == original
    assert "merge: added nothing" in capsys.readouterr().err


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["discover", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_scan_does_not_import_discover() -> None:
    code = (
        "import sys; from secretops.cli.app import _app_for; _app_for(['scan', '.']);"
        "print(any(m.startswith('secretops.discover') or m == 'secretops.cli.discover' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
