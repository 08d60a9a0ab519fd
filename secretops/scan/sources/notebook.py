"""Jupyter notebooks: each cell's source and its text outputs, reported where they are in the `.ipynb` file.

A notebook is JSON: scanning it as text would see `\\n` and `\\"` escapes where the code has line
ends and quotes. Instead each cell becomes one `Fragment` (`cell` set: the 1-based position of
the cell in the notebook) whose text is the cell source followed by its text outputs: stream
output, `text/*` and JSON results, and error outputs (`evalue`, `traceback`). ANSI escape
sequences (the colours of tracebacks and coloured logs) are left out of outputs.

Findings are reported at the line and column of the `.ipynb` file itself, as editors, GitHub code
scanning and `--baseline` line matching count them: the parser records where each JSON string
starts in the file, and `CellPositions` maps a place in the cell text back through the string's
escapes (`\\n`, `\\"`, `\\u00e9` and surrogate pairs each count their own length in the file).
A cell source given as one string puts several cell lines on one file line, at their columns.
A JSON output held as an object (not a string) is scanned as its raw text in the file.

Images and other binary outputs are not scanned. nbformat 4 and the older `worksheets` layout
(nbformat 3) are read; anything that is not a notebook yields `None`, and the caller scans the
file as text (then line numbers are the file's anyway).
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from secretops.scan.models import Fragment

__all__ = ["NOTEBOOK_SUFFIX", "CellPositions", "notebook_fragments"]

NOTEBOOK_SUFFIX: Final = ".ipynb"

_TEXT_MIME_PREFIXES: Final = ("text/", "application/json", "application/javascript")
# CSI sequences (colours, cursor moves) and the two-byte escapes.
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_ESCAPE: Final = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)")
# The pure-Python JSON scanner and its parts (not in the type stubs): its hooks see positions.
_DECODER: Final[Any] = json.decoder
_SCANNER: Final[Any] = json.scanner
_WHITESPACE: Final[re.Pattern[str]] = _DECODER.WHITESPACE
_FAST: Final = json.JSONDecoder()  # the C decoder, for values no finding is reported in
#: Keys whose values hold cell text (or lead to it): parsed with positions.
_POSITIONED_KEYS: Final = frozenset(
    {"cells", "worksheets", "source", "input", "outputs", "text", "data", "evalue", "traceback"}
)
_CONSTANTS: Final = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Str(str):
    """A JSON string value that remembers where its characters start and end in the file."""

    start: int  # offset of the first character after the opening quote
    end: int  # offset of the closing quote


class _Obj(dict[str, Any]):
    """A JSON object that remembers its span in the file (`start` at `{`, `end` after `}`)."""

    start: int
    end: int


class _Context:
    """What `_SCANNER.py_make_scanner` reads off a decoder, with position-keeping hooks."""

    def __init__(self) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = _CONSTANTS.__getitem__
        self.memo: dict[str, str] = {}
        self.parse_array = _DECODER.JSONArray
        self.parse_string = self._string
        self.parse_object = self._object

    @staticmethod
    def _string(text: str, end: int, strict: bool) -> tuple[_Str, int]:
        value, after = _DECODER.scanstring(text, end, strict)
        out = _Str(value)
        out.start, out.end = end, after - 1
        return out, after

    @staticmethod
    def _object(
        state: tuple[str, int], strict: bool, scan_once: Callable[[str, int], Any], *_: Any
    ) -> tuple[_Obj, int]:
        """An object; the values of keys no cell text comes from are parsed by the C decoder, without positions.

        Metadata, images and widget or plot data (often megabytes of numbers) thus cost what
        `json.loads` costs; only cells, sources, outputs and their text keep positions.
        """
        text, end = state
        out = _Obj()
        out.start = end - 1
        ws = _WHITESPACE.match
        end = _end_of(ws(text, end))
        if text[end : end + 1] == "}":
            out.end = end + 1
            return out, end + 1
        while True:
            if text[end : end + 1] != '"':
                raise ValueError("expected a key")
            key, end = _DECODER.scanstring(text, end + 1, strict)
            end = _end_of(ws(text, end))
            if text[end : end + 1] != ":":
                raise ValueError("expected ':'")
            end = _end_of(ws(text, end + 1))
            if key in _POSITIONED_KEYS or key.startswith(_TEXT_MIME_PREFIXES):
                try:
                    value, end = scan_once(text, end)
                except StopIteration as exc:
                    raise ValueError("bad value") from exc
            else:
                value, end = _FAST.raw_decode(text, end)
            out[key] = value
            end = _end_of(ws(text, end))
            sep = text[end : end + 1]
            if sep == "}":
                out.end = end + 1
                return out, end + 1
            if sep != ",":
                raise ValueError("expected ',' or '}'")
            end = _end_of(ws(text, end + 1))


def _end_of(match: re.Match[str] | None) -> int:
    assert match is not None  # the whitespace pattern matches the empty string
    return match.end()


def _parse(text: str) -> Any:
    """The JSON document in `text`, strings as `_Str` and objects as `_Obj`; ValueError if not JSON."""
    scan_once: Callable[[str, int], tuple[Any, int]] = _SCANNER.py_make_scanner(_Context())
    ws = _WHITESPACE
    start = _end_of(ws.match(text, 0))
    try:
        doc, end = scan_once(text, start)
    except StopIteration as exc:
        raise ValueError("not JSON") from exc
    except RecursionError as exc:
        raise ValueError("nested too deep") from exc
    if _end_of(ws.match(text, end)) != len(text):
        raise ValueError("extra data after the JSON document")
    return doc


def _raw_offset(file_text: str, value: _Str, index: int) -> int:
    """The file offset of character `index` of the decoded string `value` (its end for `len(value)`)."""
    decoded, raw = 0, value.start
    search = _ESCAPE.search
    m = search(file_text, raw, value.end)
    while m is not None:
        plain = m.start() - raw
        if decoded + plain > index:
            return raw + (index - decoded)
        decoded += plain
        if decoded == index:
            return m.start()
        end = m.end()
        code = m.group(1)
        if code is not None and 0xD800 <= int(code, 16) <= 0xDBFF:
            low = _ESCAPE.match(file_text, end, value.end)
            if low is not None and low.group(1) is not None and 0xDC00 <= int(low.group(1), 16) <= 0xDFFF:
                end = low.end()  # a surrogate pair: one character, twelve in the file
        decoded += 1
        raw = end
        m = search(file_text, raw, value.end)
    return min(raw + (index - decoded), value.end)


class CellPositions:
    """Maps line and column in one cell's text to line and column in the `.ipynb` file.

    `runs` are `(cell offset, piece)` in order, where a piece is a decoded JSON string (`_Str`,
    whose characters map through its escapes) or an object (`_Obj`, its raw file text).
    Characters between runs (line ends added to join pieces) map to the end of the run before.
    """

    def __init__(
        self, file_text: str, file_lines: _FileLines, cell_text: str, runs: list[tuple[int, _Str | _Obj, int]]
    ) -> None:
        self._file = file_text
        self._file_lines = file_lines
        self._runs = runs  # (cell offset, piece, offset of the run's first character within the piece)
        self._starts = [offset for offset, _, _ in runs]
        self._line_starts: list[int] | None = None
        self._cell = cell_text

    def _cell_offset(self, line: int, column: int) -> int:
        if self._line_starts is None:
            starts = [0]
            find = self._cell.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        starts = self._line_starts
        index = min(max(line, 1), len(starts)) - 1
        return starts[index] + max(column, 1) - 1

    def file_offset(self, cell_offset: int) -> int:
        """The file offset of a character of the cell text."""
        i = max(bisect.bisect_right(self._starts, cell_offset) - 1, 0)
        start, piece, first = self._runs[i]
        within = cell_offset - start + first
        if isinstance(piece, _Obj):
            return min(piece.start + within, piece.end)
        return _raw_offset(self._file, piece, min(within, len(piece)))

    def locate(self, line: int, column: int) -> tuple[int, int]:
        """The file's (line, column) of `line` and `column` in the cell text (1-based)."""
        offset = self.file_offset(self._cell_offset(line, column))
        return self._file_lines.position(offset)


class _FileLines:
    """Line and column of offsets in the notebook's text (line starts found once, on first use)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        if self._starts is None:
            self._starts = [0, *(m.end() for m in re.finditer("\n", self._text))]
        i = bisect.bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1


class _Cell:
    """Builds one cell's text from pieces, keeping the runs for `CellPositions`."""

    def __init__(self, file_text: str) -> None:
        self._file = file_text
        self.parts: list[str] = []
        self.size = 0
        self.runs: list[tuple[int, _Str | _Obj, int]] = []

    def add(self, text: str, piece: _Str | _Obj | None, first: int = 0) -> None:
        if not text:
            return
        if piece is not None:
            self.runs.append((self.size, piece, first))
        self.parts.append(text)
        self.size += len(text)

    def end_line(self) -> None:
        """Start the next piece on a new line (outputs after the source, one output after another)."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.add("\n", None)

    def add_multiline(self, value: Any, *, strip_ansi: bool) -> None:
        """A notebook multiline string: a str, or a list of str (each ending in its newline)."""
        if isinstance(value, _Str):
            pieces: list[_Str] = [value]
        elif isinstance(value, list):
            pieces = [part for part in value if isinstance(part, _Str)]
        elif isinstance(value, _Obj):
            self.end_line()
            self.add(self._file[value.start : value.end], value)
            return
        else:
            return
        for piece in pieces:
            if not strip_ansi or "\x1b" not in piece:
                self.add(str(piece), piece)
                continue
            pos = 0
            for m in _ANSI.finditer(piece):
                self.add(piece[pos : m.start()], piece, pos)
                pos = m.end()
            self.add(piece[pos:], piece, pos)


def _outputs(cell: _Cell, outputs: Any) -> None:
    if not isinstance(outputs, list):
        return
    for output in outputs:
        if not isinstance(output, dict):
            continue
        if "text" in output:
            cell.end_line()
            cell.add_multiline(output["text"], strip_ansi=True)
        data = output.get("data")
        if isinstance(data, dict):
            for mime, value in data.items():
                if isinstance(mime, str) and mime.startswith(_TEXT_MIME_PREFIXES):
                    cell.end_line()
                    cell.add_multiline(value, strip_ansi=True)
        if isinstance(output.get("evalue"), _Str):
            cell.end_line()
            cell.add_multiline(output["evalue"], strip_ansi=True)
        traceback = output.get("traceback")
        if isinstance(traceback, list):
            for line in traceback:
                cell.end_line()
                cell.add_multiline(line, strip_ansi=True)


def _cells(doc: dict[str, Any]) -> list[Any] | None:
    cells = doc.get("cells")
    if isinstance(cells, list):
        return cells
    worksheets = doc.get("worksheets")  # nbformat 3
    if isinstance(worksheets, list):
        found: list[Any] = []
        for sheet in worksheets:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                found.extend(sheet["cells"])
        return found
    return None


def _fragments(text: str, path: str) -> Iterator[Fragment]:
    doc = _parse(text)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    cells = _cells(doc)
    if cells is None:
        raise ValueError("no cells")
    lines = _FileLines(text)
    for number, raw_cell in enumerate(cells, start=1):
        if not isinstance(raw_cell, dict):
            continue
        cell = _Cell(text)
        cell.add_multiline(raw_cell.get("source", raw_cell.get("input", "")), strip_ansi=False)
        _outputs(cell, raw_cell.get("outputs"))
        body = "".join(cell.parts)
        if body.strip() and cell.runs:
            positions = CellPositions(text, lines, body, cell.runs)
            yield Fragment(text=body, path=path, cell=number, positions=positions)


def notebook_fragments(text: str, path: str) -> list[Fragment] | None:
    """One fragment per non-empty cell of the notebook `text`, or `None` if it is not a notebook.

    Each fragment's `positions` maps its findings to the line and column of `text`.
    """
    try:
        return list(_fragments(text, path))
    except ValueError:
        return None
