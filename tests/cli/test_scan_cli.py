"""`secretops scan` and `secretops rules` end to end, with the real engine and a test rule file."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from secretops.cli import scan as scan_cli
from secretops.cli.app import run
from secretops.cli.scan import interface as scan_choices
from secretops.cli.scan import outputs as scan_outputs
from secretops.cli.scan import report as scan_report
from secretops.errors import ConfigError
from secretops.scan.formats import FORMATS

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())

# A rule of our own, so these tests do not depend on how the built-in rules evolve.
ACME_RULES = """
[[rules]]
id = "acme-api-key"
description = "Acme API key (acme_ prefix)"
provider = "acme"
kind = "api-key"
severity = "high"
keywords = ["acme_"]
regex = '''\\b(acme_[A-Za-z0-9]{20})\\b'''
secret_group = 1
examples = ["key = acme_Q7vT2mLp9XcR4nBz8WkY"]
counterexamples = ["acme_xxxxxxxxxxxxxxxxxxxx"]
"""
LEAK = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake
LEAK2 = "acme_Hn3Kd8Pq2Wz6Rt9Yx4Lm"  # fake


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with one leak, one test credential and one placeholder; the cwd during the test."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "acme.toml").write_text(ACME_RULES)  # outside the scanned folder
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    (root / "app").mkdir()
    (root / "app" / "settings.env").write_text(f"# settings\nACME_KEY={LEAK}\n")
    (root / "tests").mkdir()
    # test-ish by its value (a live-shaped key here would be a leak: a path never hides one)
    (root / "tests" / "conf.env").write_text("DB_PASSWORD=test_pass\n")
    (root / "docs.md").write_text("ACME_KEY=acme_xxxxxxxxxxxxxxxxxxxx\n")
    return root


def _scan(*args: str) -> int:
    return run(["scan", "--rules", "../rules/acme.toml", "--jobs", "1", *args])


LAST_ERR: list[str] = []


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Exit code and parsed JSON report; stderr goes to `LAST_ERR[-1]`."""
    code = _scan("--format", "json", *args)
    captured = capsys.readouterr()
    LAST_ERR.append(captured.err)
    return code, json.loads(captured.out)


def _leaks(doc: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["class"]) for f in doc["findings"]]


# --- formats --------------------------------------------------------------------------------------


def test_every_format_choice_has_an_implementation() -> None:
    assert {f.value for f in scan_cli.OutputFormat} == set(FORMATS)
    assert set(scan_choices.INCLUDE_CLASSES) == set(scan_cli.Include)


def test_table_is_the_default(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(".") == 1
    out = capsys.readouterr().out
    assert "acme-api-key  app/settings.env:2:10  acme********" in out
    assert LEAK not in out and "\x1b[" not in out
    assert "not shown: 1 placeholder (--include placeholders), 1 test-credential" in out


def test_json_format_and_show_secrets(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _json(capsys, ".")
    assert code == 1
    assert doc["version"] == 1
    assert _leaks(doc) == [("app/settings.env", 2, "leak")]
    f = doc["findings"][0]
    assert (f["rule_id"], f["provider"], f["kind"], f["severity"]) == ("acme-api-key", "acme", "api-key", "high")
    assert f["fingerprint"].startswith("hmac-sha256:") and "secret" not in f
    assert doc["stats"]["files"] == 3 and doc["stats"]["bytes"] > 0
    _, shown = _json(capsys, ".", "--show-secrets")
    assert shown["findings"][0]["secret"] == LEAK


def test_sarif_format_validates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(".", "--format", "sarif", "--include", "all") == 1
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    results = doc["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "note", "note"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/settings.env"
    assert LEAK not in json.dumps(doc)


def test_output_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(".", "--format", "json", "--output", "report.json", "--show-secrets") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1 finding (1 leak)" in captured.err
    report = project / "report.json"
    assert json.loads(report.read_text())["findings"][0]["secret"] == LEAK
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


# --- classes and exit codes -----------------------------------------------------------------------


def test_test_credentials_shown_only_on_request_and_never_fail(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = _json(capsys, "tests")
    assert (code, doc["findings"], doc["hidden"]) == (0, [], {"test-credential": 1})
    code, doc = _json(capsys, "tests", "--include", "test-credentials")
    assert code == 0
    assert _leaks(doc) == [("tests/conf.env", 1, "test-credential")]


def test_placeholders_and_all(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _json(capsys, "docs.md", "--include", "placeholders")
    assert code == 0 and _leaks(doc) == [("docs.md", 1, "placeholder")]
    code, doc = _json(capsys, ".", "--include", "all")
    assert code == 1
    assert sorted(f["class"] for f in doc["findings"]) == ["leak", "placeholder", "test-credential"]


def test_fail_on(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan("app", "--fail-on", "critical") == 0
    assert _scan("app", "--fail-on", "medium") == 1
    assert _scan("app", "--fail-on", "never") == 0
    capsys.readouterr()


def test_clean_tree_exits_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("nothing here\n")
    assert run(["scan", "--jobs", "1", "."]) == 0


# --- sources --------------------------------------------------------------------------------------


def test_stdin(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"x\nkey={LEAK}\n".encode())))
    code, doc = _json(capsys, "-")
    assert code == 1 and _leaks(doc) == [("<stdin>", 2, "leak")]


def test_notebook_location_has_the_cell(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = {"cells": [{"source": "import os"}, {"source": ["x = 1\n", f"key = '{LEAK}'\n"], "outputs": []}]}
    text = json.dumps(nb, indent=1)
    (project / "app" / "nb.ipynb").write_text(text)
    code, doc = _json(capsys, "app/nb.ipynb")
    assert code == 1
    f = doc["findings"][0]
    # Line and column of the .ipynb file itself (what editors and code scanning show); the cell too.
    line = next(i for i, row in enumerate(text.split("\n"), start=1) if LEAK in row)
    column = text.split("\n")[line - 1].index(LEAK) + 1
    assert (f["path"], f["cell"], f["line"], f["column"]) == ("app/nb.ipynb", 2, line, column)
    assert f["context"]["cell"] == "2"
    assert _scan("app/nb.ipynb") == 1
    assert f"app/nb.ipynb[cell 2]:{line}:{column}" in capsys.readouterr().out


def test_gitignore_and_no_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("*.env\n")
    code, doc = _json(capsys, "app")
    assert code == 0 and doc["stats"]["skipped"] == {"gitignored": 1}
    code, doc = _json(capsys, "app", "--no-ignore")
    assert code == 1 and _leaks(doc) == [("app/settings.env", 2, "leak")]


def test_parallel_matches_serial(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(150):  # more than one batch, so workers really start
        (project / "app" / f"f{i:03}.env").write_text(f"n={i}\nKEY=acme_{i:03}Q7vT2mLp9XcR4nBzK\n")
    _, serial = _json(capsys, ".")
    code = run(["scan", "--rules", "../rules/acme.toml", "--jobs", "2", "--format", "json", "."])
    parallel = json.loads(capsys.readouterr().out)
    assert code == 1
    assert len(serial["findings"]) == 151
    assert parallel["findings"] == serial["findings"]


# --- bad inputs: a clear message, no traceback, the rest of the scan completes --------------------


def test_bad_byte_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "settings.env").write_bytes(b"caf\xe9\xff\nACME_KEY=" + LEAK.encode() + b"\n")
    code, doc = _json(capsys, "app")
    assert code == 1 and _leaks(doc) == [("app/settings.env", 2, "leak")]


def test_symlink_loop(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "loop").symlink_to(project / "app")
    (project / "app" / "self").symlink_to(project / "app" / "self")
    code, doc = _json(capsys, "app", "--follow-symlinks")
    assert code == 1 and _leaks(doc) == [("app/settings.env", 2, "leak")]
    assert doc["stats"]["skipped"] == {"symlink-loop": 2}
    assert "Traceback" not in LAST_ERR[-1]


def test_unreadable_file_fifo(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(project / "app" / "pipe")
    code = _scan("app")
    captured = capsys.readouterr()
    assert code == 1
    assert "warning: skipped app/pipe (not-regular: not a regular file)" in captured.err
    assert "app/settings.env:2:10" in captured.out


def test_unreadable_file_permission(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "app" / "locked.env").write_text(f"KEY={LEAK2}\n")
    real_open = os.open

    def fake_open(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("locked.env"):  # as root, chmod 000 would not stop the read
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    code = _scan("app")
    captured = capsys.readouterr()
    assert code == 1
    assert "warning: skipped app/locked.env (unreadable: Permission denied)" in captured.err
    assert "app/settings.env:2:10" in captured.out


def test_huge_sparse_file_is_skipped(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(project / "app" / "huge.log", "wb") as fh:
        fh.truncate(2 * 1024**3)
    code, doc = _json(capsys, "app")
    assert code == 1
    assert doc["stats"]["skipped"] == {"too-large": 1}
    assert doc["skipped_files"][0]["path"] == "app/huge.log"
    assert "warning: skipped app/huge.log (too-large: 2147483648 bytes)" in LAST_ERR[-1]


def test_bad_rule_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project.parent / "rules" / "bad.toml").write_text('[[rules]]\nid = "acme-thing"\nregex = "("\n')
    code = run(["scan", "--rules", "../rules/bad.toml", "."])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "bad.toml" in err and "acme-thing" in err
    assert "Traceback" not in err


def test_missing_rule_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "--rules", "nope.toml", "."]) == 2
    assert "error: --rules nope.toml: no such file" in capsys.readouterr().err


def test_missing_path(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _json(capsys, "nowhere", "docs.md")
    assert code == 2  # nothing leaked, but a path was wrong
    assert doc["stats"]["files"] == 1 and doc["stats"]["skipped"] == {"missing": 1}
    assert "error: nowhere: no such file or directory" in LAST_ERR[-1]
    assert _scan("nowhere", "app") == 1  # a leak still wins
    capsys.readouterr()


def test_bad_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(".", "--format", "xml") == 2
    assert _scan(".", "--include", "everything") == 2
    assert _scan(".", "--fail-on", "urgent") == 2
    assert _scan(".", "--jobs", "0") == 2
    err = capsys.readouterr().err
    assert "xml" in err and "Traceback" not in err


def test_bad_max_file_size(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(".", "--max-file-size", "lots") == 2
    assert "--max-file-size: cannot read 'lots' as a size" in capsys.readouterr().err


def test_parse_size() -> None:
    assert scan_cli.parse_size("10MB") == 10 * 1024**2
    assert scan_cli.parse_size("512k") == 512 * 1024
    assert scan_cli.parse_size("1.5GiB") == int(1.5 * 1024**3)
    assert scan_cli.parse_size("1000") == 1000
    with pytest.raises(ConfigError):
        scan_cli.parse_size("0")


# --- policy and rules -----------------------------------------------------------------------------


def test_default_policy_file_disables_and_allows(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "policies").mkdir()
    (project / "policies" / "scan.toml").write_text("[allowlist]\npaths = ['''^app/''']\n")
    code, doc = _json(capsys, ".")
    assert code == 0 and doc["stats"]["skipped"] == {"allowlisted": 1}
    (project / "policies" / "scan.toml").write_text('[rules]\ndisable = ["acme-api-key"]\n')
    code, doc = _json(capsys, ".")
    assert code == 0 and doc["findings"] == [] and doc["hidden"] == {"test-credential": 1}  # tests/conf.env


def test_policy_option_and_bad_policy(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "p.toml").write_text("[rules]\nextra = ['../rules/acme.toml']\n")
    assert run(["scan", "--policy", "p.toml", "--jobs", "1", "app"]) == 1
    (project / "broken.toml").write_text("[nonsense]\n")
    capsys.readouterr()
    assert run(["scan", "--policy", "broken.toml", "app"]) == 2
    assert "unknown section [nonsense]" in capsys.readouterr().err
    assert run(["scan", "--policy", "missing.toml", "app"]) == 2


def test_rules_command(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "--rules", "../rules/acme.toml"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["ID", "SEVERITY", "PROVIDER", "KIND", "DESCRIPTION"]
    assert "acme-api-key" in out
    assert run(["rules", "--rules", "../rules/acme.toml", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    acme = next(r for r in listed if r["id"] == "acme-api-key")
    assert acme == {
        "id": "acme-api-key",
        "severity": "high",
        "provider": "acme",
        "kind": "api-key",
        "description": "Acme API key (acme_ prefix)",
    }
    (project / "p.toml").write_text('[rules]\nextra = ["../rules/acme.toml"]\ndisable = ["acme-api-key"]\n')
    assert run(["rules", "--policy", "p.toml", "--format", "json"]) == 0
    assert "acme-api-key" not in {r["id"] for r in json.loads(capsys.readouterr().out)}


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert scan_outputs.use_color(None) is True
    assert scan_outputs.use_color(Path("out.txt")) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert scan_outputs.use_color(None) is False
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    monkeypatch.delenv("NO_COLOR")
    assert scan_outputs.use_color(None) is False


def test_progress_line_waits_then_draws_and_erases() -> None:
    from secretops.scan.runner import Progress

    stream = io.StringIO()
    line = scan_report.ProgressLine(stream, delay=2.0)
    line(Progress(files=5, bytes=1000, seconds=0.5))
    assert stream.getvalue() == ""
    line(Progress(files=500, bytes=50_000_000, seconds=2.5))
    assert stream.getvalue().startswith("\rscanning: 500 files, 47.7 MB, 20.0 MB/s")
    line.close()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_baseline_round_trip(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(".", "--write-baseline", "baseline.json") == 1
    assert "baseline: 1 findings written to baseline.json" in capsys.readouterr().err
    assert LEAK not in (project / "baseline.json").read_text()
    assert _scan(".", "--baseline", "baseline.json") == 0
    assert "not shown: 1 baselined (known in the baseline)" in capsys.readouterr().out
    (project / "app" / "new.env").write_text(f"KEY={LEAK2}\n")
    code, doc = _json(capsys, ".", "--baseline", "baseline.json")
    assert code == 1 and _leaks(doc) == [("app/new.env", 1, "leak")]
    (project / "bad.json").write_text("{")
    assert _scan(".", "--baseline", "bad.json") == 2
    assert "cannot read it as JSON" in capsys.readouterr().err
