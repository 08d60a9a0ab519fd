"""Inputs too big to read whole, as blocks: counted, bounded, gathered, without their byte order mark."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from secretops.scan.models import ScanStats
from secretops.scan.sources.archive import Reader
from secretops.scan.sources.interface import Skipped, SkipReason
from secretops.scan.sources.stream import BLOCK_BYTES, Gap


def grew_skip(display: str, limit: int) -> Skipped:
    detail = f"grew past {limit} bytes while read: only the first {limit} were scanned"
    return Skipped(display, SkipReason.TOO_LARGE, detail)


class Counted:
    """`blocks`, counting their bytes in `stats` (an iterator object: it keeps no block while paused)."""

    def __init__(self, blocks: Iterator[bytes | Gap], stats: ScanStats) -> None:
        self._blocks = blocks
        self._stats = stats

    def __iter__(self) -> Counted:
        return self

    def __next__(self) -> bytes | Gap:
        block = next(self._blocks)
        if isinstance(block, bytes):
            self._stats.bytes += len(block)
        return block


class MemberBlocks:
    """An archive member's stream as blocks, the first already read; stops at `limit` bytes (then `grew`)."""

    def __init__(self, reader: Reader, first: bytes, limit: int) -> None:
        self._reader = reader
        self._first: bytes | None = first
        self._total = len(first)
        self._limit = limit
        self.grew = False

    def __iter__(self) -> MemberBlocks:
        return self

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        if self._total > self._limit:
            raise StopIteration
        data = self._reader.read(min(BLOCK_BYTES, self._limit - self._total + 1))
        if not data:
            raise StopIteration
        self._total += len(data)
        if self._total > self._limit:
            self.grew = True
            return data[: len(data) - (self._total - self._limit)]
        return data


def gather(blocks: Iterator[bytes | Gap], limit: int) -> bytes | Iterator[bytes | Gap]:
    """All of `blocks` as bytes when they end within `limit` bytes (and hold no gap), else an iterator of them all."""
    taken: list[bytes | Gap] = []
    total = 0
    for block in blocks:
        taken.append(block)
        if isinstance(block, Gap):
            return itertools.chain(taken, blocks)
        total += len(block)
        if total > limit:
            return itertools.chain(taken, blocks)
    return b"".join(b for b in taken if isinstance(b, bytes))


def drop_prefix(blocks: Iterator[bytes | Gap], size: int) -> Iterator[bytes | Gap]:
    """`blocks` without their first `size` bytes (a byte order mark)."""
    for block in blocks:
        if size and isinstance(block, bytes):
            block, size = block[size:], max(0, size - len(block))
        yield block
