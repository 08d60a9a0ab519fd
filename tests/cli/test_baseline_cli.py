"""`secretops baseline create | update | audit | export`, with the real detect-secrets for export."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secretops.cli.app import run

# Assembled at run time so this file holds no credential-shaped literal.
_PW1 = "Zq8" + "vN3xLp2Wm7Rt4Kd"
_PW2 = "Hy4" + "kT9wQm2Lx8Vb5Nc"
# A `ghp_` token whose checksum is wrong: detect-secrets reports it, secretops does not count it.
_BAD_GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"

DS = [sys.executable, "-m", "detect_secrets"]
DS_HOOK = [sys.executable, "-m", "detect_secrets.pre_commit_hook"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "settings.py").write_text(f'password = "{_PW1}"\n')
    (root / "app.env").write_text(f"TOKEN={_BAD_GHP}\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY", raising=False)
    return root


def _doc(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def _entries(path: Path) -> list[dict[str, Any]]:
    findings = _doc(path)["findings"]
    assert isinstance(findings, list)
    return findings


def test_create_update_and_the_scan_flags_agree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["baseline", "create"]) == 0
    base = repo / ".secretops-baseline.json"
    text = base.read_text()
    assert _PW1 not in text and len(_entries(base)) == 1
    assert run(["baseline", "create"]) == 2, "an existing baseline is not overwritten without --force"
    assert "baseline update" in capsys.readouterr().err
    assert run(["scan", ".", "--baseline", str(base)]) == 0
    # A new value, and the known one moved down: update keeps the known entry's mark, adds the new one.
    assert run(["baseline", "audit", "--mark", _entries(base)[0]["hash"][7:19] + "=false-positive"]) == 0
    (repo / "settings.py").write_text(f'# moved\npassword = "{_PW1}"\nsmtp_password = "{_PW2}"\n')
    assert run(["scan", ".", "--baseline", str(base)]) == 1
    capsys.readouterr()
    assert run(["baseline", "update"]) == 0
    assert "1 known, 1 new, 0 gone" in capsys.readouterr().err
    marks = sorted((e["line"], e["audit"]) for e in _entries(base))
    assert marks == [(2, "false-positive"), (3, "unaudited")]
    assert run(["scan", ".", "--baseline", str(base)]) == 0


def test_audit_by_flags_and_on_a_terminal(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "settings.py").write_text(f'password = "{_PW1}"\nsmtp_password = "{_PW2}"\n')
    assert run(["baseline", "create"]) == 0
    base = repo / ".secretops-baseline.json"
    capsys.readouterr()
    assert run(["baseline", "audit", "--list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and all("unaudited" in line for line in listing)
    first_id = listing[0].split()[0]
    assert run(["baseline", "audit", "--mark", f"{first_id}=real", "--note", "rotating: ticket 42"]) == 0
    entry = next(e for e in _entries(base) if e["hash"][7:19] == first_id)
    assert (entry["audit"], entry["note"]) == ("confirmed-secret", "rotating: ticket 42")
    assert run(["baseline", "audit", "--mark", "ffffffffffff=real"]) == 2
    assert "no entry with that id" in capsys.readouterr().err
    assert run(["baseline", "audit", "--mark", f"{first_id}=maybe"]) == 2
    # On a terminal: only the unaudited one is asked about; answered false positive with a note.
    monkeypatch.setattr("secretops.cli.baseline._is_terminal", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("f\nfixture only\n"))
    assert run(["baseline", "audit"]) == 0
    assert "[1/1]" in capsys.readouterr().out
    assert sorted(e["audit"] for e in _entries(base)) == ["confirmed-secret", "false-positive"]
    assert "fixture only" in base.read_text()


def test_format_1_baseline_is_rewritten_keeping_marks(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["baseline", "create"]) == 0
    base = repo / ".secretops-baseline.json"
    v2 = _entries(base)[0]
    legacy = {
        "version": 1,
        "key_check": "hmac-sha256:" + "0" * 32,  # another installation's key
        "findings": [{**{k: v for k, v in v2.items() if k != "hash"}, "fingerprint": "hmac-sha256:" + "1" * 32,
                      "audit": "false-positive"}],
    }  # fmt: skip
    base.write_text(json.dumps(legacy))
    capsys.readouterr()
    assert run(["scan", ".", "--baseline", str(base)]) == 2
    err = capsys.readouterr().err
    assert "format-1 baseline" in err and "secretops baseline update" in err
    assert run(["baseline", "update"]) == 0
    assert _doc(base)["version"] == 2 and _entries(base)[0]["audit"] == "false-positive"
    assert run(["scan", ".", "--baseline", str(base)]) == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="detect-secrets lists files with git")
def test_export_round_trip_through_real_detect_secrets(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A team's detect-secrets baseline, audited there: the ghp_ token is a false positive.
    ds_doc = json.loads(subprocess.run([*DS, "scan"], capture_output=True, text=True, check=True).stdout)
    types = {(name, item["type"]) for name, items in ds_doc["results"].items() for item in items}
    assert ("app.env", "GitHub Token") in types and any(name == "settings.py" for name, _ in types)
    for item in ds_doc["results"]["app.env"]:
        item["is_secret"] = False
    (repo / ".secrets.baseline").write_text(json.dumps(ds_doc, indent=2))

    # Moving to secretops: the ghp_ mark, for a value secretops does not report, is carried and said.
    assert run(["baseline", "create", "--from", ".secrets.baseline"]) == 0
    err = capsys.readouterr().err
    assert "carried over 1 audit mark" in err and "app.env:1 detect-secrets GitHub Token: false-positive" in err
    base = repo / ".secretops-baseline.json"
    assert _doc(base)["external"] == [
        {"tool": "detect-secrets", "path": "app.env", "line": 1, "type": "GitHub Token", "audit": "false-positive",
         "note": ""}
    ]  # fmt: skip
    assert ds_doc["results"]["app.env"][0]["hashed_secret"] not in base.read_text()
    ours_id = _entries(base)[0]["hash"][7:19]
    assert run(["baseline", "audit", "--mark", f"{ours_id}=false-positive", "--note", "a fixture"]) == 0

    # ... and back: detect-secrets reads the export, and its hook passes the audited files.
    (repo / ".secrets.baseline").unlink()
    assert run(["baseline", "export", "--to", "detect-secrets", "--output", "exported.baseline"]) == 0
    exported = json.loads((repo / "exported.baseline").read_text())
    marks = {
        (name, item["type"]): item.get("is_secret") for name, items in exported["results"].items() for item in items
    }
    assert marks[("app.env", "GitHub Token")] is False  # carried over from detect-secrets' own audit
    assert any(name == "settings.py" and mark is False for (name, _), mark in marks.items())  # secretops' audit
    report = subprocess.run([*DS, "audit", "--report", "exported.baseline"], capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    assert _PW1 not in (repo / "exported.baseline").read_text()
    hook = subprocess.run([*DS_HOOK, "--baseline", "exported.baseline", "settings.py", "app.env"], capture_output=True)
    assert hook.returncode == 0, hook.stdout
    # The hook still blocks a new value: the export is not a blanket allow.
    (repo / "settings.py").write_text(f'password = "{_PW1}"\nother_password = "{_PW2}"\n')
    hook = subprocess.run([*DS_HOOK, "--baseline", "exported.baseline", "settings.py"], capture_output=True)
    assert hook.returncode == 1


REPO = Path(__file__).resolve().parents[2]


def test_scan_formats_with_a_baseline_end_to_end(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    assert run(["baseline", "create"]) == 0
    entry_id = _entries(repo / ".secretops-baseline.json")[0]["hash"][7:19]
    assert run(["baseline", "audit", "--mark", f"{entry_id}=false-positive", "--note", "a fixture"]) == 0
    (repo / "settings.py").write_text(f'password = "{_PW1}"\nsmtp_password = "{_PW2}"\n')
    capsys.readouterr()

    # SARIF: the new finding is a result, the known one a suppressed result; absolute root as base id.
    assert run(["scan", str(repo), "--baseline", ".secretops-baseline.json", "-f", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    schema = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())
    assert list(jsonschema.Draft4Validator(schema).iter_errors(sarif)) == []
    run_ = sarif["runs"][0]
    results = run_["results"]
    assert len(results) == 2
    suppressed = [r for r in results if r.get("suppressions")]
    assert len(suppressed) == 1 and "false-positive: a fixture" in suppressed[0]["suppressions"][0]["justification"]
    assert run_["originalUriBaseIds"]["SCANROOT1"]["uri"].endswith("/repo/")
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] for r in results} == {"SCANROOT1"}
    assert _PW1 not in json.dumps(sarif) and _PW2 not in json.dumps(sarif)

    # GitLab: only the new finding, valid against GitLab's schema.
    assert run(["scan", ".", "--baseline", ".secretops-baseline.json", "-f", "gitlab", "-o", "gl.json"]) == 1
    gitlab = json.loads((repo / "gl.json").read_text())
    gl_schema = json.loads(
        (REPO / "tests" / "assets" / "gitlab-secret-detection-report-format-15.0.7.json").read_text()
    )
    assert list(jsonschema.Draft7Validator(gl_schema).iter_errors(gitlab)) == []
    assert [(v["location"]["file"], v["location"]["start_line"]) for v in gitlab["vulnerabilities"]] == [
        ("settings.py", 2)
    ]
    capsys.readouterr()

    # JSON lines: one line per new finding; values only with --show-secrets.
    assert run(["scan", ".", "--baseline", ".secretops-baseline.json", "-f", "jsonl"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["line"] == 2 and _PW2 not in lines[0]
    assert run(["scan", ".", "-f", "jsonl", "--show-secrets"]) == 1
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(f["secret"] for f in shown) == sorted([_PW1, _PW2])
