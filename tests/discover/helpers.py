"""Shared helpers for the discover tests: run discover, write the draft, check it as a draft."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from secretops.discover.draft import PLACEHOLDER_FIELDS
from secretops.discover.engine import DiscoverResult, discover
from secretops.discover.writer import render_yaml
from secretops.inventory.loader import collect
from secretops.inventory.problems import Problem

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "discover"
GUIDES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "guides"


def draft_of(*paths: Path, app: str | None = None) -> tuple[DiscoverResult, str, dict[str, Any]]:
    """Discover `paths`: the result, the draft's YAML text, and that text parsed back."""
    result = discover(list(paths), app=app)
    text = render_yaml(result.draft.data)
    return result, text, yaml.safe_load(text)


def check_draft(tmp_path: Path, text: str, *, local: bool = False) -> tuple[list[Problem], list[Problem]]:
    """`policy check` on the draft: (problems other than placeholders, the to-fill-in problems).

    `local` also checks `.env` targets on this disk, as a plain `policy check` does.
    """
    file = tmp_path / "draft.yaml"
    file.write_text(text, encoding="utf-8")
    _, problems = collect(file, local_targets=local)
    todo = [p for p in problems if p.code == "to-fill-in"]
    return [p for p in problems if p.code != "to-fill-in"], todo


def field_name(problem: Problem) -> str:
    """The last named part of a problem's field path (`secrets[1].accounts[0]` -> `accounts`)."""
    return re.sub(r"\[[^\]]*\]", "", problem.field).rsplit(".", 1)[-1]


def documented(problem: Problem) -> bool:
    """Whether a to-fill-in problem sits in a field docs/discover.md lists."""
    return field_name(problem) in PLACEHOLDER_FIELDS


def consumers(data: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], bool]]:
    """(env, target kind, components, app_level) of every consumer of a draft."""
    kinds = {name: t["kind"] for name, t in (data.get("targets") or {}).items()}
    return [
        (c["env"], kinds[c["target"]], tuple(c.get("components") or ()), bool(c.get("app_level")))
        for s in data.get("secrets") or []
        for c in s.get("consumers") or []
    ]
