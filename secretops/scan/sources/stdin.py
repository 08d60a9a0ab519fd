"""Standard input (`secretops scan -`): read once, decoded like a file, reported as `<stdin>`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import BinaryIO, Final

from secretops.scan.models import Fragment
from secretops.scan.sources.files import DEFAULT_MAX_FILE_SIZE
from secretops.scan.sources.interface import Skipped, SkipReason, Source, decode_bytes, is_binary, lone_cr_to_lf_text
from secretops.scan.sources.notebook import notebook_fragments

__all__ = ["STDIN_ARG", "STDIN_PATH", "StdinSource"]

STDIN_ARG: Final = "-"
STDIN_PATH: Final = "<stdin>"


class StdinSource(Source):
    """Everything on standard input as one fragment (or one per cell if it is a notebook).

    `stream` defaults to `sys.stdin.buffer`; tests pass a `BytesIO`. At most `max_size` bytes are
    read: more than that is skipped as too large, like a file.
    """

    id = "stdin"

    def __init__(
        self, stream: BinaryIO | None = None, *, max_size: int = DEFAULT_MAX_FILE_SIZE, path: str = STDIN_PATH
    ) -> None:
        self._stream = stream
        self.max_size = max_size
        self.path = path

    def read(self) -> str | Skipped:
        """The decoded text, or why it was skipped."""
        stream = self._stream if self._stream is not None else sys.stdin.buffer
        try:
            data = stream.read(self.max_size + 1)
        except (OSError, ValueError) as exc:  # ValueError: closed stream
            return Skipped(self.path, SkipReason.UNREADABLE, str(exc) or type(exc).__name__)
        if len(data) > self.max_size:
            return Skipped(self.path, SkipReason.TOO_LARGE, f"more than {self.max_size} bytes")
        if is_binary(data):
            return Skipped(self.path, SkipReason.BINARY, "NUL byte in the first 8 KiB")
        return decode_bytes(data)

    def split(self, text: str) -> list[Fragment]:
        """The fragments of the decoded input: one per cell for a notebook, else one (lone `\r` ends lines)."""
        text = lone_cr_to_lf_text(text)
        if text.lstrip().startswith("{") and '"cells"' in text:
            cells = notebook_fragments(text, self.path)
            if cells is not None:
                return cells
        return [Fragment(text=text, path=self.path)]

    def fragments(self) -> Iterator[Fragment | Skipped]:
        """One fragment with the whole input; a notebook on stdin is split into cells."""
        text = self.read()
        if isinstance(text, Skipped):
            yield text
        else:
            yield from self.split(text)
