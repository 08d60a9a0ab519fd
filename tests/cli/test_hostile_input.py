"""`secretops scan` against hostile input (issue 10): odd file names, output paths, no home, values in errors.

Real files with such names are made in `tmp_path`; every test runs the command line as a user does.
Tests run as root, which ignores mode bits: an unwritable place is a path under a regular file,
a directory, or `/proc`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import jsonschema
import pytest

from secretops.cli.app import run
from secretops.errors import ConfigError
from secretops.settings import Settings
from tests.helpers import ACME_RULE as ACME_RULES

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())

LEAK = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake
LEAK2 = "acme_Hn3Kd8Pq2Wz6Rt9Yx4Lm"  # fake
NOT_UTF8 = b"bad\xff\xfe.env"
TERMINAL = b"t\x1b]0;owned\x07\x1b[2J\n\rx.env"  # sets the terminal title, clears the screen
# Nothing but newlines may reach a terminal raw: no C0/C1 control, no DEL, no bidi override.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(ACME_RULES)
    return path


@pytest.fixture
def names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder `src` with a leak in a non-UTF-8 name and one in a name full of terminal controls."""
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root)
    with open(os.path.join(os.fsencode(root / "src"), NOT_UTF8), "w") as fh:
        fh.write(f"ACME_KEY={LEAK}\n")
    with open(os.path.join(os.fsencode(root / "src"), TERMINAL), "w") as fh:
        fh.write(f"ACME_KEY={LEAK2}\n")
    return root


def _scan(rules: Path, *args: str) -> int:
    return run(["scan", "--rules", str(rules), "--jobs", "1", *args])


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif", "html", "table"])
def test_odd_names_give_valid_output_in_every_format(
    names: Path, rules: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _scan(rules, "src", "-f", fmt, "-o", f"report.{fmt}") == 1
    err = capsys.readouterr().err
    assert "2 findings (2 leak)" in err
    assert RAW_CONTROL.search(err) is None
    text = (names / f"report.{fmt}").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert LEAK not in text and LEAK2 not in text
    if fmt == "json":
        found = {(f["path"], f["path_encoding"]) for f in json.loads(text)["findings"]}
        assert found == {("src/bad%FF%FE.env", "percent"), ("src/" + os.fsdecode(TERMINAL), "utf-8")}
        assert {unquote_to_bytes(p) for p, enc in found if enc == "percent"} == {b"src/" + NOT_UTF8}
    elif fmt == "sarif":
        doc = json.loads(text)
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
        assert {unquote_to_bytes(u) for u in uris} == {b"src/" + NOT_UTF8, b"src/" + TERMINAL}
    else:
        assert RAW_CONTROL.search(text) is None, repr(text)
        assert "src/bad\\xff\\xfe.env" in text
        assert "src/t\\x1b]0;owned\\x07\\x1b[2J\\n\\rx.env" in text


def test_table_on_stdout_holds_no_raw_control_character(
    names: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _scan(rules, "src") == 1
    out = capsys.readouterr().out
    assert RAW_CONTROL.search(out) is None, repr(out)
    assert "src/t\\x1b]0;owned\\x07\\x1b[2J\\n\\rx.env:1:10" in out
    assert out.count("\n") == len(out.splitlines())  # no stray carriage return either


def test_stderr_notes_escape_names(names: Path, rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(rules, "src", "missing\x1b[2J\x07name", "-f", "json") == 1
    err = capsys.readouterr().err
    assert "error: missing\\x1b[2J\\x07name: no such file or directory" in err
    assert RAW_CONTROL.search(err) is None


def test_error_messages_escape_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "--policy", str(tmp_path / "p\x1b]0;x\x07.toml"), "."]) == 2
    err = capsys.readouterr().err
    assert "p\\x1b]0;x\\x07.toml: no such file" in err
    assert RAW_CONTROL.search(err) is None


def test_baseline_matches_a_non_utf8_name(names: Path, rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(rules, "src", "--write-baseline", "base.json", "-f", "json") == 1
    entries = json.loads((names / "base.json").read_bytes().decode("utf-8"))["findings"]
    assert "src/bad%FF%FE.env" in {e["path"] for e in entries}
    capsys.readouterr()
    assert _scan(rules, "src", "--baseline", "base.json", "-f", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"] == [] and doc["hidden"] == {"baselined": 2}


# --- output paths ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    (root / "app.env").write_text(f"ACME_KEY={LEAK}\n")
    (root / "afile").write_text("not a folder\n")
    (root / "adir").mkdir()
    return root


@pytest.mark.parametrize("flag", ["--output", "--write-baseline"])
@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("adir", "is a directory"),
        ("afile/report.json", "afile is not a folder"),
        ("afile/deeper/report.json", "afile is not a folder"),
        ("/proc/secretops-no-such/report.json", "cannot create files in /proc"),
        ("/dev/null", "exists and is not a regular file"),
    ],
)
def test_unwritable_output_fails_before_scanning(
    project: Path, rules: Path, flag: str, target: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if target.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    assert _scan(rules, "app.env", flag, target) == 2
    captured = capsys.readouterr()
    assert f"error: {flag} {target}: " in captured.err and problem in captured.err
    assert "finding" not in captured.err and captured.out == ""  # it did not scan
    assert Path("/dev/null").is_char_device()


def test_missing_folders_are_created(project: Path, rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(rules, "app.env", "-f", "json", "-o", "out/new/r.json", "--write-baseline", "out/b/base.json") == 1
    assert json.loads((project / "out/new/r.json").read_text())["findings"][0]["rule_id"] == "acme-api-key"
    assert (project / "out/b/base.json").is_file()
    assert not [p for p in project.rglob(".secretops-probe-*")]  # the probe cleans up


def test_output_and_baseline_must_differ(project: Path, rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(rules, "app.env", "-o", "same.json", "--write-baseline", "./same.json") == 2
    assert "name the same file" in capsys.readouterr().err
    assert not (project / "same.json").exists()


def test_a_write_that_fails_after_the_scan_exits_2(
    project: Path, rules: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import secretops.fileio

    def full(*_: Any, **__: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(secretops.fileio, "write_atomic", full)
    assert _scan(rules, "app.env", "-o", "r.txt") == 2
    assert "--output r.txt: cannot write it: No space left on device" in capsys.readouterr().err


# --- no writable home -----------------------------------------------------------------------------


@pytest.fixture
def no_home(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No key in the environment, and a HOME under a regular file (unwritable, even for root).

    The rule and prefilter caches then fall under that HOME too, and cannot be written either.
    """
    for name in (
        "SECRETOPS_FINGERPRINT_KEY",
        "SECRETOPS_FINGERPRINT_KEY_FILE",
        "XDG_CONFIG_HOME",
        "SECRETOPS_CACHE_DIR",
        "XDG_CACHE_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("HOME", str(blocker / "home"))
    return project


def _fingerprints(rules: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, set[str], str]:
    code = _scan(rules, "app.env", "-f", "json", *args)
    captured = capsys.readouterr()
    return code, {f["fingerprint"] for f in json.loads(captured.out)["findings"]}, captured.err


def test_unwritable_home_still_scans_with_a_one_off_key(
    no_home: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first, err = _fingerprints(rules, capsys)
    assert code == 1 and len(first) == 1  # the leak is still found and still fails the scan
    assert "notice: no fingerprint key is set and none can be created" in err
    assert "one-off key" in err and "SECRETOPS_FINGERPRINT_KEY" in err
    _, second, _ = _fingerprints(rules, capsys)
    assert first != second  # not stable across runs, as the notice says


@pytest.mark.parametrize("flag", ["--inventory"])  # a baseline (format 2) needs no key: see below
def test_one_off_key_refuses_what_needs_a_stable_one(
    no_home: Path, rules: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [flag, "base.json"] if flag == "--write-baseline" else [flag]
    assert _scan(rules, "app.env", *args) == 2
    err = capsys.readouterr().err
    assert f"error: {flag} needs a stable fingerprint key" in err
    assert not (no_home / "base.json").exists()


def test_one_off_key_still_matches_a_salted_baseline_and_refuses_a_format_1_one(
    project: Path, rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _scan(rules, "app.env", "--write-baseline", "base.json") == 1  # under the shared test key
    doc = json.loads((project / "base.json").read_text())
    legacy = {"version": 1, "key_check": "hmac-sha256:" + "0" * 32, "findings": []}
    (project / "old.json").write_text(json.dumps(legacy))
    for name in ("SECRETOPS_FINGERPRINT_KEY", "SECRETOPS_FINGERPRINT_KEY_FILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "blocker").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "blocker" / "home"))
    capsys.readouterr()
    assert doc["version"] == 2
    assert _scan(rules, "app.env", "--baseline", "base.json") == 0  # salted hashes: no key involved
    assert _scan(rules, "app.env", "--baseline", "old.json") == 2
    assert "--baseline old.json: its fingerprints cannot match this run's one-off key" in capsys.readouterr().err


def test_xdg_config_home_is_honoured(
    no_home: Path, rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    code, first, err = _fingerprints(rules, capsys)
    key_file = tmp_path / "xdg" / "secretops" / "fingerprint.key"
    assert code == 1 and "notice" not in err
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    _, second, _ = _fingerprints(rules, capsys)
    assert first == second  # the key file keeps fingerprints stable


def test_other_commands_fail_cleanly_without_a_key(no_home: Path) -> None:
    settings = Settings.from_env()
    with pytest.raises(ConfigError, match="cannot create the fingerprint key file") as info:
        settings.fingerprint_key()
    assert info.value.hint and "XDG_CONFIG_HOME" in info.value.hint
    assert settings.fingerprint_key(allow_ephemeral=True).ephemeral


def test_a_damaged_key_file_is_an_error_that_does_not_quote_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY")
    key_file = tmp_path / "fingerprint.key"
    key_file.write_text("zz-not-hex-but-maybe-a-value\n")
    monkeypatch.setenv("SECRETOPS_FINGERPRINT_KEY_FILE", str(key_file))
    with pytest.raises(ConfigError) as info:
        Settings.from_env().fingerprint_key(allow_ephemeral=True)  # no quiet fallback for a damaged file
    assert "does not hold a hex key" in str(info.value) and "maybe-a-value" not in info.value.diagnostics()


def test_no_home_at_all_falls_back_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOME and no password entry: no key path, so a one-off key for scans, an error for the rest."""
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY")
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY_FILE")

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    settings = Settings.from_env({})
    assert settings.fingerprint_key_path is None
    assert settings.fingerprint_key(allow_ephemeral=True).ephemeral
    with pytest.raises(ConfigError, match="no place for the fingerprint key file"):
        settings.fingerprint_key()


def test_default_key_path_follows_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRETOPS_FINGERPRINT_KEY_FILE")
    env = {"HOME": "/home/u", "XDG_CONFIG_HOME": "/cfg"}
    assert Settings.from_env(env).fingerprint_key_path == Path("/cfg/secretops/fingerprint.key")
    env["XDG_CONFIG_HOME"] = "relative"  # ignored, as the XDG spec says
    assert Settings.from_env(env).fingerprint_key_path == Path("/home/u/.config/secretops/fingerprint.key")


# --- values in errors -----------------------------------------------------------------------------

PASTED = "acme_Z9pL3kQ8vW2nX7mR4tY6"  # fake: a value pasted where it does not belong


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda t: t.replace('severity = "high"', f'severity = "{PASTED}"'), "severity"),
        (lambda t: t.replace('keywords = ["acme_"]', f'keywords = ["acme_", "{PASTED.upper()}"]'), "keywords"),
        (lambda t: t.replace('provider = "acme"', f'provider = "{PASTED.upper()}"'), "provider"),
        (lambda t: t.replace("secret_group = 1", f'secret_group = 1\nchecksum = "{PASTED}"'), "checksum"),
        (lambda t: t.replace("secret_group = 1", f'secret_group = 1\ndecode = "{PASTED}"'), "decode"),
        (
            lambda t: t.replace("secret_group = 1", f"secret_group = 1\nallowlist = {{ regexes = ['^{PASTED}(' ] }}"),
            "allowlist.regexes",
        ),
        (
            lambda t: t.replace("secret_group = 1", f"secret_group = 1\nallowlist = {{ paths = ['{PASTED}[' ] }}"),
            "allowlist.paths",
        ),
        (
            lambda t: t.replace(
                "secret_group = 1", f"secret_group = 1\nallowlist = {{ regexes = ['(?P<{PASTED}>a)(?P<{PASTED}>b)'] }}"
            ),
            "allowlist.regexes",
        ),
        (lambda t: t.replace("secret_group = 1", f"secret_group = 1\nallowlist = {{ regexes = ['[z-{PASTED}'] }}"), ""),
    ],
)
@pytest.mark.parametrize("command", ["scan", "rules"])
def test_bad_rule_values_are_masked_in_errors(
    tmp_path: Path, edit: Any, field: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(edit(ACME_RULES))
    args = ["scan", "--jobs", "1", str(tmp_path / "nothing")] if command == "scan" else ["rules"]
    assert run([*args, "--rules", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"field '{field}'" in err if field else "field 'allowlist.regexes'" in err
    for needle in (PASTED, PASTED.upper(), PASTED[5:], PASTED[5:].upper()):
        assert needle not in err, err
    assert "acme-api-key" in err  # still says which rule


def test_bad_policy_allowlist_regex_is_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "scan.toml"
    policy.write_text(f"[allowlist]\nregexes = ['''^ok$''', '''^{PASTED}(?''']\npaths = ['''^tests/''']\n")
    assert run(["scan", "--policy", str(policy), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "field 'allowlist.regexes': invalid regex (entry 1, '^acm********'): unexpected end" in err
    assert PASTED not in err and PASTED[5:] not in err


def test_settings_errors_do_not_quote_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"VAULT_ADDR": "http://127.0.0.1:1", "SECRETOPS_VAULT_AUTH": PASTED})
    assert "auth" in str(info.value) and PASTED not in info.value.diagnostics()


def test_log_lines_escape_names() -> None:
    """`-v` logs name scanned files: the formatter the CLI installs escapes them, tracebacks too."""
    import logging

    from secretops.cli.app import _SafeFormatter

    formatter = _SafeFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("secretops.scan", logging.WARNING, __file__, 1, "cannot read %s", ("x\x1b[2J\ny",), None)
    assert formatter.format(record) == "WARNING secretops.scan: cannot read x\\x1b[2J\\ny"
    try:
        raise OSError("bad name a\x07b")
    except OSError:
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert "a\\x07b" in text and RAW_CONTROL.search(text) is None
