"""The path allowlists tested once per distinct path (`ScanPolicy.entry_allowed`): the same answers
as `path_allowed` on the relative and shown paths plus `file_allowed` on the file, in every source."""

from __future__ import annotations

import io
import json
import random
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pathspec import GitIgnoreSpec

from secretops.cli.app import run
from secretops.scan.config import ScanPolicy
from tests.helpers import ACME_RULE as RULES

LEAK = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake
POLICY = "[allowlist]\npaths = ['''^fixtures/''', '''^dist/bundle\\.zip!fixtures/''']\n"


def _three_calls(policy: ScanPolicy, rel: str, shown: str, fs_path: str | None) -> bool:
    """What the runner asked before `entry_allowed`: up to three `path_allowed` calls per file."""
    if policy.path_allowed(rel) or (shown != rel and policy.path_allowed(shown)):
        return True
    return fs_path is not None and policy.file_allowed(fs_path)


@pytest.mark.parametrize(
    "patterns",
    [
        (r"^fixtures/", r"\.lock$"),
        (r"(?i)^FIXTURES/",),  # inline flags: not joined, searched one at a time
        (r"^(a)/\1/",),  # a backreference: not joined either
        (r"^src/fixtures/", r"dist/bundle\.zip!fixtures/"),
    ],
)
def test_entry_allowed_answers_like_the_three_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, patterns: tuple[str, ...]
) -> None:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root / "src")
    base = ScanPolicy.from_mapping({"allowlist": {"paths": list(patterns)}})
    ignores = ((str(root), GitIgnoreSpec.from_lines(["*.tmp", "build/"])),)
    policies = [
        base,
        ScanPolicy(allow_paths=base.allow_paths, base=str(root)),
        ScanPolicy(allow_paths=base.allow_paths, base=str(root), ignores=ignores),
        ScanPolicy(ignores=ignores),
    ]
    parts = ["fixtures", "src", "a", "build", "x.tmp", "app.env", "FIXTURES", "y.lock", "dist/bundle.zip!fixtures"]
    rng = random.Random(7)
    cases = []
    for _ in range(400):
        rel = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 3)))
        prefix = rng.choice(["", "src/", "../src/", str(root) + "/", "./", "sub\\"])
        shown = prefix + rel
        fs_path = rng.choice([None, shown, str(root / rel), "../" + rel, rel])
        cases.append((rel, shown, fs_path))
    allowed = 0
    for policy in policies:
        for rel, shown, fs_path in cases:
            expected = _three_calls(policy, rel, shown, fs_path)
            assert policy.entry_allowed(rel, shown, fs_path) is expected, (policy.allow_paths, rel, shown, fs_path)
            allowed += expected
    assert 0 < allowed < len(cases) * len(policies)  # both answers are exercised


def test_a_policy_still_pickles_and_compares_with_its_joined_regex() -> None:
    import pickle

    policy = ScanPolicy.from_mapping({"allowlist": {"paths": ["^a/", "^b/"]}})
    again = pickle.loads(pickle.dumps(policy))  # noqa: S301 (our own bytes)
    assert again == policy and again.path_allowed("b/x") and not again.path_allowed("c/b/x")
    assert "union" not in repr(policy)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose `.secretops.toml` allowlists `fixtures/` and a zip's `fixtures/` members,
    with a leak in each of files, archive members and history, inside and outside the allowlist."""
    root = tmp_path / "work" / "repo"
    (root / "fixtures").mkdir(parents=True)
    (root / "dist").mkdir()
    (root.parent / "rules.toml").write_text(RULES)
    (root / ".secretops.toml").write_text(POLICY)
    (root / "app.env").write_text(f"ACME_KEY={LEAK}\n")
    (root / "fixtures" / "sample.env").write_text(f"ACME_KEY={LEAK}\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fixtures/member.env", f"ACME_KEY={LEAK}\n")
        archive.writestr("app/member.env", f"ACME_KEY={LEAK}\n")
    (root / "dist" / "bundle.zip").write_bytes(buffer.getvalue())
    _git(root, "init", "-q")
    _git(root, "add", "app.env", "fixtures/sample.env", ".secretops.toml")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "init")
    return root


def _scan(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[list[str], dict[str, Any]]:
    code = run(
        [
            "scan",
            "--rules",
            str(repo.parent / "rules.toml"),
            "--jobs",
            "1",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--include",
            "all",
            *args,
        ]
    )
    assert code == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return sorted(f["path"] for f in doc["findings"]), doc


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_allowlisted_paths_are_skipped_in_files_archives_and_history(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # From the repository, the shown path and the one relative to the policy's folder are one
    # string; from two folders up they differ (`work/repo/fixtures/...` against `fixtures/...`).
    monkeypatch.chdir(repo if where == "inside" else repo.parent.parent)
    target = "." if where == "inside" else "work/repo"
    shown = "" if where == "inside" else "work/repo/"
    paths, _ = _scan(capsys, repo, target)
    assert paths == [f"{shown}app.env", f"{shown}dist/bundle.zip!app/member.env"]
    paths, _ = _scan(capsys, repo, "--git-history", target)
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["app.env"]  # fixtures/sample.env's commit is skipped


def test_a_file_under_a_dot_folder_is_allowlisted_relative_to_the_policy(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `.work`-style segments are not dot components: the path is joined to the working folder as is.
    hidden = repo / ".work" / "fixtures"
    hidden.mkdir(parents=True)
    (hidden / "deep.env").write_text(f"ACME_KEY={LEAK}\n")
    (repo / ".secretops.toml").write_text(
        POLICY.replace("'''^fixtures/''',", "'''^fixtures/''', '''^\\.work/fixtures/''',")
    )
    monkeypatch.chdir(repo.parent)
    paths, _ = _scan(capsys, repo, "repo/.work", "repo/./app.env", "repo/.work/../fixtures")
    # `repo/.work/../fixtures` is `fixtures/` once normalised: allowlisted relative to the policy's folder.
    assert paths == ["repo/./app.env"]
