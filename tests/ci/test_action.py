"""action.yml: its schema, and its shell steps run as a runner would run them.

GitHub's runner is not available here, so each `run:` step of the composite action runs in bash
with the environment the runner sets (RUNNER_TEMP, GITHUB_ACTION_PATH, GITHUB_OUTPUT,
GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, the step's `env:` with `${{ inputs.* }}` and
`${{ steps.*.outputs.* }}` filled in). An expression the evaluator does not know fails the test,
so a new one cannot slip past it. The `uses:` steps (setup-python, upload-sarif) are GitHub's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.test_pre_commit import KEY_ID, LEAK, SECRET
from tests.helpers import service_unavailable
from tests.install.closure import REPO, offline_pip

pytestmark = pytest.mark.git
ACTION = yaml.safe_load((REPO / "action.yml").read_text())
STEPS: dict[str, dict[str, Any]] = {s.get("name", s.get("uses", "")): s for s in ACTION["runs"]["steps"]}
FP_KEY = "ab" * 32
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def test_action_yml_matches_the_github_actions_schema() -> None:
    if shutil.which("check-jsonschema") is None:
        service_unavailable("check-jsonschema is not installed (it is in the test extra)")
    done = subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-actions", str(REPO / "action.yml")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_inputs_reach_scripts_through_the_environment_only() -> None:
    """No `${{ }}` inside a `run:` script: an input pasted into a script is a script injection."""
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
    assert set(ACTION["inputs"]) >= {"args", "baseline", "fail-on"}
    assert "findings" in ACTION["outputs"]


class Runner:
    """Runs the action's `run:` steps in order, as GitHub's runner would."""

    def __init__(self, temp: Path, workspace: Path, event: str, payload: dict[str, Any], inputs: dict[str, str]):
        self.temp, self.workspace = temp, workspace
        self.inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()} | inputs
        self.outputs: dict[str, dict[str, str]] = {}
        self.github: dict[str, str] = {}  # the `github` context (`github.action_repository`...)
        event_path = temp / f"event-{event}.json"
        event_path.write_text(json.dumps(payload))
        self.base_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "SECRETOPS_", "PIP_"))
        }
        self.base_env.pop("VIRTUAL_ENV", None)
        self.base_env.update(
            RUNNER_TEMP=str(temp),
            GITHUB_ACTION_PATH=str(REPO),
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_EVENT_NAME=event,
            GITHUB_EVENT_PATH=str(event_path),
            SECRETOPS_FINGERPRINT_KEY=FP_KEY,  # as a workflow's `env:` would pass it
            HOME=str(temp),
        )

    def expr(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            expression = match.group(1)
            if m := re.fullmatch(r"inputs\.([\w-]+)", expression):
                return self.inputs[m.group(1)]
            if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
                return self.outputs.get(m.group(1), {}).get(m.group(2), "")
            if m := re.fullmatch(r"github\.(action_repository)", expression):
                return self.github.get(m.group(1), "")
            raise AssertionError(f"action.yml uses an expression this test cannot evaluate: {expression}")

        return _EXPR.sub(one, text)

    def step(self, name: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        step = STEPS[name]
        if "if" in step:
            raise AssertionError(f"step {name!r} has a condition; evaluate it in the test")
        output = self.temp / "github-output"
        output.write_text("")
        env = dict(self.base_env) | {"GITHUB_OUTPUT": str(output)} | (extra_env or {})
        env |= {key: self.expr(str(value)) for key, value in (step.get("env") or {}).items()}
        assert step["shell"] == "bash"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.workspace, env=env, capture_output=True, text=True, timeout=600, check=False,
        )
        if "id" in step:
            pairs = (line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
            self.outputs[step["id"]] = dict(pairs)
        return done

    def scan(self) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
        scanned = self.step("Scan")
        return scanned, self.step("Fail on new leaks")


def _git(root: Path, *args: str) -> str:
    env = {
        **os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent), "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.org",
    }
    return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True).stdout.strip()


def _repo(root: Path, **files: str) -> Path:
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "commit.gpgsign", "false")
    _commit(root, "start", **files)
    return root


def _commit(root: Path, message: str, **files: str) -> str:
    for name, text in files.items():
        if text:
            (root / name).write_text(text)
        else:
            (root / name).unlink()
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "--allow-empty", "-m", message)
    return _git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """RUNNER_TEMP after the action's install step (once per session; pip offline from the wheelhouse)."""
    if shutil.which("git") is None:
        service_unavailable("git is not installed")
    temp = tmp_path_factory.mktemp("runner-temp")
    runner = Runner(temp, temp, "push", {}, {})
    done = runner.step("Install secretops", offline_pip(wheelhouse))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("secretops 0.1.0") or "secretops " in done.stdout
    return temp


def _sarif(runner: Runner) -> dict[str, Any]:
    sarif: dict[str, Any] = json.loads(Path(runner.outputs["scan"]["sarif-file"]).read_text())
    return sarif


def test_a_leak_in_the_tree_fails_the_job_with_its_count(installed: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", **{"settings.py": LEAK, "README.md": "# app\n"})
    runner = Runner(installed, repo, "push", {}, {})
    scanned, failed = runner.scan()
    assert scanned.returncode == 0, scanned.stderr  # the scan step passes so that the upload runs
    assert runner.outputs["scan"]["findings"] == "1"
    assert runner.outputs["scan"]["exit-code"] == "1"
    results = _sarif(runner)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["aws-secret-access-key"]
    assert failed.returncode == 1 and "1 finding(s)" in failed.stdout
    assert SECRET not in scanned.stdout + scanned.stderr + json.dumps(_sarif(runner))


def test_a_clean_tree_passes(installed: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", **{"settings.py": 'KEY = os.environ["AWS_ACCESS_KEY_ID"]\n'})
    runner = Runner(installed, repo, "push", {}, {})
    scanned, failed = runner.scan()
    assert scanned.returncode == 0, scanned.stderr
    assert runner.outputs["scan"]["findings"] == "0"
    assert failed.returncode == 0


def test_a_baselined_leak_does_not_fail_the_job(installed: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", **{"settings.py": LEAK})
    secretops = installed / "secretops-venv" / "bin" / "secretops"
    env = {**os.environ, "SECRETOPS_FINGERPRINT_KEY": FP_KEY}
    subprocess.run(
        [str(secretops), "scan", ".", "--write-baseline", ".secretops-baseline.json", "--no-progress"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert (repo / ".secretops-baseline.json").is_file()
    runner = Runner(installed, repo, "push", {}, {"baseline": ".secretops-baseline.json"})
    scanned, failed = runner.scan()
    assert scanned.returncode == 0, scanned.stderr
    assert runner.outputs["scan"]["findings"] == "0"
    assert failed.returncode == 0
    # a new leak next to the known one still fails
    (repo / "more.py").write_text(LEAK.replace(KEY_ID, KEY_ID[:-4] + "WXYZ").replace(SECRET[:8], "Mq7Lp2Zs"))
    scanned, failed = runner.scan()
    assert runner.outputs["scan"]["findings"] == "1", scanned.stdout + scanned.stderr
    assert failed.returncode == 1


def test_fail_on_never_reports_without_failing(installed: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", **{"settings.py": LEAK})
    runner = Runner(installed, repo, "push", {}, {"fail-on": "never"})
    scanned, failed = runner.scan()
    assert scanned.returncode == 0, scanned.stderr
    assert runner.outputs["scan"]["exit-code"] == "0"
    assert runner.outputs["scan"]["findings"] == "1"
    assert failed.returncode == 0


def test_a_pull_request_scans_its_commits_not_only_the_tree(installed: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", **{"README.md": "# app\n"})
    base = _git(repo, "rev-parse", "HEAD")
    _commit(repo, "add settings", **{"settings.py": LEAK})
    head = _commit(repo, "oops, remove them", **{"settings.py": ""})
    assert not (repo / "settings.py").exists()  # the tree is clean
    payload = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    runner = Runner(installed, repo, "pull_request", payload, {})
    scanned, failed = runner.scan()
    assert scanned.returncode == 0, scanned.stderr
    assert runner.outputs["scan"]["findings"] == "1"
    assert failed.returncode == 1
    push = Runner(installed, repo, "push", {}, {})
    push.scan()
    assert push.outputs["scan"]["findings"] == "0"  # what a tree scan alone would have said


def test_a_scan_that_cannot_run_fails_loudly(installed: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", **{"README.md": "# app\n"})
    runner = Runner(installed, repo, "push", {}, {"args": "--policy does-not-exist.toml"})
    scanned = runner.step("Scan")
    assert scanned.returncode == 2
    assert "could not run" in scanned.stdout


def test_the_runner_evaluator_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    runner = Runner(tmp_path, tmp_path, "push", {}, {})
    with pytest.raises(AssertionError, match="cannot evaluate"):
        runner.expr("${{ github.token }}")


def _information_uri(runner: Runner, **env: str) -> str | None:
    scanned = runner.step("Scan", env)
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    uri: str | None = _sarif(runner)["runs"][0]["tool"]["driver"].get("informationUri")
    return uri


def test_the_sarif_names_the_actions_repository_as_information_uri(installed: Path, tmp_path: Path) -> None:
    """The install step installs from a file:// path, so only the Action knows where it came from."""
    repo = _repo(tmp_path / "repo", **{"README.md": "# app\n"})
    runner = Runner(installed, repo, "push", {}, {})
    checked_out = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_ACTION_PATH": "/home/runner/work/_actions/Org/secretops/v0.1.0",  # as in `uses: Org/secretops@v0.1.0`
    }
    assert _information_uri(runner, **checked_out) is None  # github.action_repository empty: nothing
    runner.github["action_repository"] = "org/secretops"
    assert _information_uri(runner, **checked_out) == "https://github.com/org/secretops"
    enterprise = {**checked_out, "GITHUB_SERVER_URL": "https://github.example.com/"}
    assert _information_uri(runner, **enterprise) == "https://github.example.com/org/secretops"
    # `uses: ./` (a copy in the workflow's repository) or an outer composite action's name: nothing
    assert _information_uri(runner, GITHUB_SERVER_URL="https://github.com") is None
    elsewhere = {**checked_out, "GITHUB_ACTION_PATH": "/home/runner/work/_actions/other/wrapper/v1"}
    assert _information_uri(runner, **elsewhere) is None
    # the workflow's own value wins
    mine = {**checked_out, "SECRETOPS_INFORMATION_URI": "https://git.example.com/platform/secretops"}
    assert _information_uri(runner, **mine) == "https://git.example.com/platform/secretops"
