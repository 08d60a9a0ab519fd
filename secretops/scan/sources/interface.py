"""What a source hands the runner: decoded `Fragment`s, or a `Skipped` saying why not.

A source turns bytes somewhere (a file, standard input, a notebook) into text. Decoding is done
once per file, on the whole buffer, never per line: UTF-8 (with or without BOM), UTF-16 or
UTF-32 when a BOM says so, and Latin-1 when the bytes are not UTF-8 (Latin-1 maps every byte, so
a bad byte never stops a scan). A NUL byte in the first 8 KiB without a UTF-16/32 BOM means
binary, and binary is skipped.

Line endings: `\n` and `\r\n` end lines, and so does a lone `\r` (old Mac files, as SARIF and
editors count lines). `lone_cr_to_lf` turns each lone `\r` into `\n` before scanning: the same
length in bytes and characters, so offsets and columns do not move, and the engine, which counts
`\n`, reports the line an editor shows.
"""

from __future__ import annotations

import codecs
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Final

from secretops.errors import ConfigError
from secretops.scan.models import Fragment

__all__ = [
    "BINARY_SNIFF_BYTES",
    "SkipReason",
    "Skipped",
    "Source",
    "SourceError",
    "bom_encoding",
    "decode_bytes",
    "decode_plain",
    "has_bom",
    "is_binary",
    "lone_cr_to_lf",
    "lone_cr_to_lf_text",
]

BINARY_SNIFF_BYTES: Final = 8192

# BOMs, longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_BOM_FIRST: Final = frozenset(bom[:1] for bom, _ in _BOMS)


class SourceError(ConfigError):
    """A source cannot be read at all (a path that does not exist, a closed stdin)."""


class SkipReason:
    """The stable names of skip reasons, as counted in `ScanStats.skipped` and the JSON output."""

    BINARY: Final = "binary"
    TOO_LARGE: Final = "too-large"
    UNREADABLE: Final = "unreadable"
    NOT_REGULAR: Final = "not-regular"  # FIFO, socket, device: never opened (it could block)
    SYMLINK: Final = "symlink"  # not followed without --follow-symlinks
    SYMLINK_LOOP: Final = "symlink-loop"
    GITIGNORED: Final = "gitignored"
    ALLOWLISTED: Final = "allowlisted"  # the policy allows the whole path
    MISSING: Final = "missing"
    ERROR: Final = "error"  # the engine failed on this file (a bug; the scan goes on)
    ARCHIVE: Final = "archive"  # an archive left closed (`--no-archives`)
    ARCHIVE_DEPTH: Final = "archive-depth"  # an archive nested deeper than `--archive-depth`
    ARCHIVE_LIMIT: Final = "archive-limit"  # past `--max-archive-size` or the member count: rest unread
    ARCHIVE_BOMB: Final = "archive-bomb"  # compression ratio of a zip bomb: not decompressed
    ENCRYPTED: Final = "encrypted"  # an encrypted archive member: its content cannot be read
    CORRUPT: Final = "corrupt"  # an archive (or member) that cannot be decompressed


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source that was not scanned, and why. `detail` is for the user and never holds a value."""

    path: str
    reason: str
    detail: str = ""


class Source(ABC):
    """Something that yields fragments to scan."""

    id: ClassVar[str]

    @abstractmethod
    def fragments(self) -> Iterator[Fragment | Skipped]:
        """Yield the fragments of this source, or one `Skipped` per part that cannot be read."""


_LONE_CR: Final = re.compile(rb"\r(?!\n)")
_LONE_CR_TEXT: Final = re.compile(r"\r(?!\n)")
#: A `\r` followed by a character that is not `\n`: with a `\r` as last character, all lone ones.
_CR_NOT_LF: Final = re.compile(rb"\r[^\n]")
_CR_NOT_LF_TEXT: Final = re.compile(r"\r[^\n]")


def lone_cr_to_lf(data: bytes) -> bytes:
    """`data` with every `\r` not followed by `\n` made a `\n` (for bytes without a UTF-16/32 BOM).

    Costs one `memchr` on a file without `\r`. On a `\r\n` file, one regex search from its first
    `\r` for a `\r` before anything but `\n`, and a look at the last byte: 30% fewer
    instructions than counting `\r` and `\r\n` and comparing (a `(?!\n)` lookahead costs more
    than the class).
    """
    first = data.find(b"\r")
    if first < 0 or (_CR_NOT_LF.search(data, first) is None and data[-1] != 13):
        return data
    return _LONE_CR.sub(b"\n", data)


def lone_cr_to_lf_text(text: str) -> str:
    """`lone_cr_to_lf` for decoded text."""
    first = text.find("\r")
    if first < 0 or (_CR_NOT_LF_TEXT.search(text, first) is None and text[-1] != "\r"):
        return text
    return _LONE_CR_TEXT.sub("\n", text)


def is_binary(head: bytes) -> bool:
    """True when `head` (the first bytes of a file) looks binary: a NUL byte and no UTF-16/32 BOM."""
    if b"\x00" not in head[:BINARY_SNIFF_BYTES]:
        return False
    return not any(head.startswith(bom) for bom, _ in _BOMS)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding a byte order mark at the start of `data` names, and the BOM's length; None without one."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None


def has_bom(data: bytes) -> bool:
    """Whether `data` starts with a UTF-8/16/32 byte order mark (`decode_bytes` strips it)."""
    return data[:1] in _BOM_FIRST and any(data.startswith(bom) for bom, _ in _BOMS)


def decode_plain(data: bytes) -> str:
    """Decode bytes that carry no BOM: strict UTF-8, else Latin-1 (which cannot fail).

    Either way each keyword hit found in the bytes ends on a character boundary, and for ASCII
    or Latin-1 text byte offsets are character offsets.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_bytes(data: bytes) -> str:
    """Decode a whole file: BOM first, then strict UTF-8, then Latin-1 (which cannot fail).

    A UTF-16/32 file with a broken tail decodes with replacement characters rather than failing.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    return decode_plain(data)
