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

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
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
#: The smallest chunk is 1/(`_CHUNKS_PER_JOB` x jobs) of the history (and at least `_MIN_CHUNK`).
_CHUNKS_PER_JOB: Final = 4
_MIN_CHUNK: Final = 64


def _chunk_sizes(commits: int, jobs: int) -> list[int]:
    """Chunk sizes, in dispatch order, for `commits` commits and `jobs` workers (guided
    scheduling): each chunk takes a share 1/(2 x jobs) of what is left, down to a floor, so
    the first chunks keep every worker busy for long and the last ones are small: a worker
    that finishes early waits at most for one small chunk. For 17,999 commits and 2 jobs:
    4,500, 3,375, 2,531, 2,250, 2,250, 2,250, 843.
    """
    floor = max(_MIN_CHUNK, -(-commits // (jobs * _CHUNKS_PER_JOB)))
    sizes: list[int] = []
    left = commits
    while left > 0:
        size = min(left, max(floor, -(-left // (2 * jobs))))
        sizes.append(size)
        left -= size
    return sizes


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

    #: Take hunks whole when they add up (False: always line by line; tests compare the two).
    _fast_hunks: bool = True

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
        then one chunk of its root commits; None when it is not a history (staged changes), is
        already a chunk, or is too short to be worth more than one git process.

        The runner dispatches the chunks from the last one (the oldest commits first), so the
        sizes grow towards the end (`_chunk_sizes`): the big chunks start first and small ones
        fill the workers' tails. A root commit's diff is its whole tree (an initial import is
        often the biggest commit of all), so the roots make the last chunk and start first. Few
        chunks also keep git's own cost down: each `git log` process starts with cold caches
        (about 0.1 s of CPU per chunk here; 32 chunks cost 7.9 s of git CPU against 5.6 s for one).

        Raises `GitError` as `fragments` would (not a repository, a bad range, git missing).
        """
        if jobs <= 1 or self.commits or not self.args or self.args[0] != "log":
            return None
        revs = self.args[self.args.index(_FORMAT) + 1 : self.args.index("--")]
        listed = self._run_text(["rev-list", "--parents", *revs, "--"], shown="log")
        commits: list[str] = []
        roots: list[str] = []
        for line in listed.splitlines():
            ids = line.split()
            if ids:
                (commits if len(ids) > 1 else roots).append(ids[0])
        if len(commits) + len(roots) < 2 * _MIN_CHUNK:
            return None
        chunk_args = ["log", *_DIFF_OPTS, _FORMAT, "--no-walk=unsorted", "--stdin", "--"]
        chunks: list[Sequence[str]] = []
        at = len(commits)
        for size in _chunk_sizes(len(commits), jobs):  # the oldest (the end of the list) first
            chunks.append(commits[at - size : at])
            at -= size
        chunks.reverse()
        if roots:
            chunks.append(roots)
        return [GitDiffSource(self.repo, chunk_args, max_size=self.max_size, commits=c) for c in chunks]

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

        The output is read in large blocks (`_Reader`). With `-U0` a hunk header says how many
        lines it removes and adds, and they follow it in that order: the common case takes them
        as one block, by one regex match in C (`_Reader.hunk`), instead of line by line. A hunk
        whose lines do not add up (a "\\ No newline at end of file" marker among them), or that
        is larger than `max_size`, goes through the line-by-line path, which handles every line
        git can print and never holds more than `max_size` of a hunk.
        """
        commit: str | None = None
        date: str | None = None
        path: str | None = None
        hunk: _Hunk | None = None
        reader = _Reader(stream)
        fast = self._fast_hunks
        while (line := reader.line()) is not None:
            if hunk is not None:
                first = line[:1]
                if first == b"+":
                    hunk.size += len(line)
                    if hunk.size <= self.max_size:
                        hunk.lines.append(line[1:])
                    continue
                if first in (b"-", b"\\", b" "):
                    continue  # removed lines, "\ No newline at end of file"
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
                block = reader.hunk(removed, count, self.max_size) if fast else None
                if count <= 0:
                    continue  # removed lines only (skipped by the block read, or below line by line)
                if block is None:  # did not add up, or too large to take whole: line by line
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


#: A hunk's body with `-U0`: its removed lines, then its added lines.
_BODY: Final = re.compile(rb"(?:-[^\n]*\n)*((?:\+[^\n]*\n)*)")
#: Reads take what the pipe holds, up to 64 KiB (its default size). Megabyte reads (with the
#: pipe widened to match) cost more CPU and wall time here than these.
_READ: Final = 1 << 16


class _Reader:
    """git's output read as it comes, in blocks of up to `_READ`: lines one at a time, or a hunk's body at once.

    Holds the unread rest of the last block, and more only while a hunk's body is being taken
    whole, up to about twice `limit`.
    """

    __slots__ = ("data", "eof", "pos", "read1", "stream")

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.read1: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
        self.data = b""
        self.pos = 0
        self.eof = False

    def _more(self, want: int = 0) -> bool:
        """Read more, keeping what is unread; False at the end.

        What the pipe holds (up to `_READ`), without waiting for more: git goes on writing while
        this process parses. With `want`, at least that much (or up to the end): a long hunk body
        is then read in doubling steps, matched O(1) times per byte.
        """
        if self.eof:
            return False
        block = self.stream.read(want) if want else self.read1(_READ)
        if not block:
            self.eof = True
            return False
        self.data = self.data[self.pos :] + block
        self.pos = 0
        return True

    def line(self) -> bytes | None:
        """The next line without its newline (the last may have none), or None at the end."""
        nl = self.data.find(b"\n", self.pos)
        while nl < 0:
            if not self._more():
                if self.pos < len(self.data):
                    last = self.data[self.pos :]
                    self.pos = len(self.data)
                    return last
                return None
            nl = self.data.find(b"\n", self.pos)
        line = self.data[self.pos : nl]
        self.pos = nl + 1
        return line

    def hunk(self, removed: int, added: int, limit: int) -> bytes | None:
        """A hunk body of exactly `removed` `-` lines then `added` `+` lines: taken, and its
        added lines returned joined (each still starting with `+`, each ending with a newline).

        None, with nothing taken, when the lines are not exactly that (a no-newline marker among
        them) or when the body does not fit in `limit` bytes plus a block: the caller reads them
        line by line.
        """
        while True:
            data, pos = self.data, self.pos
            m = _BODY.match(data, pos)
            assert m is not None  # every part of it may be empty
            end = m.end()
            # Complete when the line after the body is whole (so it is not part of it), or at the end.
            if self.eof or data.find(b"\n", end) >= 0:
                break
            held = len(data) - pos
            if end - pos > limit:
                return None
            # What git has written so far; a long body in doubling steps, so that it is matched
            # O(1) times per byte. (Blocking for a full megabyte each time, as a first version
            # did, made git and the parse take turns: more wall time for less CPU.)
            self._more(held if held >= _READ else 0)
        kept_at = m.start(1)
        if data.count(b"\n", pos, kept_at) != removed or data.count(b"\n", kept_at, end) != added:
            return None
        self.pos = end
        return data[kept_at:end]
