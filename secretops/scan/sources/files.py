"""Files and folders: a fast recursive walk, `.gitignore`, size and binary checks, one read per file.

Files up to `CHUNK_BYTES` (4 MiB) are read with one `read()`; larger ones are opened as a
`BigFile` and read in blocks, holes of sparse files skipped (`SEEK_DATA`), and scanned chunk by
chunk (`stream.py`), so memory stays bounded whatever `--max-file-size` allows. Archives
(`archive.py`) are yielded by the walk when `archives` is set, else skipped by suffix.

The walk uses `os.scandir` (no `pathlib` object per file) and makes no system call per file:
the file type comes with the directory entry. The reader (`read_bytes`) opens each file
non-blocking and checks type and size on the open descriptor before reading, so a sparse 2 GB
file is skipped without a single read. Symbolic links are not followed unless asked
(`follow_symlinks`); when they are, directories already visited (same device and inode) are
skipped as a loop. FIFOs, sockets and devices are never read. Inside a git work tree the `.gitignore`
files of the tree (and `.git/info/exclude`) are honoured with git's precedence: a deeper
`.gitignore` beats a shallower one and, within a file, the last matching pattern wins. `.git`
itself is never scanned.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import BinaryIO, Final, NamedTuple

from pathspec import GitIgnoreSpec

from secretops.scan.models import Fragment
from secretops.scan.sources.archive import ARCHIVE_LAST_SUFFIXES, archive_kind
from secretops.scan.sources.interface import (
    BINARY_SNIFF_BYTES,
    Skipped,
    SkipReason,
    Source,
    decode_bytes,
    is_binary,
    lone_cr_to_lf_text,
)
from secretops.scan.sources.notebook import NOTEBOOK_SUFFIX, notebook_fragments
from secretops.scan.sources.stream import BLOCK_BYTES, CHUNK_BYTES, Gap

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "UNKNOWN_SIZE",
    "BigFile",
    "FileEntry",
    "FilesSource",
    "IgnoreRules",
    "binary_by_name",
    "display_path",
    "file_fragments",
    "find_git_top",
    "is_notebook",
    "open_archive",
    "open_entry",
    "read_bytes",
    "read_entry",
    "text_fragments",
    "walk",
]

DEFAULT_MAX_FILE_SIZE: Final = 10 * 1024 * 1024

_VCS_DIRS: Final = frozenset({".git", ".hg", ".svn"})

# Extensions that are binary by construction: skipped without being opened.
_BINARY_SUFFIXES: Final = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd",
        ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".jar", ".war",
        ".whl", ".egg", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".lib", ".pyc", ".pyo",
        ".class", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".m4a", ".mov",
        ".avi", ".mkv", ".wav", ".flac", ".ogg", ".webm", ".iso", ".dmg", ".npy", ".npz",
        ".parquet", ".pkl", ".pickle", ".onnx", ".pt", ".safetensors",
    }
)  # fmt: skip


#: `FileEntry.size` when the walk did not stat the file (the reader checks the size on open).
UNKNOWN_SIZE: Final = -1


class FileEntry(NamedTuple):
    """A regular file to scan.

    `path` opens it; `display` is what findings report (the root as the user gave it, joined
    with the relative path, without a leading `./`); `rel` is relative to the scan root (used
    by the policy's path allowlist); `size` comes from the walk when it had to stat the file
    (a followed link, a path given by name), else it is `UNKNOWN_SIZE`. A named tuple, not a dataclass:
    the runner pickles tens of thousands of them to its workers, and tuples pickle in C.
    """

    path: str
    display: str
    rel: str
    size: int


class IgnoreRules:
    """The `.gitignore` patterns that apply inside one directory of a git work tree.

    Holds `(base, spec)` pairs from the work-tree top down to the directory, where `base` is the
    directory of the `.gitignore` relative to the top (`""` for the top itself).
    """

    __slots__ = ("_specs", "_top", "_top_rel")

    def __init__(self, top: str, specs: tuple[tuple[str, GitIgnoreSpec], ...] = ()) -> None:
        self._top = top
        self._specs = specs
        self._top_rel: dict[str, str] = {}

    @property
    def empty(self) -> bool:
        """True when no pattern applies (so checks can be skipped)."""
        return not self._specs

    @classmethod
    def for_directory(cls, top: str, directory: str) -> IgnoreRules:
        """The rules in force in `directory` (an existing folder inside the work tree at `top`)."""
        rules = cls(top)
        exclude = os.path.join(top, ".git", "info", "exclude")
        rules = rules._with_file(exclude, "")
        rel = os.path.relpath(directory, top)
        parts = [] if rel == "." else rel.split(os.sep)
        current = top
        rules = rules._with_file(os.path.join(current, ".gitignore"), "")
        for i, part in enumerate(parts):
            current = os.path.join(current, part)
            rules = rules._with_file(os.path.join(current, ".gitignore"), "/".join(parts[: i + 1]))
        return rules

    def child(self, directory: str, rel_to_top: str) -> IgnoreRules:
        """The rules for a sub-folder: these plus its own `.gitignore`, if it has one."""
        return self._with_file(os.path.join(directory, ".gitignore"), rel_to_top)

    def _with_file(self, path: str, base: str) -> IgnoreRules:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return self
        if not any(line.strip() and not line.startswith("#") for line in lines):
            return self
        return IgnoreRules(self._top, (*self._specs, (base, GitIgnoreSpec.from_lines(lines))))

    def ignored(self, rel_to_top: str, is_dir: bool) -> bool:
        """True when git would ignore the path `rel_to_top` (`/`-separated, relative to the top)."""
        probe = rel_to_top + "/" if is_dir else rel_to_top
        for base, spec in reversed(self._specs):
            if base:
                if not probe.startswith(base + "/"):
                    continue
                sub = probe[len(base) + 1 :]
            else:
                sub = probe
            verdict = spec.check_file(sub).include
            if verdict is not None:
                return bool(verdict)
        return False


def find_git_top(path: str) -> str | None:
    """The top folder of the git work tree holding `path`, or `None` outside any work tree."""
    current = os.path.abspath(path)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def display_path(root: str, rel: str) -> str:
    """The path findings report for `rel` under `root`: the root as given, without `./`."""
    return _display_prefix(root) + rel


def _display_prefix(root: str) -> str:
    root = root.rstrip("/") or "/"
    if root == ".":
        return ""
    if root.startswith("./"):
        root = root[2:]
    return "/" if root == "/" else root + "/"


def _rel_to_top(top: str | None, path: str) -> str:
    if top is None:
        return ""
    rel = os.path.relpath(os.path.abspath(path), top)
    return "" if rel == "." else rel.replace(os.sep, "/")


def walk(
    root: str,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    respect_gitignore: bool = True,
    follow_symlinks: bool = False,
    archives: bool = False,
    max_archive_size: int | None = None,
) -> Iterator[FileEntry | Skipped]:
    """Yield every file under `root` to scan, and a `Skipped` for each one left out.

    `root` may be a file (yielded as is, whatever `.gitignore` says: the user named it). Entries
    come in a stable order (names sorted within each folder). With `archives`, archive files
    (`archive_kind`) are yielded too, checked against `max_archive_size` instead of
    `max_file_size`; without, they are skipped (`archive`).
    """
    try:
        st = os.stat(root)
    except FileNotFoundError:
        yield Skipped(root, SkipReason.MISSING, "no such file or directory")
        return
    except OSError as exc:
        reason = SkipReason.SYMLINK_LOOP if _is_loop(exc) else SkipReason.UNREADABLE
        yield Skipped(root, reason, exc.strerror or type(exc).__name__)
        return
    if not stat.S_ISDIR(st.st_mode):
        shown = root[2:] if root.startswith("./") else root
        kind = archive_kind(root)
        limit = max_archive_size if kind is not None and archives and max_archive_size is not None else max_file_size
        if not stat.S_ISREG(st.st_mode):
            yield Skipped(shown, SkipReason.NOT_REGULAR, "not a regular file")
        elif kind is not None and not archives:
            yield Skipped(shown, SkipReason.ARCHIVE, "archive not opened (--no-archives)")
        elif st.st_size > limit:
            yield Skipped(shown, SkipReason.TOO_LARGE, f"{st.st_size} bytes")
        else:
            yield FileEntry(root, shown, os.path.basename(root), st.st_size)
        return

    top = find_git_top(root) if respect_gitignore else None
    rules = IgnoreRules.for_directory(top, os.path.abspath(root)) if top is not None else None
    visited: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    shown_prefix = _display_prefix(root)
    # Depth-first with an explicit stack: (folder path, path relative to root, relative to top, rules)
    stack: list[tuple[str, str, str, IgnoreRules | None]] = [(root, "", _rel_to_top(top, root), rules)]
    while stack:
        folder, rel_dir, top_dir, dir_rules = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Skipped(display_path(root, rel_dir) or root, SkipReason.UNREADABLE, exc.strerror or "")
            continue
        check = dir_rules is not None and not dir_rules.empty
        subdirs: list[tuple[str, str, str, IgnoreRules | None]] = []
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            size = UNKNOWN_SIZE
            est: os.stat_result | None = None
            try:
                if entry.is_symlink():
                    if not follow_symlinks:
                        yield Skipped(display_path(root, rel), SkipReason.SYMLINK, "symbolic link not followed")
                        continue
                    est = entry.stat(follow_symlinks=True)
                    is_dir, is_file, size = stat.S_ISDIR(est.st_mode), stat.S_ISREG(est.st_mode), est.st_size
                else:
                    # The type comes with the directory entry: no system call (the reader checks
                    # size and type again on the open file).
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_file = not is_dir and entry.is_file(follow_symlinks=False)
                    est = entry.stat(follow_symlinks=False) if is_dir and follow_symlinks else None
            except OSError as exc:
                reason = SkipReason.SYMLINK_LOOP if _is_loop(exc) else SkipReason.UNREADABLE
                yield Skipped(display_path(root, rel), reason, exc.strerror or "")
                continue
            top_rel = f"{top_dir}/{name}" if top_dir else name
            if is_dir:
                if name in _VCS_DIRS:
                    continue
                if check and dir_rules is not None and dir_rules.ignored(top_rel, True):
                    yield Skipped(display_path(root, rel), SkipReason.GITIGNORED)
                    continue
                if est is not None:  # only links can make loops, and only when they are followed
                    key = (est.st_dev, est.st_ino)
                    if key in visited:
                        yield Skipped(display_path(root, rel), SkipReason.SYMLINK_LOOP, "folder already visited")
                        continue
                    visited.add(key)
                child_rules = dir_rules.child(entry.path, top_rel) if dir_rules is not None else None
                subdirs.append((entry.path, rel, top_rel, child_rules))
                continue
            if check and dir_rules is not None and dir_rules.ignored(top_rel, False):
                yield Skipped(display_path(root, rel), SkipReason.GITIGNORED)
                continue
            shown = shown_prefix + rel
            dot = name.rfind(".")
            suffix = name[dot:].lower() if dot > 0 else ""
            if not is_file:
                yield Skipped(shown, SkipReason.NOT_REGULAR, "not a regular file")
            elif suffix in ARCHIVE_LAST_SUFFIXES and archive_kind(name) is not None:
                if not archives:
                    yield Skipped(shown, SkipReason.ARCHIVE, "archive not opened (--no-archives)")
                elif size > (max_archive_size if max_archive_size is not None else max_file_size):
                    yield Skipped(shown, SkipReason.TOO_LARGE, f"{size} bytes")
                else:
                    yield FileEntry(entry.path, shown, rel, size)
            elif size > max_file_size:
                yield Skipped(shown, SkipReason.TOO_LARGE, f"{size} bytes")
            elif suffix in _BINARY_SUFFIXES:
                yield Skipped(shown, SkipReason.BINARY, "binary file type")
            else:
                yield FileEntry(entry.path, shown, rel, size)
        stack.extend(reversed(subdirs))


def _is_loop(exc: OSError) -> bool:
    return exc.errno == errno.ELOOP


_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_unsized(fd: int, limit: int) -> bytes:
    """Read a file whose size says 0 (empty, or a pseudo-file): small reads, at most `limit` + 1 bytes."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _read_sized(fd: int, size: int, limit: int) -> bytes:
    """Read a file of `size` bytes (asking one byte more, to notice growth).

    One `read` for files up to 1 GiB; larger ones in 1 GiB reads (Linux returns at most
    2,147,479,552 bytes per `read`, so one read would silently cut a bigger file).
    """
    if size < 1 << 30:
        data = os.read(fd, size + 1)
        if len(data) <= size:  # the whole file (a short read on a regular file is its end)
            return data
        chunks = [data]
        total = len(data)
    else:
        chunks, total = [], 0
        while total <= size:
            chunk = os.read(fd, min(1 << 30, size + 1 - total))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
    # It grew since fstat: read on to the end, or until it passes the limit.
    while total <= limit:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


class BigFile:
    """An open file larger than `CHUNK_BYTES`, read block by block (see `blocks`); close it after use.

    `first` holds the bytes already read from its start (binary already checked on them).
    """

    __slots__ = ("_fd", "display", "first", "limit", "size", "truncated")

    def __init__(self, fd: int, display: str, first: bytes, size: int, limit: int) -> None:
        self._fd = fd
        self.display = display
        self.first = first
        self.size = size
        self.limit = limit
        #: Set when the file grew past `limit` while read: only its first `limit` bytes were scanned.
        self.truncated = False

    def take_first(self) -> bytes:
        """`first`, which this object then lets go of (so it is not kept while the rest is read)."""
        first, self.first = self.first, b""
        return first

    def blocks(self, block: int = BLOCK_BYTES) -> Iterator[bytes | Gap]:
        """The file's bytes from the start, as blocks; holes of a sparse file as `Gap`s, not read."""
        pos = len(self.first)
        yield self.take_first()
        seek_data = getattr(os, "SEEK_DATA", None)
        seek_hole = getattr(os, "SEEK_HOLE", None)
        # A pseudo-file that says size 0 has no holes to skip (SEEK_DATA would call it empty).
        holes = seek_data is not None and seek_hole is not None and self.size > 0
        data_end = -1  # where the current run of data ends (the next hole), when known
        while pos < self.limit:
            if holes and pos >= data_end:
                assert seek_data is not None and seek_hole is not None
                try:
                    start = os.lseek(self._fd, pos, seek_data)
                    data_end = os.lseek(self._fd, start, seek_hole)
                except OSError as exc:
                    if exc.errno == errno.ENXIO:  # only a hole (or nothing) left
                        return
                    holes = False  # the file system cannot say: read everything
                    os.lseek(self._fd, pos, os.SEEK_SET)
                else:
                    if start > pos:
                        yield Gap(min(start, self.limit) - pos)
                        pos = start
                        if pos >= self.limit:
                            break
                    os.lseek(self._fd, pos, os.SEEK_SET)
            want = min(block, self.limit - pos)
            if holes and data_end > pos:
                want = min(want, data_end - pos)
            data = os.read(self._fd, want)
            if not data:
                return
            pos += len(data)
            yield data
        if os.read(self._fd, 1):
            self.truncated = True

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> BigFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_entry(entry: FileEntry, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> bytes | BigFile | Skipped:
    """A file's bytes (up to `CHUNK_BYTES`), a `BigFile` to read in blocks (larger), or why it is skipped.

    Same checks as `read_bytes`; the binary check looks at the first 8 KiB only, so a 2 GB file
    that starts with NUL bytes is skipped after one read of `CHUNK_BYTES`.
    """
    try:
        fd = os.open(entry.path, _OPEN_FLAGS)
    except OSError as exc:
        reason = SkipReason.SYMLINK_LOOP if _is_loop(exc) else SkipReason.UNREADABLE
        return Skipped(entry.display, reason, exc.strerror or type(exc).__name__)
    keep = False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Skipped(entry.display, SkipReason.NOT_REGULAR, "not a regular file")
        if st.st_size > max_file_size:
            return Skipped(entry.display, SkipReason.TOO_LARGE, f"{st.st_size} bytes")
        if 0 < st.st_size <= CHUNK_BYTES:
            data = os.read(fd, st.st_size + 1)  # one byte more, to notice growth
            small = len(data) <= st.st_size
        elif st.st_size == 0:  # empty, or a pseudo-file that does not say its size
            data = _read_unsized(fd, CHUNK_BYTES)
            small = len(data) <= CHUNK_BYTES
        else:
            data = os.read(fd, CHUNK_BYTES)
            small = False
        if is_binary(data[:BINARY_SNIFF_BYTES]):
            return Skipped(entry.display, SkipReason.BINARY, "NUL byte in the first 8 KiB")
        if len(data) > max_file_size:
            return Skipped(entry.display, SkipReason.TOO_LARGE, f"more than {max_file_size} bytes")
        if small:
            return data
        keep = True
        return BigFile(fd, entry.display, data, st.st_size, max_file_size)
    except OSError as exc:
        return Skipped(entry.display, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__)
    finally:
        if not keep:
            os.close(fd)


def read_bytes(entry: FileEntry, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> bytes | Skipped:
    """Read one file's bytes with a single `read()`, or say why it was skipped.

    The file is opened non-blocking (if it became a FIFO since the walk, open must not hang) and
    checked again on the open descriptor: a regular file, no larger than `max_file_size` (it may
    have grown since the walk), and no NUL byte in its first 8 KiB unless it has a UTF-16/32 BOM.
    """
    try:
        fd = os.open(entry.path, _OPEN_FLAGS)
    except OSError as exc:
        reason = SkipReason.SYMLINK_LOOP if _is_loop(exc) else SkipReason.UNREADABLE
        return Skipped(entry.display, reason, exc.strerror or type(exc).__name__)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Skipped(entry.display, SkipReason.NOT_REGULAR, "not a regular file")
        if st.st_size > max_file_size:
            return Skipped(entry.display, SkipReason.TOO_LARGE, f"{st.st_size} bytes")
        data = _read_unsized(fd, max_file_size) if st.st_size == 0 else _read_sized(fd, st.st_size, max_file_size)
    except OSError as exc:
        return Skipped(entry.display, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__)
    finally:
        os.close(fd)
    if len(data) > max_file_size:
        return Skipped(entry.display, SkipReason.TOO_LARGE, f"more than {max_file_size} bytes")
    if is_binary(data[:BINARY_SNIFF_BYTES]):
        return Skipped(entry.display, SkipReason.BINARY, "NUL byte in the first 8 KiB")
    return data


def read_entry(entry: FileEntry, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> str | Skipped:
    """Read and decode one file (see `read_bytes` and `decode_bytes`), or say why it was skipped."""
    data = read_bytes(entry, max_file_size)
    return data if isinstance(data, Skipped) else decode_bytes(data)


def is_notebook(entry: FileEntry) -> bool:
    """Whether the file is a Jupyter notebook (scanned cell by cell)."""
    return entry.display.endswith(NOTEBOOK_SUFFIX)


def binary_by_name(name: str) -> bool:
    """Whether a file (or archive member) named `name` is binary by its suffix alone."""
    dot = name.rfind(".")
    return dot > 0 and dot > name.rfind("/") + 1 and name[dot:].lower() in _BINARY_SUFFIXES


def file_fragments(entry: FileEntry, text: str) -> list[Fragment]:
    """The fragments of a decoded file: one per notebook cell for `.ipynb`, else the whole text."""
    return text_fragments(entry.display, text)


def text_fragments(display: str, text: str) -> list[Fragment]:
    """The fragments of the decoded text of `display` (a file or an archive member).

    Lone `\r` line ends count as line ends (`lone_cr_to_lf_text`).
    """
    text = lone_cr_to_lf_text(text)
    if display.endswith(NOTEBOOK_SUFFIX):
        cells = notebook_fragments(text, display)
        if cells is not None:
            return cells
    return [Fragment(text=text, path=display)]


def open_archive(entry: FileEntry, max_size: int) -> BinaryIO | Skipped:
    """The archive file `entry` opened for reading (a regular file up to `max_size` bytes), or why not."""
    try:
        fd = os.open(entry.path, _OPEN_FLAGS)
    except OSError as exc:
        reason = SkipReason.SYMLINK_LOOP if _is_loop(exc) else SkipReason.UNREADABLE
        return Skipped(entry.display, reason, exc.strerror or type(exc).__name__)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return Skipped(entry.display, SkipReason.NOT_REGULAR, "not a regular file")
        if st.st_size > max_size:
            os.close(fd)
            return Skipped(entry.display, SkipReason.TOO_LARGE, f"{st.st_size} bytes (--max-archive-size)")
        return os.fdopen(fd, "rb")
    except OSError as exc:
        os.close(fd)
        return Skipped(entry.display, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__)


class FilesSource(Source):
    """Files and folders, read one after the other (the runner parallelises over `walk` instead)."""

    id = "files"

    def __init__(
        self,
        roots: Sequence[str],
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        respect_gitignore: bool = True,
        follow_symlinks: bool = False,
    ) -> None:
        self.roots = list(roots)
        self.max_file_size = max_file_size
        self.respect_gitignore = respect_gitignore
        self.follow_symlinks = follow_symlinks

    def entries(self) -> Iterator[FileEntry | Skipped]:
        """Every file of every root, or why it is skipped."""
        for root in self.roots:
            yield from walk(
                root,
                max_file_size=self.max_file_size,
                respect_gitignore=self.respect_gitignore,
                follow_symlinks=self.follow_symlinks,
            )

    def fragments(self) -> Iterator[Fragment | Skipped]:
        """Read, decode and split each file."""
        for item in self.entries():
            if isinstance(item, Skipped):
                yield item
                continue
            text = read_entry(item, self.max_file_size)
            if isinstance(text, Skipped):
                yield text
            else:
                yield from file_fragments(item, text)
