"""Report it where it is: notebook findings at the `.ipynb` file's line and column, `\\r`-only line ends."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from secretops.scan.models import Classification
from secretops.scan.runner import ScanOptions, scan_paths
from secretops.scan.sources.notebook import notebook_fragments
from tests.scan.fake_scanner import FakeScanner

ALL = frozenset(Classification)


def _findings(path: Path, **kw: object) -> list[tuple[int, int, int, int, int | None]]:
    result = scan_paths([str(path)], FakeScanner, options=ScanOptions(include=ALL, **kw))  # type: ignore[arg-type]
    return [
        (f.location.line, f.location.column, f.location.end_line, f.location.end_column, f.location.cell)
        for f in result.findings
    ]


def _where(text: str, needle: str) -> tuple[int, int]:
    """(line, column) of `needle` in the raw file text, 1-based."""
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


# --- notebooks --------------------------------------------------------------------------------------


def _nb(cells: list[dict[str, object]]) -> dict[str, object]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


@pytest.mark.parametrize("indent", [1, None])
def test_notebook_findings_are_at_the_ipynb_line_and_column(tmp_path: Path, indent: int | None) -> None:
    cells: list[dict[str, object]] = [
        {"cell_type": "markdown", "source": ["# Title\n", "some text\n"]},
        {
            "cell_type": "code",
            "source": ['name = "café"  # é\n', 'key = "FAKE_LEAK_cellsource1"\n'],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["token FAKE_LEAK_streamout1\n"]}],
        },
    ]
    text = json.dumps(_nb(cells), indent=indent)
    (tmp_path / "a.ipynb").write_text(text)
    found = _findings(tmp_path / "a.ipynb")
    expected = []
    for token in ("FAKE_LEAK_cellsource1", "FAKE_LEAK_streamout1"):
        line, col = _where(text, token)
        expected.append((line, col, line, col + len(token), 2))
    assert found == expected


def test_columns_count_json_escapes_in_the_file(tmp_path: Path) -> None:
    """`\\"`, `\\n`, `\\u00e9` and a surrogate pair take 2, 2, 6 and 12 characters of the file line."""
    source = 'x = "\\"é\U0001f600\\t"\nmore = 1\npw = "FAKE_LEAK_afterescapes"\n'
    text = json.dumps(_nb([{"cell_type": "code", "source": source, "outputs": []}]), ensure_ascii=True)
    assert "\\u00e9" in text and "\\ud83d\\ude00" in text and '\\\\\\"' in text
    (tmp_path / "e.ipynb").write_text(text)
    line, col = _where(text, "FAKE_LEAK_afterescapes")
    assert _findings(tmp_path / "e.ipynb") == [(line, col, line, col + len("FAKE_LEAK_afterescapes"), 1)]


def test_a_single_string_source_puts_cell_lines_on_one_file_line(tmp_path: Path) -> None:
    source = "a = 1\nb = 2\nc = 'FAKE_LEAK_onestring1'\n"
    text = json.dumps(_nb([{"cell_type": "code", "source": source, "outputs": []}]), indent=2)
    (tmp_path / "s.ipynb").write_text(text)
    line, col = _where(text, "FAKE_LEAK_onestring1")
    assert _findings(tmp_path / "s.ipynb")[0][:2] == (line, col)


def test_error_outputs_are_scanned_without_ansi_escapes(tmp_path: Path) -> None:
    error = {
        "output_type": "error",
        "ename": "AuthError",
        "evalue": "rejected FAKE_LEAK_inevalue01",
        "traceback": [
            "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
            "\x1b[0;31mAuthError\x1b[0m: key=\x1b[1;32mFAKE_LEAK_intraceback1\x1b[0m",
        ],
    }
    text = json.dumps(_nb([{"cell_type": "code", "source": "connect()", "outputs": [error]}]), indent=1)
    (tmp_path / "t.ipynb").write_text(text)
    frags = notebook_fragments(text, "t.ipynb")
    assert frags is not None and "\x1b" not in frags[0].text
    assert "key=FAKE_LEAK_intraceback1" in frags[0].text  # the colour codes no longer split the value
    found = _findings(tmp_path / "t.ipynb")
    assert [(line, col) for line, col, *_ in found] == [
        _where(text, "FAKE_LEAK_inevalue01"),
        _where(text, "FAKE_LEAK_intraceback1"),
    ]


def test_json_output_objects_are_scanned_in_place(tmp_path: Path) -> None:
    config = {"config": {"token": "FAKE_LEAK_jsonobject1"}}
    out = {"output_type": "execute_result", "data": {"application/json": config}}
    text = json.dumps(_nb([{"cell_type": "code", "source": "cfg", "outputs": [out]}]), indent=1)
    (tmp_path / "j.ipynb").write_text(text)
    line, col = _where(text, "FAKE_LEAK_jsonobject1")
    assert _findings(tmp_path / "j.ipynb")[0][:2] == (line, col)


def test_a_crlf_notebook_and_one_on_stdin_use_file_positions(tmp_path: Path) -> None:
    text = json.dumps(_nb([{"cell_type": "code", "source": ["x\n", "y = 'FAKE_LEAK_crlfnotebk'\n"]}]), indent=1)
    crlf = text.replace("\n", "\r\n")
    (tmp_path / "w.ipynb").write_bytes(crlf.encode())
    line, col = _where(text, "FAKE_LEAK_crlfnotebk")
    assert _findings(tmp_path / "w.ipynb")[0][:2] == (line, col)
    result = scan_paths(["-"], FakeScanner, stdin=io.BytesIO(crlf.encode()))
    assert [(f.location.line, f.location.column, f.location.cell) for f in result.findings] == [(line, col, 1)]


def test_nbformat3_input_cells_map_too() -> None:
    text = json.dumps({"worksheets": [{"cells": [{"input": ["a\n", "pw = 'x'\n"], "outputs": []}]}]}, indent=1)
    frags = notebook_fragments(text, "old.ipynb")
    assert frags is not None and frags[0].positions is not None
    assert frags[0].positions.locate(2, 1) == _where(text, "pw = 'x'")


# --- `\r`-only and mixed line endings ---------------------------------------------------------------


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"])
def test_line_numbers_with_each_line_ending(tmp_path: Path, eol: str) -> None:
    body = eol.join(["first", "second", "key = 'FAKE_LEAK_lineending'", "last", ""])
    (tmp_path / "mac.cfg").write_bytes(body.encode())
    assert _findings(tmp_path / "mac.cfg") == [(3, 8, 3, 8 + len("FAKE_LEAK_lineending"), None)]


def test_mixed_line_endings_count_each_kind_once(tmp_path: Path) -> None:
    body = "a\r\nb\rc\n\rd\r\r\nk = 'FAKE_LEAK_mixedends1'\n"
    # lines: a | b | c | (empty) | d | (empty) | k...
    (tmp_path / "mixed.txt").write_bytes(body.encode())
    assert [f[:2] for f in _findings(tmp_path / "mixed.txt")] == [(7, 6)]


def test_cr_only_text_on_stdin_and_utf16(tmp_path: Path) -> None:
    body = "one\rtwo\rpw = 'FAKE_LEAK_stdincr001'\r"
    result = scan_paths(["-"], FakeScanner, stdin=io.BytesIO(body.encode()))
    assert [(f.location.line, f.location.column) for f in result.findings] == [(3, 7)]
    (tmp_path / "u16.txt").write_bytes(body.encode("utf-16"))
    assert [f[:2] for f in _findings(tmp_path / "u16.txt")] == [(3, 7)]


def test_heavy_outputs_and_metadata_cost_what_json_loads_costs(tmp_path: Path) -> None:
    """Plot data and images are skipped by the C decoder; the text after them still maps exactly."""
    import base64
    import random
    import time

    rng = random.Random(5)
    plot = {"data": [{"x": [rng.random() for _ in range(20000)], "y": [rng.random() for _ in range(20000)]}]}
    image = base64.b64encode(rng.randbytes(200_000)).decode()
    outputs = [
        {
            "output_type": "display_data",
            "data": {
                "application/vnd.plotly.v1+json": plot,
                "image/png": image,
                "text/plain": ["FAKE_LEAK_afterplots1"],
            },
            "metadata": {"source": "FAKE_LEAK_inmetadata1"},  # metadata is not cell text
        }
    ]
    cells: list[dict[str, object]] = [{"cell_type": "code", "source": "fig", "outputs": outputs, "metadata": {}}] * 4
    text = json.dumps(_nb(cells), indent=1)
    assert len(text) > 4 * 1024 * 1024  # over a chunk: read whole all the same, to be parsed
    (tmp_path / "plots.ipynb").write_text(text)
    found = _findings(tmp_path / "plots.ipynb")
    at = [i for i in range(len(text)) if text.startswith("FAKE_LEAK_afterplots1", i)]
    assert [f[:2] for f in found] == [(text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i)) for i in at]
    started = time.perf_counter()
    json.loads(text)
    c_time = time.perf_counter() - started
    started = time.perf_counter()
    assert notebook_fragments(text, "plots.ipynb") is not None
    assert time.perf_counter() - started < 4 * c_time + 0.05
