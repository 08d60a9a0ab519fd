"""Every rule file in the package: examples are found, counterexamples are not leaks; bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.errors import RuleError
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Fragment
from secretops.scan.rules import Rule, builtin_rule_files, load_rule_file, load_rules
from secretops.values import FingerprintKey

KEY = FingerprintKey(b"r" * 32)
# A neutral path: not a test folder, not documentation, not code.
PATH = "deploy/app.cfg"


def _all_rules() -> list[Rule]:
    return [rule for path in builtin_rule_files() for rule in load_rule_file(path)]


RULES = _all_rules()


def test_rule_files_load_together_without_duplicates() -> None:
    rules = load_rules()
    assert len(rules) == len(RULES) > 0
    assert len(set(rules.ids)) == len(rules.ids)
    assert any(p.endswith("core.toml") for p in rules.files)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples_and_counterexamples(rule: Rule) -> None:
    scanner = Scanner([rule], KEY)
    for example in rule.examples:
        fragment = Fragment(example, PATH)
        if rule.public:
            hits = [c.rule.id for c in scanner.candidates(fragment)]
            assert rule.id in hits, f"{rule.id}: example not matched: {example!r}"
        else:
            found = {f.rule_id: f for f in scanner.scan(fragment)}
            assert rule.id in found, f"{rule.id}: example produced no finding: {example!r}"
            # An example is a real-looking value: it must be reported as a leak (test-mode keys,
            # such as Stripe's sk_test_, as the test credentials they are), not explained away.
            expected = Classification.TEST_CREDENTIAL if "-test-" in rule.id else Classification.LEAK
            got = found[rule.id]
            assert got.classification is expected, f"{rule.id}: example is {got.classification}: {got.reasons}"
    for counter in rule.counterexamples:
        leaks = [
            f
            for f in scanner.scan(Fragment(counter, PATH))
            if f.rule_id == rule.id and f.classification is Classification.LEAK
        ]
        assert not leaks, f"{rule.id}: counterexample is a leak: {counter!r}"


GOOD = """
[[rules]]
id = "acme-api-key"
description = "Acme key"
provider = "acme"
kind = "api-key"
severity = "high"
keywords = ["acme_"]
regex = \'\'\'\\b(acme_[a-z0-9]{16})\\b\'\'\'
secret_group = 1
examples = ["acme_k3j9x8q2m4n7p1z5"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def test_a_user_rule_file_loads_and_can_be_disabled(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    rules = load_rules([path])
    assert rules.get("acme-api-key") is not None
    rules = load_rules([path], disabled=["acme-api-key", "generic-token-assignment"])
    assert rules.get("acme-api-key") is None and rules.get("generic-token-assignment") is None


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda t: t.replace('severity = "high"', 'severity = "severe"'), "severity"),
        (lambda t: t.replace('keywords = ["acme_"]', 'keywords = ["ACME"]'), "keywords"),
        (lambda t: t.replace("secret_group = 1", "secret_group = 3"), "secret_group"),
        (lambda t: t.replace("secret_group = 1", 'secret_group = "nope"'), "secret_group"),
        (lambda t: t.replace("\\b(acme_", "\\b((acme_"), "regex"),
        (lambda t: t.replace('kind = "api-key"', 'kind = "api-key"\nsurprise = 1'), "surprise"),
        (lambda t: t.replace('examples = ["acme_k3j9x8q2m4n7p1z5"]', ""), "examples"),
        (lambda t: t.replace('examples = ["acme_k3j9x8q2m4n7p1z5"]', "examples = []"), "examples"),
        (lambda t: t.replace('provider = "acme"\n', ""), "provider"),
        (lambda t: t.replace("secret_group = 1", "secret_group = 1\nentropy = -1"), "entropy"),
        (lambda t: t.replace("secret_group = 1", 'secret_group = 1\nchecksum = "luhn9"'), "checksum"),
        (lambda t: t.replace("secret_group = 1", 'secret_group = 1\ncontext = { host = "host" }'), "context"),
        (lambda t: t.replace("secret_group = 1", "secret_group = 1\nallowlist = { words = [] }"), "allowlist.words"),
        (
            lambda t: t.replace("secret_group = 1", "secret_group = 1\nallowlist = { regexes = ['('] }"),
            "allowlist.regexes",
        ),
    ],
)
def test_bad_rule_file_names_file_rule_and_field(tmp_path: Path, edit: object, field: str) -> None:
    path = _write(tmp_path, edit(GOOD))  # type: ignore[operator]
    with pytest.raises(RuleError) as info:
        load_rules([path])
    message = str(info.value)
    assert str(path) in message
    assert "'acme-api-key'" in message
    assert f"field '{field}'" in message
    assert info.value.hint


def test_bad_id_and_duplicates_and_syntax(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"rule 'Acme_Key': field 'id'"):
        load_rules([_write(tmp_path, GOOD.replace('"acme-api-key"', '"Acme_Key"'))])
    with pytest.raises(RuleError, match=r"'neon-postgres-password': field 'id': duplicated"):
        load_rules([_write(tmp_path, GOOD.replace('"acme-api-key"', '"neon-postgres-password"'))])
    with pytest.raises(RuleError, match=r"duplicated in this file"):
        load_rules([_write(tmp_path, GOOD + GOOD)])
    with pytest.raises(RuleError, match=r"bad.toml: not valid TOML"):
        load_rules([_write(tmp_path, "[[rules]\nid=")])
    with pytest.raises(RuleError, match=r"unknown rule id\(s\): no-such-rule"):
        load_rules(disabled=["no-such-rule"])
    with pytest.raises(RuleError, match=r"cannot read rule file"):
        load_rules([tmp_path / "missing.toml"])


def test_bad_rule_file_through_the_cli_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('severity = "high"', 'severity = "severe"'))
    try:
        load_rules([path])
    except RuleError as exc:
        text = exc.diagnostics()
    assert "Traceback" not in text and "severity" in text and "hint:" in text


def test_every_built_in_rule_carries_a_reference_for_its_sarif_help_uri() -> None:
    """SARIF's `helpUri` is a rule's first reference (GitHub shows it as the rule's help link)."""
    missing = [r.id for r in RULES if not r.references]
    assert missing == []
    for rule in RULES:
        for url in rule.references:
            assert url.startswith("https://") and " " not in url, (rule.id, url)
