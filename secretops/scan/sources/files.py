"""Files and folders: a fast recursive walk, `.gitignore`, size and binary checks, one read per file.

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
from typing import Final, NamedTuple

from pathspec import GitIgnoreSpec

from secretops.scan.models import Fragment
from secretops.scan.sources.interface import (
    BINARY_SNIFF_BYTES,
    Skipped,
    SkipReason,
    Source,
    decode_bytes,
    is_binary,
)
from secretops.scan.sources.notebook import NOTEBOOK_SUFFIX, notebook_fragments

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "UNKNOWN_SIZE",
    "FileEntry",
    "FilesSource",
    "IgnoreRules",
    "display_path",
    "file_fragments",
    "find_git_top",
    "is_notebook",
    "read_bytes",
    "read_entry",
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
) -> Iterator[FileEntry | Skipped]:
    """Yield every file under `root` to scan, and a `Skipped` for each one left out.

    `root` may be a file (yielded as is, whatever `.gitignore` says: the user named it). Entries
    come in a stable order (names sorted within each folder).
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
        if not stat.S_ISREG(st.st_mode):
            yield Skipped(shown, SkipReason.NOT_REGULAR, "not a regular file")
        elif st.st_size > max_file_size:
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
            if not is_file:
                yield Skipped(shown, SkipReason.NOT_REGULAR, "not a regular file")
            elif size > max_file_size:
                yield Skipped(shown, SkipReason.TOO_LARGE, f"{size} bytes")
            elif dot > 0 and name[dot:].lower() in _BINARY_SUFFIXES:
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
    """Read a file of `size` bytes in one `read` (asking one byte more, to notice growth)."""
    data = os.read(fd, size + 1)
    if len(data) <= size:  # the whole file (a short read on a regular file is its end)
        return data
    # It grew since fstat: read on to the end, or until it passes the limit.
    chunks = [data]
    total = len(data)
    while total <= limit:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


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


def file_fragments(entry: FileEntry, text: str) -> list[Fragment]:
    """The fragments of a decoded file: one per notebook cell for `.ipynb`, else the whole text."""
    if is_notebook(entry):
        cells = notebook_fragments(text, entry.display)
        if cells is not None:
            return cells
    return [Fragment(text=text, path=entry.display)]


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
