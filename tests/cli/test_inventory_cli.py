"""`secretops inventory` and `secretops status`: rows from policies plus the store's state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from secretops.cli.app import app, run
from secretops.cli.inventory import OutputFormat
from secretops.store.interface import Label
from secretops.store.local import LocalStore
from secretops.values import FingerprintKey, SecretValue

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "policies"
VALID = ASSETS / "valid"
KEY = "42" * 32
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / ".secretops"
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(path))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", KEY)
    monkeypatch.setenv("SECRETOPS_POLICIES", str(VALID))
    return path


def _store(state_dir: Path, at: datetime) -> LocalStore:
    return LocalStore(
        state_dir, key=bytes.fromhex(KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32)), clock=lambda: at
    )


@pytest.fixture
def populated(state_dir: Path) -> Path:
    # shop/redis (30d) rotated at T0; shop/jwt (90d) rotated at T0 + 80d; budget-ai/database
    # adopted (store import) at T0; an undeclared leftover
    store = _store(state_dir, T0)
    version = store.put("shop/redis", SecretValue("r1"), run_id="run-1")
    store.promote("shop/redis", version.number, expected_current=None, run_id="run-1")
    store.put("old/leftover", SecretValue("x"), labels=frozenset({Label.CURRENT}))
    store.put("budget-ai/database", SecretValue("adopted"), labels=frozenset({Label.CURRENT}))
    later = _store(state_dir, T0 + timedelta(days=80))
    jwt = later.put("shop/jwt", SecretValue("j"), run_id="run-2")
    later.promote("shop/jwt", jwt.number, expected_current=None, run_id="run-2")
    return state_dir


NOW = (T0 + timedelta(days=88)).isoformat()


def test_inventory_table(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "--now", NOW]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "SECRET",
        "KIND",
        "ISSUER",
        "STRATEGY",
        "PERIOD",
        "CONSUMERS",
        "AGE",
        "LAST",
        "ROTATION",
        "NEXT",
        "DUE",
        "STATE",
    ]
    rows = {line[2:].split()[0]: line for line in lines[1:] if line[:1] in "!?~ " and len(line.split()) > 5}
    assert len(rows) == 8  # every secret of the valid assets
    redis = rows["shop/redis"]
    assert redis.startswith("! ")  # overdue stands out
    assert redis[2:].split() == [
        "shop/redis",
        "redis-password",
        "shop-redis",
        "(redis)",
        "overlap",
        "30d",
        "2",
        "88d",
        "2025-01-01",
        "2025-01-31",
        "overdue",
    ]
    jwt = rows["shop/jwt"]
    assert jwt.startswith("  ") and jwt.split()[-4:] == ["8d", "2025-03-22", "2025-06-20", "ok"]
    # adopted 88 days ago, last rotation unknown: never rotated, due now
    assert rows["budget-ai/database"].startswith("? ")
    assert rows["budget-ai/database"].split()[-4:] == ["88d", "never", "now", "never-rotated"]
    assert rows["shop/mysql"].split()[-4:] == ["-", "never", "now", "never-rotated"]  # never stored
    assert "8 secrets: 1 overdue, 6 never rotated, 0 due, 1 ok" in lines
    assert lines[-1] == "the store also holds 1 secret(s) no policy declares: old/leftover"


def test_status_sorts_by_urgency_and_filters_due(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["status", "--now", NOW]) == 0
    names = [line[2:].split()[0] for line in capsys.readouterr().out.splitlines()[1:9]]
    assert names[0] == "shop/redis"
    assert names[-1] == "shop/jwt"
    assert run(["status", "--due", "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "shop/jwt" not in out and "shop/redis" in out


def test_due_state_between_window_and_due_date(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    at = (T0 + timedelta(days=80 + 85)).isoformat()  # shop/jwt: 90d period, 9-day window
    assert run(["status", "--format", "json", "--now", at]) == 0
    doc = json.loads(capsys.readouterr().out)
    jwt = next(s for s in doc["secrets"] if s["name"] == "shop/jwt")
    assert jwt["state"] == "due"
    assert doc["counts"]["due"] == 1


def test_json_output(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "-f", "json", "--now", NOW]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "inventory"
    assert doc["policies"] == str(VALID)
    assert doc["undeclared_in_store"] == ["old/leftover"]
    redis = next(s for s in doc["secrets"] if s["name"] == "shop/redis")
    assert redis["state"] == "overdue"
    assert redis["version"] == 1
    assert redis["consumers"] == 2
    assert redis["age_seconds"] == 88 * 86400
    assert redis["last_rotated"] == T0.isoformat()
    assert redis["next_due"] == (T0 + timedelta(days=30)).isoformat()
    assert doc["counts"] == {"ok": 1, "due": 0, "overdue": 1, "never-rotated": 6}
    assert "r1" not in json.dumps(doc)


def test_every_format_renders(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("inventory", "status"):
        for fmt in OutputFormat:
            assert run([command, "--format", fmt.value, "--now", NOW]) == 0
            out = capsys.readouterr().out
            assert "shop/redis" in out
            if fmt is OutputFormat.JSON:
                json.loads(out)


def test_overdue_is_red_in_a_terminal(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["status", "--now", NOW], color=True)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if "shop/redis" in line)
    assert "\x1b[31m" in line  # red


def test_empty_store_and_policies_option(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "--policies", str(VALID / "basic.yaml")]) == 0
    out = capsys.readouterr().out
    assert "budget-ai/database" in out and "never-rotated" in out
    assert "1 secret: 0 overdue, 1 never rotated, 0 due, 0 ok" in out


def test_no_secrets_declared(state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "policies"
    empty.mkdir()
    (empty / "none.yaml").write_text("version: 1\n")
    assert run(["status", "--policies", str(empty)]) == 0
    assert "no secrets declared" in capsys.readouterr().out


def test_broken_policies_exit_2(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "--policies", str(ASSETS / "invalid" / "bad-duration.yaml")]) == 2
    err = capsys.readouterr().err
    assert "bad-duration.yaml:8: secrets[0].period: invalid duration '90x'" in err


def test_bad_now_is_a_usage_error(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["status", "--now", "yesterday"]) == 2
    assert "--now" in capsys.readouterr().err
