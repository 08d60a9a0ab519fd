"""The scan runner: walk → read → decode → `Scanner.scan` → collect, on one core or many.

`scan_paths` is the one entry point. The parent process walks the sources (cheap: one `lstat`
per file) and cuts the files into batches of about 64 files or 4 MiB; with `jobs > 1` a
`multiprocessing` pool (fork context on Linux) reads and scans the batches, each worker using one
scanner built once (inherited from the parent on fork, built by the initializer otherwise). With
`jobs == 1`, or when everything fits in one batch, it all runs in-process. Whatever the order
the batches finish in, findings come back sorted by path, cell, line, column and rule id.

The runner also applies what is not the engine's job: the policy's path allowlist (a whole file
allowed by path is not even read), the classes to show (`include`; the others are only counted),
and dropping raw values from findings unless `keep_secrets` is set (`--show-secrets`).

Files over `CHUNK_BYTES` (and archive members as big) are scanned in overlapping chunks
(`sources/stream.py`), so memory stays bounded; a finding counts in the chunk whose core holds
its start. Archives (`sources/archive.py`) are opened in memory unless `archives` is off, and
each member goes through the same reading and scanning as a file. A fragment with `positions`
(a notebook cell, a chunk starting mid-line) has its findings moved to the file's coordinates.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import importlib
import itertools
import logging
import multiprocessing
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Final, Protocol, runtime_checkable

from secretops.errors import SecretOpsError
from secretops.scan.models import Classification, Finding, Fragment, Location, ScanStats, Severity
from secretops.scan.sources.archive import (
    DEFAULT_ARCHIVE_DEPTH,
    DEFAULT_MAX_ARCHIVE_SIZE,
    ArchiveKind,
    ArchiveLimits,
    Reader,
    archive_kind,
    scan_archive,
)
from secretops.scan.sources.files import (
    DEFAULT_MAX_FILE_SIZE,
    FileEntry,
    binary_by_name,
    find_git_top,
    open_archive,
    open_entry,
    text_fragments,
    walk,
)
from secretops.scan.sources.interface import (
    BINARY_SNIFF_BYTES,
    Skipped,
    SkipReason,
    Source,
    bom_encoding,
    decode_bytes,
    decode_plain,
    has_bom,
    is_binary,
    lone_cr_to_lf,
)
from secretops.scan.sources.notebook import NOTEBOOK_SUFFIX
from secretops.scan.sources.stdin import STDIN_ARG, StdinSource
from secretops.scan.sources.stream import BLOCK_BYTES, CHUNK_BYTES, Chunk, Gap, char_count, chunks, transcode

__all__ = [
    "DEFAULT_INCLUDE",
    "FAILING_CLASSES",
    "BatchLimits",
    "FragmentScanner",
    "PathPolicy",
    "Progress",
    "ScanOptions",
    "ScanResult",
    "ScannerFactory",
    "default_jobs",
    "failing",
    "scan_paths",
    "sort_key",
]

log = logging.getLogger(__name__)

DEFAULT_INCLUDE: Final = frozenset({Classification.LEAK, Classification.WEAK_DEFAULT})
FAILING_CLASSES: Final = frozenset({Classification.LEAK, Classification.WEAK_DEFAULT})
# Skips worth naming one by one to the user (the others are only counted).
_NOTABLE_SKIPS: Final = frozenset(
    {
        SkipReason.UNREADABLE,
        SkipReason.MISSING,
        SkipReason.SYMLINK_LOOP,
        SkipReason.ERROR,
        SkipReason.NOT_REGULAR,
        SkipReason.TOO_LARGE,
        SkipReason.ARCHIVE_BOMB,
        SkipReason.ARCHIVE_LIMIT,
        SkipReason.ARCHIVE_DEPTH,
        SkipReason.ENCRYPTED,
        SkipReason.CORRUPT,
    }
)
#: A notebook up to this size is parsed whole (cells, file positions); a bigger one is scanned as text in chunks.
_NOTEBOOK_WHOLE: Final = 64 * 1024 * 1024
_MAX_NOTES: Final = 200
# What a file the walk did not stat counts towards a batch's byte budget.
_TYPICAL_FILE: Final = 16 * 1024


class FragmentScanner(Protocol):
    """What the runner needs from the engine: `secretops.scan.engine.Scanner` fits."""

    def scan(self, fragment: Fragment) -> list[Finding]:
        """All findings of all classes in `fragment`."""
        ...


@runtime_checkable
class BytesPrefilter(Protocol):
    """What the runner's bytes-first path needs (`Scanner` fits): prefilter a file before decoding it."""

    def prefilter_bytes(self, data: bytes) -> list[int] | None:
        """Keyword hits over raw bytes, or None when this scanner can only prefilter text."""
        ...

    def hits_for_text(self, data: bytes, text: str, hits: list[int]) -> list[int]:
        """The hits as character offsets into `text`, decoded from `data`."""
        ...

    def wants_decoders(self, hits: list[int]) -> bool:
        """Whether a text with these hits may hold encoded values for the decoders."""
        ...

    def scan(self, fragment: Fragment, hits: list[int] | None = None) -> list[Finding]:
        """All findings in `fragment`, given its prefilter hits."""
        ...


class PathPolicy(Protocol):
    """What the runner needs from `secretops.scan.config.ScanPolicy`."""

    def path_allowed(self, rel_path: str) -> bool:
        """True when the policy allows (ignores) everything in `rel_path`."""
        ...


ScannerFactory = Callable[[], FragmentScanner]


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How much work one task carries: a batch closes at `files` files or `bytes` bytes."""

    files: int = 64
    bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan. `include` is the set of classes reported; the others are counted in `hidden`.

    `archives` opens archives (`--no-archives` turns it off), nested up to `archive_depth`, at
    most `max_archive_size` bytes decompressed out of each archive file (and no archive file
    larger than that is opened).
    """

    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    follow_symlinks: bool = False
    jobs: int = 1
    include: frozenset[Classification] = DEFAULT_INCLUDE
    keep_secrets: bool = False
    batch: BatchLimits = BatchLimits()
    archives: bool = True
    archive_depth: int = DEFAULT_ARCHIVE_DEPTH
    max_archive_size: int = DEFAULT_MAX_ARCHIVE_SIZE


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a running scan is, for a progress line."""

    files: int
    bytes: int
    seconds: float


@dataclass(slots=True)
class ScanResult:
    """What a scan found.

    `findings` are sorted (see `sort_key`) and hold no raw value unless `keep_secrets` was set.
    `line_hashes[i]` is a stable identity of `findings[i]` that holds no value and does not depend
    on the fingerprint key: sha256 of rule id, path and the finding's line(s) with the secret
    masked, plus `:n` for the n-th identical one (SARIF `partialFingerprints`).
    `hidden` counts findings of classes not in `include`; `skipped` names the files skipped for
    reasons worth telling (unreadable, missing, too large, loops, engine errors), at most 200.
    """

    findings: list[Finding] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    hidden: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    line_hashes: list[str] = field(default_factory=list)

    def failing(self, threshold: Severity | None) -> list[Finding]:
        """The findings that fail the scan at `threshold` (see `failing`)."""
        return failing(self.findings, threshold)


def failing(findings: Iterable[Finding], threshold: Severity | None) -> list[Finding]:
    """Leaks and weak defaults at or above `threshold`; `None` means nothing fails.

    Test credentials and placeholders never fail a scan, even when shown.
    """
    if threshold is None:
        return []
    return [f for f in findings if f.classification in FAILING_CLASSES and f.severity.rank >= threshold.rank]


def sort_key(finding: Finding) -> tuple[str, int, int, int, str, int]:
    """The order of findings in every output: path, cell, line, column, rule id, end line."""
    loc = finding.location
    return (loc.path, loc.cell or 0, loc.line, loc.column, finding.rule_id, loc.end_line)


# --- work done per file (in a worker or in-process) -------------------------------------------------


@dataclass(slots=True)
class _Batch:
    """The outcome of one task: findings with their line keys, counters and notable skips."""

    found: list[tuple[Finding, str]] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    hidden: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    error: SecretOpsError | None = None  # a source task's source failed part-way (git exited)


@dataclass(frozen=True, slots=True)
class _SourceTask:
    """One task that reads its own fragments in the worker: a chunk of a git history."""

    source: Source


Expander = Callable[[Fragment], list[Fragment]]


def _load_expander() -> Expander | None:
    """`secretops.scan.decoders.expand` when that module exists (it is optional)."""
    try:
        module = importlib.import_module("secretops.scan.decoders")
    except ImportError:
        return None
    expand = getattr(module, "expand", None)
    return expand if callable(expand) else None


@dataclass(slots=True)
class _Worker:
    """One scanner and the options, built once per process.

    With a scanner that can prefilter bytes (`BytesPrefilter`: the engine with Hyperscan), each
    file's raw bytes go through the prefilter first, and only a file with a keyword hit is
    decoded and scanned (about half the files of a source tree have none); the decoders run only
    when a decoder keyword was hit. Otherwise every file is decoded and scanned whole.
    """

    scanner: FragmentScanner
    options: ScanOptions
    expand: Expander | None
    fast: BytesPrefilter | None = None
    policy: PathPolicy | None = None

    def __post_init__(self) -> None:
        if self.fast is None and isinstance(self.scanner, BytesPrefilter):
            self.fast = self.scanner

    def note(self, batch: _Batch, skip: Skipped) -> None:
        _note(batch.stats, batch.skipped, skip)

    def scan_fragment(
        self,
        fragment: Fragment,
        batch: _Batch,
        *,
        hits: list[int] | None = None,
        decoders: bool = True,
        accept: Callable[[Location], bool] | None = None,
    ) -> None:
        """Scan one fragment (with its prefilter `hits` when known) and what the decoders find in it.

        `accept` keeps only the findings a chunk answers for (those starting in its core).
        """
        fragments = [fragment]
        if self.expand is not None and decoders:
            try:
                fragments.extend(self.expand(fragment))
            except Exception as exc:  # a decoder bug must not lose the file's own findings
                log.debug("decoders failed on %s: %s", fragment.path, type(exc).__name__)
        for frag in fragments:
            if hits is not None and frag is fragment and self.fast is not None:
                findings = self.fast.scan(frag, hits)
            else:
                findings = self.scanner.scan(frag)
            if not findings:
                continue
            lines: list[str] | None = None
            for finding in findings:
                if accept is not None and not accept(finding.location):
                    continue  # the chunk before or after answers for it
                if finding.classification not in self.options.include:
                    key = str(finding.classification)
                    batch.hidden[key] = batch.hidden.get(key, 0) + 1
                    continue
                if lines is None:
                    lines = frag.text.split("\n")
                line_hash = _line_hash(finding, frag, lines)
                if frag.positions is not None or frag.cell is not None:
                    finding = _relocate(finding, frag, derived=frag is not fragment)
                if not self.options.keep_secrets and finding.secret is not None:
                    finding = dataclasses.replace(finding, secret=None)
                batch.found.append((finding, line_hash))

    def scan_entries(self, entries: Sequence[FileEntry]) -> _Batch:
        """Read, decode and scan a batch of files; a failure on one file never stops the others."""
        batch = _Batch()
        archives = self.options.archives
        for entry in entries:
            try:
                kind = archive_kind(entry.display) if archives else None
                if kind is not None:
                    self.scan_archive_file(entry, kind, batch)
                    continue
                opened = open_entry(entry, self.options.max_file_size)
                if isinstance(opened, Skipped):
                    self.note(batch, opened)
                    continue
                if isinstance(opened, bytes):
                    batch.stats.files += 1
                    batch.stats.bytes += len(opened)
                    self.scan_data(entry.display, opened, batch)
                    continue
                with opened:
                    self.scan_big(entry.display, opened.blocks(), opened.first[:4], batch)
                    if opened.truncated:
                        self.note(batch, _grew(entry.display, opened.limit))
            except Exception as exc:  # an engine bug on one file: say so, go on with the rest
                log.debug("engine failed on %s", entry.display, exc_info=True)
                self.note(batch, Skipped(entry.display, SkipReason.ERROR, f"scanner failed: {type(exc).__name__}"))
        return batch

    def scan_archive_file(self, entry: FileEntry, kind: ArchiveKind, batch: _Batch) -> None:
        """Scan every member of an archive on disk, in memory (see `sources/archive.py`)."""
        opened = open_archive(entry, self.options.max_archive_size)
        if isinstance(opened, Skipped):
            self.note(batch, opened)
            return
        limits = ArchiveLimits(
            depth=self.options.archive_depth,
            max_total=self.options.max_archive_size,
            max_member=self.options.max_file_size,
        )

        def visit(display: str, reader: Reader, size: int | None) -> None:
            name = display.rsplit("!", 1)[-1]
            # The policy's path allowlist sees members as `rel/of/bundle.zip!member/path`.
            if self.policy is not None and self.policy.path_allowed(entry.rel + display[len(entry.display) :]):
                batch.stats.skip(SkipReason.ALLOWLISTED)
                return
            if binary_by_name(name):
                self.note(batch, Skipped(display, SkipReason.BINARY, "binary file type"))
                return
            self.scan_reader(display, reader, batch)

        with opened:
            scan_archive(opened, entry.display, kind, limits, visit, lambda skip: self.note(batch, skip))

    def scan_reader(self, display: str, reader: Reader, batch: _Batch) -> None:
        """Scan one archive member from its stream, like a file: whole up to `CHUNK_BYTES`, else in chunks."""
        limit = self.options.max_file_size
        first = _read_up_to(reader, CHUNK_BYTES + 1)
        if is_binary(first[:BINARY_SNIFF_BYTES]):
            self.note(batch, Skipped(display, SkipReason.BINARY, "NUL byte in the first 8 KiB"))
            return
        if len(first) > limit:
            self.note(batch, Skipped(display, SkipReason.TOO_LARGE, f"more than {limit} bytes"))
            return
        if len(first) <= CHUNK_BYTES:
            batch.stats.files += 1
            batch.stats.bytes += len(first)
            self.scan_data(display, first, batch)
            return
        source = _MemberBlocks(reader, first, limit)
        head = first[:4]
        del first  # held by `source` until the chunker has copied it
        self.scan_big(display, source, head, batch)
        if source.grew:
            self.note(batch, _grew(display, limit))

    def scan_big(self, display: str, blocks: Iterator[bytes | Gap], head: bytes, batch: _Batch) -> None:
        """Scan an input larger than `CHUNK_BYTES` from its blocks (`head`: its first bytes), in chunks."""
        batch.stats.files += 1
        stream: Iterator[bytes | Gap] = _Counted(blocks, batch.stats)
        if display.endswith(NOTEBOOK_SUFFIX):
            whole = _gather(stream, min(self.options.max_file_size, _NOTEBOOK_WHOLE))
            if isinstance(whole, bytes):  # a notebook small enough to parse: cells and file positions
                self.scan_data(display, whole, batch)
                return
            stream = whole
        bom = bom_encoding(head)
        if bom is not None:
            encoding, size = bom
            stream = _drop_prefix(stream, size)
            if encoding != "utf-8":
                stream = transcode(stream, encoding)
        for chunk in chunks(stream):
            self.scan_chunk(display, chunk, batch)

    def scan_chunk(self, display: str, chunk: Chunk, batch: _Batch) -> None:
        """Scan one chunk of a big input; keep the findings that start in its core."""
        data = chunk.data
        fast = self.fast
        hits: list[int] | None = None
        if fast is not None:
            hits = fast.prefilter_bytes(data)
            if hits is not None and not hits:
                return
        text = decode_plain(data)
        if fast is not None and hits is not None:
            hits = fast.hits_for_text(data, text, hits)
        low = _text_position(text, _char_offset(data, text, chunk.core_start))
        high = _text_position(text, _char_offset(data, text, chunk.core_end))
        first_line = chunk.line_offset

        def accept(loc: Location) -> bool:
            return low <= (loc.line - first_line - 1, loc.column - 1) < high

        positions = _Shifted(chunk.line_offset + 1, chunk.column_shift) if chunk.column_shift else None
        fragment = Fragment(text=text, path=display, line_offset=chunk.line_offset, positions=positions)
        decoders = fast.wants_decoders(hits) if fast is not None and hits is not None else True
        self.scan_fragment(fragment, batch, hits=hits, decoders=decoders, accept=accept)

    def scan_fragments(self, fragments: Sequence[Fragment]) -> _Batch:
        """Scan fragments from a source other than files (git history, staged changes)."""
        batch = _Batch()
        for fragment in fragments:  # files are counted by the feed (one per file per commit)
            batch.stats.bytes += len(fragment.text)
            try:
                self.scan_fragment(fragment, batch)
            except Exception as exc:  # an engine bug on one fragment: say so, go on with the rest
                log.debug("engine failed on %s", fragment.path, exc_info=True)
                self.note(batch, Skipped(fragment.path, SkipReason.ERROR, f"scanner failed: {type(exc).__name__}"))
        return batch

    def scan_items(self, items: Sequence[FileEntry] | Sequence[Fragment] | Sequence[_SourceTask]) -> _Batch:
        """One task: a batch of files to read, or of fragments to scan as they are."""
        if items and isinstance(items[0], Fragment):
            return self.scan_fragments(items)  # type: ignore[arg-type]
        if items and isinstance(items[0], _SourceTask):
            return self.scan_source(items[0].source)
        return self.scan_entries(items)  # type: ignore[arg-type]

    def scan_source(self, source: Source) -> _Batch:
        """Read one source here and scan its fragments (a chunk of history, in a worker).

        Counts and skips as the parent's feed does for a source it reads itself; a source that
        fails part-way keeps what it yielded and returns the error for the parent to raise.
        """
        batch = _Batch()
        prefix = getattr(source, "prefix", "")
        top = source_top(source)
        last: tuple[str | None, str] | None = None
        try:
            for item in source.fragments():
                if isinstance(item, Skipped):
                    self.note(batch, item)
                    continue
                if fragment_allowed(self.policy, item.path, prefix, top):
                    batch.stats.skip(SkipReason.ALLOWLISTED)
                    continue
                if (item.commit, item.path) != last:
                    last = (item.commit, item.path)
                    batch.stats.files += 1
                batch.stats.bytes += len(item.text)
                try:
                    self.scan_fragment(item, batch)
                except Exception as exc:  # an engine bug on one fragment: say so, go on
                    log.debug("engine failed on %s", item.path, exc_info=True)
                    self.note(batch, Skipped(item.path, SkipReason.ERROR, f"scanner failed: {type(exc).__name__}"))
        except SecretOpsError as exc:
            batch.error = exc
        return batch

    def scan_data(self, display: str, data: bytes, batch: _Batch) -> None:
        """Scan one file's bytes: prefiltered before decoding when the scanner can, else decoded whole."""
        fast = self.fast
        if fast is not None and not has_bom(data) and not display.endswith(NOTEBOOK_SUFFIX):
            hits = fast.prefilter_bytes(data)
            if hits is not None:
                if not hits:
                    return  # no keyword: no rule can match, no decoder applies
                data = lone_cr_to_lf(data)  # same length: the hits stay where they are
                text = decode_plain(data)
                hits = fast.hits_for_text(data, text, hits)
                fragment = Fragment(text=text, path=display)
                self.scan_fragment(fragment, batch, hits=hits, decoders=fast.wants_decoders(hits))
                return
        for fragment in text_fragments(display, decode_bytes(data)):
            self.scan_fragment(fragment, batch)


@dataclass(frozen=True, slots=True)
class _Shifted:
    """Positions of a chunk that starts in the middle of a line: its first line's columns move right."""

    first_line: int
    shift: int

    def locate(self, line: int, column: int) -> tuple[int, int]:
        return (line, column + self.shift) if line == self.first_line else (line, column)


def _relocate(finding: Finding, fragment: Fragment, *, derived: bool) -> Finding:
    """`finding` at the file's line and column (`fragment.positions`), with the notebook cell in `context`."""
    loc = finding.location
    positions = fragment.positions
    if positions is not None:
        if derived:  # found in decoded text: point at the start of the line that holds the encoded value
            line, column = positions.locate(loc.line, 1)
            end_line, end_column = line, column
        else:
            line, column = positions.locate(loc.line, loc.column)
            if loc.end_column > 1:  # the end is exclusive: place the last character, then step past it
                end_line, end_column = positions.locate(loc.end_line, loc.end_column - 1)
                end_column += 1
            else:
                end_line, end_column = positions.locate(loc.end_line, loc.end_column)
        loc = dataclasses.replace(loc, line=line, column=column, end_line=end_line, end_column=end_column)
    context = finding.context
    if loc.cell is not None:
        context = {**context, "cell": str(loc.cell)}
    return dataclasses.replace(finding, location=loc, context=context)


def _grew(display: str, limit: int) -> Skipped:
    detail = f"grew past {limit} bytes while read: only the first {limit} were scanned"
    return Skipped(display, SkipReason.TOO_LARGE, detail)


def _read_up_to(reader: Reader, size: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while total < size:
        data = reader.read(size - total)
        if not data:
            break
        parts.append(data)
        total += len(data)
    return b"".join(parts)


class _Counted:
    """`blocks`, counting their bytes in `stats` (an iterator object: it keeps no block while paused)."""

    def __init__(self, blocks: Iterator[bytes | Gap], stats: ScanStats) -> None:
        self._blocks = blocks
        self._stats = stats

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> bytes | Gap:
        block = next(self._blocks)
        if isinstance(block, bytes):
            self._stats.bytes += len(block)
        return block


class _MemberBlocks:
    """An archive member's stream as blocks, the first already read; stops at `limit` bytes (then `grew`)."""

    def __init__(self, reader: Reader, first: bytes, limit: int) -> None:
        self._reader = reader
        self._first: bytes | None = first
        self._total = len(first)
        self._limit = limit
        self.grew = False

    def __iter__(self) -> _MemberBlocks:
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


def _gather(blocks: Iterator[bytes | Gap], limit: int) -> bytes | Iterator[bytes | Gap]:
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


def _drop_prefix(blocks: Iterator[bytes | Gap], size: int) -> Iterator[bytes | Gap]:
    """`blocks` without their first `size` bytes (a byte order mark)."""
    for block in blocks:
        if size and isinstance(block, bytes):
            block, size = block[size:], max(0, size - len(block))
        yield block


def _char_offset(data: bytes, text: str, offset: int) -> int:
    """The character offset in `text` (decoded from `data`) of byte `offset`, a character boundary."""
    if len(text) == len(data):  # ASCII, or decoded as Latin-1
        return offset
    return char_count(data[:offset])


def _text_position(text: str, offset: int) -> tuple[int, int]:
    """(line index, column index) of `offset` in `text`, both 0-based."""
    return text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)


def _line_hash(finding: Finding, fragment: Fragment, lines: list[str]) -> str:
    """sha256 of rule id, path and the finding's masked line(s): stable across machines, no value."""
    loc = finding.location
    first = loc.line - fragment.line_offset - 1
    last = max(loc.end_line - fragment.line_offset - 1, first)
    snippet = ""
    if 0 <= first < len(lines):
        chunk = lines[first : last + 1]
        if len(chunk) == 1:
            line = chunk[0]
            snippet = line[: max(loc.column - 1, 0)] + finding.preview + line[max(loc.end_column - 1, 0) :]
        else:
            head = chunk[0][: max(loc.column - 1, 0)]
            tail = chunk[-1][max(loc.end_column - 1, 0) :]
            snippet = head + finding.preview + tail
        if finding.secret is not None and len(finding.secret) >= 4:
            snippet = snippet.replace(finding.secret.reveal(), finding.preview)
    normalized = " ".join(snippet.split())
    material = "\x00".join((finding.rule_id, loc.path, str(loc.cell or ""), normalized))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# --- worker processes -------------------------------------------------------------------------------

_STATE: _Worker | None = None
_FACTORY: ScannerFactory | None = None
_INIT_ERROR: str | None = None


def _init_worker(factory: ScannerFactory | None, options: ScanOptions, policy: PathPolicy | None = None) -> None:
    """Pool initializer: keep the inherited scanner (fork) or build one (spawn)."""
    global _STATE, _INIT_ERROR
    if _STATE is not None:
        return
    try:
        assert factory is not None
        _STATE = _Worker(factory(), options, _load_expander(), policy=policy)
    except Exception as exc:  # reported by the first task, not by a dying pool
        _INIT_ERROR = f"{type(exc).__name__}: {exc}"


def _run_batch(items: _Task) -> _Batch:
    if _STATE is None:
        raise SecretOpsError(f"scan worker could not start ({_INIT_ERROR})", hint="rerun with --jobs 1")
    return _STATE.scan_items(items)


def _mp_context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


# --- the parent -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Walker:
    """Turns the targets into batches of files, counting skips (runs in the pool's feeder thread)."""

    targets: Sequence[str]
    options: ScanOptions
    policy: PathPolicy | None
    stats: ScanStats = field(default_factory=ScanStats)
    skipped: list[Skipped] = field(default_factory=list)

    def _skip(self, skip: Skipped) -> None:
        _note(self.stats, self.skipped, skip)

    def _allowed(self, entry: FileEntry) -> bool:
        if self.policy is None:
            return False
        allowed = self.policy.path_allowed
        if allowed(entry.rel) or (entry.display != entry.rel and allowed(entry.display)):
            return True
        file_allowed = getattr(self.policy, "file_allowed", None)  # .secretopsignore, discovered config
        return file_allowed is not None and bool(file_allowed(entry.path))

    def batches(self) -> Iterator[list[FileEntry]]:
        limits = self.options.batch
        batch: list[FileEntry] = []
        size = 0
        for target in self.targets:
            if target == STDIN_ARG:
                continue
            for item in walk(
                target,
                max_file_size=self.options.max_file_size,
                respect_gitignore=self.options.respect_gitignore,
                follow_symlinks=self.options.follow_symlinks,
                archives=self.options.archives,
                max_archive_size=self.options.max_archive_size,
            ):
                if isinstance(item, Skipped):
                    self._skip(item)
                    continue
                if self._allowed(item):
                    self.stats.skip(SkipReason.ALLOWLISTED)
                    continue
                batch.append(item)
                size += max(item.size, _TYPICAL_FILE)
                if len(batch) >= limits.files or size >= limits.bytes:
                    yield batch
                    batch, size = [], 0
        if batch:
            yield batch


@dataclass(slots=True)
class _Feed:
    """Turns other sources' fragments into batches (git history, staged changes), like `_Walker` files.

    A source that fails part-way (git exits with an error) keeps what it yielded so far; the
    error is kept in `error` and raised by `scan_paths` once the batches already sent are done.
    """

    sources: Sequence[Source]
    options: ScanOptions
    policy: PathPolicy | None
    stats: ScanStats = field(default_factory=ScanStats)
    skipped: list[Skipped] = field(default_factory=list)
    error: SecretOpsError | None = None

    def batches(self) -> Iterator[list[Fragment] | list[_SourceTask]]:
        limits = self.options.batch
        batch: list[Fragment] = []
        size = 0
        last: tuple[str | None, str] | None = None
        try:
            for source in self.sources:
                split = getattr(source, "split", None)  # a long history: chunks read by the workers
                chunks = split(self.options.jobs) if split is not None else None
                if chunks:
                    if batch:
                        yield batch
                        batch, size = [], 0
                    # Oldest first: the chunk holding the root commit (a whole tree imported at
                    # once) is often the biggest, and dispatched last it leaves the other workers
                    # idle at the end. Findings are sorted at the end, whatever the order.
                    for chunk in reversed(chunks):
                        yield [_SourceTask(chunk)]
                    continue
                prefix = getattr(source, "prefix", "")  # what the source puts before repository paths
                top = source_top(source)
                for item in source.fragments():
                    if isinstance(item, Skipped):
                        _note(self.stats, self.skipped, item)
                        continue
                    if fragment_allowed(self.policy, item.path, prefix, top):
                        self.stats.skip(SkipReason.ALLOWLISTED)
                        continue
                    if (item.commit, item.path) != last:
                        last = (item.commit, item.path)
                        self.stats.files += 1  # a file as changed by one commit, whatever its hunks
                    batch.append(item)
                    size += len(item.text)
                    if len(batch) >= limits.files or size >= limits.bytes:
                        yield batch
                        batch, size = [], 0
        except SecretOpsError as exc:
            self.error = exc
        if batch:
            yield batch


def fragment_allowed(policy: PathPolicy | None, path: str, prefix: str, top: str | None = None) -> bool:
    """The policy's path allowlist on a source's fragment: the path as shown and relative to its
    repository, whose work tree's top is `top` (`source_top`: looked up once per source)."""
    if policy is None:
        return False
    rel = path[len(prefix) :] if prefix and path.startswith(prefix) else path
    if policy.path_allowed(rel) or (rel != path and policy.path_allowed(path)):
        return True
    file_allowed = getattr(policy, "file_allowed", None)  # .secretopsignore, discovered config
    if file_allowed is None or top is None:
        return False
    return bool(file_allowed(os.path.join(top, rel)))


def source_top(source: Source) -> str | None:
    """The top of the work tree a source's paths are relative to (git names paths from there)."""
    repo = getattr(source, "repo", None)
    if repo is None:
        return None
    return find_git_top(repo) or repo


def _note(stats: ScanStats, skipped: list[Skipped], skip: Skipped) -> None:
    """Count a skip; keep it to tell the user when it is worth naming (at most `_MAX_NOTES`)."""
    stats.skip(skip.reason)
    if skip.reason in _NOTABLE_SKIPS and len(skipped) < _MAX_NOTES:
        skipped.append(skip)


def _merge(into: _Batch, part: _Batch) -> None:
    if part.error is not None and into.error is None:
        into.error = part.error
    into.found.extend(part.found)
    into.stats.files += part.stats.files
    into.stats.bytes += part.stats.bytes
    for reason, count in part.stats.skipped.items():
        into.stats.skipped[reason] = into.stats.skipped.get(reason, 0) + count
    for cls, count in part.hidden.items():
        into.hidden[cls] = into.hidden.get(cls, 0) + count
    room = _MAX_NOTES - len(into.skipped)
    if room > 0:
        into.skipped.extend(part.skipped[:room])


def scan_paths(
    targets: Sequence[str],
    factory: ScannerFactory,
    *,
    policy: PathPolicy | None = None,
    options: ScanOptions | None = None,
    stdin: BinaryIO | None = None,
    progress: Callable[[Progress], None] | None = None,
    sources: Sequence[Source] = (),
) -> ScanResult:
    """Scan files, folders, `-` (standard input, read from `stdin` or `sys.stdin.buffer`) and `sources`.

    `sources` yield fragments of their own (`secretops.scan.sources.git`): they are batched and
    scanned like files, after them; a source's `SourceError` is raised once the rest is done.

    `factory` builds the scanner; it is called once in this process, and once per worker only
    where workers cannot inherit it (no fork). A missing or unreadable target is skipped and
    named in `ScanResult.skipped`; the scan goes on. `progress` is called after each batch.
    """
    global _STATE
    opts = options or ScanOptions()
    started = time.perf_counter()
    state = _Worker(factory(), opts, _load_expander(), policy=policy)
    total = _Batch()

    if STDIN_ARG in targets:
        source = StdinSource(stdin, max_size=opts.max_file_size)
        text = source.read()
        if isinstance(text, Skipped):
            state.note(total, text)
        else:
            total.stats.files += 1
            total.stats.bytes += len(text)
            for fragment in source.split(text):
                state.scan_fragment(fragment, total)

    walker = _Walker(targets, opts, policy)
    feed = _Feed(sources, opts, policy)
    batches: Iterator[_Task] = itertools.chain(walker.batches(), feed.batches())

    def report() -> None:
        if progress is not None:
            progress(Progress(total.stats.files, total.stats.bytes, time.perf_counter() - started))

    first = next(batches, None)
    second = next(batches, None) if first is not None else None
    ctx = _mp_context()
    fork = ctx.get_start_method() == "fork"
    parallel = second is not None and opts.jobs > 1 and (fork or _picklable((factory, policy)))
    if first is not None and not parallel:
        # One batch, one job, or a scanner a spawned worker could not rebuild: stay in-process.
        for batch in _chain(first, second, batches):
            _merge(total, state.scan_items(batch))
            report()
    elif first is not None:
        previous = _STATE
        _STATE = state if fork else None  # forked workers inherit the scanner built above
        if fork and any(t and isinstance(t[0], _SourceTask) for t in (first, second)):
            # A long history: the workers will use most rules, and each would compile them again.
            compile_all = getattr(state.scanner, "compile_all", None)
            if compile_all is not None:
                compile_all()
        if fork:
            # Move everything built so far (rules, scanner, imported modules) out of the cyclic
            # GC's reach: a collection in a forked worker would otherwise write to every one of
            # those objects and copy the parent's heap page by page.
            gc.freeze()
        try:
            initargs = (None if fork else factory, opts, None if fork else policy)
            with ctx.Pool(opts.jobs, initializer=_init_worker, initargs=initargs) as pool:
                for part in pool.imap_unordered(_run_batch, _chain(first, second, batches)):
                    _merge(total, part)
                    report()
        finally:
            _STATE = previous
            if fork:
                gc.unfreeze()

    _merge(total, _Batch(stats=walker.stats, skipped=walker.skipped))
    _merge(total, _Batch(stats=feed.stats, skipped=feed.skipped))
    if feed.error is not None:
        raise feed.error
    if total.error is not None:  # a chunk's git failed in a worker
        raise total.error
    total.found.sort(key=lambda pair: sort_key(pair[0]))
    total.skipped.sort(key=lambda s: (s.path, s.reason))
    total.stats.seconds = time.perf_counter() - started
    return ScanResult(
        findings=[f for f, _ in total.found],
        stats=total.stats,
        hidden=total.hidden,
        skipped=total.skipped,
        line_hashes=_number_duplicates([h for _, h in total.found]),
    )


_Task = list[FileEntry] | list[Fragment] | list[_SourceTask]


def _chain(first: _Task, second: _Task | None, rest: Iterator[_Task]) -> Iterator[_Task]:
    yield first
    if second is not None:
        yield second
        yield from rest


def _picklable(obj: object) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


def _number_duplicates(hashes: list[str]) -> list[str]:
    """`h`, then `h:2`, `h:3`... for identical keys, so each finding keeps its own identity."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for h in hashes:
        n = seen.get(h, 0) + 1
        seen[h] = n
        out.append(f"{h}:{n}")
    return out


def default_jobs() -> int:
    """The default `--jobs`: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
