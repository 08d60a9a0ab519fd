"""Archives: `.zip`, `.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`, `.tar.xz`, `.gz`, `.bz2`, `.xz`, read in memory.

Nothing is ever extracted to disk: members are streamed to the runner (`visit`) one at a time
through bounded reads, so a member named `../../etc/passwd` or `/root/.ssh/id_rsa`, a symbolic
link, a hard link or a device is only a name in a report. Symbolic links and devices have no
content to scan and are counted as skipped (`symlink`, `not-regular`); directories are not counted.

A member is reported as `bundle.zip!config/.env`, a nested one as `outer.tar.gz!inner.zip!app/.env`;
a `.gz`/`.bz2`/`.xz` file that is not a tar holds one member named after the file without its
suffix (`dump.sql.gz!dump.sql`). The type comes from the name; a compressed stream is read as a
tar when its first block is a tar header, whatever its name says.

Bounds, all counted in `ScanStats.skipped` (and named in the skipped list) when they stop a read:

* depth: archives nested deeper than `ArchiveLimits.depth` (default 2: an archive in an archive)
  are not opened (`archive-depth`);
* size: at most `ArchiveLimits.max_total` bytes are decompressed out of one archive on disk,
  nested ones included; past that the rest is not read (`archive-limit`), nor past
  `ArchiveLimits.max_members` members;
* compression ratio: a zip member whose header promises more than `max_ratio` times its
  compressed size (beyond 1 MiB) is not decompressed, and a compressed stream whose output
  passes that ratio is stopped (`archive-bomb`): a zip bomb costs a few reads, not gigabytes;
* members over the file size limit are skipped (`too-large`); a nested zip is read into memory
  (it needs seeking), so it is opened only up to 64 MiB; tar and compressed streams nest as streams;
* encrypted zip members are counted (`encrypted`), never silently passed over; an archive that
  cannot be decompressed is counted `corrupt`, after whatever members were read before the damage.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Final, Protocol, cast

from secretops.scan.sources.interface import Skipped, SkipReason

__all__ = [
    "ARCHIVE_ERRORS",
    "ARCHIVE_LAST_SUFFIXES",
    "DEFAULT_ARCHIVE_DEPTH",
    "DEFAULT_MAX_ARCHIVE_SIZE",
    "ArchiveKind",
    "ArchiveLimitError",
    "ArchiveLimits",
    "Reader",
    "archive_kind",
    "scan_archive",
]

DEFAULT_ARCHIVE_DEPTH: Final = 2
DEFAULT_MAX_ARCHIVE_SIZE: Final = 256 * 1024 * 1024
DEFAULT_MAX_RATIO: Final = 100
DEFAULT_MAX_MEMBERS: Final = 100_000
#: Below this much output, no compression ratio is suspicious.
RATIO_FLOOR: Final = 1024 * 1024
#: A nested zip is read into memory (zip needs seeking): only up to this size.
MAX_NESTED_ZIP: Final = 64 * 1024 * 1024

#: What reading a broken or unsupported archive raises (counted `corrupt`, never a crash).
ARCHIVE_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,
    OSError,  # gzip.BadGzipFile, truncated streams
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # a zip compression method Python does not have
    UnicodeError,  # a zip member name flagged UTF-8 that is not
)

_TAR_SUFFIXES: Final = (
    (".tar", None),
    (".tar.gz", "gz"),
    (".tgz", "gz"),
    (".tar.bz2", "bz2"),
    (".tbz2", "bz2"),
    (".tbz", "bz2"),
    (".tar.xz", "xz"),
    (".txz", "xz"),
)
_STREAM_SUFFIXES: Final = ((".gz", "gz"), (".bz2", "bz2"), (".xz", "xz"))


@dataclass(frozen=True, slots=True)
class ArchiveKind:
    """How to open an archive: `container` is `zip`, `tar` or `stream` (one compressed file)."""

    container: str
    compression: str | None
    suffix: str


#: The last suffix of every archive name (a quick test before `archive_kind`).
ARCHIVE_LAST_SUFFIXES: Final = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".tbz", ".xz", ".txz"})


def archive_kind(name: str) -> ArchiveKind | None:
    """The kind of archive `name` is, by its suffix (case-insensitive), or None."""
    dot = name.rfind(".")
    if dot < 0 or name[dot:].lower() not in ARCHIVE_LAST_SUFFIXES:
        return None
    lower = name.lower()
    if lower.endswith(".zip"):
        return ArchiveKind("zip", None, ".zip")
    for suffix, compression in _TAR_SUFFIXES:
        if lower.endswith(suffix):
            return ArchiveKind("tar", compression, suffix)
    for suffix, compression in _STREAM_SUFFIXES:
        if lower.endswith(suffix):
            return ArchiveKind("stream", compression, suffix)
    return None


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """The bounds of one archive scan (see the module docstring)."""

    depth: int = DEFAULT_ARCHIVE_DEPTH
    max_total: int = DEFAULT_MAX_ARCHIVE_SIZE
    max_member: int = 10 * 1024 * 1024
    max_ratio: int = DEFAULT_MAX_RATIO
    max_members: int = DEFAULT_MAX_MEMBERS


class Reader(Protocol):
    """A binary stream that can be read from."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes; `b""` at the end."""
        ...


class ArchiveLimitError(Exception):
    """A bound was reached. `whole`: it stops the whole archive on disk, else only the (nested) archive."""

    def __init__(self, reason: str, detail: str, *, whole: bool) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.whole = whole


#: `visit(display, reader, size)`: scan one member; `size` is its declared size when known.
Visit = Callable[[str, Reader, "int | None"], None]
Note = Callable[[Skipped], None]


class _Damaged(Exception):
    """A member of a tar or compressed stream could not be read: the rest of the stream cannot either."""


class _Budget:
    """Bytes decompressed and members seen so far out of one archive on disk."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.used = 0
        self.members = 0

    def charge(self, n: int) -> None:
        self.used += n
        if self.used > self.limits.max_total:
            raise ArchiveLimitError(
                SkipReason.ARCHIVE_LIMIT,
                f"more than {self.limits.max_total} bytes decompressed: the rest is not read (--max-archive-size)",
                whole=True,
            )

    def member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveLimitError(
                SkipReason.ARCHIVE_LIMIT,
                f"more than {self.limits.max_members} members: the rest is not read",
                whole=True,
            )


class _Counting:
    """Counts the compressed bytes read from `raw`."""

    def __init__(self, raw: Reader) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


class _Guarded:
    """Output of a decompressor (or of a plain tar): charged to the budget, its ratio watched."""

    def __init__(self, inner: Reader, budget: _Budget, compressed: _Counting | None) -> None:
        self.inner = inner
        self.budget = budget
        self.compressed = compressed
        self.out = 0

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        data = self.inner.read(min(size, 1 << 20))
        self.out += len(data)
        self.budget.charge(len(data))
        ratio = self.budget.limits.max_ratio
        if self.compressed is not None and self.out > RATIO_FLOOR and self.out > ratio * max(self.compressed.count, 1):
            raise ArchiveLimitError(
                SkipReason.ARCHIVE_BOMB,
                f"compression ratio over {ratio}:1 (a zip bomb?): not decompressed further",
                whole=False,
            )
        return data


class _Prefixed:
    """`head` (already read) and then the rest of `inner`."""

    def __init__(self, head: bytes, inner: Reader) -> None:
        self.head = head
        self.inner = inner

    def read(self, size: int = -1, /) -> bytes:
        if self.head:
            if size is None or size < 0 or size >= len(self.head):
                head, self.head = self.head, b""
                rest = self.inner.read(size - len(head)) if size is not None and size > len(head) else b""
                return head + rest
            head, self.head = self.head[:size], self.head[size:]
            return head
        return self.inner.read(size)


class _Member:
    """A zip member's stream, charged to the budget (its ratio was checked on its header)."""

    def __init__(self, inner: Reader, budget: _Budget) -> None:
        self.inner = inner
        self.budget = budget

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        data = self.inner.read(size)
        self.budget.charge(len(data))
        return data


def read_up_to(reader: Reader, size: int) -> bytes:
    """Up to `size` bytes from `reader`, reading until it has them or the reader is at its end."""
    parts: list[bytes] = []
    total = 0
    while total < size:
        data = reader.read(size - total)
        if not data:
            break
        parts.append(data)
        total += len(data)
    return b"".join(parts)


def _decompressor(compression: str | None, raw: Reader) -> Reader:
    if compression == "gz":
        return gzip.GzipFile(fileobj=cast(Any, raw), mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(cast(Any, raw))
    if compression == "xz":
        return lzma.LZMAFile(cast(Any, raw))
    return raw


def _zip_entries(fh: IO[bytes]) -> int | None:
    """The member count a zip's end record declares, read before `ZipFile` parses them all (None: unknown)."""
    end_record = getattr(zipfile, "_EndRecData", None)
    index = getattr(zipfile, "_ECD_ENTRIES_TOTAL", None)
    if end_record is None or index is None:
        return None
    try:
        record = end_record(fh)
        fh.seek(0)
    except (OSError, zipfile.BadZipFile):
        return None
    return int(record[index]) if record else None


def _is_tar_header(block: bytes) -> bool:
    return len(block) >= 512 and block[257:262] == b"ustar"


class _Walk:
    """One archive on disk and everything nested in it."""

    def __init__(self, limits: ArchiveLimits, visit: Visit, note: Note) -> None:
        self.limits = limits
        self.visit = visit
        self.note = note
        self.budget = _Budget(limits)

    def archive(self, source: Reader, display: str, kind: ArchiveKind, depth: int) -> None:
        """Scan the archive read from `source` (seekable for a zip); note why if it stops early."""
        try:
            if kind.container == "zip":
                self._zip(source, display, depth)
            else:
                self._stream(source, display, kind, depth)
        except ArchiveLimitError as exc:
            if exc.whole and depth > 1:
                raise
            self.note(Skipped(display, exc.reason, exc.detail))
        except _Damaged as exc:
            self.note(Skipped(display, SkipReason.CORRUPT, f"cannot be read past this point: {exc}"))
        except ARCHIVE_ERRORS as exc:
            self.note(Skipped(display, SkipReason.CORRUPT, f"cannot be read as {kind.suffix}: {type(exc).__name__}"))

    def _member(self, display: str, name: str, reader: Reader, size: int | None, depth: int, *, local: bool) -> None:
        """One member: a nested archive (opened while `depth` allows), else visited.

        `local`: the member can fail alone (a zip member); else its damage is the archive's.
        """
        kind = archive_kind(name)
        if kind is not None:
            if depth >= self.limits.depth:
                self.note(Skipped(display, SkipReason.ARCHIVE_DEPTH, f"archive nested deeper than {self.limits.depth}"))
                return
            if kind.container == "zip":
                room = min(MAX_NESTED_ZIP, self.limits.max_total - self.budget.used)
                data = read_up_to(reader, room + 1)
                if len(data) > room:
                    self.note(Skipped(display, SkipReason.TOO_LARGE, f"nested zip over {room} bytes is not opened"))
                    return
                self.archive(io.BytesIO(data), display, kind, depth + 1)
            else:
                self.archive(reader, display, kind, depth + 1)
            return
        if size is not None and size > self.limits.max_member:
            self.note(Skipped(display, SkipReason.TOO_LARGE, f"{size} bytes"))
            return
        if not local:  # a tar or compressed stream: damage here stops the whole stream
            try:
                self.visit(display, reader, size)
            except ARCHIVE_ERRORS as exc:
                member = display.rsplit("!", 1)[-1]
                raise _Damaged(f"damaged at member {member}: {type(exc).__name__}") from exc
            return
        try:
            self.visit(display, reader, size)
        except ArchiveLimitError:
            raise
        except ARCHIVE_ERRORS as exc:
            self.note(Skipped(display, SkipReason.CORRUPT, f"member cannot be decompressed: {type(exc).__name__}"))

    def _zip(self, source: Reader, display: str, depth: int) -> None:
        entries = _zip_entries(cast(IO[bytes], source))
        if entries is not None and entries > self.limits.max_members:
            # Python would parse the whole central directory first: millions of entries, gigabytes.
            detail = f"{entries} members, more than {self.limits.max_members}: not opened"
            self.note(Skipped(display, SkipReason.ARCHIVE_LIMIT, detail))
            return
        with zipfile.ZipFile(cast(IO[bytes], source)) as zf:
            infos = zf.infolist()
            ratio = self.limits.max_ratio
            for info in infos:
                if info.is_dir():
                    continue
                self.budget.member()
                shown = f"{display}!{info.filename}"
                mode = info.external_attr >> 16
                if info.flag_bits & 0x1:
                    detail = "encrypted zip member: its content cannot be scanned"
                    self.note(Skipped(shown, SkipReason.ENCRYPTED, detail))
                    continue
                if mode and stat.S_ISLNK(mode):
                    self.note(Skipped(shown, SkipReason.SYMLINK, "symbolic link in the archive (not followed)"))
                    continue
                if info.file_size > RATIO_FLOOR and info.file_size > ratio * max(info.compress_size, 1):
                    self.note(
                        Skipped(shown, SkipReason.ARCHIVE_BOMB, f"compression ratio over {ratio}:1 (a zip bomb?)")
                    )
                    continue
                try:
                    member = zf.open(info)
                except ARCHIVE_ERRORS as exc:
                    self.note(Skipped(shown, SkipReason.CORRUPT, f"member cannot be opened: {type(exc).__name__}"))
                    continue
                with member:
                    self._member(shown, info.filename, _Member(member, self.budget), info.file_size, depth, local=True)

    def _stream(self, source: Reader, display: str, kind: ArchiveKind, depth: int) -> None:
        counting = _Counting(source) if kind.compression is not None else None
        raw: Reader = counting if counting is not None else source
        out = _Guarded(_decompressor(kind.compression, raw), self.budget, counting)
        head = read_up_to(out, 512)
        stream = _Prefixed(head, out)
        if kind.container == "tar" or _is_tar_header(head):
            self._tar(stream, display, depth)
            return
        base = display.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
        name = base[: len(base) - len(kind.suffix)] or base
        self.budget.member()
        self._member(f"{display}!{name}", name, stream, None, depth, local=False)

    def _tar(self, stream: Reader, display: str, depth: int) -> None:
        with tarfile.open(fileobj=stream, mode="r|") as tf:  # type: ignore[call-overload]
            while True:
                info = tf.next()
                if info is None:
                    break
                tf.members.clear()  # stream mode keeps every header it read: not needed here
                if info.isdir():
                    continue
                self.budget.member()
                name = info.name[2:] if info.name.startswith("./") else info.name
                shown = f"{display}!{name}"
                if info.issym() or info.islnk():
                    self.note(Skipped(shown, SkipReason.SYMLINK, "link in the archive (not followed)"))
                    continue
                if not info.isreg():
                    self.note(Skipped(shown, SkipReason.NOT_REGULAR, "not a regular file"))
                    continue
                member = tf.extractfile(info)
                if member is None:
                    continue
                self._member(shown, name, member, info.size, depth, local=False)


def scan_archive(
    source: Reader, display: str, kind: ArchiveKind, limits: ArchiveLimits, visit: Visit, note: Note
) -> None:
    """Scan the archive `source` (an open file, seekable for a zip) shown as `display`.

    `visit` is called with each member (its display path, a stream to read it from, its size if
    known); it must read what it needs before returning. `note` is told every member or archive
    skipped, and why. Nothing is written anywhere.
    """
    _Walk(limits, visit, note).archive(source, display, kind, 1)
