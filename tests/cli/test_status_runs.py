"""`secretops status` tells a run's truth: running, interrupted, awaiting-revoke; missing consumer keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from secretops.cli.app import run
from secretops.rotate.journal import Journal
from secretops.rotate.lock import SecretLock
from secretops.store.local import LocalStore
from secretops.values import FingerprintKey, SecretValue

KEY = "5a" * 32
NOW = datetime.now(UTC)

POLICY = """\
version: 1
issuers:
  app: {kind: app}
targets:
  web: {kind: dotenv, path: "%(dir)s/web.env"}
secrets:
  - name: shop/alpha
    kind: api-key:x
    issuer: app
    consumers:
      - {target: web, env: ALPHA_KEY}
  - name: shop/beta
    kind: api-key:x
    issuer: app
    consumers:
      - {target: web, env: BETA_KEY}
  - name: shop/gamma
    kind: api-key:x
    issuer: app
    consumers:
      - {target: web, env: GAMMA_KEY}
      - {target: web, env: GAMMA_KEY_NEXT, new: true}
  - name: shop/delta
    kind: api-key:x
    issuer: app
    consumers:
      - {target: web, env: DELTA_KEYY}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(POLICY % {"dir": tmp_path})
    (tmp_path / "web.env").write_text("ALPHA_KEY=a\nBETA_KEY=b\nGAMMA_KEY=g\nDELTA_KEY=d\n")
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", KEY)
    store = LocalStore(tmp_path / ".secretops", bytes.fromhex(KEY), fingerprint_key=FingerprintKey(b"f" * 32))
    for name in ("shop/alpha", "shop/beta", "shop/gamma"):
        version = store.put(name, SecretValue(f"{name}-v1"), run_id="r-seed")
        store.promote(name, version.number, expected_current=None, run_id="r-seed")
    return tmp_path


def _journal(project: Path) -> Journal:
    return Journal(project / ".secretops" / "journal")


def _start(project: Path, secret: str, run_id: str) -> None:
    _journal(project).start(run_id, secret).append("run", "started", strategy="overlap")


def _status_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert run(["status", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    return {s["name"]: s for s in doc["secrets"]}


def test_a_run_that_died_is_interrupted_not_running(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _start(project, "shop/alpha", "r-20261201T000000Z-aaaa0001")
    rows = _status_json(capsys)
    assert rows["shop/alpha"]["run"]["state"] == "interrupted"
    assert rows["shop/beta"]["run"] is None
    # the same journal while a process holds the secret's lock: a live run
    with SecretLock(project / ".secretops" / "locks", "shop/alpha"):
        rows = _status_json(capsys)
        assert rows["shop/alpha"]["run"]["state"] == "running"
        assert run(["status"]) == 0
        line = next(line for line in capsys.readouterr().out.splitlines() if "shop/alpha" in line)
        assert "running (r-20261201T000000Z-aaaa0001)" in line
    assert run(["status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "shop/alpha" in line)
    assert "interrupted (r-20261201T000000Z-aaaa0001)" in line and "running" not in line
    assert run(["status"]) == 0
    assert "1 run(s) to finish: shop/alpha (interrupted); `secretops resume` finishes them" in capsys.readouterr().out
    # a run to finish shows under --due even though the secret's schedule is ok
    assert run(["status", "--due"]) == 0
    out = capsys.readouterr().out
    assert "shop/alpha" in out and "shop/beta" not in out


def test_awaiting_revoke_during_the_grace_then_revoke_due(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    after = NOW + timedelta(hours=1)
    rj = _journal(project).start("r-20261201T000000Z-bbbb0002", "shop/beta")
    rj.append("run", "started", strategy="overlap")
    rj.append("promote", "done", version=2)
    rj.append("run", "awaiting-revoke", revoke_after=after.isoformat())
    rows = _status_json(capsys)
    run_doc = rows["shop/beta"]["run"]
    assert run_doc["state"] == "awaiting-revoke"
    assert run_doc["revoke_after"] == after.isoformat()
    assert run(["status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "shop/beta" in line)
    assert f"awaiting-revoke until {after.strftime('%Y-%m-%d %H:%M')} UTC" in line
    later = (after + timedelta(minutes=1)).isoformat()
    assert run(["status", "--format", "json", "--now", later]) == 0
    doc = json.loads(capsys.readouterr().out)
    beta = next(s for s in doc["secrets"] if s["name"] == "shop/beta")
    assert beta["run"]["state"] == "revoke-due"


def test_a_finished_run_does_not_hide_an_unfinished_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _start(project, "shop/gamma", "r-20261201T000000Z-cccc0001")
    done = _journal(project).start("r-20261201T000100Z-cccc0002", "shop/gamma")
    done.append("run", "started")
    done.append("run", "rolled-back")
    rows = _status_json(capsys)
    assert rows["shop/gamma"]["run"]["state"] == "interrupted"
    assert rows["shop/gamma"]["run"]["id"] == "r-20261201T000000Z-cccc0001"


def test_consumer_keys_the_target_lacks_are_listed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _status_json(capsys)
    (delta,) = rows["shop/delta"]["missing"]
    assert "DELTA_KEYY" in delta and "did you mean DELTA_KEY" in delta
    (gamma,) = rows["shop/gamma"]["missing"]
    assert "GAMMA_KEY_NEXT" in gamma and "expected" in gamma
    assert rows["shop/alpha"]["missing"] == []
    assert run(["status"]) == 0
    out = capsys.readouterr().out
    assert "consumer keys their targets do not hold:" in out
    assert "DELTA_KEYY is not set on dotenv:" in out
