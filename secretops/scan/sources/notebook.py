"""Jupyter notebooks: each cell's source and its text outputs, located by cell number.

A notebook is JSON, so scanning it as a file would report JSON line numbers and miss nothing but
help nobody. Instead each cell becomes one `Fragment` with `cell` set (1-based position of the
cell in the notebook) whose text is the cell source followed by its text outputs (stream
output, `text/*` and JSON results, error tracebacks). Line numbers count within that text:
line 1 is the first source line, and output lines follow the last source line. Images and other
binary outputs are not scanned. nbformat 4 and the older `worksheets` layout (nbformat 3) are
read; anything that is not a notebook yields `None`, and the caller scans the file as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

from secretops.scan.models import Fragment

__all__ = ["NOTEBOOK_SUFFIX", "notebook_fragments"]

NOTEBOOK_SUFFIX: Final = ".ipynb"

_TEXT_MIME_PREFIXES: Final = ("text/", "application/json", "application/javascript")


def _text(value: Any) -> str:
    """A notebook multiline string: a str, or a list of str that already end in newlines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    if isinstance(value, dict):
        return json.dumps(value, indent=1)
    return ""


def _outputs_text(outputs: Any) -> Iterator[str]:
    if not isinstance(outputs, list):
        return
    for output in outputs:
        if not isinstance(output, dict):
            continue
        if "text" in output:
            yield _text(output["text"])
        data = output.get("data")
        if isinstance(data, dict):
            for mime, value in data.items():
                if isinstance(mime, str) and mime.startswith(_TEXT_MIME_PREFIXES):
                    yield _text(value)
        if "traceback" in output:
            yield _text([line + "\n" for line in output["traceback"] if isinstance(line, str)])


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


def notebook_fragments(text: str, path: str) -> list[Fragment] | None:
    """One fragment per non-empty cell of the notebook `text`, or `None` if it is not a notebook."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    cells = _cells(doc)
    if cells is None:
        return None
    fragments: list[Fragment] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source", cell.get("input", "")))
        parts = [source] if source else []
        for out in _outputs_text(cell.get("outputs")):
            if out:
                if parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
                parts.append(out)
        body = "".join(parts)
        if body.strip():
            fragments.append(Fragment(text=body, path=path, cell=number))
    return fragments
