"""What a path says about a file: a test, documentation or a template, source code."""

from __future__ import annotations

import re

from secretops.scan.vocabulary import TEST_DIRS

_TEST_FILE = re.compile(
    r"(^test_.*\.py$|^tests?\.[a-z]+$|_test\.[a-z]+$|\.(?:test|spec)\.[a-z]+$|^conftest\.py$|Test\.java$)"
)
_DOC_SUFFIX = re.compile(r"\.(?:md|markdown|mdx|rst|txt|adoc|asciidoc|org|textile|ipynb)$", re.IGNORECASE)
_TEMPLATE = re.compile(
    r"(?:\.(?:example|sample|template|tmpl|tpl|dist|default|defaults)(?:\.[a-z0-9]+)?$|^readme|(?:^|[._-])example)",
    re.IGNORECASE,
)
_CODE_SUFFIX = re.compile(
    r"\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|go|rb|java|kt|kts|scala|cs|php|rs|swift|c|cc|cpp|h|hpp|m|dart|lua|ex|exs|erl|clj|groovy)$",
    re.IGNORECASE,
)


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p]


def is_test_path(path: str) -> bool:
    """True for files under a test folder (`tests/`, `spec/`, `fixtures/`, ...) or named like tests."""
    parts = _parts(path)
    if not parts:
        return False
    return any(p.lower() in TEST_DIRS for p in parts[:-1]) or bool(_TEST_FILE.search(parts[-1]))


def is_doc_or_template(path: str) -> bool:
    """True for documentation (`.md`, `.rst`, ...) and config templates (`.env.example`, `*.sample`)."""
    parts = _parts(path)
    if not parts:
        return False
    name = parts[-1]
    if name in {"METADATA", "PKG-INFO"} and len(parts) > 1 and parts[-2].endswith((".dist-info", ".egg-info")):
        return True  # a package's README, as shipped in its metadata
    return bool(_DOC_SUFFIX.search(name) or _TEMPLATE.search(name)) or "docs" in (p.lower() for p in parts[:-1])


def is_code(path: str) -> bool:
    return bool(_CODE_SUFFIX.search(path))
