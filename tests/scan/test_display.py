"""Hostile text in outputs: control characters neutralised, names that are not UTF-8 encoded.

The CLI tests (tests/cli/test_hostile_input.py) run the same cases end to end on real files.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote_to_bytes

import jsonschema
import pytest

from secretops.display import json_path, json_text, no_surrogates, path_bytes, printable
from secretops.scan.formats import FORMATS, RenderOptions
from secretops.scan.formats.sarif import artifact_uri
from secretops.scan.models import Classification, Finding, Location, ScanStats, Severity
from secretops.scan.runner import ScanResult
from secretops.scan.sources.interface import Skipped, SkipReason

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())

NOT_UTF8 = os.fsdecode(b"conf/bad\xff\xfe%41.env")  # undecodable bytes, and a literal '%'
TERMINAL = "conf/x\x1b]0;owned\x07\x1b[2J\n\rname\u202e.env"  # sets the title, clears the screen
# What a terminal must never receive from us: C0 (but newline), DEL, C1, bidi overrides.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def test_printable_escapes_controls_and_undecodable_bytes() -> None:
    assert printable("plain/ünïcode/路径.env") == "plain/ünïcode/路径.env"
    assert printable("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07"
    assert printable("x\ny\rz\t") == "x\\ny\\rz\\t"
    assert printable("\x9b31m\x7f") == "\\x9b31m\\x7f"
    assert printable("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert printable(os.fsdecode(b"bad\xff")) == "bad\\xff"
    assert printable(3) == "3"


def test_json_path_round_trips_the_exact_bytes() -> None:
    assert json_path("app/.env") == ("app/.env", "utf-8")
    assert json_path("100%/ok") == ("100%/ok", "utf-8")  # valid UTF-8: untouched, '%' too
    text, encoding = json_path(NOT_UTF8)
    assert (text, encoding) == ("conf/bad%FF%FE%2541.env", "percent")
    assert unquote_to_bytes(text) == os.fsencode(NOT_UTF8)
    assert text.encode("utf-8")  # encodable
    assert path_bytes(NOT_UTF8) == b"conf/bad\xff\xfe%41.env"


def test_no_surrogates() -> None:
    assert no_surrogates("fine") == "fine"
    assert no_surrogates("a\udcffb") == "a\ufffdb"


def test_json_text_escapes_what_json_leaves_raw() -> None:
    doc = {"k": "csi\x9b[2J rlo\u202e del\x7f esc\x1b ok: ü路"}
    text = json_text(json.dumps(doc, ensure_ascii=False))
    assert RAW_CONTROL.search(text) is None
    assert "\\u009b" in text and "\\u202e" in text and "ü路" in text
    assert json.loads(text) == doc  # the same document


def test_artifact_uri_percent_encodes_bytes_per_rfc3986() -> None:
    uri = artifact_uri(NOT_UTF8)
    assert uri == "conf/bad%FF%FE%2541.env"
    assert unquote_to_bytes(uri) == os.fsencode(NOT_UTF8)
    assert artifact_uri("/abs/bad" + os.fsdecode(b"\xff")) == "file:///abs/bad%FF"
    assert artifact_uri(TERMINAL) == "conf/x%1B%5D0%3Bowned%07%1B%5B2J%0A%0Dname%E2%80%AE.env"


def _finding(path: str, preview: str = "npg_********", context: dict[str, str] | None = None) -> Finding:
    return Finding(
        rule_id="neon-postgres-password",
        kind="postgres-password",
        provider="neon",
        classification=Classification.LEAK,
        severity=Severity.HIGH,
        confidence="high",
        location=Location(path, 1, 5, 1, 20),
        fingerprint="hmac-sha256:" + "0" * 32,
        preview=preview,
        context=context or {"host": "h\x1b[31mred"},
    )


def _hostile_result() -> ScanResult:
    findings = [_finding(NOT_UTF8), _finding(TERMINAL, preview="\x1b]0\x07*******")]
    skipped = [Skipped(NOT_UTF8, SkipReason.UNREADABLE, "Permission denied"), Skipped(TERMINAL, SkipReason.MISSING)]
    return ScanResult(
        findings=findings, stats=ScanStats(files=2, bytes=10), skipped=skipped, line_hashes=["a" * 32 + ":1"] * 2
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_is_valid_utf8_for_hostile_names(fmt: str) -> None:
    text = FORMATS[fmt]().render(_hostile_result(), RenderOptions())
    raw = text.encode("utf-8")  # would raise on a lone surrogate
    assert raw.decode("utf-8") == text
    # Nothing a terminal acts on, in any format: JSON and SARIF escape it (\u001b, \u009b).
    assert RAW_CONTROL.search(text) is None, repr(text)
    if fmt == "json":
        doc = json.loads(text)
        paths = [(f["path"], f["path_encoding"]) for f in doc["findings"]]
        assert paths == [("conf/bad%FF%FE%2541.env", "percent"), (TERMINAL, "utf-8")]
        assert unquote_to_bytes(doc["skipped_files"][0]["path"]) == os.fsencode(NOT_UTF8)
        assert doc["skipped_files"][0]["path_encoding"] == "percent"
    elif fmt == "sarif":
        doc = json.loads(text)
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]]
        assert [unquote_to_bytes(u) for u in uris] == [os.fsencode(NOT_UTF8), TERMINAL.encode()]
        for result in doc["runs"][0]["results"]:
            assert RAW_CONTROL.search(result["message"]["text"]) is None
    elif fmt == "jsonl":
        lines = [json.loads(line) for line in text.splitlines()]
        assert [(f["path"], f["path_encoding"]) for f in lines] == [
            ("conf/bad%FF%FE%2541.env", "percent"),
            (TERMINAL, "utf-8"),
        ]
    elif fmt == "gitlab":
        doc = json.loads(text)
        files = [v["location"]["file"] for v in doc["vulnerabilities"]]
        assert files == ["conf/bad%FF%FE%2541.env", TERMINAL]
        for vuln in doc["vulnerabilities"]:
            assert RAW_CONTROL.search(vuln["description"]) is None and "\x1b" not in vuln["description"]
    else:  # table and HTML are read by people: visible escapes
        assert "conf/bad\\xff\\xfe%41.env" in text
        assert "x\\x1b]0;owned\\x07\\x1b[2J\\n\\rname\\u202e.env" in text
        if fmt == "html":
            parser = HTMLParser()
            parser.feed(text)
            parser.close()
            assert "<td" in text


def test_table_colour_codes_are_ours_only() -> None:
    text = FORMATS["table"]().render(_hostile_result(), RenderOptions(color=True))
    # With colour on, the only ESC sequences are SGR colour codes the table adds itself.
    assert set(re.findall("\x1b\\[[0-9;]*m", text)) <= {"\x1b[0m", "\x1b[31m", "\x1b[2m"}
    assert "\x1b]" not in text and "\x07" not in text and "\x1b[2J" not in text
