"""The runner's bytes-first path (prefilter raw bytes, decode only files with a keyword hit) must
find exactly what decoding every file finds, in every encoding and with the decoders."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from benchmarks.quality.corpus import generate
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules.loader import load_rules
from secretops.scan.runner import ScanOptions, ScanResult, scan_paths
from secretops.scan.runner import pool as pool_mod
from secretops.scan.runner import worker as worker_mod
from secretops.values import FingerprintKey

ALL = frozenset(Classification)
KEY = FingerprintKey(b"b" * 32)
GUIDES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "guides"
# Assembled so this file holds no credential-shaped literal of its own.
PASSWORD = "Zq8" + "vN3xLp2" + "Wm7Rt4Kd"


class TextOnly:
    """The real engine behind the plain `FragmentScanner` interface: the runner decodes every file."""

    def __init__(self) -> None:
        self.inner = Scanner(load_rules(), KEY)

    def scan(self, fragment: Fragment) -> list[Finding]:
        return self.inner.scan(fragment)


def _bytes_first() -> Scanner:
    scanner = Scanner(load_rules(), KEY)
    if not scanner.prefilter.scans_bytes:
        pytest.skip("the bytes-first path needs the Hyperscan prefilter (x86-64 Linux)")
    return scanner


def _identity(result: ScanResult) -> list[tuple[object, ...]]:
    return [
        (f.rule_id, f.location, f.classification, f.severity, f.fingerprint, f.preview, tuple(sorted(f.context)))
        for f in result.findings
    ]


def _odd_files(root: Path) -> None:
    """Files whose bytes and characters differ, BOMs, a notebook and a Kubernetes Secret."""
    root.mkdir(parents=True)
    (root / "utf8.env").write_text(f"# Überprüfung 🚀 ☃\nDB_PASSWORD={PASSWORD}\n", encoding="utf-8")
    (root / "latin1.env").write_bytes(f"# caf\xe9 \xff\nDB_PASSWORD={PASSWORD}\n".encode("latin-1"))
    (root / "utf16.env").write_bytes(("\ufeffDB_PASSWORD=" + PASSWORD + "\n").encode("utf-16-le"))
    (root / "bom8.env").write_bytes(("\ufeff# ü\nDB_PASSWORD=" + PASSWORD + "\n").encode("utf-8"))
    secret = base64.b64encode(PASSWORD.encode()).decode()
    (root / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  DB_PASSWORD: {secret}\n"
    )
    cell = {"cell_type": "code", "metadata": {}, "source": [f'db_password = "{PASSWORD}"\n'], "outputs": []}
    (root / "nb.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (root / "plain.txt").write_text("nothing to see here\n" * 50)


def test_bytes_first_finds_exactly_what_decoding_every_file_finds(tmp_path: Path) -> None:
    generate(tmp_path / "corpus", seed=5, scale=2)
    shutil.copytree(GUIDES, tmp_path / "guides")
    _odd_files(tmp_path / "odd")
    options = ScanOptions(include=ALL, respect_gitignore=False)
    fast = scan_paths([str(tmp_path)], _bytes_first, options=options)
    slow = scan_paths([str(tmp_path)], TextOnly, options=options)
    assert len(fast.findings) > 100
    assert _identity(fast) == _identity(slow)
    assert fast.line_hashes == slow.line_hashes
    assert (fast.stats.files, fast.stats.bytes, fast.hidden) == (slow.stats.files, slow.stats.bytes, slow.hidden)
    odd = {f.location.path.rsplit("/", 1)[-1]: f for f in fast.findings if "/odd/" in f.location.path}
    assert set(odd) == {"utf8.env", "latin1.env", "utf16.env", "bom8.env", "secret.yaml", "nb.ipynb"}
    assert (odd["utf8.env"].location.line, odd["utf8.env"].location.column) == (2, 13)
    assert (odd["latin1.env"].location.line, odd["latin1.env"].location.column) == (2, 13)
    assert odd["secret.yaml"].location.line == 6  # reported at the encoded value


def test_a_file_without_keywords_is_never_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plain.txt").write_text("nothing to see here\n" * 50)
    (tmp_path / "app.env").write_text(f"DB_PASSWORD={PASSWORD}\n")
    decoded: list[int] = []
    real = worker_mod.decode_plain

    def spy(data: bytes) -> str:
        decoded.append(len(data))
        return real(data)

    monkeypatch.setattr(worker_mod, "decode_plain", spy)
    result = scan_paths([str(tmp_path)], _bytes_first)
    assert [f.location.path.rsplit("/", 1)[-1] for f in result.findings] == ["app.env"]
    assert decoded == [len(f"DB_PASSWORD={PASSWORD}\n")]
    assert result.stats.files == 2


def test_decoders_run_only_when_a_decoder_keyword_is_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.env").write_text(f"DB_PASSWORD={PASSWORD}\n")  # keyword hit, no "secret"
    _odd_files(tmp_path / "odd")
    expanded: list[str] = []

    def spy(fragment: Fragment) -> list[Fragment]:
        expanded.append(fragment.path.rsplit("/", 1)[-1])
        return real(fragment)

    real = pool_mod._load_expander()
    assert real is not None
    monkeypatch.setattr(pool_mod, "_load_expander", lambda: spy)
    scan_paths([str(tmp_path)], _bytes_first, options=ScanOptions(jobs=1))
    assert "app.env" not in expanded
    assert "secret.yaml" in expanded
