"""Git sources against real repositories made with the git binary: history, ranges, staged changes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from secretops.cli.app import run
from secretops.errors import ConfigError
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Fragment
from secretops.scan.rules.loader import load_rules
from secretops.scan.runner import ScanOptions, ScanResult, scan_paths
from secretops.scan.sources.git import GitDiffSource, GitError, history_args, staged_args
from secretops.values import FingerprintKey
from tests.helpers import service_unavailable

pytestmark = pytest.mark.git

KEY = FingerprintKey(b"g" * 32)
# Assembled at run time so this file holds no credential-shaped literal.
PW1 = "Zq8" + "vN3xLp2Wm7Rt4Kd"
PW2 = "Hy4" + "kT9wQm2Lx8Vb5Nc"
PW3 = "Rf7" + "jD2sPz9Ke4Wq6Tm"


@pytest.fixture(autouse=True)
def _git_available() -> None:
    if shutil.which("git") is None:
        service_unavailable("git is not installed")


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.org")
        self.git("config", "user.name", "Dev")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root)}
        done = subprocess.run(["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def write(self, name: str, text: str | bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    def commit(self, message: str, **files: str | bytes) -> str:
        for name, text in files.items():
            self.write(name.replace("__", "/"), text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def _scan(repo: Path, args: list[str], **options: object) -> ScanResult:
    source = GitDiffSource(str(repo), args)
    return scan_paths(
        [],
        lambda: Scanner(load_rules(), KEY),
        options=ScanOptions(respect_gitignore=False, **options),  # type: ignore[arg-type]
        sources=[source],
    )


def _where(result: ScanResult) -> list[tuple[str, int, str | None]]:
    return [(f.location.path, f.location.line, f.location.commit) for f in result.findings]


def test_a_secret_removed_from_the_tree_is_found_in_history(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("init", **{"app.env": "DEBUG=1\n"})
    leaked = repo.commit("add db", **{"app.env": f"DEBUG=1\nDB_HOST=db.internal\nDB_PASSWORD={PW1}\n"})
    repo.commit("remove it", **{"app.env": "DEBUG=1\n"})
    assert scan_paths([str(repo.root)], lambda: Scanner(load_rules(), KEY)).findings == []
    result = _scan(repo.root, history_args())
    assert _where(result) == [(f"{repo.root}/app.env", 3, leaked)]
    finding = result.findings[0]
    assert finding.classification is Classification.LEAK
    assert finding.context.get("host") == "db.internal"  # the lines added together group
    assert finding.location.column == len("DB_PASSWORD=") + 1


def test_line_numbers_are_those_of_the_file_at_that_commit(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    lines = [f"line {i}\n" for i in range(1, 41)]
    repo.commit("init", **{"deploy/values.yaml": "".join(lines)})
    lines.insert(10, f"redisPassword: {PW1}\n")
    lines.insert(30, f"dbPassword: {PW2}\n")
    sha = repo.commit("two hunks", **{"deploy__values.yaml": "".join(lines)})
    result = _scan(repo.root, history_args())
    path = f"{repo.root}/deploy/values.yaml"
    assert _where(result) == [(path, 11, sha), (path, 31, sha)]
    assert result.stats.files == 2  # the file as added, then as changed (two hunks, one file)


def test_every_ref_is_scanned_and_a_range_limits_the_commits(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    base = repo.commit("init", **{"README.md": "hello\n"})
    old = repo.commit("old leak", **{"a.env": f"DB_PASSWORD={PW1}\n"})
    repo.git("checkout", "-q", "-b", "feature")
    side = repo.commit("side leak", **{"b.env": f"REDIS_PASSWORD={PW2}\n"})
    repo.git("checkout", "-q", "main")
    new = repo.commit("new leak", **{"c.env": f"SMTP_PASSWORD={PW3}\n"})
    everything = {f.location.commit for f in _scan(repo.root, history_args()).findings}
    assert everything == {old, side, new}
    ranged = _scan(repo.root, history_args(f"{old}..main"))
    assert [f.location.commit for f in ranged.findings] == [new]
    assert {f.location.commit for f in _scan(repo.root, history_args(f"{base}..feature")).findings} == {old, side}


def test_staged_changes_only(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("init", **{"app.env": "A=1\nB=2\nC=3\n"})
    repo.write("app.env", f"A=1\nB=2\nDB_PASSWORD={PW1}\nC=3\n")
    repo.git("add", "app.env")
    repo.write("other.env", f"REDIS_PASSWORD={PW2}\n")  # not staged
    result = _scan(repo.root, staged_args())
    assert _where(result) == [(f"{repo.root}/app.env", 3, None)]


def test_binary_deleted_and_oddly_named_files(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(
        "init",
        **{
            "blob.bin": b"\x00\x01" + f"DB_PASSWORD={PW1}".encode() + b"\x00",
            "gone.env": f"DB_PASSWORD={PW2}\n",
            "conf/dir with space/ü.env": f"DB_PASSWORD={PW3}\n",
            'conf/quote"tab\t.env': f"REDIS_PASSWORD={PW3}\n",
        },
    )
    (repo.root / "gone.env").unlink()
    repo.commit("delete")
    result = _scan(repo.root, history_args())
    paths = sorted(f.location.path.removeprefix(f"{repo.root}/") for f in result.findings)
    assert paths == ["conf/dir with space/ü.env", 'conf/quote"tab\t.env', "gone.env"]


def test_policy_path_allowlist_and_parallel_workers(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    for i in range(30):
        repo.commit(f"c{i}", **{f"svc{i}.env": f"DB_PASSWORD={PW1[:-2]}{i:02}\n", "tests__fixture.env": f"PW={i}\n"})

    class Policy:  # like policies/scan.toml's `^tests/`: relative to the repository
        def path_allowed(self, rel_path: str) -> bool:
            return rel_path.startswith("tests/")

    one = _scan(repo.root, history_args(), jobs=1)
    two = scan_paths(
        [],
        lambda: Scanner(load_rules(), KEY),
        policy=Policy(),
        options=ScanOptions(jobs=2),
        sources=[GitDiffSource(str(repo.root), history_args())],
    )
    assert len(one.findings) == 30
    assert [(f.location.path, f.location.commit) for f in two.findings] == [
        (f.location.path, f.location.commit) for f in one.findings
    ]
    assert two.stats.skipped.get("allowlisted") == 30


def test_not_a_repository_or_a_bad_range_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError, match=r"git log failed in .*plain: fatal: not a git repository"):
        list(GitDiffSource(str(tmp_path / "plain"), history_args()).fragments())
    repo = Repo(tmp_path / "r")
    repo.commit("init", **{"a.txt": "a\n"})
    with pytest.raises(GitError, match=r"git log failed") as info:
        _scan(repo.root, history_args("nope..main"))
    assert isinstance(info.value, ConfigError) and info.value.hint
    for bad in ("--output=/tmp/x", " -p", ""):
        with pytest.raises(GitError, match="is not a revision range"):
            history_args(bad)


def test_stopping_early_stops_git(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    for i in range(5):
        repo.commit(f"c{i}", **{f"f{i}.env": f"DB_PASSWORD={PW1}\n"})
    fragments = GitDiffSource(str(repo.root), history_args()).fragments()
    first = next(fragments)
    assert isinstance(first, Fragment)
    fragments.close()  # must neither hang nor raise


def test_cli_git_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("init", **{"app.env": f"DB_PASSWORD={PW1}\n"})
    repo.commit("clean", **{"app.env": "DB_PASSWORD=${DB_PASSWORD}\n"})
    monkeypatch.chdir(repo.root)
    assert run(["scan", "--no-progress"]) == 0
    assert run(["scan", "--git-history", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "app.env:1:13@" in out and PW1 not in out
    assert run(["scan", "--git-range", "HEAD~1..HEAD", "--no-progress"]) == 0
    repo.write("new.env", f"REDIS_PASSWORD={PW2}\n")
    repo.git("add", "new.env")
    assert run(["scan", "--staged", "--no-progress"]) == 1
    capsys.readouterr()
    assert run(["scan", "--staged", "--git-history"]) == 2
    assert "cannot be combined" in capsys.readouterr().err
    assert run(["scan", "--git-history", str(tmp_path)]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_a_hunk_over_the_size_limit_is_skipped(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("big", **{"dump.sql": "".join(f"INSERT INTO t VALUES ({i});\n" for i in range(2000))})
    repo.commit("small", **{"app.env": f"DB_PASSWORD={PW1}\n"})
    items = list(GitDiffSource(str(repo.root), history_args(), max_size=4096).fragments())
    skipped = [i for i in items if not isinstance(i, Fragment)]
    assert [(s.path.rsplit("/", 1)[-1], s.reason) for s in skipped] == [("dump.sql", "too-large")]
    assert [i.path.rsplit("/", 1)[-1] for i in items if isinstance(i, Fragment)] == ["app.env"]


def _fast_history(root: Path, commits: int) -> None:
    """A repository of `commits` commits built by `git fast-import` (seconds, not minutes)."""
    Repo(root)
    out: list[bytes] = []
    for i in range(1, commits + 1):
        files = {f"src/mod{i % 17}.py": f"VALUE_{i} = {i}\n"}
        if i % 10 == 0:
            files[f"deploy/app{i}.env"] = f"DB_PASSWORD={PW1[:-3]}{i:03}\n"
        if i % 25 == 0:
            files["tests/fixture.env"] = f"DB_PASSWORD={PW1[:-3]}{i:03}\n"
        message = f"c{i}".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(b"mark :%d\n" % i)
        out.append(b"committer Dev <dev@example.org> %d +0000\n" % (1_700_000_000 + i * 60))
        out.append(b"data %d\n%s\n" % (len(message), message))
        if i > 1:
            out.append(b"from :%d\n" % (i - 1))
        for name, text in files.items():
            data = text.encode()
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(out), check=True)


def test_a_long_history_is_split_across_workers_with_the_same_findings(tmp_path: Path) -> None:
    _fast_history(tmp_path / "r", 400)
    source = GitDiffSource(str(tmp_path / "r"), history_args())
    chunks = source.split(2)
    assert chunks is not None and len(chunks) > 2
    # The chunks partition the history in git log's order: every commit once, newest first.
    listed = subprocess.run(
        ["git", "rev-list", "--all"], cwd=tmp_path / "r", capture_output=True, text=True, check=True
    ).stdout.split()
    assert [c for chunk in chunks for c in chunk.commits] == listed
    assert source.split(1) is None and chunks[0].split(2) is None

    class Policy:
        def path_allowed(self, rel_path: str) -> bool:
            return rel_path.startswith("tests/")

    def run(jobs: int) -> ScanResult:
        return scan_paths(
            [],
            lambda: Scanner(load_rules(), KEY),
            policy=Policy(),
            options=ScanOptions(jobs=jobs, respect_gitignore=False),
            sources=[GitDiffSource(str(tmp_path / "r"), history_args())],
        )

    one, two = run(1), run(2)
    assert len(one.findings) == 40  # deploy/app10.env ... app400.env; tests/ is allowlisted
    assert _where(two) == _where(one)
    assert [f.fingerprint for f in two.findings] == [f.fingerprint for f in one.findings]
    assert two.stats.files == one.stats.files and two.stats.bytes == one.stats.bytes
    assert two.stats.skipped.get("allowlisted") == one.stats.skipped.get("allowlisted") == 16


def test_a_chunk_whose_git_fails_fails_the_scan(tmp_path: Path) -> None:
    _fast_history(tmp_path / "r", 200)
    source = GitDiffSource(str(tmp_path / "r"), history_args())
    chunks = source.split(2)
    assert chunks is not None
    broken = GitDiffSource(str(tmp_path / "r"), chunks[0].args, commits=["0" * 40])
    with pytest.raises(GitError, match="git log failed"):
        list(broken.fragments())
    from secretops.scan.runner.worker import Worker

    batch = Worker(Scanner(load_rules(), KEY), ScanOptions(), None).scan_source(broken)
    assert isinstance(batch.error, GitError)


def _fragments(source: GitDiffSource) -> list[tuple[str, int, str | None, str]]:
    return [(f.path, f.line_offset, f.commit, f.text) for f in source.fragments() if isinstance(f, Fragment)]


class _Slow(GitDiffSource):
    _fast_hunks = False  # always the line-by-line path


def test_hunks_with_no_newline_markers_and_mixed_edits_parse_as_before(tmp_path: Path) -> None:
    """The block reader and the line-by-line path give the same fragments (markers, CR, replaced lines)."""
    repo = Repo(tmp_path / "r")
    repo.commit("c1", **{"a.env": "KEEP=1\nDB_PASSWORD=old\nTAIL=1", "b.txt": "x\r\ny\r\n"})
    repo.commit("c2", **{"a.env": f"KEEP=1\nDB_PASSWORD={PW1}\nTAIL=2", "b.txt": "x\r\n++z\r\ny\r\n"})
    repo.commit("c3", **{"a.env": f"KEEP=1\nDB_PASSWORD={PW1}\nTAIL=2\nNEW=3\n"})
    got = _fragments(GitDiffSource(str(repo.root), history_args()))
    assert got == _fragments(_Slow(str(repo.root), history_args()))
    texts = [t for _, _, _, t in got]
    assert f"DB_PASSWORD={PW1}\nTAIL=2\n" in texts  # replaced lines after a no-newline marker
    assert "++z\r\n" in texts  # a line starting with + keeps its own +; CR kept
    assert "TAIL=2\nNEW=3\n" in texts


def test_hunks_cut_across_read_blocks_parse_as_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git's output read a few bytes at a time: every hunk body, header and line is cut somewhere."""
    repo = Repo(tmp_path / "r")
    big = "".join(f"row {i} {'x' * (i % 7)}\n" for i in range(300))
    repo.commit("c1", **{"a.env": "A=1\nB=2\nC=3\n", "big.txt": big, "tail.txt": "no newline"})
    repo.commit("c2", **{"a.env": f"A=1\nDB_PASSWORD={PW2}\nC=3\n", "big.txt": big.replace("row 1", "ROW 1")})
    repo.commit("c3", **{"a.env": "A=1\n", "tail.txt": "no newline, still", "gone.txt": "-x\n+y\n"})
    repo.commit("c4", **{"gone.txt": "", "big.txt": "short\n"})
    whole = _fragments(GitDiffSource(str(repo.root), history_args()))
    assert whole == _fragments(_Slow(str(repo.root), history_args()))
    from secretops.scan.sources import git

    for block in (1, 7, 64):
        monkeypatch.setattr(git, "_READ", block)
        assert _fragments(GitDiffSource(str(repo.root), history_args())) == whole, block
    # A body longer than the size limit (with blocks smaller than it) goes line by line: skipped.
    items = list(GitDiffSource(str(repo.root), history_args(), max_size=200).fragments())
    skipped = [(i.path.rsplit("/", 1)[-1], i.reason) for i in items if not isinstance(i, Fragment)]
    assert skipped == [("big.txt", "too-large")] * 2  # added whole (c1), rows 100-199 replaced (c2)
    assert items == list(_Slow(str(repo.root), history_args(), max_size=200).fragments())


def test_chunks_grow_towards_the_oldest_and_the_roots_come_last(tmp_path: Path) -> None:
    """The runner starts the last chunk first: the roots (whole trees), then the biggest chunks."""
    _fast_history(tmp_path / "r", 600)
    repo = Repo.__new__(Repo)
    repo.root = tmp_path / "r"
    repo.git("checkout", "-q", "--orphan", "other")
    repo.commit("another root", **{"other.env": f"DB_PASSWORD={PW3}\n"})
    repo.commit("on top", **{"other.env": f"DB_PASSWORD={PW3}\nX=1\n"})
    source = GitDiffSource(str(repo.root), history_args())
    chunks = source.split(2)
    assert chunks is not None
    roots = set(repo.git("rev-list", "--all", "--max-parents=0").split())
    assert set(chunks[-1].commits) == roots and len(roots) == 2
    sizes = [len(c.commits) for c in chunks[:-1]]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    listed = repo.git("rev-list", "--all").split()
    assert sorted(c for chunk in chunks for c in chunk.commits) == sorted(listed)
    one = _scan(repo.root, history_args(), jobs=1)
    two = _scan(repo.root, history_args(), jobs=2)
    # The orphan root re-adds main's files: findings at the same path and line from two commits,
    # whose chunks finish in any order. The commit breaks the tie, so the order and the stable
    # ids are the same with one job and with two.
    assert _where(two) == _where(one) and len(one.findings) > 60
    assert two.line_hashes == one.line_hashes
