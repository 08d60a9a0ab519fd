"""Work done per file, in a worker process or in-process: read, decode, scan, keep what `include` shows.

`Worker` holds one scanner and the options, built once per process. A file's bytes go through
the scanner's bytes prefilter first when it has one (`BytesPrefilter`); files over `CHUNK_BYTES`
and archive members as big are scanned in overlapping chunks (`sources/stream.py`), a finding
counting in the chunk whose core holds its start; archives are opened in memory
(`sources/archive.py`). A fragment with `positions` (a notebook cell, a chunk starting mid-line)
has its findings moved to the file's coordinates (`positions.relocate`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from secretops.errors import SecretOpsError
from secretops.scan.models import Fragment, Location
from secretops.scan.runner.blocks import Counted, MemberBlocks, drop_prefix, gather, grew_skip
from secretops.scan.runner.feed import SourceTask, fragment_allowed, source_top
from secretops.scan.runner.interface import BytesPrefilter, FragmentScanner, PathPolicy, ScanOptions
from secretops.scan.runner.merge import Batch, masked_line_hash, note_skip
from secretops.scan.runner.positions import Shifted, char_offset, relocate, text_position
from secretops.scan.sources.archive import ArchiveKind, ArchiveLimits, Reader, archive_kind, read_up_to, scan_archive
from secretops.scan.sources.files import FileEntry, binary_by_name, open_archive, open_entry, text_fragments
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
from secretops.scan.sources.stream import CHUNK_BYTES, Chunk, Gap, chunks, transcode

log = logging.getLogger(__name__)

#: A notebook up to this size is parsed whole (cells, file positions); a bigger one is scanned as text in chunks.
_NOTEBOOK_WHOLE: Final = 64 * 1024 * 1024

Expander = Callable[[Fragment], list[Fragment]]


@dataclass(slots=True)
class Worker:
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

    def note(self, batch: Batch, skip: Skipped) -> None:
        note_skip(batch.stats, batch.skipped, skip)

    def scan_fragment(
        self,
        fragment: Fragment,
        batch: Batch,
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
                line_hash = masked_line_hash(finding, frag, lines)
                if frag.positions is not None or frag.cell is not None:
                    finding = relocate(finding, frag, derived=frag is not fragment)
                if not self.options.keep_secrets and finding.secret is not None:
                    finding = dataclasses.replace(finding, secret=None)
                batch.found.append((finding, line_hash))

    def scan_entries(self, entries: Sequence[FileEntry]) -> Batch:
        """Read, decode and scan a batch of files; a failure on one file never stops the others."""
        batch = Batch()
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
                        self.note(batch, grew_skip(entry.display, opened.limit))
            except Exception as exc:  # an engine bug on one file: say so, go on with the rest
                log.debug("engine failed on %s", entry.display, exc_info=True)
                self.note(batch, Skipped(entry.display, SkipReason.ERROR, f"scanner failed: {type(exc).__name__}"))
        return batch

    def scan_archive_file(self, entry: FileEntry, kind: ArchiveKind, batch: Batch) -> None:
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

    def scan_reader(self, display: str, reader: Reader, batch: Batch) -> None:
        """Scan one archive member from its stream, like a file: whole up to `CHUNK_BYTES`, else in chunks."""
        limit = self.options.max_file_size
        first = read_up_to(reader, CHUNK_BYTES + 1)
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
        source = MemberBlocks(reader, first, limit)
        head = first[:4]
        del first  # held by `source` until the chunker has copied it
        self.scan_big(display, source, head, batch)
        if source.grew:
            self.note(batch, grew_skip(display, limit))

    def scan_big(self, display: str, blocks: Iterator[bytes | Gap], head: bytes, batch: Batch) -> None:
        """Scan an input larger than `CHUNK_BYTES` from its blocks (`head`: its first bytes), in chunks."""
        batch.stats.files += 1
        stream: Iterator[bytes | Gap] = Counted(blocks, batch.stats)
        if display.endswith(NOTEBOOK_SUFFIX):
            whole = gather(stream, min(self.options.max_file_size, _NOTEBOOK_WHOLE))
            if isinstance(whole, bytes):  # a notebook small enough to parse: cells and file positions
                self.scan_data(display, whole, batch)
                return
            stream = whole
        bom = bom_encoding(head)
        if bom is not None:
            encoding, size = bom
            stream = drop_prefix(stream, size)
            if encoding != "utf-8":
                stream = transcode(stream, encoding)
        for chunk in chunks(stream):
            self.scan_chunk(display, chunk, batch)

    def scan_chunk(self, display: str, chunk: Chunk, batch: Batch) -> None:
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
        low = text_position(text, char_offset(data, text, chunk.core_start))
        high = text_position(text, char_offset(data, text, chunk.core_end))
        first_line = chunk.line_offset

        def accept(loc: Location) -> bool:
            return low <= (loc.line - first_line - 1, loc.column - 1) < high

        positions = Shifted(chunk.line_offset + 1, chunk.column_shift) if chunk.column_shift else None
        fragment = Fragment(text=text, path=display, line_offset=chunk.line_offset, positions=positions)
        decoders = fast.wants_decoders(hits) if fast is not None and hits is not None else True
        self.scan_fragment(fragment, batch, hits=hits, decoders=decoders, accept=accept)

    def scan_fragments(self, fragments: Sequence[Fragment]) -> Batch:
        """Scan fragments from a source other than files (git history, staged changes)."""
        batch = Batch()
        for fragment in fragments:  # files are counted by the feed (one per file per commit)
            batch.stats.bytes += len(fragment.text)
            try:
                self.scan_fragment(fragment, batch)
            except Exception as exc:  # an engine bug on one fragment: say so, go on with the rest
                log.debug("engine failed on %s", fragment.path, exc_info=True)
                self.note(batch, Skipped(fragment.path, SkipReason.ERROR, f"scanner failed: {type(exc).__name__}"))
        return batch

    def scan_items(self, items: Sequence[FileEntry] | Sequence[Fragment] | Sequence[SourceTask]) -> Batch:
        """One task: a batch of files to read, or of fragments to scan as they are."""
        if items and isinstance(items[0], Fragment):
            return self.scan_fragments(items)  # type: ignore[arg-type]
        if items and isinstance(items[0], SourceTask):
            return self.scan_source(items[0].source)
        return self.scan_entries(items)  # type: ignore[arg-type]

    def scan_source(self, source: Source) -> Batch:
        """Read one source here and scan its fragments (a chunk of history, in a worker).

        Counts and skips as the parent's feed does for a source it reads itself; a source that
        fails part-way keeps what it yielded and returns the error for the parent to raise.
        """
        batch = Batch()
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

    def scan_data(self, display: str, data: bytes, batch: Batch) -> None:
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
