"""Baselines: known findings are filtered, new ones are not, keys must match, audits survive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from secretops.scan.baseline import HIDDEN_KEY, Baseline, BaselineError, load_baseline
from secretops.scan.runner import scan_paths
from secretops.values import FingerprintKey
from tests.scan.fake_scanner import FakeScanner

KEY = FingerprintKey(b"k" * 32)


def test_known_findings_are_filtered_new_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    first = scan_paths([str(tmp_path)], lambda: FakeScanner(KEY))
    baseline = Baseline.from_result(first, KEY)
    baseline.save(tmp_path / "baseline.json")
    assert "FAKE_LEAK_known111" not in (tmp_path / "baseline.json").read_text()

    # The known value moves down a line; a new value appears; the known value is copied to a new file.
    (tmp_path / "a.env").write_text("\nK=FAKE_LEAK_known111\nN=FAKE_LEAK_newvalue\n")
    (tmp_path / "b.env").write_text("K=FAKE_LEAK_known111\n")
    loaded = Baseline.load(tmp_path / "baseline.json", KEY)
    result = loaded.filter(scan_paths([str(tmp_path)], lambda: FakeScanner(KEY)))
    assert [(Path(f.location.path).name, f.location.line) for f in result.findings] == [("a.env", 3), ("b.env", 1)]
    assert result.hidden == {HIDDEN_KEY: 1}
    assert len(result.line_hashes) == 2


def test_another_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    Baseline.from_result(scan_paths([str(tmp_path)], FakeScanner), KEY).save(tmp_path / "b.json")
    with pytest.raises(BaselineError, match="another fingerprint key"):
        Baseline.load(tmp_path / "b.json", FingerprintKey(b"z" * 32))


def test_audit_notes_survive_a_rewrite(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("K=FAKE_LEAK_known111\n")
    path = tmp_path / "b.json"
    Baseline.from_result(scan_paths([str(tmp_path)], lambda: FakeScanner(KEY)), KEY).save(path)
    doc = json.loads(path.read_text())
    doc["findings"][0]["audit"] = "false-positive"
    path.write_text(json.dumps(doc))
    previous = Baseline.load(path, KEY)
    Baseline.from_result(scan_paths([str(tmp_path)], lambda: FakeScanner(KEY)), KEY, previous).save(path)
    assert json.loads(path.read_text())["findings"][0]["audit"] == "false-positive"


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
