"""Baselines: known findings are filtered, new ones are not, keys must match, audits survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretops.scan.baseline import HIDDEN_KEY, Baseline, BaselineError
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
