"""Sources: where the scanner's text comes from (files and folders, standard input, notebooks, git)."""

from __future__ import annotations

from secretops.scan.sources.files import FileEntry, FilesSource, walk
from secretops.scan.sources.interface import Skipped, SkipReason, Source, SourceError, decode_bytes
from secretops.scan.sources.stdin import StdinSource

__all__ = [
    "SOURCES",
    "FileEntry",
    "FilesSource",
    "SkipReason",
    "Skipped",
    "Source",
    "SourceError",
    "StdinSource",
    "decode_bytes",
    "walk",
]

SOURCES: dict[str, type[Source]] = {FilesSource.id: FilesSource, StdinSource.id: StdinSource}
