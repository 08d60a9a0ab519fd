"""The hash-chained audit log: append, verify, and tampering of every kind named by line."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from secretops.audit import LocalAuditLog
from secretops.cli.app import run
from secretops.store.access_log import AccessLog
from secretops.values import SecretValue


def _log(tmp_path: Path, n: int = 5) -> LocalAuditLog:
    log = LocalAuditLog(tmp_path)
    for i in range(n):
        log.append("rotate", secret=f"shop/s{i}", run=f"r-{i}", outcome="complete", skipped_targets=["web"])
    return log


def _lines(log: LocalAuditLog) -> list[str]:
    return log.path.read_text().splitlines()


def _write(log: LocalAuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(line + "\n" for line in lines))


def test_intact_log_verifies_and_entries_read_back(tmp_path: Path) -> None:
    log = _log(tmp_path)
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 5 and verdict.bad_line is None
    entries = log.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[2].secret == "shop/s2" and entries[2].detail["run"] == "r-2"
    assert entries[0].prev == "0" * 64
    assert (log.path.stat().st_mode & 0o777) == 0o600


def test_empty_log_verifies(tmp_path: Path) -> None:
    assert LocalAuditLog(tmp_path).verify().ok


@pytest.mark.parametrize("field,value", [("outcome", "rolled-back"), ("secret", "shop/other")])
def test_an_altered_line_is_named(tmp_path: Path, field: str, value: str) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    obj = json.loads(lines[2])
    if field == "secret":
        obj["secret"] = value
    else:
        obj["detail"][field] = value
    lines[2] = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    _write(log, lines)
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_line == 3 and "altered" in verdict.reason


def test_an_altered_line_with_its_own_hash_recomputed_breaks_the_next_link(tmp_path: Path) -> None:
    import hashlib

    log = _log(tmp_path)
    lines = _lines(log)
    obj = json.loads(lines[1])
    obj["detail"]["outcome"] = "complete-ish"
    del obj["hash"]
    obj["hash"] = hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    lines[1] = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    _write(log, lines)
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_line == 3 and "chain" in verdict.reason


def test_a_removed_line_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[1]
    _write(log, lines)
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_line == 2 and "removed or reordered" in verdict.reason


def test_swapped_lines_are_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[3], lines[4] = lines[4], lines[3]
    _write(log, lines)
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_line == 4


def test_lines_cut_off_the_end_are_found_by_the_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _write(log, _lines(log)[:-1])
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_line == 5 and "missing" in verdict.reason


def test_a_garbled_line_and_a_missing_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    _write(log, [*lines[:2], "{not json", *lines[3:]])
    assert log.verify().bad_line == 3
    _write(log, lines)
    assert log.verify().ok
    log.head_path.unlink()
    verdict = log.verify()
    assert not verdict.ok and "head" in verdict.reason


def test_no_value_can_be_written(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)
    with pytest.raises(TypeError):
        log.append("reveal", secret="shop/db", value=SecretValue("hunter2-value"))
    with pytest.raises(TypeError):
        log.append("reveal", secret="shop/db", values=[SecretValue("hunter2-value")])
    with pytest.raises(ValueError):
        log.append("dance")
    assert not log.path.exists() or "hunter2" not in log.path.read_text()


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)

    def work(k: int) -> None:
        for i in range(10):
            LocalAuditLog(tmp_path).append("rotate", secret=f"s{k}-{i}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 40


def test_a_torn_last_line_stops_appends(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    with log.path.open("a") as fh:
        fh.write('{"seq": 3, "ts"')
    from secretops.audit import AuditError

    with pytest.raises(AuditError, match="torn"):
        log.append("rotate", secret="x")
    assert log.verify().bad_line == 3


def test_reveal_is_audited(tmp_path: Path) -> None:
    AccessLog(tmp_path).append("revealed", "shop/db", version=3, fingerprint="hmac-sha256:abc", tty=True)
    [entry] = LocalAuditLog(tmp_path).entries()
    assert entry.action == "reveal" and entry.secret == "shop/db"
    assert entry.detail["fingerprint"] == "hmac-sha256:abc" and entry.detail["version"] == 3


def test_audit_verify_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path))
    log = _log(tmp_path, 3)
    assert run(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "3 entries, chain intact" in out and log.head_path.exists()
    assert run(["audit", "show"]) == 0
    assert "shop/s2" in capsys.readouterr().out
    lines = _lines(log)
    lines[0], lines[1] = lines[1], lines[0]
    _write(log, lines)
    assert run(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "line 1:" in err and "FAILED" in err


def test_rotate_and_compromised_runs_are_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secretops.store import LocalStore
    from secretops.store.interface import Label
    from secretops.values import FingerprintKey

    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.yaml").write_text(
        "version: 1\nissuers:\n  app: {kind: app}\ntargets:\n"
        f'  web: {{kind: dotenv, path: "{tmp_path}/web.env"}}\n'
        "secrets:\n  - name: shop/key\n    kind: django-secret-key\n    issuer: app\n    grace: 0s\n"
        "    drain: 0s\n    generator: {kind: token}\n    consumers:\n      - {target: web, env: KEY}\n"
    )
    (tmp_path / "web.env").write_text("KEY=old-key-value-123\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", "cd" * 32)
    store = LocalStore(tmp_path / ".secretops", b"\xcd" * 32, fingerprint_key=FingerprintKey(b"\xab" * 32))
    store.put("shop/key", SecretValue("old-key-value-123"), labels=frozenset({Label.CURRENT}))
    store.close()
    assert run(["rotate", "shop/key"]) == 0
    assert run(["compromised", "shop/key"]) == 0
    assert run(["compromised", "shop/key", "--report", "incident.md"]) == 0
    capsys.readouterr()
    entries = LocalAuditLog(tmp_path / ".secretops").entries()
    assert [(e.action, e.detail.get("compromised")) for e in entries] == [
        ("rotate", False),
        ("rotate", True),
        ("compromise", None),
        ("rotate", True),
    ]
    assert all(e.detail.get("outcome") == "complete" for e in entries if e.action == "rotate")
    assert "old-key-value-123" not in (tmp_path / ".secretops" / "journal" / "audit.jsonl").read_text()
    assert "| switched | shop/key -> web |" in (tmp_path / "incident.md").read_text()
    assert run(["audit", "verify"]) == 0
