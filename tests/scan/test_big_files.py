"""Big files: bounded chunks with overlap, sparse files, files over 2 GiB, peak memory, `\\r` line ends."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from secretops.scan import engine as engine_mod
from secretops.scan.models import Classification
from secretops.scan.runner import ScanOptions, scan_paths
from secretops.scan.sources import stream as stream_mod
from secretops.scan.sources.interface import SkipReason, lone_cr_to_lf
from secretops.scan.sources.stream import CHUNK_BYTES, OVERLAP_BYTES, Gap, char_count, chunks
from tests.scan.fake_scanner import FakeScanner

ALL = frozenset(Classification)
REPO = Path(__file__).resolve().parents[2]


def _scan(path: Path, **kw: object) -> list[tuple[str, int, int]]:
    result = scan_paths([str(path)], FakeScanner, options=ScanOptions(include=ALL, **kw))  # type: ignore[arg-type]
    return [(f.location.path.rsplit("/", 1)[-1], f.location.line, f.location.column) for f in result.findings]


def _expected(data: bytes, token: bytes = b"FAKE_LEAK_") -> list[tuple[int, int]]:
    """(line, column) of every token in `data`, counted the slow, obvious way (UTF-8 columns)."""
    text = lone_cr_to_lf(data).decode("utf-8")
    out = []
    start = text.find(token.decode())
    while start >= 0:
        line = text.count("\n", 0, start) + 1
        out.append((line, start - (text.rfind("\n", 0, start) + 1) + 1))
        start = text.find(token.decode(), start + 1)
    return out


# --- the chunker ------------------------------------------------------------------------------------


def _check_chunks(data: bytes, blocks: list[bytes | Gap], chunk: int, overlap: int) -> None:
    """Cores partition the input; each chunk's line offset and column shift are right."""
    flat = lone_cr_to_lf(data)
    pos = 0
    for ch in chunks(blocks, chunk, overlap):
        start = pos - ch.core_start  # offset of `ch.data[0]` in the input
        assert flat[start : start + len(ch.data)] == ch.data
        assert ch.line_offset == flat.count(b"\n", 0, start)
        assert ch.column_shift == char_count(flat[flat.rfind(b"\n", 0, start) + 1 : start])
        assert len(ch.data) <= chunk + 2 * overlap
        ch.data.decode("utf-8")  # cut at character boundaries
        pos += ch.core_end - ch.core_start
    assert pos == len(flat)


@pytest.mark.parametrize("seed", range(4))
def test_chunks_partition_the_input_with_right_lines_and_columns(seed: int) -> None:
    rng = random.Random(seed)
    parts = []
    for _ in range(1500):
        width = rng.choices([0, 3, 40, 200, 5000], weights=[3, 3, 10, 5, 1])[0]  # some longer than the overlap
        piece = "".join(rng.choice("ab é€\r") for _ in range(min(width, 50)))
        parts.append((piece * (width // 50 + 1))[:width] + rng.choice(["\n", "\r\n", "\r"]))
    data = "".join(parts).encode()
    cut = sorted(rng.sample(range(1, len(data)), 40))
    blocks: list[bytes | Gap] = [data[a:b] for a, b in zip([0, *cut], [*cut, len(data)], strict=True)]
    _check_chunks(data, blocks, chunk=8192, overlap=1024)


def test_one_line_longer_than_a_chunk_is_cut_at_character_boundaries() -> None:
    data = ("é" * 20000 + "x" * 7 + "€" * 9000 + "\n" + "tail\n").encode()
    _check_chunks(data, [data[i : i + 777] for i in range(0, len(data), 777)], chunk=4096, overlap=1024)


def test_a_cr_split_from_its_lf_by_a_block_boundary_is_one_line_end() -> None:
    data = b"a\r\nb\rc\r"
    out = list(chunks([b"a\r", b"\nb\r", b"c\r"], 8, 2))
    assert b"".join(c.data[c.core_start : c.core_end] for c in out) == b"a\r\nb\nc\n"
    _check_chunks(data, [b"a\r", b"\nb\r", b"c\r"], 8, 2)


def test_a_gap_counts_as_characters_of_its_line() -> None:
    out = list(chunks([b"x\nab", Gap(100), b"cd\nef"], 64, 8))
    assert [(c.data, c.line_offset, c.column_shift) for c in out] == [(b"x\nab", 0, 0), (b"cd\nef", 1, 102)]


def test_the_overlap_reaches_past_any_match_the_engine_makes() -> None:
    """A credential that starts in a core is seen whole: the reach covers the engine's windows."""
    reach = getattr(engine_mod, "MAX_WINDOW", 0) + getattr(engine_mod, "MULTILINE_REACH", 0)
    assert 2 * reach <= OVERLAP_BYTES
    assert CHUNK_BYTES >= 16 * OVERLAP_BYTES


# --- through the runner -----------------------------------------------------------------------------


def _plant(size: int, spots: list[int], rng: random.Random) -> bytes:
    """About `size` bytes of short lines with a fake leak at (about) each offset in `spots`."""
    lines = [("word " * rng.randint(0, 12)).encode() + rng.choice([b"\n", b"\r\n"]) for _ in range(2000)]
    block = b"".join(lines)
    out = bytearray()
    spots = sorted(spots)
    i = 0
    while len(out) < size:
        if i < len(spots) and len(out) >= spots[i]:
            out += f"k{i} = 'FAKE_LEAK_big{i:05}x'\n".encode()
            i += 1
        elif i < len(spots) and spots[i] - len(out) > len(block):
            out += block
        else:
            out += rng.choice(lines)
    return bytes(out)


def test_findings_near_chunk_edges_are_reported_once_at_their_line(tmp_path: Path) -> None:
    rng = random.Random(7)
    edges = [CHUNK_BYTES * k + d for k in (1, 2) for d in (-OVERLAP_BYTES - 9, -30, -2, 0, 3, 700, OVERLAP_BYTES + 5)]
    data = _plant(3 * CHUNK_BYTES + 1000, [100, *edges], rng)
    big = tmp_path / "big.log"
    big.write_bytes(data)
    found = _scan(big, max_file_size=64 * 1024 * 1024)
    assert [(line, col) for _, line, col in found] == _expected(data)
    assert len(found) == 1 + len(edges)


def test_a_big_file_with_one_huge_line_keeps_its_columns(tmp_path: Path) -> None:
    filler = "x = 1; " * (CHUNK_BYTES // 5)  # one line of about 5.6 MiB: cut in the middle
    data = ("start\n" + filler + "k = 'FAKE_LEAK_inthelongline1' " + filler + "\n").encode()
    big = tmp_path / "min.js"
    big.write_bytes(data)
    found = _scan(big, max_file_size=64 * 1024 * 1024)
    assert [(line, col) for _, line, col in found] == _expected(data) == [(2, len(filler) + 6)]


def test_a_big_utf16_file_is_scanned_in_chunks(tmp_path: Path) -> None:
    text = "é line\n" * (CHUNK_BYTES // 14) + "pw = 'FAKE_LEAK_utf16tail'\n"
    big = tmp_path / "u16.txt"
    big.write_bytes(text.encode("utf-16"))  # with a BOM
    assert [(line, col) for _, line, col in _scan(big, max_file_size=64 * 1024 * 1024)] == _expected(text.encode())


def test_a_sparse_file_over_2_gib_is_read_to_its_end(tmp_path: Path) -> None:
    """Once a single `os.read` cut such a file at 2,147,479,552 bytes, silently."""
    head = b"".join(f"line {i}\n".encode() for i in range(1000))
    tail = b"\nafter the hole\nkey = 'FAKE_LEAK_past2gib01'\n"
    huge = tmp_path / "huge.log"
    with open(huge, "wb") as fh:
        fh.write(head)
        fh.seek(2 * 1024**3 + 12345)  # a hole of zeros, then text again beyond 2 GiB
        fh.write(tail)
    found = _scan(huge, max_file_size=3 * 1024**3)
    # The hole has no line end: the text after it starts on the line the head's last line end opened.
    assert found == [("huge.log", 1000 + 3, 8)]


def test_holes_read_as_zeros_give_the_same_result_without_seek_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sparse = tmp_path / "sparse.log"
    with open(sparse, "wb") as fh:
        fh.write(b"one\ntwo\n" * 2000)  # more than the 8 KiB the binary check reads
        fh.seek(9 * 1024 * 1024)
        fh.write(b"mid line FAKE_LEAK_afterhole1\n")
    with_holes = _scan(sparse, max_file_size=64 * 1024 * 1024)
    assert with_holes == [("sparse.log", 4001, 9 * 1024 * 1024 - 16000 + 10)]  # the zeros are part of the line
    monkeypatch.delattr(os, "SEEK_DATA")
    assert _scan(sparse, max_file_size=64 * 1024 * 1024) == with_holes


def test_a_big_file_that_starts_binary_is_skipped_after_one_chunk(tmp_path: Path) -> None:
    sparse = tmp_path / "disk.img"
    with open(sparse, "wb") as fh:
        fh.seek(2 * 1024**3)
        fh.write(b"FAKE_LEAK_notscanned1\n")
    result = scan_paths([str(sparse)], FakeScanner, options=ScanOptions(max_file_size=3 * 1024**3))
    assert result.findings == [] and result.stats.skipped == {SkipReason.BINARY: 1}


_RSS_SCRIPT = textwrap.dedent(
    """
    import gc, os, resource, sys
    from secretops.scan.engine import Scanner
    from secretops.scan.rules.loader import load_rules
    from secretops.scan.runner import ScanOptions, scan_paths
    from secretops.values import FingerprintKey

    rules = load_rules()  # may peak high on a cold rule cache: measured before the fork, not after
    key = FingerprintKey(b"k" * 32)
    scanner = Scanner(rules, key)
    gc.collect()
    read, write = os.pipe()
    pid = os.fork()
    def hwm():  # peak RSS in KiB: VmHWM (reset below), else ru_maxrss
        with open("/proc/self/status") as fh:
            return int(fh.read().split("VmHWM:")[1].split()[0])

    if pid == 0:  # a child: its peak RSS is reset to what it holds now, then the scan runs
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            peak_now = hwm
        except OSError:
            peak_now = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        base = peak_now()
        result = scan_paths(sys.argv[1:], lambda: scanner, options=ScanOptions(max_file_size=8 * 1024**3))
        peak = peak_now()
        os.write(write, f"{base // 1024} {peak // 1024} {result.stats.files} {result.stats.bytes}".encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    print(os.read(read, 200).decode() if status == 0 else f"child failed {status}")
    """
)


def test_peak_memory_stays_bounded_whatever_the_size_limit(tmp_path: Path) -> None:
    """A 200 MB text file and a 2 GB sparse one, with an 8 GB size limit: the scan adds under 100 MB.

    Read whole, the text file alone would take more than 200 MB (chunked: about 40 MB here).
    """
    text = tmp_path / "big.txt"
    block = b"".join(f"plain words on line {i} of a log\n".encode() for i in range(30000))
    with open(text, "wb") as fh:
        for _ in range(200 * 1024 * 1024 // len(block)):
            fh.write(block)
        fh.write(b"-----BEGIN RSA PRIVATE KEY-----\n" + b"A" * 64 + b"\n-----END RSA PRIVATE KEY-----\n")
    sparse = tmp_path / "sparse.bin"
    with open(sparse, "wb") as fh:
        fh.truncate(2 * 1024**3)
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(text), str(sparse)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    before, after, files, nbytes = (int(x) for x in proc.stdout.split())
    assert files == 1 and nbytes == text.stat().st_size  # the text file read whole, the sparse one skipped
    assert after - before < 100, f"the scan grew RSS from {before} MB to {after} MB"


def test_chunk_constants_are_what_the_docs_say() -> None:
    assert stream_mod.CHUNK_BYTES == 4 * 1024 * 1024 and stream_mod.OVERLAP_BYTES == 64 * 1024


def test_the_bytes_first_engine_finds_each_key_once_across_chunks(tmp_path: Path) -> None:
    """The real engine (Hyperscan prefilter on each chunk's bytes), keys around both chunk edges."""
    from secretops.scan.engine import Scanner
    from secretops.scan.rules.loader import load_rule_file
    from secretops.values import FingerprintKey
    from tests.scan.test_archives import ACME_RULES, _acme

    rules_file = tmp_path / "acme.toml"
    rules_file.write_text(ACME_RULES)
    rules = load_rule_file(rules_file)
    rng = random.Random(3)
    out = bytearray()
    keys = []
    for target in (1000, CHUNK_BYTES - 40, CHUNK_BYTES + 3, 2 * CHUNK_BYTES - OVERLAP_BYTES // 2, 2 * CHUNK_BYTES + 10):
        while len(out) < target:
            out += ("text " * rng.randint(0, 15)).encode() + b"\r\n"
        key = _acme()
        keys.append(key)
        out += f"ACME_KEY={key}\r".encode()  # a lone CR ends this line
    out += b"end\n" * 1000
    big = tmp_path / "big.env"
    big.write_bytes(bytes(out))
    text = lone_cr_to_lf(bytes(out)).decode()
    expected = []
    for key in keys:
        at = text.index(key)
        expected.append((text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)))
    result = scan_paths(
        [str(big)],
        lambda: Scanner(rules, FingerprintKey(b"k" * 32)),
        options=ScanOptions(max_file_size=64 * 1024 * 1024),
    )
    assert [(f.location.line, f.location.column) for f in result.findings] == expected
