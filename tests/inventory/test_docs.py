"""docs/policies.md is checked against the models: every field documented, block up to date."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from secretops.inventory import docs
from secretops.inventory.models import IssuerSpec, PolicyFile, TargetSpec

REPO = Path(__file__).resolve().parent.parent.parent
POLICIES_MD = REPO / "docs" / "policies.md"


def _reachable(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _reachable(tp, seen)
            stack.extend(get_args(tp))


def test_every_model_is_documented() -> None:
    seen: set[type[BaseModel]] = set()
    _reachable(PolicyFile, seen)
    for union in (IssuerSpec, TargetSpec):
        for member in get_args(get_args(union)[0]):
            _reachable(member, seen)
    documented = {m for _, models in docs.MODELS for m in models}
    assert seen == documented


def test_every_field_has_a_description() -> None:
    missing = [
        f"{m.__name__}.{name}"
        for _, models in docs.MODELS
        for m in models
        for name in m.model_fields
        if not docs.field_description(m, name)
    ]
    assert missing == [], "describe these fields in models.py (Field(description=...)) or docs._NOTES"


def test_policies_md_is_up_to_date() -> None:
    text = POLICIES_MD.read_text(encoding="utf-8")
    assert docs.update(text) == text, "run: python -m secretops.inventory.docs docs/policies.md"
    for _, models in docs.MODELS:
        for model in models:
            for name in model.model_fields:
                assert f"| `{name}` |" in text


def test_check_mode_detects_a_stale_block(tmp_path: Path) -> None:
    stale = tmp_path / "policies.md"
    stale.write_text(f"intro\n\n{docs.BEGIN}\nold\n{docs.END}\noutro\n")
    assert docs.main(["--check", str(stale)]) == 1
    assert docs.main([str(stale)]) == 0
    assert docs.main(["--check", str(stale)]) == 0
    fresh = stale.read_text()
    assert fresh.startswith("intro\n\n") and fresh.endswith(f"{docs.END}\noutro\n")
    assert "| `grace` |" in fresh


def test_every_problem_code_is_listed_in_the_docs() -> None:
    from tests.cli.test_policy_cli import CASES

    text = POLICIES_MD.read_text(encoding="utf-8")
    for code in {case[4] for case in CASES}:
        assert f"`{code}`" in text, code
