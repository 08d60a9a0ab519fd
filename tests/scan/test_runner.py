"""The runner: collection, ordering, classes, policy paths, workers, stats, bad inputs."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from secretops.scan import runner as runner_mod
from secretops.scan.models import Classification, Fragment, Severity
from secretops.scan.runner import BatchLimits, ScanOptions, failing, scan_paths
from secretops.scan.runner import pool as pool_mod
from secretops.scan.runner import worker as worker_mod
from secretops.scan.sources import files as files_mod
from secretops.scan.sources.interface import SkipReason
from secretops.values import FingerprintKey
from tests.scan.fake_scanner import FakeScanner

ALL = frozenset(Classification)


class _Policy:
    def __init__(self, *patterns: str) -> None:
        self.patterns = [re.compile(p) for p in patterns]

    def path_allowed(self, rel_path: str) -> bool:
        return any(p.search(rel_path) for p in self.patterns)


def _tree(root: Path, n: int = 12) -> None:
    (root / "src").mkdir()
    for i in range(n):
        (root / "src" / f"m{i:02}.py").write_text(f"# module {i}\nx = 1\nKEY = 'FAKE_LEAK_mod{i:02}xxxxx'\n")
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text("pw = 'FAKE_TEST_abcdefgh'\n")
    (root / "README.md").write_text("use FAKE_PH_abcdefgh here\nSECRET=FAKE_WEAK_abcdefgh\n")


def _scan(root: Path, **kw: object) -> runner_mod.ScanResult:
    return scan_paths([str(root)], FakeScanner, options=ScanOptions(**kw))  # type: ignore[arg-type]


def test_findings_are_sorted_and_counted(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = _scan(tmp_path)
    paths = [f.location.path for f in result.findings]
    assert paths == sorted(paths)
    assert len(result.findings) == 13  # 12 leaks + 1 weak default
    first = result.findings[1]
    assert (first.location.line, first.location.column) == (3, 8)
    assert result.stats.files == 14
    assert result.stats.bytes == sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert result.stats.seconds > 0
    assert len(result.line_hashes) == len(result.findings)


def test_other_classes_are_hidden_but_counted(tmp_path: Path) -> None:
    _tree(tmp_path)
    default = _scan(tmp_path)
    assert {f.classification for f in default.findings} == {Classification.LEAK, Classification.WEAK_DEFAULT}
    assert default.hidden == {"test-credential": 1, "placeholder": 1}
    everything = _scan(tmp_path, include=ALL)
    assert {f.classification for f in everything.findings} == ALL
    assert everything.hidden == {}


def test_test_credentials_and_placeholders_never_fail(tmp_path: Path) -> None:
    _tree(tmp_path, n=0)
    result = _scan(tmp_path, include=ALL)
    assert result.failing(Severity.HIGH) == []  # the weak default is medium
    assert [f.classification for f in result.failing(Severity.MEDIUM)] == [Classification.WEAK_DEFAULT]
    assert result.failing(None) == []
    assert failing(result.findings, Severity.INFO) == result.failing(Severity.MEDIUM)


def test_raw_values_are_dropped_unless_kept(tmp_path: Path) -> None:
    _tree(tmp_path, n=1)
    assert all(f.secret is None for f in _scan(tmp_path).findings)
    kept = _scan(tmp_path, keep_secrets=True)
    assert kept.findings[0].secret is not None
    assert kept.findings[0].secret.reveal().startswith("FAKE_")


def test_parallel_scan_gives_the_same_result(tmp_path: Path) -> None:
    _tree(tmp_path, n=40)
    small = BatchLimits(files=3, bytes=1 << 20)
    one = _scan(tmp_path, jobs=1, batch=small)
    two = _scan(tmp_path, jobs=2, batch=small)
    assert one.findings == two.findings
    assert one.line_hashes == two.line_hashes
    assert (one.stats.files, one.stats.bytes, one.stats.skipped) == (
        two.stats.files,
        two.stats.bytes,
        two.stats.skipped,
    )
    assert one.hidden == two.hidden


def test_parallel_workers_report_engine_failures(tmp_path: Path) -> None:
    _tree(tmp_path, n=10)
    (tmp_path / "src" / "m03.py").write_text("EXPLODE\n")
    result = _scan(tmp_path, jobs=2, batch=BatchLimits(files=2))
    assert result.stats.skipped == {SkipReason.ERROR: 1}
    assert [s.path for s in result.skipped] == [str(tmp_path / "src" / "m03.py")]
    assert len([f for f in result.findings if f.classification is Classification.LEAK]) == 9


def test_policy_allowlisted_paths_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, n=2)
    read: list[str] = []
    real = files_mod.open_entry

    def spy(entry: files_mod.FileEntry, max_file_size: int = 0) -> object:
        read.append(entry.rel)
        return real(entry, max_file_size)

    monkeypatch.setattr(worker_mod, "open_entry", spy)
    result = scan_paths([str(tmp_path)], FakeScanner, policy=_Policy(r"^src/m01"), options=ScanOptions(include=ALL))
    assert "src/m01.py" not in read
    assert "src/m01.py" not in {os.path.relpath(f.location.path, tmp_path) for f in result.findings}
    assert result.stats.skipped == {SkipReason.ALLOWLISTED: 1}


def test_missing_path_is_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    _tree(tmp_path, n=2)
    result = scan_paths([str(tmp_path / "missing"), str(tmp_path)], FakeScanner)
    assert result.stats.skipped == {SkipReason.MISSING: 1}
    assert result.skipped[0].reason == SkipReason.MISSING
    assert len(result.findings) == 3


def test_bad_bytes_and_unreadable_files_do_not_stop_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9 \xff key=FAKE_LEAK_latin111\n")
    (tmp_path / "locked.txt").write_text("FAKE_LEAK_lockedxx")
    os.mkfifo(tmp_path / "fifo")
    real_open = os.open

    def fake_open(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("locked.txt"):  # as root, chmod 000 would not stop the read
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    result = _scan(tmp_path)
    assert [f.preview for f in result.findings] == ["FAKE********"]
    assert result.findings[0].location.column == 12  # Latin-1: one column per byte
    assert result.stats.skipped == {SkipReason.UNREADABLE: 1, SkipReason.NOT_REGULAR: 1}
    assert {s.reason for s in result.skipped} == {SkipReason.UNREADABLE, SkipReason.NOT_REGULAR}


def test_stdin_is_scanned_in_process() -> None:
    stdin = io.BytesIO(b"line\nFAKE_LEAK_fromstdin\n")
    result = scan_paths(["-"], FakeScanner, stdin=stdin)
    assert [(f.location.path, f.location.line) for f in result.findings] == [("<stdin>", 2)]
    assert result.stats.files == 1


def test_notebook_findings_carry_the_cell(tmp_path: Path) -> None:
    import json

    nb = {"cells": [{"source": "a=1"}, {"source": ["x\n", "k='FAKE_LEAK_notebook1'\n"], "outputs": []}]}
    text = json.dumps(nb)
    (tmp_path / "n.ipynb").write_text(text)
    result = _scan(tmp_path)
    loc = result.findings[0].location
    # The line and column of the .ipynb file itself (one line of JSON here); the cell in context too.
    assert (loc.cell, loc.line, loc.column) == (2, 1, text.index("FAKE_LEAK_notebook1") + 1)
    assert result.findings[0].context["cell"] == "2"


def test_line_hashes_are_stable_and_hold_no_value(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("A=FAKE_LEAK_firstxxx\nB=FAKE_LEAK_firstxxx\nA=FAKE_LEAK_firstxxx\n")
    one = scan_paths([str(tmp_path)], lambda: FakeScanner(FingerprintKey(b"1" * 32)))
    two = scan_paths([str(tmp_path)], lambda: FakeScanner(FingerprintKey(b"2" * 32)))
    assert one.findings[0].fingerprint != two.findings[0].fingerprint  # keys differ per installation
    assert one.line_hashes == two.line_hashes  # ... line hashes do not
    a1, b1, a2 = one.line_hashes
    assert a1 != b1
    assert a1.split(":")[0] == a2.split(":")[0] and (a1.endswith(":1"), a2.endswith(":2")) == (True, True)
    assert all("FAKE_LEAK" not in h for h in one.line_hashes)
    # Moving the line does not change its hash.
    (tmp_path / "a.env").write_text("\n\nA=FAKE_LEAK_firstxxx\n")
    moved = scan_paths([str(tmp_path)], FakeScanner)
    assert moved.line_hashes[0] == a1


def test_decoded_fragments_are_scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.yaml").write_text("data:\n  pw: RkFLRV9MRUFLX2RlY29kZWQx\n")

    def expand(fragment: Fragment) -> list[Fragment]:
        return [Fragment(text="FAKE_LEAK_decoded1", path=fragment.path, line_offset=1)]

    monkeypatch.setattr(pool_mod, "_load_expander", lambda: expand)
    result = _scan(tmp_path)
    assert [(f.location.line, f.preview) for f in result.findings] == [(2, "FAKE********")]


def test_progress_is_reported(tmp_path: Path) -> None:
    _tree(tmp_path, n=5)
    seen: list[runner_mod.Progress] = []
    scan_paths([str(tmp_path)], FakeScanner, options=ScanOptions(batch=BatchLimits(files=2)), progress=seen.append)
    assert len(seen) >= 3
    assert seen[-1].files == 7


def test_scanner_is_built_once_in_process(tmp_path: Path) -> None:
    _tree(tmp_path, n=5)
    built: list[FakeScanner] = []

    def factory() -> FakeScanner:
        built.append(FakeScanner())
        return built[-1]

    scan_paths([str(tmp_path)], factory, options=ScanOptions(jobs=1, batch=BatchLimits(files=1)))
    assert len(built) == 1 and built[0].calls == 7
