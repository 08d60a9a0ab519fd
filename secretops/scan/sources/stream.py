"""Big inputs in bounded pieces: a file or archive member larger than `CHUNK_BYTES` is scanned chunk by chunk.

Memory stays bounded whatever `--max-file-size` says: the runner never holds more than one chunk
(`CHUNK_BYTES`) plus its two overlaps (`OVERLAP_BYTES` each) of an input. Each `Chunk` is

    [ left context | core | right reach ]

cut at line ends where a line end is near (else at a UTF-8 character boundary, for lines longer
than a chunk). Every byte of the input is in exactly one core; a finding counts only in the
chunk whose core holds its first character, so a credential in an overlap is reported once. The
right reach (64 KiB) is longer than any match the engine makes (a merged window of 8 KiB plus
16 KiB for multi-line rules such as private key blocks), so a credential that starts in a core
is seen whole; the left context gives the engine the lines before the core (names, hosts, CI
`services:` blocks), as it would see them in a whole file.

Line numbers: each chunk knows how many lines come before it (`line_offset`) and how many
characters of its first line come before it (`column_shift`, non-zero only when a chunk starts
in the middle of a line). Holes of a sparse file (zeros, never a line end or a keyword) are not
read (`SEEK_DATA`); they end the current run of chunks and count as characters of their line.
Lone `\\r` line ends become `\\n` as the bytes come in (see `interface.lone_cr_to_lf`).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from secretops.scan.sources.interface import lone_cr_to_lf

__all__ = [
    "BLOCK_BYTES",
    "CHUNK_BYTES",
    "OVERLAP_BYTES",
    "Chunk",
    "Chunker",
    "Gap",
    "char_count",
    "chunks",
    "transcode",
]

#: Inputs up to this size are read and scanned whole; larger ones in chunks of about this size.
CHUNK_BYTES: Final = 4 * 1024 * 1024
#: Big inputs are read in blocks of this size.
BLOCK_BYTES: Final = 1024 * 1024
#: Left context and right reach of each chunk.
OVERLAP_BYTES: Final = 64 * 1024

_CONTINUATION: Final = bytes(range(0x80, 0xC0))


@dataclass(frozen=True, slots=True)
class Gap:
    """A run of `size` zero bytes that was not read (a hole of a sparse file)."""

    size: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of an input: `data[core_start:core_end]` is the part this chunk answers for.

    `line_offset` is the number of line ends in the input before `data[0]`; `column_shift` the
    number of characters of `data`'s first line that come before `data[0]`.
    """

    data: bytes
    core_start: int
    core_end: int
    line_offset: int
    column_shift: int


def char_count(data: bytes | bytearray) -> int:
    """The number of UTF-8 characters in `data` (the bytes that are not continuation bytes)."""
    return len(data.translate(None, _CONTINUATION))


def _boundary(buf: bytearray, pos: int, low: int) -> int:
    """`pos` moved back (not below `low`) to the start of a UTF-8 character."""
    while pos > low and buf[pos] & 0xC0 == 0x80:
        pos -= 1
    return pos


class Chunker:
    """Cuts a stream of byte blocks (and `Gap`s) into `Chunk`s; see the module docstring."""

    def __init__(self, chunk: int = CHUNK_BYTES, overlap: int = OVERLAP_BYTES) -> None:
        if chunk < 2 * overlap:
            raise ValueError("a chunk must be at least twice the overlap")
        self.chunk = chunk
        self.overlap = overlap
        self._buf = bytearray()
        self._core = 0  # where in `_buf` the next core starts
        self._lines = 0  # line ends before `_buf[0]`
        self._shift = 0  # characters of `_buf`'s first line before `_buf[0]`
        self._cr = False  # the last block ended with `\r` (it may be half of `\r\n`)

    def feed(self, block: bytes | Gap) -> Iterator[Chunk]:
        """Take the next block of the input; yield the chunks it completes."""
        if isinstance(block, Gap):
            yield from self._flush()
            self._gap(block.size)
            return
        self.push(block)
        del block  # the buffer has a copy: do not hold the block while the chunks are scanned
        yield from self.ready()

    def push(self, block: bytes) -> None:
        """Append a block of bytes (see `ready`)."""
        if not block:
            return
        if self._cr:
            block = b"\r" + block
            self._cr = False
        if block.endswith(b"\r"):
            block = block[:-1]
            self._cr = True
        self._buf += lone_cr_to_lf(block)

    def ready(self) -> Iterator[Chunk]:
        """The chunks the bytes pushed so far complete."""
        while len(self._buf) - self._core >= self.chunk + self.overlap:
            yield self._emit(final=False)

    def _gap(self, size: int) -> None:
        self._lines += self._buf.count(b"\n")
        last = self._buf.rfind(b"\n")
        tail = char_count(self._buf[last + 1 :])
        self._shift = tail + size if last >= 0 else self._shift + tail + size
        self._buf.clear()
        self._core = 0

    def close(self) -> Iterator[Chunk]:
        """The input ended: yield the last chunks."""
        yield from self._flush()

    def _flush(self) -> Iterator[Chunk]:
        if self._cr:
            self._buf += b"\n"  # a lone `\r` at the end of a block run
            self._cr = False
        while self._core < len(self._buf):
            yield self._emit(final=len(self._buf) - self._core <= self.chunk + self.overlap)

    def _emit(self, *, final: bool) -> Chunk:
        buf, core = self._buf, self._core
        if final:
            core_end = data_end = len(buf)
        else:
            target = core + self.chunk
            nl = buf.rfind(b"\n", core + self.chunk // 2, target)
            core_end = nl + 1 if nl >= 0 else _boundary(buf, target, core + 1)
            data_end = _boundary(buf, min(len(buf), core_end + self.overlap), core_end)
        with memoryview(buf) as view:
            data = bytes(view[:data_end])  # one copy (a bytearray slice would make two)
        out = Chunk(data, core, core_end, self._lines, self._shift)
        # Slide: keep up to `overlap` bytes before the next core as its left context.
        floor = max(0, core_end - self.overlap)
        nl = buf.rfind(b"\n", floor, core_end)
        cut = nl + 1 if nl >= 0 else _boundary(buf, floor, 0)
        if cut:
            ends = buf.count(b"\n", 0, cut)
            if ends:
                self._lines += ends
                self._shift = char_count(buf[buf.rfind(b"\n", 0, cut) + 1 : cut])
            else:
                self._shift += char_count(buf[:cut])
            del buf[:cut]
        self._core = core_end - cut
        return out


def chunks(blocks: Iterable[bytes | Gap], chunk: int = CHUNK_BYTES, overlap: int = OVERLAP_BYTES) -> Iterator[Chunk]:
    """The chunks of an input given as blocks of bytes (and gaps)."""
    chunker = Chunker(chunk, overlap)
    for block in blocks:
        if isinstance(block, Gap):
            yield from chunker.feed(block)
            continue
        chunker.push(block)
        block = b""  # let the block go before its chunks are scanned
        yield from chunker.ready()
    yield from chunker.close()


def transcode(blocks: Iterable[bytes | Gap], encoding: str) -> Iterator[bytes | Gap]:
    """Blocks in `encoding` (a UTF-16/32 file, BOM removed) as UTF-8 blocks, so chunks can be cut at `\\n`."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for block in blocks:
        if isinstance(block, Gap):
            yield block
            continue
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8", "surrogatepass")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8", "surrogatepass")
