"""The fuzz harness shared by the CI test (tests/scan/test_fuzz.py) and the long run (benchmarks/fuzz/run.py).

One case is a file with a random, often hostile, name (bytes that are not UTF-8, control
characters, bidi overrides, a notebook or archive extension) and random content salted with
fragments of the built-in rules: their keywords, their own examples (text each rule must find),
separators and line endings. `check_case` writes it as the only file of a folder (one per
process, emptied after each case), scans that folder the way the CLI does (the real walker,
reader, decoders and engine, one process), renders every output format in memory, and raises
`AssertionError` when:

- the scan failed on the file (counted as an `error` skip: a swallowed crash);
- an output is not valid UTF-8, the JSON or SARIF does not parse, the SARIF log does not validate
  against the official schema, or the HTML does not parse;
- a path in JSON or SARIF does not decode back to the file's exact bytes;
- an output holds a raw control character (JSON and SARIF escape them, people's outputs show them);
- a leaked value found in the file appears in any output (none is rendered with `--show-secrets`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import jsonschema
from hypothesis import strategies as st

from secretops.scan.config import ScanPolicy
from secretops.scan.engine import Scanner
from secretops.scan.formats import FORMATS, RenderOptions, rule_infos
from secretops.scan.models import Classification
from secretops.scan.rules.loader import load_rules
from secretops.scan.runner import ScanOptions, ScanResult, scan_paths
from secretops.values import FingerprintKey

__all__ = ["Case", "Harness", "cases", "check_case", "harness", "remove_folder"]

REPO = Path(__file__).resolve().parents[2]
# No C0 (but newline), C1, DEL or bidi control may reach people; newline only as a line break.
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_MIN_CHECKED = 10  # shorter values may occur in outputs by chance (a rule id, a word)


@dataclass(frozen=True, slots=True)
class Harness:
    """What every case shares: one scanner over the built-in rules, and the schema validator."""

    scanner: Scanner
    rules: dict[str, Any]
    sarif: Any
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    # Identifier rules (a lone AWS access key id): their values are public, see `check_case`.
    public: frozenset[str]
    # What the outputs print about each rule (id, description, provider, kind, tags, references).
    rule_text: dict[str, str]


@cache
def harness() -> Harness:
    """Built once per process (loading rules and compiling the prefilter takes a moment)."""
    ruleset = load_rules()
    schema = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())
    rules = rule_infos(ruleset)
    return Harness(
        scanner=Scanner(ruleset, FingerprintKey(b"f" * 32), ScanPolicy.default()),
        rules=rules,
        sarif=jsonschema.Draft4Validator(schema),
        keywords=tuple(sorted({kw for rule in ruleset for kw in rule.keywords})),
        examples=tuple(ex for rule in ruleset for ex in rule.examples),
        public=frozenset(rid for rid, info in rules.items() if "identifier" in info.tags),
        rule_text={
            rid: " ".join([info.id, info.description, info.provider, info.kind, *info.tags, *info.references])
            for rid, info in rules.items()
        },
    )


_FOLDERS: dict[int, str] = {}


def _folder() -> str:
    """This process's scan folder (made once: a mkdtemp and rmtree per case cost ~0.7 ms here).

    Keyed by process id, so a forked worker makes its own. `check_case` leaves it empty.
    """
    pid = os.getpid()
    if pid not in _FOLDERS:
        _FOLDERS[pid] = tempfile.mkdtemp(prefix="secretops-fuzz-")
        atexit.register(remove_folder)
    return _FOLDERS[pid]


def remove_folder() -> None:
    """Remove this process's scan folder (at exit; a pool worker, which skips atexit, calls it)."""
    folder = _FOLDERS.pop(os.getpid(), None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


_OPTIONS = ScanOptions(jobs=1, include=frozenset(Classification), keep_secrets=True, respect_gitignore=False)


@dataclass(frozen=True, slots=True)
class Case:
    """One file to scan: its name (bytes, no `/` or NUL) and its content."""

    name: bytes
    data: bytes


_HOSTILE = [
    b"\x1b]0;owned\x07",
    b"\x1b[2J",
    b"\n",
    b"\r",
    b"\x07",
    b"\x9b",
    "\u202e".encode(),
    b"\xff",
    b"\xfe\xfd",
    b"\xc3",
    b"%41",
    b"<script>",
    b"&amp;",
    b'"',
    b"'",
    b"\\",
    b" ",
    b"!",
    b"#",
    b"\xed\xa0\x80",
]
_EXTENSIONS = [b"", b".env", b".py", b".json", b".yaml", b".ipynb", b".zip", b".tgz", b".gz", b".txt"]
_SEPARATORS = [b"\n", b"\r\n", b"\r", b" = ", b": ", b'"', b"'", b"=", b"\t", b"\x00", b"\\n", b"\n\n", b"  "]


def _name_parts() -> st.SearchStrategy[bytes]:
    plain = st.binary(min_size=1, max_size=8).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_"))
    return st.one_of(st.sampled_from(_HOSTILE), plain, st.sampled_from([b"a", b"config", b"tests", b"..."]))


def _names() -> st.SearchStrategy[bytes]:
    def join(parts: list[bytes], ext: bytes) -> bytes:
        name = (b"".join(parts) + ext)[:200]
        return b"_" + name if name in (b"", b".", b"..") else name

    return st.builds(join, st.lists(_name_parts(), min_size=1, max_size=5), st.sampled_from(_EXTENSIONS))


def _content() -> st.SearchStrategy[bytes]:
    h = harness()
    piece = st.one_of(
        st.sampled_from(h.examples).map(str.encode),
        st.sampled_from(h.keywords).map(str.encode),
        st.sampled_from(_SEPARATORS),
        st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=40),
        st.sampled_from(_HOSTILE),
    )
    return st.lists(piece, max_size=30).map(b"".join)


def cases() -> st.SearchStrategy[Case]:
    """Random cases (see the module docstring)."""
    return st.builds(Case, _names(), _content())


def _no_raw_control(fmt: str, text: str) -> None:
    bad = _RAW_CONTROL.search(text)
    assert bad is None, f"{fmt}: raw control {bad.group()!r} at {bad.start()}"


def _same_file(got: bytes, expected: bytes) -> bool:
    """The finding's path is the file, or a member of it when it is an archive (`a.zip!inner`)."""
    return got == expected or got.startswith(expected + b"!")


def check_case(case: Case) -> ScanResult:
    """Scan `case` and check every output; raise `AssertionError` on the first problem."""
    h = harness()
    folder = _folder()
    assert not os.listdir(folder), f"the scan folder {folder} is not empty"
    path = os.path.join(os.fsencode(folder), case.name)
    try:
        with open(path, "wb") as fh:
            fh.write(case.data)
        result = scan_paths([folder], lambda: h.scanner, options=_OPTIONS)
    finally:
        with contextlib.suppress(FileNotFoundError):  # the open failed: its error is the one to see
            os.unlink(path)
    assert not result.stats.skipped.get("error"), f"the engine failed on the file: {result.skipped}"
    expected = os.fsencode(folder) + b"/" + case.name
    # An identifier's value (a lone AWS access key id) is public: outputs show it as another
    # finding's context by design (`access_key_id=AKIA...`), so it is no leaked value here.
    public = h.public
    values = {
        f.secret.reveal()
        for f in result.findings
        if f.secret is not None
        and f.classification is Classification.LEAK
        and f.rule_id not in public
        and len(f.secret.reveal()) >= _MIN_CHECKED
    }
    # A value that is also part of the file name, of a reason or of what the outputs say about a
    # rule found (`-pass pass:app.secret_key` is a password to openssl, and `app.secret_key` is in
    # the Flask rule's description) is not a leak of ours.
    shown_elsewhere = " ".join(
        [
            os.fsdecode(case.name),
            *(r for f in result.findings for r in f.reasons),
            *(h.rule_text.get(rid, "") for rid in {f.rule_id for f in result.findings}),
        ]
    )
    values = {v for v in values if v not in shown_elsewhere}
    render = RenderOptions(rules=h.rules)
    for fmt, cls in FORMATS.items():
        text = cls().render(result, render)
        raw = text.encode("utf-8")  # raises on a lone surrogate: the output would be invalid UTF-8
        assert raw.decode("utf-8") == text
        for value in values:
            assert value not in text, f"{fmt}: a leaked value is in the output"
        _no_raw_control(fmt, text)  # JSON escapes what a terminal could act on, too
        if fmt == "json":
            doc = json.loads(raw)
            for finding in doc["findings"]:
                path = finding["path"]
                got = unquote_to_bytes(path) if finding["path_encoding"] == "percent" else path.encode()
                assert _same_file(got, expected), f"json: path {path!r} is not the file {expected!r}"
                assert "secret" not in finding
        elif fmt == "sarif":
            doc = json.loads(raw)
            h.sarif.validate(doc)
            for res in doc["runs"][0]["results"]:
                uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                assert _same_file(unquote_to_bytes(uri.removeprefix("file://")), expected), f"sarif: uri {uri!r}"
                _no_raw_control("sarif message", res["message"]["text"])
        elif fmt == "html":
            parser = HTMLParser()
            parser.feed(text)
            parser.close()
    return result
