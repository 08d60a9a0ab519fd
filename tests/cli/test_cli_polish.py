"""CLI polish: plain metavars, `--format` choices from the registry, `-h`, `--quiet`, `-v`,
shell completion, `--redact N`, private report files, and `policy check` of scan TOML files."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secretops.cli.app import run
from secretops.scan import formats
from tests.helpers import ACME_RULE as ACME_RULES

LEAK = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake, 25 characters

COMMANDS = [
    ["scan"],
    ["rules"],
    ["policy", "check"],
    ["policy", "schema"],
    ["inventory"],
    ["status"],
    ["rotate"],
    ["resume"],
    ["history"],
    ["compromised"],
    ["discover"],
    ["store"],
    ["audit"],
    ["completion"],
    [],
]
TYPE_METAVAR = re.compile(r"<(bool|str|int|float|path|list\[[^\]]*\])>", re.IGNORECASE)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "acme.toml").write_text(ACME_RULES)
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "app.env").write_text(f"ACME_KEY={LEAK}\n")
    monkeypatch.chdir(root)
    return root


def _scan(project: Path, *args: str) -> int:
    return run(["scan", "--rules", str(project.parent / "acme.toml"), "--jobs", "1", *args])


def _help(capsys: pytest.CaptureFixture[str], args: list[str], flag: str = "--help") -> str:
    os.environ["COLUMNS"] = "200"
    try:
        assert run([*args, flag]) == 0
    finally:
        del os.environ["COLUMNS"]
    return capsys.readouterr().out


# --- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_no_python_type_metavars_and_h_is_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, command)
    assert "Usage:" in text
    assert not TYPE_METAVAR.search(text), TYPE_METAVAR.search(text)
    assert _help(capsys, command, "-h") == text


def test_scan_help_metavars(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, ["scan"])
    assert re.search(r"--rules\s+FILE", text)
    assert re.search(r"--max-file-size\s+SIZE", text)
    assert re.search(r"--jobs\s+-j\s+N\b", text)
    assert re.search(r"--no-ignore\s+Scan files", text)  # a flag: no metavar at all
    assert "[PATH]..." in text


def test_format_choices_come_from_the_registry(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _help(capsys, ["scan"])
    assert "[" + "|".join(formats.FORMATS) + "]" in text
    monkeypatch.setitem(formats.FORMATS, "zzfmt", formats.JsonFormat)  # a format added later shows up
    assert "|zzfmt]" in _help(capsys, ["scan"])


# --- completion -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete -o"), ("zsh", "#compdef secretops"), ("fish", "complete --command")]
)
def test_completion_script_for_each_shell(shell: str, marker: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert marker in script and "_SECRETOPS_COMPLETE" in script


def test_completion_rejects_other_shells(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["completion", "tcsh"]) == 2
    assert "bash, zsh, fish" in capsys.readouterr().err


def test_completion_offers_format_choices(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "_SECRETOPS_COMPLETE": "complete_bash",
        "COMP_WORDS": "secretops scan --format ",
        "COMP_CWORD": "3",
    }
    code = "import sys; from secretops.cli.app import main; sys.argv = ['secretops']; main()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert set(formats.FORMATS) <= set(out.stdout.split()), (out.stdout, out.stderr)


# --- --quiet and -v -------------------------------------------------------------------------------


def test_quiet_prints_findings_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(project, ".") == 1
    loud = capsys.readouterr()
    assert "1 finding" in loud.out
    assert _scan(project, "--quiet", ".") == 1
    quiet = capsys.readouterr()
    assert "app.env:1" in quiet.out
    assert "1 finding" not in quiet.out and quiet.err == ""
    (project / "app.env").write_text("nothing here\n")
    (project / "big.env").write_bytes(b"x" * 2048)
    assert _scan(project, "-q", "--max-file-size", "1KB", ".") == 0
    assert capsys.readouterr() == ("", "")  # no summary, no skip warning


def test_quiet_still_says_a_missing_path(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(project, "-q", "nope") == 2
    assert "nope: no such file" in capsys.readouterr().err


def test_quiet_output_file_has_no_stderr_summary(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(project, "-q", "--format", "json", "--output", "r.json", ".") == 1
    assert capsys.readouterr().err == ""
    assert len(json.loads((project / "r.json").read_text())["findings"]) == 1


def test_verbose_logs_config_paths_rules_and_skips(
    project: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    (project / ".secretops.toml").write_text("[allowlist]\npaths = ['''^vendor/''']\n")
    (project / "vendor").mkdir()
    (project / "vendor" / "x.env").write_text(f"K={LEAK}\n")
    caplog.set_level(logging.DEBUG, logger="secretops")
    _scan(project, "-v", ".")
    capsys.readouterr()
    logged = caplog.text
    assert f"using {project / '.secretops.toml'}" in logged
    assert "walking ." in logged
    assert re.search(r"\d+ rules loaded", logged)
    assert "skipped 1 (allowlisted)" in logged
    assert LEAK not in logged and LEAK[5:] not in logged


def test_quiet_and_verbose_together_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(project, "-q", "-v", ".") == 2
    assert "contradict" in capsys.readouterr().err


# --- --redact -------------------------------------------------------------------------------------


def _preview(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    _scan(project, "--format", "json", *args, ".")
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    (finding,) = doc["findings"]
    return str(finding["preview"])


@pytest.mark.parametrize(("percent", "shown"), [(None, 4), ("0", 0), ("20", 5), ("50", 12)])
def test_redact_percent(project: Path, capsys: pytest.CaptureFixture[str], percent: str | None, shown: int) -> None:
    args = ("--redact", percent) if percent is not None else ()
    preview = _preview(project, capsys, *args)
    assert preview == LEAK[:shown] + "********"


@pytest.mark.parametrize("percent", ["51", "100", "-1"])
def test_redact_out_of_range(project: Path, capsys: pytest.CaptureFixture[str], percent: str) -> None:
    assert _scan(project, "--redact", percent, ".") == 2
    assert "--redact" in capsys.readouterr().err


# --- report file modes ----------------------------------------------------------------------------


def test_report_with_show_secrets_is_private(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = os.umask(0o022)
    try:
        assert _scan(project, "--format", "json", "--show-secrets", "-o", "secret.json", ".") == 1
        assert _scan(project, "--format", "json", "-o", "plain.json", ".") == 1
    finally:
        os.umask(old)
    capsys.readouterr()
    assert stat.S_IMODE((project / "secret.json").stat().st_mode) == 0o600
    assert LEAK in (project / "secret.json").read_text()
    assert stat.S_IMODE((project / "plain.json").stat().st_mode) & 0o600 == 0o600  # no value: any mode will do
    assert LEAK not in (project / "plain.json").read_text()
    # an existing, world-readable report is replaced by a private one, not rewritten in place
    (project / "secret.json").chmod(0o644)
    assert _scan(project, "--format", "json", "--show-secrets", "-o", "secret.json", ".") == 1
    assert stat.S_IMODE((project / "secret.json").stat().st_mode) == 0o600
    assert not [p for p in project.iterdir() if p.name.startswith(".secret.json") or p.suffix == ".tmp"]


# --- policy check on scan TOML --------------------------------------------------------------------


def test_policy_check_accepts_a_scan_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scan.toml"
    path.write_text("[rules]\ndisable = []\n[allowlist]\npaths = ['''^tests/''']\n")
    assert run(["policy", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ok: scan policy" in out and "YAML" not in out


def test_policy_check_reports_file_line_field_of_a_scan_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scan.toml"
    path.write_text("[rules]\ndisable = []\n\n[allowlist]\nregexes = ['''(unclosed''']\n")
    assert run(["policy", "check", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:5: allowlist.regexes: invalid regex" in out
    assert "YAML" not in out
    path.write_text("[rules]\ndisable = ['no-such-rule']\n")
    assert run(["policy", "check", "--format", "json", str(path)]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and "no-such-rule" in doc["problems"][0]["message"]


def test_policy_check_of_a_folder_checks_its_scan_toml(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "scan.toml").write_text("[allowlist]\npathz = []\n")
    assert run(["policy", "check", str(folder)]) == 2  # only a scan.toml: checked alone
    assert "allowlist.pathz: unknown key" in capsys.readouterr().out
    for example in (repo_root / "policies" / "examples").glob("*.yaml"):
        (folder / example.name).write_text(example.read_text())
    assert run(["policy", "check", "--skip-local-targets", str(folder)]) == 2
    out = capsys.readouterr().out
    assert f"{folder / 'scan.toml'}:2: allowlist.pathz: unknown key" in out
    (folder / "scan.toml").write_text("[allowlist]\npaths = []\n")
    assert run(["policy", "check", "--skip-local-targets", "--format", "json", str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
