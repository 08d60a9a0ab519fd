"""Scan configuration found from the scanned path up to the repository root, `.secretopsignore`,
and the inline markers of other scanners (ggshield, TruffleHog, detect-secrets' next-line pragma)."""

from __future__ import annotations

import json
import logging
import pickle
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secretops.cli.app import run
from secretops.errors import PolicyError
from secretops.scan.config import ScanPolicy, discover, resolve_policy
from secretops.scan.engine import Scanner
from secretops.scan.models import Fragment
from secretops.scan.rules import load_rules
from secretops.values import FingerprintKey

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

[[rules]]
id = "acme-quoted-token"
description = "Acme token in quotes (any characters)"
provider = "acme"
kind = "token"
severity = "high"
keywords = ["acme_token"]
regex = '''acme_token\\s*=\\s*"([^"\\n]{8,})"'''
secret_group = 1
examples = ['acme_token = "Zk4#Lq9!Wm2@Rp7"']
"""
LEAK = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake
LEAK2 = "acme_Hn3Kd8Pq2Wz6Rt9Yx4Lm"  # fake
KEY = FingerprintKey(b"d" * 32)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "acme-rules.toml"
    path.write_text(ACME_RULES)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository (a `.git` folder is what discovery looks for) with leaks in src/ and src/fixtures/."""
    root = tmp_path / "work" / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "fixtures").mkdir(parents=True)
    (root / "src" / "app.env").write_text(f"ACME_KEY={LEAK}\n")
    (root / "src" / "fixtures" / "sample.env").write_text(f"ACME_KEY={LEAK2}\n")
    return root


ALLOW_FIXTURES = "[allowlist]\npaths = ['''^src/fixtures/''']\n"


def _scan_json(capsys: pytest.CaptureFixture[str], rules: Path, *args: str) -> tuple[int, list[str]]:
    code = run(["scan", "--rules", str(rules), "--jobs", "1", "--format", "json", *args])
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, sorted(f["path"] for f in doc["findings"])


# --- discovery ---------------------------------------------------------------------------------


def test_cd_src_and_scan_dot_uses_the_repository_configuration(
    repo: Path, rules_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo / "src")
    code, paths = _scan_json(capsys, rules_file, ".")
    assert paths == ["app.env", "fixtures/sample.env"]  # no configuration yet: both reported
    assert code == 1
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    code, paths = _scan_json(capsys, rules_file, ".")
    assert paths == ["app.env"]  # the allowlist is relative to the repository, not to the cwd
    assert code == 1


def test_verbose_names_the_configuration_file(
    repo: Path,
    rules_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    monkeypatch.chdir(repo / "src")
    caplog.set_level(logging.INFO, logger="secretops")
    run(["-v", "scan", "--rules", str(rules_file), "--jobs", "1", "."])
    capsys.readouterr()
    assert f"using {repo / '.secretops.toml'}" in caplog.text


def test_scanning_a_subfolder_from_elsewhere_finds_its_repository_config(
    repo: Path, rules_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    monkeypatch.chdir(tmp_path)  # not in the repository at all
    _, paths = _scan_json(capsys, rules_file, str(repo / "src"))
    assert paths == [str(repo / "src" / "app.env")]


def test_pyproject_tool_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.secretops.allowlist]\nstopwords = ['kq8v']\n")
    found = discover(str(repo / "src"))
    assert found.config == repo / "pyproject.toml"
    policy = resolve_policy(None, None, [str(repo / "src")])
    assert policy.allow_stopwords == ("kq8v",)


def test_pyproject_without_the_table_is_passed_over(repo: Path) -> None:
    (repo / "src" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    assert discover(str(repo / "src")).config == repo / ".secretops.toml"


def test_nearest_folder_wins_then_the_order_within_a_folder(repo: Path) -> None:
    (repo / ".secretops.toml").write_text("")
    (repo / "src" / "policies").mkdir()
    (repo / "src" / "policies" / "scan.toml").write_text("")
    assert discover(str(repo / "src")).config == repo / "src" / "policies" / "scan.toml"
    (repo / "src" / "pyproject.toml").write_text("[tool.secretops]\n")
    assert discover(str(repo / "src")).config == repo / "src" / "pyproject.toml"
    (repo / "src" / ".secretops.toml").write_text("")
    assert discover(str(repo / "src")).config == repo / "src" / ".secretops.toml"
    # a file's configuration is its folder's
    assert discover(str(repo / "src" / "app.env")).config == repo / "src" / ".secretops.toml"


def test_policies_scan_toml_paths_are_relative_to_the_repository(
    repo: Path, rules_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "policies").mkdir()
    (repo / "policies" / "scan.toml").write_text(ALLOW_FIXTURES)
    monkeypatch.chdir(repo / "src" / "fixtures")
    _, paths = _scan_json(capsys, rules_file, ".")
    assert paths == []
    monkeypatch.chdir(repo)
    _, paths = _scan_json(capsys, rules_file, ".")  # the old way still works
    assert paths == ["src/app.env"]


def test_discovery_stops_at_the_repository_root(repo: Path) -> None:
    (repo.parent / ".secretops.toml").write_text(ALLOW_FIXTURES)  # outside the repository
    found = discover(str(repo / "src"))
    assert found.config is None
    assert found.root == repo


def test_policy_flag_skips_discovery(
    repo: Path, rules_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    other = tmp_path / "empty.toml"
    other.write_text("")
    monkeypatch.chdir(repo)
    _, paths = _scan_json(capsys, rules_file, "--policy", str(other), ".")
    assert paths == ["src/app.env", "src/fixtures/sample.env"]


def test_secretops_policies_env_beats_discovery(
    repo: Path, rules_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    elsewhere = tmp_path / "central"
    elsewhere.mkdir()
    (elsewhere / "scan.toml").write_text("[allowlist]\nstopwords = ['q7vt2']\n")
    monkeypatch.setenv("SECRETOPS_POLICIES", str(elsewhere))
    monkeypatch.chdir(repo)
    _, paths = _scan_json(capsys, rules_file, ".")
    assert paths == ["src/fixtures/sample.env"]  # the env's policy: LEAK's stopword, no path allowlist


def test_paths_in_two_repositories_use_the_first_ones_config_and_say_so(
    repo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    (other / ".secretops.toml").write_text("[allowlist]\nstopwords = ['zzz']\n")
    caplog.set_level(logging.INFO, logger="secretops")
    policy = resolve_policy(None, None, [str(repo), str(other)])
    assert policy.source == repo / ".secretops.toml"
    assert policy.allow_stopwords == ()
    assert "not applied" in caplog.text and str(other / ".secretops.toml") in caplog.text


def test_a_bad_field_names_file_line_and_field(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.secretops.rules]\ndisable = 'one'\n")
    with pytest.raises(PolicyError) as err:
        resolve_policy(None, None, [str(repo)])
    assert f"{repo / 'pyproject.toml'}:5: field 'tool.secretops.rules.disable'" in err.value.message


def test_a_bad_config_file_exits_2(
    repo: Path, rules_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secretops.toml").write_text("[allowlist\n")
    monkeypatch.chdir(repo / "src")
    assert run(["scan", "--rules", str(rules_file), "--jobs", "1", "."]) == 2
    assert ".secretops.toml" in capsys.readouterr().err


# --- .secretopsignore ---------------------------------------------------------------------------


def test_secretopsignore_from_a_subfolder(
    repo: Path, rules_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secretopsignore").write_text("# generated\nsrc/fixtures/\n*.env\n!app.env\n")
    (repo / "src" / "other.env").write_text(f"ACME_KEY={LEAK}\n")
    monkeypatch.chdir(repo / "src")
    _, paths = _scan_json(capsys, rules_file, ".")
    assert paths == ["app.env"]  # last matching pattern wins, as in gitignore
    _, paths = _scan_json(capsys, rules_file, "fixtures/sample.env")  # named files too (pre-commit passes names)
    assert paths == []


def test_secretopsignore_in_a_subfolder_is_relative_to_it(repo: Path) -> None:
    (repo / "src" / ".secretopsignore").write_text("/fixtures/\n")
    policy = resolve_policy(None, None, [str(repo / "src")])
    assert policy.file_allowed(str(repo / "src" / "fixtures" / "sample.env"))
    assert not policy.file_allowed(str(repo / "src" / "app.env"))
    assert not policy.file_allowed(str(repo / "fixtures" / "x.env"))  # outside its folder


def test_a_policy_with_ignore_files_pickles_for_worker_processes(repo: Path) -> None:
    (repo / ".secretopsignore").write_text("src/fixtures/\n")
    (repo / ".secretops.toml").write_text(ALLOW_FIXTURES)
    policy = pickle.loads(pickle.dumps(resolve_policy(None, None, [str(repo / "src")])))  # noqa: S301 (our own bytes)
    assert policy.file_allowed(str(repo / "src" / "fixtures" / "sample.env"))
    assert not policy.file_allowed(str(repo / "src" / "app.env"))


def test_secretopsignore_applies_to_staged_changes(
    tmp_path: Path, rules_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "g"
    root.mkdir()
    git = ["git", "-C", str(root), "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (root / "gen").mkdir()
    (root / "gen" / "a.env").write_text(f"ACME_KEY={LEAK}\n")
    (root / "b.env").write_text(f"ACME_KEY={LEAK2}\n")
    (root / ".secretopsignore").write_text("gen/\n")
    subprocess.run([*git, "add", "-A"], check=True)
    monkeypatch.chdir(root)
    _, paths = _scan_json(capsys, rules_file, "--staged", ".")
    assert paths == ["b.env"]


# --- inline markers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme_rules(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("rules") / "acme.toml"
    path.write_text(ACME_RULES)
    return load_rules(extra_files=[path])


def _lines(rules: Any, text: str) -> list[int]:
    return [f.location.line for f in Scanner(rules, KEY, ScanPolicy.default()).scan(Fragment(text, "app.env"))]


@pytest.mark.parametrize("marker", ["# ggignore", "// trufflehog:ignore", "# secretops:allow", "# gitleaks:allow"])
def test_same_line_markers(acme_rules: Any, marker: str) -> None:
    assert _lines(acme_rules, f"key = {LEAK}  {marker}\nkey = {LEAK2}\n") == [2]


def test_detect_secrets_nextline_pragma_allows_the_next_line_only(acme_rules: Any) -> None:
    text = f"# pragma: allowlist nextline secret\nkey = {LEAK}\nkey = {LEAK2}\n"
    assert _lines(acme_rules, text) == [3]
    # not its own line
    assert _lines(acme_rules, f"key = {LEAK}  # pragma: allowlist nextline secret\n") == [1]
    # nor a line further down
    assert _lines(acme_rules, f"# pragma: allowlist nextline secret\n\nkey = {LEAK}\n") == [3]


def test_a_marker_inside_a_value_hides_nothing(acme_rules: Any) -> None:
    # A value that spells a marker (a file an attacker wrote) hides neither itself ...
    assert _lines(acme_rules, 'acme_token = "x9Kq2 gitleaks:allow Zr"\n') == [1]
    # ... nor the secret on the next line
    text = f'acme_token = "pragma: allowlist nextline secret"\nkey = {LEAK}\n'
    assert _lines(acme_rules, text) == [1, 2]
    # while the same marker in a comment still works
    text = f'acme_token = "Zk4Lq9Wm2Rp7Yt"  # pragma: allowlist nextline secret\nkey = {LEAK}\n'
    assert _lines(acme_rules, text) == [1]
