"""YAML with lines: a policy file's data, and the 1-based line of each mapping key and list item.

The file is composed into nodes first (`yaml.SafeLoader`), so every key and item has a line
(`LineMap`), then constructed into plain data. Syntax errors, unreadable or non-UTF-8 files and
duplicate keys (YAML would silently keep the last) are recorded as `Problem`s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretops.inventory.problems import LineMap, Problem, YamlPath, format_path

__all__ = ["parse_yaml"]


def parse_yaml(file: Path, problems: list[Problem]) -> tuple[Any, LineMap] | None:
    """The file's data and line map, or None after recording a syntax problem."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(file, None, "", f"not UTF-8 text ({exc.reason})", "save the file as UTF-8", "yaml-syntax")
        )
        return None
    except OSError as exc:
        problems.append(Problem(file, None, "", f"cannot read the file ({exc.strerror})", None, "unreadable"))
        return None
    loader = yaml.SafeLoader(text)
    lines: dict[YamlPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, LineMap({(): 1})
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, file, problems, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        problems.append(
            Problem(
                file,
                mark.line + 1 if mark is not None else None,
                "",
                f"YAML syntax error: {what}",
                "check indentation and quoting around this line (a value with ': ' or '#' needs quotes)",
                "yaml-syntax",
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(file, None, "", f"YAML syntax error: {exc}", None, "yaml-syntax"))
        return None
    finally:
        loader.dispose()
    return data, LineMap(lines)


def _key(node: Node) -> Any:
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return node.value
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError:
        return getattr(node, "value", None)


def _walk(
    node: Node, path: YamlPath, lines: dict[YamlPath, int], file: Path, problems: list[Problem], stack: set[int]
) -> None:
    if id(node) in stack:  # a recursive alias
        return
    stack.add(id(node))
    try:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = _key(key_node)
                if not isinstance(key, str | int):
                    continue
                line = key_node.start_mark.line + 1
                kpath = (*path, key)
                if key in seen:
                    problems.append(
                        Problem(
                            file,
                            line,
                            format_path(kpath),
                            f"duplicate key '{key}' (first at line {seen[key]}; YAML keeps only the last)",
                            "remove one of them",
                            "duplicate-key",
                        )
                    )
                seen[key] = line
                lines[kpath] = line
                _walk(value_node, kpath, lines, file, problems, stack)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                ipath = (*path, i)
                lines[ipath] = item.start_mark.line + 1
                _walk(item, ipath, lines, file, problems, stack)
    finally:
        stack.discard(id(node))
