"""The README's first command shows the one real-looking leak in the example guides.

Run from the repository root, so the repository's own `policies/scan.toml` is picked up as a
newcomer's would be: it must not allowlist the guides the README tells people to scan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretops.cli.app import run


def test_readme_scan_of_the_example_guides(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (repo_root / "README.md").read_text()
    assert "pip install -e . && secretops scan docs/examples/guides" in readme
    monkeypatch.chdir(repo_root)
    code = run(["scan", "docs/examples/guides", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    leaks = [f for f in report["findings"] if f["class"] == "leak"]
    assert code == 1
    assert [(f["path"], f["line"]) for f in leaks] == [("docs/examples/guides/budget-ai-operations.md", 80)]
    assert "npg_" not in json.dumps(report).replace(leaks[0]["preview"], "")
