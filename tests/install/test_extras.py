"""Optional drivers behind extras: a missing one is exit 2 naming the extra, before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from secretops import extras
from secretops.extras import MissingExtraError
from secretops.inventory.models import IssuerSpec
from secretops.issuers import ISSUERS, build_issuer

REPO = Path(__file__).resolve().parents[2]
LOCAL_KEY = "cd" * 32

POLICY = """\
version: 1
issuers:
  db: {kind: postgres, admin_dsn_env: APP_DB_ADMIN_DSN, database: app}
targets:
  web: {kind: dotenv, path: "web.env"}
secrets:
  - name: app/db
    kind: postgres-password
    issuer: db
    accounts: [app_a, app_b]
    strategy: alternate
    generator: {kind: password, length: 32}
    consumers:
      - {target: web, env: DATABASE_URL, template: "postgresql://{username}:{password|url}@db/app"}
"""


def _spec(raw: dict[str, Any]) -> IssuerSpec:
    from pydantic import TypeAdapter

    spec: IssuerSpec = TypeAdapter(IssuerSpec).validate_python(raw)
    return spec


@pytest.mark.parametrize(
    ("raw", "module", "extra"),
    [
        ({"kind": "postgres", "admin_dsn_env": "X_DSN"}, "psycopg", "postgres"),
        ({"kind": "mysql", "admin_dsn_env": "X_DSN"}, "pymysql", "mysql"),
        ({"kind": "redis", "admin_url_env": "X_URL"}, "redis", "redis"),
        ({"kind": "aws-iam"}, "boto3", "aws"),
    ],
)
def test_an_issuer_without_its_driver_names_the_extra(
    raw: dict[str, Any], module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(raw)
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails, as when not installed
    with pytest.raises(MissingExtraError) as info:
        build_issuer(spec, {})
    assert info.value.extra == extra
    assert info.value.exit_code == 2
    assert f"[{extra}]" in info.value.diagnostics()
    assert "pip install secretops" not in info.value.diagnostics()  # the PyPI name is another project


def test_issuers_with_their_drivers_build() -> None:
    assert set(ISSUERS) == {"postgres", "mysql", "redis", "aws-iam", "manual", "app"}
    assert ISSUERS["postgres"].__name__ == "PostgresIssuer"


def test_every_driver_module_has_an_extra_in_pyproject() -> None:
    optional = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in set(extras.MODULE_EXTRAS.values()):
        assert extra in optional, extra
        assert extra == "rotate" or "secretops[rotate]" in optional[extra]
    everything = optional["all"][0]
    assert all(e in everything for e in set(extras.MODULE_EXTRAS.values()))
    assert "secretops[all]" in optional["test"]


def _run_without(module: str, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`secretops args` in a fresh interpreter where importing `module` fails (not installed)."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from secretops.cli.app import run\n"
        f"sys.exit(run({args!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "app.yaml").write_text(POLICY)
    (tmp_path / "web.env").write_text("DATABASE_URL=postgresql://app_a:old@db/app\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "SECRETOPS_STATE_DIR": str(tmp_path / ".secretops"),
        "SECRETOPS_LOCAL_KEY": LOCAL_KEY,
        "SECRETOPS_POLICIES": str(tmp_path / "policies"),
    }
    return tmp_path, env


def test_a_rotation_without_its_driver_exits_2_before_touching_anything(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    proc = _run_without("psycopg", ["rotate", "app/db"], root, env)
    assert proc.returncode == 2, proc.stderr
    assert "the postgres issuer needs the 'psycopg' package" in proc.stderr
    assert "[postgres]" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (root / "web.env").read_text() == "DATABASE_URL=postgresql://app_a:old@db/app\n"
    assert not (root / ".secretops" / "journal").exists()  # no run was started


def test_rotate_commands_without_cryptography_name_the_rotate_extra(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    proc = _run_without("cryptography", ["rotate", "app/db"], root, env)
    assert proc.returncode == 2, proc.stderr
    assert "[rotate]" in proc.stderr and "cryptography" in proc.stderr
    assert "Traceback" not in proc.stderr
    listed = _run_without("cryptography", ["--help"], root, env)
    assert listed.returncode == 0, listed.stderr
    assert "rotate" in listed.stdout and "not installed" in listed.stdout
    stored = _run_without("cryptography", ["store", "list"], root, env)
    assert stored.returncode == 2 and "the local store needs the 'cryptography' package" in stored.stderr


def test_a_scan_needs_no_optional_driver(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    (root / "clean.txt").write_text("nothing to see\n")
    code = (
        "import sys\n"
        "for m in ('cryptography', 'psycopg', 'pymysql', 'redis', 'boto3', 'botocore', 'hvac', 'nacl'):\n"
        "    sys.modules[m] = None\n"
        "from secretops.cli.app import run\n"
        "sys.exit(run(['scan', 'clean.txt', '--no-progress']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_version_imports_no_command_group() -> None:
    code = (
        "import sys\n"
        "from secretops.cli.app import run\n"
        "assert run(['--version']) == 0\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    version, loaded = proc.stdout.splitlines()[-2:]
    assert version.startswith("secretops 0.")
    modules = set(loaded.split())
    heavy = {"psycopg", "hvac", "boto3", "pymysql", "redis", "cryptography", "httpx", "pydantic", "secretops.scan"}
    assert not heavy & modules, heavy & modules


@pytest.mark.parametrize(
    ("direct_url", "expected", "absent"),
    [
        (
            {"url": "https://ci-bot:tok3n-value@git.example.com/team/secretops.git",
             "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "v0.1.0"}},
            'pip install "secretops[postgres] @ git+https://git.example.com/team/secretops.git@v0.1.0"',
            "tok3n-value",
        ),
        (
            {"url": "file:///src/secretops", "dir_info": {"editable": True}},
            "pip install -e '/src/secretops[postgres]'",
            None,
        ),
        ({"url": "file:///src/secretops", "dir_info": {}}, "pip install '/src/secretops[postgres]'", None),
        (  # an ssh login name is kept (pip needs it), a token as an https user name is not
            {"url": "ssh://git@github.com/team/secretops.git", "vcs_info": {"vcs": "git", "requested_revision": "v1"}},
            'pip install "secretops[postgres] @ git+ssh://git@github.com/team/secretops.git@v1"',
            None,
        ),
        (
            {"url": "https://ghp_tok3nAsUser@github.com/team/secretops.git", "vcs_info": {"vcs": "git"}},
            'pip install "secretops[postgres] @ git+https://github.com/team/secretops.git"',
            "tok3nAsUser",
        ),
    ],
)
def test_the_install_hint_follows_the_installation_and_never_prints_url_credentials(
    direct_url: dict[str, Any], expected: str, absent: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Dist:
        def read_text(self, name: str) -> str | None:
            return json.dumps(direct_url) if name == "direct_url.json" else None

    from importlib import metadata

    monkeypatch.setattr(metadata, "distribution", lambda name: Dist())
    hint = extras.install_hint("postgres")
    assert expected in hint
    if absent is not None:
        assert absent not in hint and "ci-bot" not in hint


def test_a_database_liveness_check_without_its_driver_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from secretops.liveness import Liveness
    from secretops.liveness.check import VerifyOptions, verify_findings
    from secretops.scan.models import Classification, Finding, Location, Severity
    from secretops.values import SecretValue

    finding = Finding(
        rule_id="neon-postgres-password",
        kind="postgres-password",
        provider="neon",
        classification=Classification.LEAK,
        severity=Severity.CRITICAL,
        confidence="high",
        location=Location("a.md", 1, 1, 1, 10),
        fingerprint="hmac-sha256:0000",
        preview="npg_****",
        secret=SecretValue("npg_" + "Zq8vN3xLp2Wm"),
    )
    finding = dataclasses.replace(finding, context={"host": "127.0.0.1", "user": "app", "port": "1"})
    monkeypatch.setitem(sys.modules, "psycopg", None)
    [out] = verify_findings([finding], VerifyOptions(databases=True))
    assert out.liveness is not None
    assert out.liveness.state is Liveness.UNKNOWN  # never dead: nothing was checked
    assert "the [postgres] extra" in out.liveness.detail


def test_the_console_script_answers_version_without_typer() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["secretops"] == "secretops.cli.entry:main"
    code = (
        "import sys\n"
        "sys.argv = ['secretops', '--version']\n"
        "from secretops.cli.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    version, status, loaded = proc.stdout.splitlines()[-3:]
    assert version == "secretops 0.1.0" or version.startswith("secretops ")
    assert status == "exit 0"
    assert not {"typer", "click", "rich", "pydantic"} & set(loaded.split())


def test_the_console_script_runs_commands_through_the_app() -> None:
    code = "import sys; sys.argv = ['secretops', 'rules', '--help']; from secretops.cli.entry import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "rules" in proc.stdout.lower()
