"""`scan_paths`, the one entry point: in-process, or over a pool of worker processes.

The parent builds the scanner once, scans standard input itself, and hands the batches of
`feed.Walker` and `feed.Feed` to a `multiprocessing` pool (fork context on Linux: the workers
inherit the scanner; spawn elsewhere: the initializer builds one) or, for one batch or one job,
scans them in-process. `merge` adds up the batches as they finish; the findings are sorted at
the end.
"""

from __future__ import annotations

import gc
import importlib
import itertools
import multiprocessing
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from secretops.errors import SecretOpsError
from secretops.scan.runner.feed import Feed, SourceTask, Task, Walker
from secretops.scan.runner.interface import PathPolicy, Progress, ScannerFactory, ScanOptions, ScanResult, sort_key
from secretops.scan.runner.merge import Batch, merge, number_duplicates
from secretops.scan.runner.worker import Expander, Worker
from secretops.scan.sources.interface import Skipped, Source
from secretops.scan.sources.stdin import STDIN_ARG, StdinSource

_STATE: Worker | None = None

_FACTORY: ScannerFactory | None = None

_INIT_ERROR: str | None = None


def _load_expander() -> Expander | None:
    """`secretops.scan.decoders.expand` when that module exists (it is optional)."""
    try:
        module = importlib.import_module("secretops.scan.decoders")
    except ImportError:
        return None
    expand = getattr(module, "expand", None)
    return expand if callable(expand) else None


def _init_worker(factory: ScannerFactory | None, options: ScanOptions, policy: PathPolicy | None = None) -> None:
    """Pool initializer: keep the inherited scanner (fork) or build one (spawn)."""
    global _STATE, _INIT_ERROR
    if _STATE is not None:
        return
    try:
        assert factory is not None
        _STATE = Worker(factory(), options, _load_expander(), policy=policy)
    except Exception as exc:  # reported by the first task, not by a dying pool
        _INIT_ERROR = f"{type(exc).__name__}: {exc}"


def _run_batch(items: Task) -> Batch:
    if _STATE is None:
        raise SecretOpsError(f"scan worker could not start ({_INIT_ERROR})", hint="rerun with --jobs 1")
    return _STATE.scan_items(items)


def _mp_context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


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
    state = Worker(factory(), opts, _load_expander(), policy=policy)
    total = Batch()

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

    walker = Walker(targets, opts, policy)
    feed = Feed(sources, opts, policy)
    batches: Iterator[Task] = itertools.chain(walker.batches(), feed.batches())

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
            merge(total, state.scan_items(batch))
            report()
    elif first is not None:
        previous = _STATE
        _STATE = state if fork else None  # forked workers inherit the scanner built above
        if fork and any(t and isinstance(t[0], SourceTask) for t in (first, second)):
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
                    merge(total, part)
                    report()
        finally:
            _STATE = previous
            if fork:
                gc.unfreeze()

    merge(total, Batch(stats=walker.stats, skipped=walker.skipped))
    merge(total, Batch(stats=feed.stats, skipped=feed.skipped))
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
        line_hashes=number_duplicates([h for _, h in total.found]),
    )


def _chain(first: Task, second: Task | None, rest: Iterator[Task]) -> Iterator[Task]:
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


def default_jobs() -> int:
    """The default `--jobs`: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
