"""A scanner-only environment (the base dependencies, no extra) scans the example guides.

A real `pip install` of the base install takes most of a minute (resolving from an index), so
the environment is assembled from this one instead: a fresh venv without system site-packages
whose site-packages holds links to exactly the distributions `pyproject.toml`'s base
`dependencies` pull in (their `Requires-Dist` closure, extras' requirements left out) and to
the `secretops` package. Anything an extra installs is then absent, as after `pip install
secretops-from-the-repo` with no extra. benchmarks/install.py does the real installs and
measures them.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from importlib import metadata
from pathlib import Path

import pytest

from tests.install.closure import REPO, base_closure

DRIVERS = ("cryptography", "psycopg", "pymysql", "redis", "boto3", "botocore", "hvac", "nacl", "detect_secrets")


def _link_dist(dist: metadata.Distribution, site: Path) -> None:
    tops: set[str] = set()
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if parts and parts[0] != ".." and not parts[0].endswith(".pth") and parts[0] != "__pycache__":
            tops.add(parts[0])
    for top in tops:
        source = Path(str(dist.locate_file(top)))
        target = site / top
        if source.exists() and not target.exists():
            target.symlink_to(source)


@pytest.fixture(scope="session")
def scanner_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a venv holding the base install only."""
    root = tmp_path_factory.mktemp("scanner-only")
    venv.create(root, with_pip=False, symlinks=True, system_site_packages=False)
    python = root / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
    )
    for dist in base_closure().values():
        _link_dist(dist, site)
    (site / "secretops").symlink_to(REPO / "secretops")
    return python


def _env(home: Path) -> dict[str, str]:
    keep = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    return keep  # no PYTHONPATH, no VIRTUAL_ENV: only the venv's own site-packages


def test_the_base_closure_holds_no_driver() -> None:
    names = set(base_closure())
    assert {"pydantic", "typer", "pathspec", "pyyaml"} <= names
    assert not names & {"cryptography", "psycopg", "pymysql", "redis", "boto3", "botocore", "hvac", "pynacl"}


def test_a_scanner_only_venv_scans_the_example_guides(scanner_only: Path, tmp_path: Path) -> None:
    probe = subprocess.run(
        [str(scanner_only), "-P", "-c",
         "import importlib.util as u, secretops, sys; "
         f"print(sys.prefix, secretops.__file__, [m for m in {DRIVERS!r} if u.find_spec(m)])"],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, check=True, timeout=60,
    )
    prefix, package, present = probe.stdout.split(" ", 2)
    assert Path(prefix) == scanner_only.parent.parent
    assert Path(package).resolve().is_relative_to(REPO / "secretops")
    assert present.strip() == "[]"  # no extra's driver is importable

    out = tmp_path / "report.json"
    code = "import sys; from secretops.cli.app import main; sys.argv[0] = 'secretops'; main()"
    scan = subprocess.run(
        [str(scanner_only), "-P", "-c", code, "scan", str(REPO / "docs/examples/guides"),
         "--format", "json", "--output", str(out), "--no-progress"],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )
    assert scan.returncode == 1, scan.stderr  # one leak: findings exit 1
    report = json.loads(out.read_text())
    leaks = [f for f in report["findings"] if f["class"] == "leak"]
    assert len(leaks) == 1, leaks
    assert leaks[0]["rule_id"] == "neon-postgres-password"
    assert leaks[0]["path"].endswith("budget-ai-operations.md")

    rotate = subprocess.run(
        [str(scanner_only), "-P", "-c", code, "rotate", "anything"],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=60, check=False,
    )
    assert rotate.returncode == 2, rotate.stderr
    assert "[rotate]" in rotate.stderr and "Traceback" not in rotate.stderr
