"""gitleaks configs as secretops rules: RE2 translation, gitleaks' own default config, custom rules.

`tests/assets/gitleaks/gitleaks.toml` is gitleaks 8.30.1's default config (see the README there).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from secretops.cli.app import run
from secretops.errors import RuleError
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Fragment
from secretops.scan.rules import load_rules
from secretops.scan.rules.gitleaks import (
    UnsupportedRegex,
    find_repo_config,
    is_gitleaks_config,
    load_gitleaks_config,
    load_ruleset,
    translate_regex,
)
from secretops.values import FingerprintKey

DEFAULT = Path(__file__).parent.parent / "assets" / "gitleaks" / "gitleaks.toml"
KEY = FingerprintKey(b"g" * 32)


@pytest.mark.parametrize(
    ("go", "python", "matches", "misses"),
    [
        (r"\b(p8e-(?i)[a-z0-9]{4})\b", r"\b(p8e-(?i:[a-z0-9]{4}))\b", ["p8e-AbC1"], ["P8E-abc1"]),
        (r"(?i)key=(?-i:ABC)", r"(?i)key=(?-i:ABC)", ["KEY=ABC"], ["key=abc"]),
        (r"x(?i)a|b", r"x(?i:a)|(?i:b)", ["xA", "B"], ["A"]),
        (r"tok\z", r"tok\Z", ["a tok"], ["tok\n"]),
        (r"\Qa.b\E+", r"a\.b+", ["a.bbb"], ["axb"]),
        (r"[[:alpha:]]{3}[[:digit:]]", r"[A-Za-z]{3}[0-9]", ["abc1"], ["ab12"]),
        (r"(?<name>z\x{41})", r"(?P<name>z\U00000041)", ["zA"], ["za"]),
        (r"[a[|&~]+", r"[a\[\|\&\~]+", ["[|&~"], ["b"]),
        (r"a{,2}", r"a\{,2}", ["a{,2}"], ["aa"]),
        (r"[]a]", r"[\]a]", ["]"], ["b"]),
    ],
)
def test_re2_is_translated_to_python(go: str, python: str, matches: list[str], misses: list[str]) -> None:
    assert translate_regex(go) == python
    pattern = re.compile(python)
    assert all(pattern.search(text) for text in matches)
    assert not any(pattern.fullmatch(text) for text in misses)


@pytest.mark.parametrize(("go", "feature"), [(r"\p{Greek}+", r"\p"), (r"(?U)a+", "flag"), (r"a)", "unbalanced")])
def test_re2_features_python_lacks_are_named(go: str, feature: str) -> None:
    with pytest.raises(UnsupportedRegex, match=re.escape(feature)):
        translate_regex(go)


def test_every_rule_of_gitleaks_default_config_loads_or_is_reported() -> None:
    data = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))
    assert is_gitleaks_config(data)
    ids = [r["id"] for r in data["rules"]]
    assert len(ids) > 200
    config = load_gitleaks_config(DEFAULT, load_rules().ids)
    loaded = {r.id.removeprefix("gitleaks-") for r in config.rules} | {r.id for r in config.rules}
    for rid in ids:
        assert rid in loaded or rid in config.skipped or f"gitleaks-{rid}" in loaded, rid
    assert set(config.skipped) == {"pkcs12-file"}  # a file-name rule: the only one with no regex
    assert any("pkcs12-file" in n and "path" in n for n in config.notices)
    for rule in config.rules:
        re.compile(rule.regex, re.MULTILINE)  # every translated regex compiles
    # the global allowlist came along, and what could not be kept is named
    assert config.allow_paths and config.allow_regexes and "abcdefghijklmnopqrstuvwxyz" in config.allow_stopwords
    assert any("regexTarget = 'match'" in n for n in config.notices)
    assert any('condition = "AND"' in n for n in config.notices)
    assert any("freemius-secret-key" in n and "every file" in n for n in config.notices)


# Realistic tokens built from the rules' regexes (random, not real credentials).
SAMPLES = [
    ("age-secret-key", "AGE_KEY=AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58]),
    ("adobe-client-secret", "ADOBE_SECRET=p8e-Xk3fQ9zLm2Vb7Nc4Rt6Yh1Jd8Gs5Wp0a "),
    ("alibaba-access-key-id", 'id = "LTAI5tQz8Xk3mP9vR2nW7bYc"'),
    ("clojars-api-token", "CLOJARS_" + ("k3j9x2m8q4w7e1r5t6y0u3i8o2p5a7s9" * 2)[:60]),
    ("adafruit-api-key", 'adafruit_key = "k3j9x2m8q4w7e1r5t6y0u3i8o2p5a7s9"'),
    ("aws-access-token", "aws_access_key_id = AKIAZ7QX4LMB2TKVW3RN"),
]


@pytest.mark.parametrize(("rule_id", "text"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_gitleaks_default_rules_find_tokens_built_from_their_regexes(rule_id: str, text: str) -> None:
    config = load_gitleaks_config(DEFAULT)  # no built-ins reserved: ids kept as gitleaks wrote them
    rule = next(r for r in config.rules if r.id == rule_id)
    match = rule.pattern.search(text)
    assert match is not None, rule.regex
    secret = match.group(rule.secret_group)
    assert secret and secret in text and len(secret) >= 16


def test_the_aws_example_key_is_allowlisted_by_the_default_config_rule_allowlist() -> None:
    config = load_gitleaks_config(DEFAULT)
    rule = next(r for r in config.rules if r.id == "aws-access-token")
    assert any(p.search("AKIAIOSFODNN7EXAMPLE") for p in rule.allow_regexes)


CUSTOM = """
title = "acme gitleaks config"

[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[[rules]]
id = "acme-internal-token"
description = "ACME internal service token"
regex = '''(?i)\\b(acme_(?-i:[A-Za-z0-9]{32}))\\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
tags = ["internal"]
path = '''\\.env$'''
frobnicate = true
[rules.allowlist]
regexes = ['''^acme_TEST''']
stopwords = ["sandbox"]

[[rules]]
id = "acme-file"
path = '''\\.acmekey$'''

[allowlist]
paths = ['''^fixtures/''']
"""
LEAK = "acme_Q7mZ2kX9pL4vR8nT1wY6bC3dF5gH0jKs"
ALLOWED = "acme_TESTm2kX9pL4vR8nT1wY6bC3dF5gH0jK"


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitleaks.toml").write_text(CUSTOM, encoding="utf-8")
    (tmp_path / "app.py").write_text(f'TOKEN = "{LEAK}"\nOTHER = "{ALLOWED}"\n', encoding="utf-8")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "seed.py").write_text(f'TOKEN = "{LEAK}"\n', encoding="utf-8")
    return tmp_path


def test_custom_rule_with_allowlist_and_use_default(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert find_repo_config([str(repo / "fixtures")]) == repo / ".gitleaks.toml"
    ruleset, (config,) = load_ruleset([], (), [repo / ".gitleaks.toml"])
    assert len(ruleset) == len(load_rules()) + 1  # built-ins (useDefault) + the custom rule; acme-file skipped
    rule = ruleset.get("acme-internal-token")
    assert rule is not None and rule.keywords == ("acme_",) and "internal" in rule.tags
    notices = "\n".join(config.notices)
    for named in ("frobnicate", "acme-file", "useDefault", "generic-api-key", "'path' beside 'regex'"):
        assert named in notices
    findings = Scanner(ruleset, KEY).scan(Fragment((repo / "app.py").read_text(), "app.py"))
    ours = [f for f in findings if f.rule_id == "acme-internal-token"]
    assert len(ours) == 1 and ours[0].classification is Classification.LEAK
    assert ours[0].location.line == 1  # the allowlisted value on line 2 is not reported


def test_repo_gitleaks_config_is_used_with_a_notice_and_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    monkeypatch.chdir(repo)
    assert run(["scan", ".", "--format", "json", "--no-progress", "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    assert "using gitleaks config" in captured.err and "--no-gitleaks-config" in captured.err
    assert "frobnicate" in captured.err
    report = json.loads(captured.out)
    found = [f for f in report["findings"] if f["rule_id"] == "acme-internal-token"]
    assert [f["path"] for f in found] == ["app.py"]  # fixtures/ allowlisted globally
    assert LEAK not in captured.out + captured.err

    assert run(["scan", ".", "--format", "json", "--no-progress", "--jobs", "1", "--no-gitleaks-config"]) in (0, 1)
    captured = capsys.readouterr()
    assert "gitleaks" not in captured.err
    assert not [f for f in json.loads(captured.out)["findings"] if f["rule_id"] == "acme-internal-token"]


def test_rules_flag_reads_gitleaks_format_and_secretops_format_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "gl.toml"
    path.write_text(CUSTOM, encoding="utf-8")
    assert run(["rules", "--rules", str(path), "--format", "json"]) == 0
    ids = {r["id"] for r in json.loads(capsys.readouterr().out)}
    assert "acme-internal-token" in ids and "github-personal-access-token" in ids


def test_extend_path_and_disabled_rules_and_id_clash(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        "[[rules]]\nid = 'github-personal-access-token'\nregex = '''ghp_[A-Za-z0-9]{36}'''\nkeywords = ['ghp_']\n"
        "[[rules]]\nid = 'team_token'\nregex = '''tt_[a-z]{20}'''\nkeywords = ['tt_']\n",
        encoding="utf-8",
    )
    (tmp_path / "top.toml").write_text(
        "[extend]\npath = 'base.toml'\ndisabledRules = ['team-token', 'no-such']\n", encoding="utf-8"
    )
    ruleset, (config,) = load_ruleset([], (), [tmp_path / "top.toml"])
    assert ruleset.get("gitleaks-github-personal-access-token") is not None  # renamed, not clashing
    assert ruleset.get("team-token") is None and "team-token" in ruleset.disabled
    assert any("no-such" in n for n in config.notices)


def test_a_malformed_gitleaks_rule_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / ".gitleaks.toml"
    path.write_text("title='x'\n[[rules]]\nid='bad-rule'\nregex='''a(b'''\nsecretGroup=1\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"bad-rule.*regex"):
        load_ruleset([path])


def test_the_same_gitleaks_file_named_twice_is_read_once(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    ruleset, configs = load_ruleset([repo / ".gitleaks.toml"], (), [repo / ".gitleaks.toml"])
    assert len(configs) == 1 and ruleset.get("acme-internal-token") is not None
