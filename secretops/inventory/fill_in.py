"""Draft placeholders: the `<FILL-IN: ...>` values `secretops discover` writes where it cannot know a value.

`check_placeholders` reports each one as a `to-fill-in` problem; `stand_in_placeholders` and
`without_placeholder_noise` let the rest of a draft be validated as usual (`policy check --draft`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secretops.inventory.problems import LineMap, Problem, YamlPath, format_path

__all__ = [
    "PLACEHOLDER",
    "PLACEHOLDER_PREFIX",
    "check_placeholders",
    "stand_in_placeholders",
    "without_placeholder_noise",
]

PLACEHOLDER_PREFIX = "<FILL-IN:"
PLACEHOLDER = re.compile(r"<FILL-IN:\s*([^<>]*?)\s*>")
"""What `secretops discover` writes where it cannot know a value: `<FILL-IN: admin DSN env var>`."""


def check_placeholders(file: Path, data: Any, lines: LineMap) -> list[Problem]:
    """A `to-fill-in` problem for every placeholder in a policy file's data, with its line and field."""
    problems: list[Problem] = []
    stack: list[tuple[YamlPath, Any]] = [((), data)]
    seen: set[int] = set()  # a recursive YAML alias (`&a [*a]`) would otherwise loop forever
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            stack.extend(((*path, str(k)), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            for m in PLACEHOLDER.finditer(node):
                problems.append(
                    Problem(
                        file,
                        lines.line(path),
                        format_path(path),
                        f"to fill in: {m.group(1)}",
                        "replace the placeholder (the comment above it says where to find the value)",
                        "to-fill-in",
                    )
                )
    return problems


def stand_in_placeholders(data: Any) -> Any:
    """`data` with each placeholder replaced by a distinct stand-in (`FILL_IN_1`, ...).

    The rest of a draft is then validated as usual: a placeholder written where a pattern is
    checked (`https://<FILL-IN: app host>/health`, `<FILL-IN: owner>/<FILL-IN: repository>`)
    leaves a value of the right shape, and two placeholder accounts stay two different ones.
    """
    count = 0

    def one(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"FILL_IN_{count}"

    inside: set[int] = set()  # containers on the current path: a recursive alias is left as it is

    def walk(node: Any) -> Any:
        if isinstance(node, dict | list):
            if id(node) in inside:
                return node
            inside.add(id(node))
            try:
                if isinstance(node, dict):
                    return {k: walk(v) for k, v in node.items()}
                return [walk(v) for v in node]
            finally:
                inside.discard(id(node))
        if isinstance(node, str) and PLACEHOLDER_PREFIX in node:
            return PLACEHOLDER.sub(one, node)
        return node

    return walk(data)


def without_placeholder_noise(problems: Sequence[Problem], placeholders: Sequence[Problem]) -> list[Problem]:
    """`problems` less those a placeholder causes: on its line, or on its field or one inside it.

    A placeholder is not a valid repository name, env var name or URL, so the field it stands in
    also fails its own check; that failure says nothing the `to-fill-in` problem does not.
    """
    lines = {(p.file, p.line) for p in placeholders}
    fields = {(p.file, p.field) for p in placeholders}

    def caused(problem: Problem) -> bool:
        if (problem.file, problem.line) in lines:
            return True
        return any(
            f == problem.file and (problem.field == name or problem.field.startswith((name + ".", name + "[")))
            for f, name in fields
        )

    return [p for p in problems if p.code == "to-fill-in" or not caused(p)]
