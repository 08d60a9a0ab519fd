"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit against a throwaway repository.

pre-commit clones a repository holding this checkout's hooks file and package (a snapshot of
the working tree, committed), installs it into its own virtualenv (`language: python`: the
scanner-only base install) and runs the hooks on commits. The environment is built once per
session under a private PRE_COMMIT_HOME. Its pip installs offline, from a wheelhouse of this
environment's own base distributions (the `wheelhouse` fixture) plus virtualenv's bundled
setuptools wheel for the build: the same install, without a minute of index look-ups.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import service_unavailable
from tests.install.closure import offline_pip

pytestmark = pytest.mark.git

REPO = Path(__file__).resolve().parents[2]
# A fake AWS key pair in the real format, assembled at run time (no credential-shaped literal here).
KEY_ID = "AKIA" + "Q7ZK3XW5N2JR4T6M"
SECRET = ("kR9f" + "Tz2LmQ8vXc4NbW7pYs1HdJ6gAe3UoKi5rV/x+9")[:40]
LEAK = f'AWS_ACCESS_KEY_ID = "{KEY_ID}"\nAWS_SECRET_ACCESS_KEY = "{SECRET}"\n'


def _pre_commit() -> list[str]:
    if shutil.which("git") is None:
        service_unavailable("git is not installed")
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        service_unavailable("pre-commit is not installed (it is in the test extra)")
    return [sys.executable, "-m", "pre_commit"]


def _git(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=check, timeout=120)


def _env(home: Path, pre_commit_home: Path, wheels: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "SECRETOPS_", "PIP_"))}
    env.update(offline_pip(wheels))
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Dev",
        GIT_AUTHOR_EMAIL="dev@example.org",
        GIT_COMMITTER_NAME="Dev",
        GIT_COMMITTER_EMAIL="dev@example.org",
        PRE_COMMIT_HOME=str(pre_commit_home),
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def _init(root: Path, env: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main", env=env)
    _git(root, "config", "commit.gpgsign", "false", env=env)


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> tuple[Path, str, Path, Path, Path]:
    """(repository holding this checkout's hooks and package, its commit, HOME, PRE_COMMIT_HOME, wheels)."""
    _pre_commit()
    base = tmp_path_factory.mktemp("pre-commit")
    home, cache = base / "home", base / "cache"
    home.mkdir()
    env = _env(home, cache, wheelhouse)
    repo = base / "secretops"
    _init(repo, env)
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, repo / name)
    shutil.copytree(REPO / "secretops", repo / "secretops", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(repo, "add", ".", env=env)
    _git(repo, "commit", "-q", "-m", "snapshot", env=env)
    return repo, _git(repo, "rev-parse", "HEAD", env=env).stdout.strip(), home, cache, wheelhouse


@pytest.fixture
def project(hooks_repo: tuple[Path, str, Path, Path, Path], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A throwaway repository whose .pre-commit-config.yaml uses both hooks, installed as its git hook."""
    repo, rev, home, cache, wheels = hooks_repo
    env = _env(home, cache, wheels)
    root = tmp_path / "project"
    _init(root, env)
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: secretops\n      - id: secretops-files\n"
    )
    (root / "README.md").write_text("# demo\n")
    subprocess.run(
        [*_pre_commit(), "install"], cwd=root, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    _git(root, "add", ".", env=env)
    # The first commit builds the hooks' environment (once per session) and must pass: nothing leaks.
    first = _git(root, "commit", "-m", "start", env=env, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    return root, env


def test_a_commit_adding_a_key_pair_is_blocked_with_what_to_do(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    (root / "settings.py").write_text(LEAK)
    _git(root, "add", "settings.py", env=env)
    blocked = _git(root, "commit", "-m", "add settings", env=env, check=False)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "aws-secret-access-key" in output
    assert "settings.py" in output
    assert SECRET not in output  # masked preview only
    assert "commit blocked" in output
    assert "secretops:allow" in output and "--baseline" in output
    assert "secretops compromised" in output
    assert _git(root, "log", "--format=%s", env=env).stdout.split() == ["start"]  # nothing was committed


def test_a_clean_commit_passes(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    (root / "settings.py").write_text('AWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n')
    _git(root, "add", "settings.py", env=env)
    done = _git(root, "commit", "-m", "read the key from the environment", env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "secretops (staged changes)" in done.stdout + done.stderr  # the hook ran (and passed)


def test_all_files_finds_a_leak_that_is_already_committed(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    (root / "old.py").write_text(LEAK)
    _git(root, "add", "old.py", env=env)
    _git(root, "commit", "-q", "--no-verify", "-m", "committed before the hooks", env=env)
    run = subprocess.run(
        [*_pre_commit(), "run", "--all-files"], cwd=root, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "aws-secret-access-key" in output and "old.py" in output
    clean = subprocess.run(
        [*_pre_commit(), "run", "secretops", "--all-files"], cwd=root, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )
    # the staged-changes hook alone passes such a tree: that is why secretops-files exists
    assert clean.returncode == 0, clean.stdout + clean.stderr
