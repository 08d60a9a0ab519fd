"""The scan policy's path allowlist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretops.scan.config import ScanPolicy


@pytest.mark.parametrize(
    ("patterns", "path", "allowed"),
    [
        ((r"^tests/", r"\.lock$"), "tests/x.py", True),
        ((r"^tests/", r"\.lock$"), "poetry.lock", True),
        ((r"^tests/", r"\.lock$"), "src/tests/x.py", False),
        ((r"(?i)^docs/", r"^a/"), "DOCS/x.md", True),  # inline flags: searched one by one
        ((r"^(a)/", r"^(b)/\1"), "b/a", False),  # a backreference keeps its own group
        ((r"^(a)/", r"^(b)/\1"), "b/b", True),
    ],
)
def test_path_allowlist_patterns_are_searched_as_one(patterns: tuple[str, ...], path: str, allowed: bool) -> None:
    policy = ScanPolicy.from_mapping({"allowlist": {"paths": list(patterns)}})
    assert policy.path_allowed(path) is allowed


@pytest.mark.parametrize(
    "path",
    [
        "a/b.txt",
        "./a/b",
        "../x/y",
        "/abs/p",
        "/abs/./p",
        "a//b",
        ".env",
        "a/.env",
        "x/../y",
        "dir/",
        ".",
        "a..b/c",
        "/",
    ],
)
def test_the_walks_absolute_path_is_what_abspath_gives(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretops.scan.config import _absolute

    for cwd in (tmp_path, Path("/")):
        monkeypatch.chdir(cwd)
        assert _absolute(path) == os.path.abspath(path)
