"""`secretops policy check` on this machine: `.env` targets, warnings, `--skip-local-targets`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretops.cli.app import run

POLICY = """\
issuers: {app: {kind: app}}
targets:
  web: {kind: dotenv, path: apps.env}
secrets:
  - name: a/key
    kind: k
    issuer: app
    grace: 0s
    consumers:
      - {target: web, env: SECRET_KEY}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "app.yaml").write_text(POLICY)
    (tmp_path / "app.env").write_text("SECRET_KEY=old\n")
    return tmp_path


def test_a_misspelt_relative_path_fails_the_check(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "policies"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"policies/app.yaml:3: targets.web.path: {project}/apps.env does not exist (did you mean app.env?) "
        f"(`apps.env` is relative: it resolves against the working directory, {project}, as `secretops rotate` "
        "resolves it)"
    )
    assert lines[1].startswith("    hint: fix `path` (did you mean app.env?), or set `create: true`")
    assert lines[2].startswith("policies/app.yaml:8: secrets[0].grace: warning: grace 0s: the previous value")
    assert lines[-1] == "1 problem, 1 warning in policies (1 file)"


def test_skip_local_targets_leaves_the_warning(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "--skip-local-targets", "policies"]) == 0
    out = capsys.readouterr().out
    assert "apps.env" not in out
    assert out.splitlines()[-1] == "ok: 1 file, 1 secrets, 1 issuers, 1 targets, 1 warning"


def test_the_fixed_path_passes_and_json_lists_warnings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "policies" / "app.yaml").write_text(POLICY.replace("apps.env", "app.env"))
    assert run(["policy", "check", "policies", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and doc["problems"] == []
    assert doc["counts"]["warnings"] == 1
    assert [(w["line"], w["field"], w["code"], w["severity"]) for w in doc["warnings"]] == [
        (8, "secrets[0].grace", "zero-grace", "warning")
    ]


def test_an_empty_policy_file_warns_but_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "policies" / "app.yaml").write_text(POLICY.replace("apps.env", "app.env").replace("    grace: 0s\n", ""))
    (project / "policies" / "later.yaml").write_text("# to do\n")
    assert run(["policy", "check", "policies"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "policies/later.yaml:1: warning: the file declares no issuers, targets or secrets (it is empty)",
        "    hint: fill it in, or delete it: an empty file may mean the policies meant to be here are missing",
        "ok: 2 files, 1 secrets, 1 issuers, 1 targets, 1 warning",
    ]
