"""The "what to do next" block after a blocked commit: only in hooks, never with a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.cli.app import run
from tests.ci.test_pre_commit import LEAK, SECRET


@pytest.mark.parametrize(("in_hook", "shown"), [(True, True), (False, False)])
def test_the_hint_shows_in_pre_commit_hooks_only(
    in_hook: bool, shown: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "settings.py").write_text(LEAK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    if in_hook:
        monkeypatch.setenv("PRE_COMMIT", "1")  # pre-commit sets it for every hook it runs
    assert run(["scan", "settings.py", "--no-progress", "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert ("commit blocked" in err) is shown
    assert ("secretops compromised" in err) is shown
    assert SECRET not in err


def test_no_hint_when_nothing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "clean.py").write_text("DEBUG = False\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert run(["scan", "clean.py", "--no-progress", "--jobs", "1"]) == 0
    assert "commit blocked" not in capsys.readouterr().err
