"""No document tells anyone to install secretops by its PyPI name (another project owns it)."""

from __future__ import annotations

import re

import pytest

from tests.install.closure import REPO

# `pip install secretops`, `pip install -U 'secretops[all]'`: a name-only install, not `secretops @ URL`.
BY_NAME = re.compile(r"""pip3? install\s+(?:-\S+\s+)*['"]?secretops(?:\[[^\]]*\])?(?!\s*@)(?=['"\s]|$)""")
DOCS = [
    "README.md", "action.yml", "Dockerfile", ".pre-commit-hooks.yaml",
    *(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")),
    *(p.relative_to(REPO).as_posix() for p in (REPO / "benchmarks").glob("*.md")),
]


@pytest.mark.parametrize("name", DOCS)
def test_no_document_installs_secretops_by_name(name: str) -> None:
    text = (REPO / name).read_text()
    hits = [m.group(0) for m in BY_NAME.finditer(text)]
    assert not hits, f"{name}: {hits}"


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("pip install secretops", True),
        ("pip install -U 'secretops[all]'", True),
        ('pip install "secretops @ git+https://example.org/secretops@v1"', False),
        ('pip install "secretops[all] @ git+https://example.org/secretops@v1"', False),
        ("pip install secretops-other", False),
        ("pip install -e .", False),
    ],
)
def test_the_check_tells_an_install_by_name(line: str, flagged: bool) -> None:
    assert bool(BY_NAME.search(line)) is flagged


def test_readme_says_how_to_install_from_the_repository() -> None:
    readme = (REPO / "README.md").read_text()
    assert "secretops @ git+https://" in readme
