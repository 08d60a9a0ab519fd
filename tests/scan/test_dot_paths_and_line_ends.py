"""Two per-file costs made cheaper without changing answers: `config._absolute` takes the
`os.path.abspath` road only for real `.`/`..` components, and `lone_cr_to_lf` finds a lone `\\r`
with one search instead of two counts."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from secretops.cli.app import run
from secretops.scan import config
from secretops.scan.sources.interface import lone_cr_to_lf, lone_cr_to_lf_text
from tests.helpers import ACME_RULE as RULES

PATHS = [
    "a/b.env",
    ".env",
    "..env",
    "...",
    "a/...",
    "a/.../b",
    "a/..b/c",
    "a/b../c",
    "benchmarks/.work/speed/tree/a/x.py",
    "/abs/.work/x",
    "/abs/.hidden/.env",
    ".work/x",
    ".",
    "..",
    "./a",
    "../a",
    "./.env",
    "../.work/x",
    "a/./b",
    "a/../b",
    "a/.",
    "a/..",
    "/a/./b",
    "/a/../../b",
    "/.",
    "/..",
    "a//b",
    "a/b/",
    "a/.work/",
    "",
    "/",
]


@pytest.mark.parametrize("path", PATHS)
def test_absolute_is_abspath(path: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert config._absolute(path) == os.path.abspath(path)


@pytest.mark.parametrize("path", ["a/.env", ".env", "benchmarks/.work/x.py", "/t/.work/.git-like/x", "a/..b", "..."])
def test_dot_names_are_not_dot_components(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    abspath = os.path.abspath

    def counted(p: str) -> str:
        calls.append(p)
        return abspath(p)

    monkeypatch.setattr(os.path, "abspath", counted)
    got = config._absolute(path)
    monkeypatch.undo()
    assert got == os.path.abspath(path)
    assert calls == []  # joined to the working folder, not normalised


@pytest.mark.parametrize("path", ["./a", "../a", "a/./b", "a/../b", "a/.", "a/..", ".", ".."])
def test_dot_components_take_abspath(path: str) -> None:
    assert config._dot_component(path)


def _reference(text: str) -> str:
    return re.sub(r"\r(?!\n)", "\n", text)


def test_lone_cr_to_lf_matches_the_regex_everywhere() -> None:
    rng = random.Random(3)
    seen_changed = seen_same = 0
    for _ in range(3000):
        text = "".join(rng.choice("ab\r\n\r\n") for _ in range(rng.randint(0, 12)))
        want = _reference(text)
        assert lone_cr_to_lf_text(text) == want, repr(text)
        assert lone_cr_to_lf(text.encode()) == want.encode(), repr(text)
        seen_changed += want != text
        seen_same += "\r" in text and want == text
    assert seen_changed and seen_same  # CR-only and pure CRLF inputs both drawn


def test_a_crlf_file_comes_back_as_the_same_object() -> None:
    data = b"x = 1\r\n" * 1000
    assert lone_cr_to_lf(data) is data
    late = b"x = 1\n" * 1000 + b"y = 2\r"  # the first `\r` is the lone one, at the very end
    assert lone_cr_to_lf(late) == late[:-1] + b"\n"


LEAK = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake


def test_cr_only_crlf_and_mixed_files_give_the_right_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    tree = tmp_path / "t" / ".work"  # a dot-named folder on the way, like benchmarks/.work/
    tree.mkdir(parents=True)
    body = ["one", "two", f"key = {LEAK}", "four", f"  k2 = {LEAK}"]
    (tree / "cr.env").write_bytes("\r".join(body).encode() + b"\r")
    (tree / "crlf.env").write_bytes("\r\n".join(body).encode() + b"\r\n")
    (tree / "mixed.env").write_bytes(b"one\r\ntwo\r" + f"key = {LEAK}\n\rfour\r\n  k2 = {LEAK}".encode())
    monkeypatch.chdir(tmp_path)
    code = run(["scan", "--rules", str(rules), "--jobs", "1", "--format", "json", "--fail-on", "never",
                "--include", "all", "t/./.work"])  # fmt: skip
    assert code == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    got = sorted((f["path"].rsplit("/", 1)[-1], f["line"], f["column"]) for f in doc["findings"])
    names = ["cr.env", "crlf.env"]
    assert got == sorted(
        [(n, 3, 7) for n in names] + [(n, 5, 8) for n in names] + [("mixed.env", 3, 7)] + [("mixed.env", 6, 8)]
    )
