"""The parent's side of the work: targets and sources cut into tasks for the workers.

`Walker` walks the targets (one `lstat` per file) into batches of about 64 files or 4 MiB,
dropping what the policy's path allowlist allows; `Feed` batches other sources' fragments (git
history, staged changes), and hands a long history over as chunks (`SourceTask`) that the
workers read themselves. `fragment_allowed` and `source_top` apply the path allowlist to a
source's fragments, here and in a worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from secretops.errors import SecretOpsError
from secretops.scan.models import Fragment, ScanStats
from secretops.scan.runner.interface import PathPolicy, ScanOptions
from secretops.scan.runner.merge import note_skip
from secretops.scan.sources.files import FileEntry, find_git_top, walk
from secretops.scan.sources.interface import Skipped, SkipReason, Source
from secretops.scan.sources.stdin import STDIN_ARG

# What a file the walk did not stat counts towards a batch's byte budget.
_TYPICAL_FILE: Final = 16 * 1024


@dataclass(frozen=True, slots=True)
class SourceTask:
    """One task that reads its own fragments in the worker: a chunk of a git history."""

    source: Source


Task = list[FileEntry] | list[Fragment] | list[SourceTask]


@dataclass(slots=True)
class Walker:
    """Turns the targets into batches of files, counting skips (runs in the pool's feeder thread)."""

    targets: Sequence[str]
    options: ScanOptions
    policy: PathPolicy | None
    stats: ScanStats = field(default_factory=ScanStats)
    skipped: list[Skipped] = field(default_factory=list)

    def _skip(self, skip: Skipped) -> None:
        note_skip(self.stats, self.skipped, skip)

    def _allowed(self, entry: FileEntry) -> bool:
        if self.policy is None:
            return False
        entry_allowed = getattr(self.policy, "entry_allowed", None)  # ScanPolicy: each distinct path once
        if entry_allowed is not None:
            return bool(entry_allowed(entry.rel, entry.display, entry.path))
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
class Feed:
    """Turns other sources' fragments into batches (git history, staged changes), like `Walker` files.

    A source that fails part-way (git exits with an error) keeps what it yielded so far; the
    error is kept in `error` and raised by `scan_paths` once the batches already sent are done.
    """

    sources: Sequence[Source]
    options: ScanOptions
    policy: PathPolicy | None
    stats: ScanStats = field(default_factory=ScanStats)
    skipped: list[Skipped] = field(default_factory=list)
    error: SecretOpsError | None = None

    def batches(self) -> Iterator[list[Fragment] | list[SourceTask]]:
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
                        yield [SourceTask(chunk)]
                    continue
                prefix = getattr(source, "prefix", "")  # what the source puts before repository paths
                top = source_top(source)
                for item in source.fragments():
                    if isinstance(item, Skipped):
                        note_skip(self.stats, self.skipped, item)
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
    entry_allowed = getattr(policy, "entry_allowed", None)  # ScanPolicy: each distinct path once
    if entry_allowed is not None:
        return bool(entry_allowed(rel, path, None if top is None else os.path.join(top, rel)))
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
