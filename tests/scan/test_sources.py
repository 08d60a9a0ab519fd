"""Sources: decoding, the folder walk (.gitignore, sizes, links, FIFOs), notebooks, stdin."""

from __future__ import annotations

import codecs
import io
import json
import os
from pathlib import Path

import pytest

from secretops.scan.models import Fragment
from secretops.scan.sources.files import (
    UNKNOWN_SIZE,
    FileEntry,
    FilesSource,
    display_path,
    read_bytes,
    read_entry,
    walk,
)
from secretops.scan.sources.interface import Skipped, SkipReason, decode_bytes, is_binary
from secretops.scan.sources.notebook import notebook_fragments
from secretops.scan.sources.stdin import STDIN_PATH, StdinSource


def _walk(root: Path, **kw: object) -> tuple[list[str], dict[str, str]]:
    """(scanned display paths, {display path: skip reason})."""
    scanned: list[str] = []
    skipped: dict[str, str] = {}
    for item in walk(str(root), **kw):  # type: ignore[arg-type]
        if isinstance(item, Skipped):
            skipped[item.path] = item.reason
        else:
            scanned.append(item.display)
    return scanned, skipped


def _rel(paths: list[str], root: Path) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


# --- decoding -------------------------------------------------------------------------------------


def test_decode_utf8_and_bom() -> None:
    assert decode_bytes("clé=1".encode()) == "clé=1"
    assert decode_bytes(codecs.BOM_UTF8 + b"key=1") == "key=1"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_decode_utf16_and_32_with_bom(encoding: str) -> None:
    data = "\ufefftoken = FAKE_LEAK_abcdefgh\n".encode(encoding)
    assert not is_binary(data), "a UTF-16/32 file has NULs but is text"
    assert decode_bytes(data) == "token = FAKE_LEAK_abcdefgh\n"


def test_decode_bad_byte_falls_back_to_latin1() -> None:
    data = b"password = \xff\xfe\xfa caf\xe9 FAKE_LEAK_abcdefgh"
    text = decode_bytes(data)
    assert text.endswith("FAKE_LEAK_abcdefgh")
    assert len(text) == len(data), "Latin-1 keeps one character per byte, so columns stay right"


def test_binary_is_a_nul_in_the_first_8k() -> None:
    assert is_binary(b"abc\x00def")
    assert not is_binary(b"a" * 9000 + b"\x00")
    assert not is_binary(b"plain text\n")


# --- walking --------------------------------------------------------------------------------------


def test_walk_recurses_in_sorted_order_and_reports_display_paths(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "b" / "a.txt").write_text("a")
    (tmp_path / "a.txt").write_text("a")
    scanned, skipped = _walk(tmp_path)
    assert _rel(scanned, tmp_path) == ["a.txt", "b/a.txt", "b/z.txt"]
    assert skipped == {}
    entries = [e for e in walk(str(tmp_path)) if isinstance(e, FileEntry)]
    assert [e.rel for e in entries] == ["a.txt", "b/a.txt", "b/z.txt"]
    assert entries[0].size == UNKNOWN_SIZE  # no stat per file: the reader checks the size on open


def test_display_path_keeps_the_root_as_given() -> None:
    assert display_path(".", "a/b.txt") == "a/b.txt"
    assert display_path("./src/", "a.py") == "src/a.py"
    assert display_path("/abs", "a.py") == "/abs/a.py"
    assert display_path("/", "etc/x") == "/etc/x"


def test_walk_skips_git_dir_and_binary_suffixes(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "app.py").write_text("x = 1")
    scanned, skipped = _walk(tmp_path)
    assert _rel(scanned, tmp_path) == ["app.py"]
    assert skipped == {str(tmp_path / "logo.png"): SkipReason.BINARY}


def test_huge_sparse_file_is_skipped_by_size_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    huge = tmp_path / "huge.log"
    with open(huge, "wb") as fh:
        fh.truncate(2 * 1024**3)  # sparse: 2 GB that take no disk
    (tmp_path / "small.txt").write_text("ok")

    def no_open(*args: object, **kwargs: object) -> object:
        raise AssertionError("the walk must not open files")

    real_stat = os.stat

    def no_file_stat(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == str(huge):  # nor stat them one by one: the directory entry says "file"
            raise AssertionError("the walk must not stat files")
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(os, "open", no_open)
        m.setattr(os, "stat", no_file_stat)
        entries = [e for e in walk(str(tmp_path)) if isinstance(e, FileEntry)]
    assert [e.rel for e in entries] == ["huge.log", "small.txt"]

    def no_read(*args: object, **kwargs: object) -> object:
        raise AssertionError("a file over the limit must not be read")

    monkeypatch.setattr(os, "read", no_read)
    assert read_bytes(entries[0]) == Skipped(str(huge), SkipReason.TOO_LARGE, f"{2 * 1024**3} bytes")
    # Named on the command line, the file is checked by the walk's own stat.
    assert _walk(huge)[1] == {str(huge): SkipReason.TOO_LARGE}


def test_size_limit_is_configurable_and_checked_on_the_open_file(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x" * 100)
    _, skipped = _walk(f, max_file_size=50)
    assert skipped == {str(f): SkipReason.TOO_LARGE}
    # In a folder the walk does not stat files: the reader checks the open file.
    entry = FileEntry(str(f), str(f), "f.txt", UNKNOWN_SIZE)
    result = read_entry(entry, max_file_size=50)
    assert isinstance(result, Skipped) and result.reason == SkipReason.TOO_LARGE
    assert read_entry(entry, max_file_size=100) == "x" * 100


def test_symlinks_are_not_followed_by_default(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / "loop").symlink_to(tmp_path)  # a folder loop
    scanned, skipped = _walk(tmp_path)
    assert _rel(scanned, tmp_path) == ["real.txt"]
    assert skipped == {str(tmp_path / "link.txt"): SkipReason.SYMLINK, str(tmp_path / "loop"): SkipReason.SYMLINK}


def test_symlink_loops_are_cut_when_following(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("x")
    (tmp_path / "d" / "up").symlink_to(tmp_path)  # folder loop back to the root
    (tmp_path / "self").symlink_to(tmp_path / "self")  # ELOOP on stat
    (tmp_path / "link.txt").symlink_to(tmp_path / "d" / "f.txt")
    scanned, skipped = _walk(tmp_path, follow_symlinks=True)
    assert sorted(_rel(scanned, tmp_path)) == ["d/f.txt", "link.txt"]
    assert skipped == {
        str(tmp_path / "d" / "up"): SkipReason.SYMLINK_LOOP,
        str(tmp_path / "self"): SkipReason.SYMLINK_LOOP,
    }


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "a.txt").write_text("x")
    scanned, skipped = _walk(tmp_path)  # would hang forever if the FIFO were opened
    assert _rel(scanned, tmp_path) == ["a.txt"]
    assert skipped == {str(fifo): SkipReason.NOT_REGULAR}
    # Named directly on the command line, too.
    _, skipped = _walk(fifo)
    assert list(skipped.values()) == [SkipReason.NOT_REGULAR]


def test_unreadable_file_is_skipped_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "locked.txt"
    secret.write_text("x")
    real_open = os.open

    def fake_open(path: str, flags: int, *args: int) -> int:
        if str(path) == str(secret):  # as root, chmod 000 would not stop the read
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    entry = FileEntry(str(secret), "locked.txt", "locked.txt", 1)
    result = read_entry(entry)
    assert result == Skipped("locked.txt", SkipReason.UNREADABLE, "Permission denied")


def test_missing_root_is_a_skip_not_an_exception(tmp_path: Path) -> None:
    items = list(walk(str(tmp_path / "nope")))
    assert items == [Skipped(str(tmp_path / "nope"), SkipReason.MISSING, "no such file or directory")]


def test_read_entry_skips_binary_content(tmp_path: Path) -> None:
    f = tmp_path / "data.bin2"
    f.write_bytes(b"head\x00tail")
    result = read_entry(FileEntry(str(f), "data.bin2", "data.bin2", 9))
    assert isinstance(result, Skipped) and result.reason == SkipReason.BINARY


def test_read_entry_decodes_utf16(tmp_path: Path) -> None:
    f = tmp_path / "win.txt"
    f.write_bytes("\ufeffpassword=abc\r\n".encode("utf-16-le"))
    assert read_entry(FileEntry(str(f), "win.txt", "win.txt", f.stat().st_size)) == "password=abc\r\n"


# --- .gitignore -----------------------------------------------------------------------------------


def _git_tree(root: Path) -> None:
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".git" / "info" / "exclude").write_text("excluded.txt\n")
    (root / ".gitignore").write_text("*.log\n!keep.log\nbuild/\n# comment\n")
    (root / "app.log").write_text("x")
    (root / "keep.log").write_text("x")
    (root / "excluded.txt").write_text("x")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("x")
    (root / "sub").mkdir()
    (root / "sub" / ".gitignore").write_text("local.txt\n!important.log\n")
    (root / "sub" / "local.txt").write_text("x")
    (root / "sub" / "important.log").write_text("x")
    (root / "sub" / "other.log").write_text("x")
    (root / "src.py").write_text("x")


def test_gitignore_is_honoured_in_a_work_tree(tmp_path: Path) -> None:
    _git_tree(tmp_path)
    scanned, skipped = _walk(tmp_path)
    assert sorted(_rel(scanned, tmp_path)) == [
        ".gitignore",
        "keep.log",
        "src.py",
        "sub/.gitignore",
        "sub/important.log",  # a deeper .gitignore re-includes it
    ]
    ignored = sorted(os.path.relpath(p, tmp_path) for p, r in skipped.items() if r == SkipReason.GITIGNORED)
    assert ignored == ["app.log", "build", "excluded.txt", "sub/local.txt", "sub/other.log"]


def test_gitignore_applies_when_scanning_a_subfolder(tmp_path: Path) -> None:
    _git_tree(tmp_path)
    scanned, _ = _walk(tmp_path / "sub")
    assert sorted(_rel(scanned, tmp_path)) == ["sub/.gitignore", "sub/important.log"]


def test_no_ignore_scans_everything(tmp_path: Path) -> None:
    _git_tree(tmp_path)
    scanned, skipped = _walk(tmp_path, respect_gitignore=False)
    assert "app.log" in _rel(scanned, tmp_path)
    assert "build/out.txt" in _rel(scanned, tmp_path)
    assert SkipReason.GITIGNORED not in skipped.values()


def test_gitignore_outside_a_work_tree_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "a.log").write_text("x")
    scanned, _ = _walk(tmp_path)
    assert "a.log" in _rel(scanned, tmp_path)


# --- notebooks ------------------------------------------------------------------------------------


def _notebook() -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "cells": [
                {"cell_type": "markdown", "source": ["# Title\n"]},
                {
                    "cell_type": "code",
                    "source": ["import os\n", "key = 'FAKE_LEAK_abcdefgh'\n"],
                    "outputs": [
                        {"output_type": "stream", "name": "stdout", "text": ["printed FAKE_LEAK_outputxx\n"]},
                        {"output_type": "execute_result", "data": {"text/plain": ["'r'"], "image/png": "iVBOR"}},
                    ],
                },
                {"cell_type": "code", "source": "", "outputs": []},
            ],
        },
        indent=1,
    )


def test_notebook_cells_and_outputs_become_fragments() -> None:
    frags = notebook_fragments(_notebook(), "nb.ipynb")
    assert frags is not None
    assert [f.cell for f in frags] == [1, 2]
    code = frags[1]
    assert code.text.splitlines() == ["import os", "key = 'FAKE_LEAK_abcdefgh'", "printed FAKE_LEAK_outputxx", "'r'"]
    assert "iVBOR" not in code.text, "image outputs are not scanned"
    assert code.path == "nb.ipynb" and code.line_offset == 0


def test_notebook_nbformat3_and_not_a_notebook() -> None:
    v3 = json.dumps({"worksheets": [{"cells": [{"input": "pw = 'x'", "outputs": []}]}]})
    frags = notebook_fragments(v3, "old.ipynb")
    assert frags == [Fragment(text="pw = 'x'", path="old.ipynb", cell=1)]
    assert notebook_fragments("{not json", "bad.ipynb") is None
    assert notebook_fragments("[1, 2]", "list.ipynb") is None


def test_broken_notebook_file_is_scanned_as_text(tmp_path: Path) -> None:
    nb = tmp_path / "broken.ipynb"
    nb.write_text('{"cells": [ FAKE_LEAK_abcdefgh')
    frags = list(FilesSource([str(nb)]).fragments())
    assert len(frags) == 1 and isinstance(frags[0], Fragment)
    assert frags[0].cell is None and "FAKE_LEAK_abcdefgh" in frags[0].text


def test_files_source_splits_notebooks(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_text(_notebook())
    frags = [f for f in FilesSource([str(tmp_path)]).fragments() if isinstance(f, Fragment)]
    assert [f.cell for f in frags] == [1, 2]


# --- stdin ----------------------------------------------------------------------------------------


def test_stdin_is_one_fragment() -> None:
    frags = list(StdinSource(io.BytesIO(b"a = FAKE_LEAK_abcdefgh\n")).fragments())
    assert frags == [Fragment(text="a = FAKE_LEAK_abcdefgh\n", path=STDIN_PATH)]


def test_stdin_binary_too_large_and_notebook() -> None:
    assert list(StdinSource(io.BytesIO(b"\x00\x01")).fragments()) == [
        Skipped(STDIN_PATH, SkipReason.BINARY, "NUL byte in the first 8 KiB")
    ]
    big = list(StdinSource(io.BytesIO(b"x" * 20), max_size=10).fragments())
    assert isinstance(big[0], Skipped) and big[0].reason == SkipReason.TOO_LARGE
    cells = list(StdinSource(io.BytesIO(_notebook().encode())).fragments())
    assert [c.cell for c in cells if isinstance(c, Fragment)] == [1, 2]


def test_closed_stdin_is_unreadable() -> None:
    stream = io.BytesIO(b"x")
    stream.close()
    result = list(StdinSource(stream).fragments())
    assert isinstance(result[0], Skipped) and result[0].reason == SkipReason.UNREADABLE
