"""`secretops rules --format markdown` and `--count`; docs/rules-reference.md and the count in
benchmarks/README.md are kept in step with the built-in rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secretops.cli.app import run
from secretops.scan.rules import load_rules
from secretops.scan.rules.reference import render_markdown

ROOT = Path(__file__).resolve().parent.parent.parent
REGENERATE = "python -m secretops.scan.rules.reference > docs/rules-reference.md"


def test_rules_reference_doc_is_current() -> None:
    expected = render_markdown(load_rules())
    actual = (ROOT / "docs" / "rules-reference.md").read_text(encoding="utf-8")
    assert actual == expected, f"docs/rules-reference.md is stale: run `{REGENERATE}`"


def test_reference_has_a_row_per_rule_with_its_facts() -> None:
    rules = load_rules()
    text = render_markdown(rules)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(rules)
    public = next(r for r in rules if r.public)
    checked = next(r for r in rules if r.checksum)
    assert any(f"`{public.id}`" in row and "| public |" in row for row in rows)
    assert any(f"`{checked.id}`" in row and f"| {checked.checksum} |" in row for row in rows)
    for rule in rules:
        for ref in rule.references:
            assert f"]({ref})" in text


def test_cli_markdown_and_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["rules", "--format", "markdown", "--no-gitleaks-config"]) == 0
    assert capsys.readouterr().out == render_markdown(load_rules())
    assert run(["rules", "--count"]) == 0
    assert capsys.readouterr().out.strip() == str(len(load_rules()))


def test_benchmarks_readme_shows_the_rule_count() -> None:
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"Built-in rules: \*\*(\d+)\*\*", text)
    assert shown is not None, "benchmarks/README.md lost its 'Built-in rules: **N**' line"
    hint = "update the count in benchmarks/README.md (`secretops rules --count`)"
    assert int(shown.group(1)) == len(load_rules()), hint
