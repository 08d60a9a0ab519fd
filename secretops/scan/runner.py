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
from secretops.scan.models import Classification, Finding, Fragment, ScanStats, Severity
from secretops.scan.sources.files import DEFAULT_MAX_FILE_SIZE, FileEntry, file_fragments, is_notebook, read_bytes, walk
from secretops.scan.sources.interface import Skipped, SkipReason, Source, decode_bytes, decode_plain, has_bom
from secretops.scan.sources.stdin import STDIN_ARG, StdinSource

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
    }
)
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
    """How to scan. `include` is the set of classes reported; the others are counted in `hidden`."""

    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    follow_symlinks: bool = False
    jobs: int = 1
    include: frozenset[Classification] = DEFAULT_INCLUDE
    keep_secrets: bool = False
    batch: BatchLimits = BatchLimits()


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

    def __post_init__(self) -> None:
        if self.fast is None and isinstance(self.scanner, BytesPrefilter):
            self.fast = self.scanner

    def note(self, batch: _Batch, skip: Skipped) -> None:
        _note(batch.stats, batch.skipped, skip)

    def scan_fragment(
        self, fragment: Fragment, batch: _Batch, *, hits: list[int] | None = None, decoders: bool = True
    ) -> None:
        """Scan one fragment (with its prefilter `hits` when known) and what the decoders find in it."""
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
                if finding.classification not in self.options.include:
                    key = str(finding.classification)
                    batch.hidden[key] = batch.hidden.get(key, 0) + 1
                    continue
                if lines is None:
                    lines = frag.text.split("\n")
                line_hash = _line_hash(finding, frag, lines)
                if not self.options.keep_secrets and finding.secret is not None:
                    finding = dataclasses.replace(finding, secret=None)
                batch.found.append((finding, line_hash))

    def scan_entries(self, entries: Sequence[FileEntry]) -> _Batch:
        """Read, decode and scan a batch of files; a failure on one file never stops the others."""
        batch = _Batch()
        for entry in entries:
            data = read_bytes(entry, self.options.max_file_size)
            if isinstance(data, Skipped):
                self.note(batch, data)
                continue
            batch.stats.files += 1
            batch.stats.bytes += len(data)
            try:
                self.scan_data(entry, data, batch)
            except Exception as exc:  # an engine bug on one file: say so, go on with the rest
                log.debug("engine failed on %s", entry.display, exc_info=True)
                self.note(batch, Skipped(entry.display, SkipReason.ERROR, f"scanner failed: {type(exc).__name__}"))
        return batch

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

    def scan_items(self, items: Sequence[FileEntry] | Sequence[Fragment]) -> _Batch:
        """One task: a batch of files to read, or of fragments to scan as they are."""
        if items and isinstance(items[0], Fragment):
            return self.scan_fragments(items)  # type: ignore[arg-type]
        return self.scan_entries(items)  # type: ignore[arg-type]

    def scan_data(self, entry: FileEntry, data: bytes, batch: _Batch) -> None:
        """Scan one file's bytes: prefiltered before decoding when the scanner can, else decoded whole."""
        fast = self.fast
        if fast is not None and not has_bom(data) and not is_notebook(entry):
            hits = fast.prefilter_bytes(data)
            if hits is not None:
                if not hits:
                    return  # no keyword: no rule can match, no decoder applies
                text = decode_plain(data)
                hits = fast.hits_for_text(data, text, hits)
                fragment = Fragment(text=text, path=entry.display)
                self.scan_fragment(fragment, batch, hits=hits, decoders=fast.wants_decoders(hits))
                return
        for fragment in file_fragments(entry, decode_bytes(data)):
            self.scan_fragment(fragment, batch)


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


def _init_worker(factory: ScannerFactory | None, options: ScanOptions) -> None:
    """Pool initializer: keep the inherited scanner (fork) or build one (spawn)."""
    global _STATE, _INIT_ERROR
    if _STATE is not None:
        return
    try:
        assert factory is not None
        _STATE = _Worker(factory(), options, _load_expander())
    except Exception as exc:  # reported by the first task, not by a dying pool
        _INIT_ERROR = f"{type(exc).__name__}: {exc}"


def _run_batch(items: list[FileEntry] | list[Fragment]) -> _Batch:
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
        return allowed(entry.rel) or (entry.display != entry.rel and allowed(entry.display))

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

    def batches(self) -> Iterator[list[Fragment]]:
        limits = self.options.batch
        batch: list[Fragment] = []
        size = 0
        last: tuple[str | None, str] | None = None
        try:
            for source in self.sources:
                prefix = getattr(source, "prefix", "")  # what the source puts before repository paths
                for item in source.fragments():
                    if isinstance(item, Skipped):
                        _note(self.stats, self.skipped, item)
                        continue
                    if self._allowed(item.path, prefix):
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

    def _allowed(self, path: str, prefix: str) -> bool:
        """The policy's path allowlist, on the path as shown and relative to its repository."""
        if self.policy is None:
            return False
        rel = path[len(prefix) :] if prefix and path.startswith(prefix) else path
        return self.policy.path_allowed(rel) or (rel != path and self.policy.path_allowed(path))


def _note(stats: ScanStats, skipped: list[Skipped], skip: Skipped) -> None:
    """Count a skip; keep it to tell the user when it is worth naming (at most `_MAX_NOTES`)."""
    stats.skip(skip.reason)
    if skip.reason in _NOTABLE_SKIPS and len(skipped) < _MAX_NOTES:
        skipped.append(skip)


def _merge(into: _Batch, part: _Batch) -> None:
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
    state = _Worker(factory(), opts, _load_expander())
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
    batches: Iterator[list[FileEntry] | list[Fragment]] = itertools.chain(walker.batches(), feed.batches())

    def report() -> None:
        if progress is not None:
            progress(Progress(total.stats.files, total.stats.bytes, time.perf_counter() - started))

    first = next(batches, None)
    second = next(batches, None) if first is not None else None
    ctx = _mp_context()
    fork = ctx.get_start_method() == "fork"
    parallel = second is not None and opts.jobs > 1 and (fork or _picklable(factory))
    if first is not None and not parallel:
        # One batch, one job, or a scanner a spawned worker could not rebuild: stay in-process.
        for batch in _chain(first, second, batches):
            _merge(total, state.scan_items(batch))
            report()
    elif first is not None:
        previous = _STATE
        _STATE = state if fork else None  # forked workers inherit the scanner built above
        if fork:
            # Move everything built so far (rules, scanner, imported modules) out of the cyclic
            # GC's reach: a collection in a forked worker would otherwise write to every one of
            # those objects and copy the parent's heap page by page.
            gc.freeze()
        try:
            initargs = (None if fork else factory, opts)
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


_Task = list[FileEntry] | list[Fragment]


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
