"""Baselines: known findings are filtered, new ones are not, keys must match, audits survive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from secretops.scan.baseline import (
    HIDDEN_KEY,
    Baseline,
    BaselineError,
    BaselineKeyError,
    ValueHasher,
    load_baseline,
    read_any,
)
from secretops.scan.runner import ScanOptions, ScanResult, scan_paths
from secretops.values import FingerprintKey
from tests.scan.fake_scanner import FakeScanner

KEY = FingerprintKey(b"k" * 32)


KEEP = ScanOptions(keep_secrets=True)


def _scan(root: Path, key: FingerprintKey = KEY) -> ScanResult:
    return scan_paths([str(root)], lambda: FakeScanner(key), options=KEEP)


def test_known_findings_are_filtered_new_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    baseline = Baseline.from_result(_scan(tmp_path))
    baseline.save(tmp_path / "baseline.json")
    text = (tmp_path / "baseline.json").read_text()
    assert "FAKE_LEAK_known111" not in text
    assert json.loads(text)["findings"][0]["hash"].startswith("scrypt:")

    # The known value moves down a line; a new value appears; the known value is copied to a new file.
    (tmp_path / "a.env").write_text("\n# moved\nK=FAKE_LEAK_known111\nN=FAKE_LEAK_newvalue\n")
    (tmp_path / "b.env").write_text("K=FAKE_LEAK_known111\n")
    loaded = Baseline.load(tmp_path / "baseline.json")
    result = loaded.filter(_scan(tmp_path))
    assert [(Path(f.location.path).name, f.location.line) for f in result.findings] == [("a.env", 4), ("b.env", 1)]
    assert result.hidden == {HIDDEN_KEY: 1}
    assert len(result.line_hashes) == 2


def test_a_format_2_baseline_needs_no_key_and_matches_under_any(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    Baseline.from_result(_scan(tmp_path, KEY)).save(tmp_path / "b.json")
    other = FingerprintKey(b"z" * 32)
    result = Baseline.load(tmp_path / "b.json", other).filter(_scan(tmp_path, other))
    assert result.findings == [] and result.hidden == {HIDDEN_KEY: 1}


def test_the_salt_makes_hashes_differ_and_a_right_guess_matches(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    one, two = Baseline.from_result(_scan(tmp_path)), Baseline.from_result(_scan(tmp_path))
    assert one.salt != two.salt and len(one.salt) == 16
    assert one.entries[0].value_hash != two.entries[0].value_hash
    # What an attacker with the file can do: test a guess, at one scrypt per guess.
    assert one.hasher().hash_value("FAKE_LEAK_known111") == one.entries[0].value_hash
    assert one.hasher().hash_value("FAKE_LEAK_known112") != one.entries[0].value_hash


def test_a_rewrite_keeps_the_salt(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    first = Baseline.from_result(_scan(tmp_path))
    second = Baseline.from_result(_scan(tmp_path), first)
    assert second.salt == first.salt and second.entries == first.entries


@pytest.mark.parametrize(
    "kdf",
    [
        {"name": "scrypt", "n": 2**30, "r": 8, "p": 1},  # a hostile baseline: gigabytes per hash
        {"name": "scrypt", "n": 2**4, "r": 8, "p": 1},  # too cheap to protect anything
        {"name": "scrypt", "n": 10000, "r": 8, "p": 1},  # not a power of 2
        {"name": "sha1"},
    ],
)
def test_kdf_parameters_are_bounded(tmp_path: Path, kdf: dict[str, object]) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    doc = Baseline.from_result(_scan(tmp_path)).to_doc()
    doc["kdf"] = kdf
    (tmp_path / "b.json").write_text(json.dumps(doc))
    with pytest.raises(BaselineError, match=r"kdf|scrypt"):
        Baseline.load(tmp_path / "b.json")


def _format_1(tmp_path: Path, key: FingerprintKey) -> Path:
    """A baseline as secretops wrote them before format 2."""
    result = _scan(tmp_path, key)
    doc = {
        "version": 1,
        "key_check": Baseline.key_check_for(key),
        "findings": [
            {
                "rule_id": f.rule_id,
                "fingerprint": f.fingerprint,
                "path": f.location.path,
                "line": f.location.line,
                "stable_id": h,
                "class": "leak",
                "severity": "high",
                "preview": f.preview,
                "audit": "false-positive",
            }
            for f, h in zip(result.findings, result.line_hashes, strict=True)
        ],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_format_1_baseline_still_works_with_its_key_and_is_refused_clearly_with_another(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    path = _format_1(tmp_path, KEY)
    assert Baseline.load(path, KEY).filter(_scan(tmp_path)).findings == []
    with pytest.raises(BaselineKeyError, match="another installation's fingerprint key") as info:
        Baseline.load(path, FingerprintKey(b"z" * 32))
    assert "secretops baseline update" in (info.value.hint or "")
    # Rewriting it under another key keeps its audit marks (matched by the stable line id).
    other = FingerprintKey(b"z" * 32)
    rewritten = Baseline.from_result(_scan(tmp_path, other), read_any(path))
    assert rewritten.version == 2 and [e.audit for e in rewritten.entries] == ["false-positive"]


def test_a_baseline_written_under_one_home_is_accepted_under_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secretops.cli.app import run

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.env").write_text(f"DB_PASSWORD={_PW1}\n")
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY", raising=False)
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY_FILE", raising=False)
    monkeypatch.chdir(repo)
    for home in ("alice", "ci"):
        (tmp_path / home).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "alice"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "alice" / ".config"))
    assert run(["scan", ".", "--write-baseline", ".secretops-baseline.json", "-f", "json"]) == 1
    capsys.readouterr()
    assert _PW1 not in (repo / ".secretops-baseline.json").read_text()

    monkeypatch.setenv("HOME", str(tmp_path / "ci"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "ci" / ".config"))
    assert run(["scan", ".", "--baseline", ".secretops-baseline.json", "-f", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] == [] and report["hidden"].get(HIDDEN_KEY) == 1
    keys = sorted(p.read_bytes() for p in tmp_path.glob("*/.config/**/*") if p.is_file() and "key" in p.name)
    assert len(keys) == 2 and keys[0] != keys[1], "two installations, two fingerprint keys"
    # A new value is still new for the second machine.
    (repo / "app.env").write_text(f"DB_PASSWORD={_PW1}\nSMTP_PASSWORD={_PW2}\n")
    assert run(["scan", ".", "--baseline", ".secretops-baseline.json", "-f", "json"]) == 1


def test_audit_notes_survive_a_rewrite(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    path = tmp_path / "b.json"
    Baseline.from_result(_scan(tmp_path)).save(path)
    doc = json.loads(path.read_text())
    doc["findings"][0]["audit"] = "false-positive"
    doc["findings"][0]["note"] = "a fixture"
    path.write_text(json.dumps(doc))
    previous = Baseline.load(path)
    Baseline.from_result(_scan(tmp_path), previous).save(path)
    entry = json.loads(path.read_text())["findings"][0]
    assert (entry["audit"], entry["note"]) == ("false-positive", "a fixture")


@pytest.mark.parametrize("content", ["not json", '{"version": 99}', '{"version": 1, "findings": [{"x": 1}]}'])
def test_malformed_baseline(tmp_path: Path, content: str) -> None:
    (tmp_path / "b.json").write_text(content)
    with pytest.raises(BaselineError):
        Baseline.load(tmp_path / "b.json", KEY)
    with pytest.raises(BaselineError, match="no such file"):
        Baseline.load(tmp_path / "missing.json", KEY)


# ---------------------------------------------------------------- detect-secrets baselines

# Assembled at run time so this file holds no credential-shaped literal.
_PW1 = "Zq8" + "vN3xLp2Wm7Rt4Kd"
_PW2 = "Hy4" + "kT9wQm2Lx8Vb5Nc"
_PW3 = "Rf7" + "jD2sPz9Ke4Wq6Tm"


def _detect_secrets_baseline(root: Path) -> Path:
    """A baseline written by the real detect-secrets, run in `root` like a team would."""
    out = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = root / ".secrets.baseline"
    path.write_text(out)
    return path


def test_a_detect_secrets_baseline_moves_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secretops.cli.app import run

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.env").write_text(f"DB_PASSWORD={_PW1}\n")
    (tmp_path / "src" / "b.env").write_text(f"SMTP_PASSWORD={_PW2}\n")
    ds_path = _detect_secrets_baseline(tmp_path)
    doc = json.loads(ds_path.read_text())
    assert set(doc["results"]) == {"src/app.env", "src/b.env"}
    doc["results"]["src/app.env"][0]["is_secret"] = False  # a reviewer's audit in detect-secrets
    doc["results"]["src/b.env"][0]["hashed_secret"] = "0" * 40  # cut differently: known by its line
    ds_path.write_text(json.dumps(doc))
    # The known value moves down a line (known by its hash); a new value appears.
    (tmp_path / "src" / "app.env").write_text(f"# rotated below\nDB_PASSWORD={_PW1}\nREDIS_PASSWORD={_PW3}\n")

    monkeypatch.chdir(tmp_path)
    code = run(["scan", "src", "--baseline", ".secrets.baseline", "--write-baseline", "ours.json", "-f", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("src/app.env", 3)]
    assert report["hidden"] == {HIDDEN_KEY: 2}
    assert all("secret" not in f for f in report["findings"]), "values were kept for matching, not for output"

    ours = (tmp_path / "ours.json").read_text()
    for raw in (_PW1, _PW2, _PW3):
        assert raw not in ours
    assert doc["results"]["src/app.env"][0]["hashed_secret"] not in ours, "secretops writes no SHA-1 of a value"
    audits = {(e["path"], e["line"]): e["audit"] for e in json.loads(ours)["findings"]}
    assert audits == {
        ("src/app.env", 2): "false-positive",
        ("src/app.env", 3): "unaudited",
        ("src/b.env", 1): "unaudited",
    }
    # From now on the team uses secretops' own baseline.
    assert run(["scan", "src", "--baseline", "ours.json"]) == 0


def test_a_malformed_detect_secrets_baseline(tmp_path: Path) -> None:
    path = tmp_path / ".secrets.baseline"
    path.write_text(json.dumps({"plugins_used": [], "results": {"a.env": [{"line_number": 1}]}}))
    with pytest.raises(BaselineError, match="malformed detect-secrets entry"):
        load_baseline(path, KEY)
    path.write_text(json.dumps({"plugins_used": [], "results": []}))
    with pytest.raises(BaselineError, match="without a 'results' table"):
        load_baseline(path, KEY)


def test_each_distinct_value_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.env", "b.env", "c.env"):
        (tmp_path / name).write_text("K=FAKE_LEAK_known111\nN=FAKE_LEAK_other2222\n")
    result = _scan(tmp_path)
    assert len(result.findings) == 6
    calls: list[int] = []
    real = ValueHasher.hash_value
    monkeypatch.setattr(ValueHasher, "hash_value", lambda self, raw: calls.append(1) or real(self, raw))
    baseline = Baseline.from_result(result)
    assert len(calls) == 2, "six findings, two distinct values: two scrypt calls"
    calls.clear()
    assert baseline.filter(result).findings == []
    assert len(calls) == 2
