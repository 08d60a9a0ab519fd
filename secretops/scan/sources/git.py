"""Git sources: the lines each commit added (`--git-history`, `--git-range`) and staged changes (`--staged`).

Both read `git log -p` / `git diff --cached` with no context lines (`-U0`) and yield one
`Fragment` per hunk of added lines: the hunk's added lines are consecutive lines of the new file,
so `line_offset` makes findings report the line numbers of the file as of that commit, and the
lines of one credential written together (host, user, password) stay in one fragment and group.
Removed lines are not scanned: a secret that was removed was added by an earlier commit, whose
hunk is scanned. Merge commits show no diff of their own (their changes come from their parents).

git itself is run as a subprocess (`git` must be on PATH) and read as a stream, so a long
history is never held in memory. Paths are repository-relative, prefixed like file paths when
the repository is not `.`; binary diffs are skipped.

A history source can `split` itself into chunks of consecutive commits (`git rev-list` once,
then one `git log --no-walk --stdin` per chunk), so that with `--jobs N` the workers each run
their own git and parse and scan their own chunk: `git log -p` alone is most of a long history's
cost, and one git process would be the floor for one reader.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Final

from secretops.scan.models import Fragment
from secretops.scan.sources.files import DEFAULT_MAX_FILE_SIZE, display_path
from secretops.scan.sources.interface import Skipped, SkipReason, Source, SourceError, decode_bytes

__all__ = ["GitDiffSource", "GitError", "history_args", "staged_args"]

_HEADER: Final = b"\x1e"  # starts each commit header line (see `history_args`)
_FIELD: Final = b"\x1f"
_HUNK: Final = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_DIFF_OPTS: Final = ("-p", "--no-color", "--no-ext-diff", "--no-textconv", "-U0", "--diff-filter=d")


class GitError(SourceError):
    """git could not list the changes (not a repository, a bad range, git missing)."""


def history_args(rev_range: str | None = None) -> list[str]:
    """`git log` arguments for every commit reachable from any ref, or only those of `rev_range`.

    A range that starts with `-` is refused: git would read it as an option (`--output=...`).
    """
    if rev_range is not None and (not rev_range.strip() or rev_range.lstrip().startswith("-")):
        raise GitError(f"{rev_range!r} is not a revision range", hint="for example origin/main..HEAD")
    revs = [rev_range] if rev_range else ["--all"]
    return ["log", *_DIFF_OPTS, _FORMAT, *revs, "--"]


_FORMAT: Final = "--format=%x1e%H%x1f%aI"
#: Chunks a history is split into per job, so a chunk of big commits does not leave a worker idle.
_CHUNKS_PER_JOB: Final = 16
_MIN_CHUNK: Final = 64


def staged_args() -> list[str]:
    """`git diff` arguments for the changes staged for the next commit (a pre-commit hook)."""
    return ["diff", "--cached", *_DIFF_OPTS, "--"]


@dataclass(slots=True)
class _Hunk:
    path: str
    start: int
    lines: list[bytes]
    size: int = 0


class GitDiffSource(Source):
    """Added lines from `git <args>` run in `repo`, one fragment per hunk.

    `args` is `history_args(...)` or `staged_args()`. `prefix` is what findings put before the
    repository-relative path (the repository as the user named it, like file paths). A hunk
    larger than `max_size` is skipped as too large (its lines are not kept meanwhile).
    """

    id = "git"

    def __init__(
        self,
        repo: str,
        args: list[str],
        *,
        max_size: int = DEFAULT_MAX_FILE_SIZE,
        commits: Sequence[str] = (),
    ) -> None:
        self.repo = repo
        self.args = args
        self.max_size = max_size
        self.prefix = display_path(repo, "")
        self.commits = tuple(commits)  # a chunk: exactly these commits, given to git on stdin

    def split(self, jobs: int) -> list[GitDiffSource] | None:
        """This history as chunks of consecutive commits (newest first, as `git log` lists them),
        about `_CHUNKS_PER_JOB` per job; None when it is not a history (staged changes), is
        already a chunk, or is too short to be worth more than one git process.

        Raises `GitError` as `fragments` would (not a repository, a bad range, git missing).
        """
        if jobs <= 1 or self.commits or not self.args or self.args[0] != "log":
            return None
        revs = self.args[self.args.index(_FORMAT) + 1 : self.args.index("--")]
        listed = self._run_text(["rev-list", *revs, "--"], shown="log")
        commits = listed.split()
        if len(commits) < 2 * _MIN_CHUNK:
            return None
        size = max(_MIN_CHUNK, -(-len(commits) // (jobs * _CHUNKS_PER_JOB)))
        chunk_args = ["log", *_DIFF_OPTS, _FORMAT, "--no-walk=unsorted", "--stdin", "--"]
        return [
            GitDiffSource(self.repo, chunk_args, max_size=self.max_size, commits=commits[i : i + size])
            for i in range(0, len(commits), size)
        ]

    def _git(self) -> str:
        git = shutil.which("git")
        if git is None:
            raise GitError("git is not installed (not on PATH)", hint="install git, or scan the files instead")
        return git

    def _run_text(self, args: list[str], *, shown: str) -> str:
        command = [self._git(), "-C", self.repo, *args]
        try:
            done = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, check=False)
        except OSError as exc:
            raise GitError(f"cannot run git in {self.repo}: {exc.strerror}", hint="check the path") from exc
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()
            first = err.splitlines()[0] if err else f"exit code {done.returncode}"
            raise GitError(
                f"git {shown} failed in {self.repo}: {first}",
                hint="run inside a git repository (or pass its path), with a range git understands (A..B)",
            )
        return done.stdout.decode("ascii", "replace")

    def fragments(self) -> Iterator[Fragment | Skipped]:
        """Every hunk of added lines, in git's order (newest commit first for history)."""
        git = self._git()
        command = [git, "-C", self.repo, "-c", "core.quotepath=off", "-c", "diff.noprefix=false", *self.args]
        with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as revs:
            # Files, not pipes: git never blocks on stderr, and a chunk's commits need no writer thread.
            revs.write("".join(f"{c}\n" for c in self.commits).encode("ascii"))
            revs.seek(0)
            stdin = revs if self.commits else subprocess.DEVNULL
            try:
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, stdin=stdin)
            except OSError as exc:
                raise GitError(f"cannot run git in {self.repo}: {exc.strerror}", hint="check the path") from exc
            assert proc.stdout is not None
            finished = False
            try:
                yield from self._parse(proc.stdout)
                finished = True
            finally:
                if not finished:  # the caller stopped early (or failed): do not wait for the rest
                    proc.kill()
                proc.stdout.close()
                code = proc.wait()
            errors.seek(0)
            err = errors.read().decode("utf-8", "replace").strip()
        if code != 0:
            first = err.splitlines()[0] if err else f"exit code {code}"
            raise GitError(
                f"git {self.args[0]} failed in {self.repo}: {first}",
                hint="run inside a git repository (or pass its path), with a range git understands (A..B)",
            )

    def _parse(self, stream: IO[bytes]) -> Iterator[Fragment | Skipped]:
        """Hunks of added lines from `git log -p -U0` / `git diff -U0` output.

        With `-U0` a hunk header says how many lines it removes and adds, and they follow it in
        that order: the common case reads them as one block (`_block`), in C, instead of line by
        line. A hunk whose lines do not add up (a "\\ No newline at end of file" marker among
        them) goes through the line-by-line path, which handles every line git can print.
        """
        commit: str | None = None
        date: str | None = None
        path: str | None = None
        hunk: _Hunk | None = None
        pending: list[bytes] = []  # lines read ahead by a block read that did not add up
        lines = _pushback(stream, pending)
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if hunk is not None and line[:1] == b"+":
                hunk.size += len(line)
                if hunk.size <= self.max_size:
                    hunk.lines.append(line[1:])
                continue
            if line[:1] in (b"-", b"\\", b" ") and hunk is not None:
                continue  # removed lines, "\ No newline at end of file"
            if hunk is not None:
                yield from self._emit(hunk, commit, date)
                hunk = None
            if line.startswith(_HEADER):
                fields = line[1:].split(_FIELD)
                commit = fields[0].decode("ascii", "replace")
                date = fields[1].decode("ascii", "replace") if len(fields) > 1 else None
                path = None
            elif line.startswith(b"diff --git "):
                path = None
            elif line.startswith(b"+++ "):
                target = line[4:]
                path = None if target == b"/dev/null" else _strip_prefix(target).decode("utf-8", "surrogateescape")
            elif path is not None and (m := _HUNK.match(line)):
                removed = int(m.group(1)) if m.group(1) is not None else 1
                count = int(m.group(3)) if m.group(3) is not None else 1
                start = int(m.group(2))
                if count <= 0:
                    continue
                block = self._block(stream, pending, removed, count, self.max_size)
                if block is None:  # did not add up: the lines are in `pending`, read one by one
                    hunk = _Hunk(path, start, [])
                    continue
                if len(block) - count > self.max_size:
                    yield Skipped(
                        self.prefix + path, SkipReason.TOO_LARGE, f"a hunk of more than {self.max_size} bytes"
                    )
                    continue
                text = decode_bytes(block[1:].replace(b"\n+", b"\n"))
                yield Fragment(text=text, path=self.prefix + path, line_offset=start - 1, commit=commit, date=date)
        if hunk is not None:
            yield from self._emit(hunk, commit, date)

    @staticmethod
    def _block(stream: IO[bytes], pending: list[bytes], removed: int, added: int, limit: int) -> bytes | None:
        """The `added` lines after `removed` removed ones, joined (each still starting with `+`),
        or None, with the lines read put back in `pending`, when they are not exactly that.

        Reading stops once the lines pass `limit` bytes (the hunk is too large to keep: the
        line-by-line path skips it), so a huge hunk is never held whole in memory.
        """
        if pending:  # only after a fallback; keep to the line-by-line path until it is drained
            return None
        got: list[bytes] = []
        size = 0
        for raw in itertools.islice(stream, removed + added):
            got.append(raw)
            size += len(raw)
            if size > limit:
                pending.extend(got)
                return None
        gone = b"".join(got[:removed])
        kept = b"".join(got[removed:])
        if (
            len(got) == removed + added
            and (removed == 0 or (gone[:1] == b"-" and gone.count(b"\n-") == removed - 1))
            and kept[:1] == b"+"
            and kept.count(b"\n+") == added - 1
            and kept.endswith(b"\n")
        ):
            return kept
        pending.extend(got)
        return None

    def _emit(self, hunk: _Hunk, commit: str | None, date: str | None) -> Iterator[Fragment | Skipped]:
        shown = self.prefix + hunk.path
        if hunk.size > self.max_size:
            yield Skipped(shown, SkipReason.TOO_LARGE, f"a hunk of more than {self.max_size} bytes")
            return
        text = decode_bytes(b"\n".join(hunk.lines) + b"\n")
        yield Fragment(text=text, path=shown, line_offset=hunk.start - 1, commit=commit, date=date)


def _strip_prefix(target: bytes) -> bytes:
    """`b/path` -> `path`.

    git quotes names with control characters or quotes even with core.quotepath off
    (`"b/a\\tb"`), and ends the header with a tab when an unquoted name holds a space.
    """
    if target.startswith(b'"') and target.endswith(b'"'):
        target = _unquote(target[1:-1])
    elif target.endswith(b"\t"):
        target = target[:-1]
    return target[2:] if target.startswith(b"b/") else target


_ESCAPES: Final = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b", b"f": b"\f"}
_OCTAL: Final = re.compile(rb"\\([0-7]{3})|\\(.)")


def _unquote(quoted: bytes) -> bytes:
    def repl(m: re.Match[bytes]) -> bytes:
        if m.group(1) is not None:
            return bytes([int(m.group(1), 8)])
        return _ESCAPES.get(m.group(2), m.group(2))

    return _OCTAL.sub(repl, quoted)


def _pushback(stream: IO[bytes], pending: list[bytes]) -> Iterator[bytes]:
    """The stream's lines, after any lines a block read put back in `pending` (in order)."""
    while True:
        if pending:
            yield pending.pop(0)
            continue
        raw = stream.readline()
        if not raw:
            return
        yield raw
