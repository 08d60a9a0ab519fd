"""CI service containers: whether a line sits in a CI job's `services:` block (its passwords are throwaway)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CI_PATH = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.gitlab-ci|\.circleci/|bitbucket-pipelines|\.drone|azure-pipelines)"
)
_KEY_LINE = re.compile(r"^(\s*)-?\s*([A-Za-z0-9_.-]+):")


@dataclass(slots=True)
class _ServiceLines:
    """The line starts of one text that sit in a CI `services:` block (computed once per text)."""

    text: str
    path: str
    starts: frozenset[int]


_service_cache: list[_ServiceLines] = []


def _service_line_starts(text: str, path: str) -> frozenset[int]:
    """Start offsets of the lines in a CI job's `services:` block, in one forward pass over `text`.

    Keeps a stack of `(indent, key)` for the open YAML ancestors (reset at markdown fences): a
    line's ancestors are the nearest lines above with smaller indentation. A line is in a service
    block when `services` is among its ancestor keys and the file is a CI config, or `jobs` is an
    ancestor, or a `runs-on:` line sits between its top-level ancestor and the line.
    """
    ci_path = bool(_CI_PATH.search(path))
    out: set[int] = set()
    stack: list[tuple[int, str | None]] = []
    runs_on_at = -1  # line number of the last `runs-on:` in the current top-level block
    top_at = -1  # line number where the current top-level block (indent 0) started
    pos = 0
    n = len(text)
    lineno = 0
    while pos <= n:
        end = text.find("\n", pos)
        if end < 0:
            end = n
        line = text[pos:end]
        stripped = line.strip()
        if stripped.startswith("```"):
            stack.clear()
            top_at = lineno
            runs_on_at = -1
        elif stripped and not stripped.startswith("#"):
            indent = len(line) - len(line.lstrip(" "))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            keys = [k for _, k in stack if k]
            if "services" in keys and (ci_path or "jobs" in keys or runs_on_at > top_at):
                out.add(pos)
            if indent == 0:
                top_at = lineno
                runs_on_at = -1
            if "runs-on:" in line:
                runs_on_at = lineno
            m = _KEY_LINE.match(line)
            stack.append((indent, m.group(2).lower() if m else None))
        pos = end + 1
        lineno += 1
    return frozenset(out)


def in_ci_service_block(text: str, line_start: int, path: str) -> bool:
    """True when the line starting at `line_start` sits in a CI job's `services:` block.

    The line must have a YAML `services:` ancestor (also inside a markdown code block), and the
    file must be a CI config or the chain must reach `jobs:` or a `runs-on:` above. The lines of
    a text are analysed once and cached (the last two texts), so repeated calls are cheap.
    """
    for entry in _service_cache:
        if entry.text is text and entry.path == path:
            return line_start in entry.starts
    entry = _ServiceLines(text, path, _service_line_starts(text, path))
    _service_cache.insert(0, entry)
    del _service_cache[2:]
    return line_start in entry.starts
