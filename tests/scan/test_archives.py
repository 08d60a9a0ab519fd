"""Archives: members scanned in memory and reported as `bundle.zip!config/.env:3`, with bounds.

Every archive here is built by the test, in memory, so no fake secret sits in a binary file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import secrets
import string
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from secretops.cli.app import run
from secretops.scan.models import Classification
from secretops.scan.runner import BatchLimits, ScanOptions, ScanResult, scan_paths
from secretops.scan.sources.archive import archive_kind
from secretops.scan.sources.interface import SkipReason
from secretops.scan.sources.stream import CHUNK_BYTES
from tests.scan.fake_scanner import FakeScanner

ALL = frozenset(Classification)

ACME_RULES = """
[[rules]]
id = "acme-api-key"
description = "Acme API key (acme_ prefix)"
provider = "acme"
kind = "api-key"
severity = "high"
keywords = ["acme_"]
regex = '''\\b(acme_[A-Za-z0-9]{20})\\b'''
secret_group = 1
examples = ["key = acme_Q7vT2mLp9XcR4nBz8WkY"]
counterexamples = ["acme_xxxxxxxxxxxxxxxxxxxx"]
"""


def _acme() -> str:
    return "acme_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _scan(path: Path, **kw: object) -> ScanResult:
    return scan_paths([str(path)], FakeScanner, options=ScanOptions(include=ALL, **kw))  # type: ignore[arg-type]


def _where(result: ScanResult, root: Path) -> list[tuple[str, int, int]]:
    prefix = str(root) + "/"
    return [(f.location.path.removeprefix(prefix), f.location.line, f.location.column) for f in result.findings]


ENV = b"# settings\n\nAPI_KEY=FAKE_LEAK_inarchive01\n"


# --- the first test: a .tgz with seven leaks, end to end ---------------------------------------------


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rules = tmp_path / "acme.toml"
    rules.write_text(ACME_RULES)
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    return rules


def test_a_tgz_with_seven_leaks_fails_the_scan_in_every_format(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It used to be skipped as binary, and the scan exited 0."""
    members = {f"./config/app{i}.env": f"# app {i}\n\nACME_KEY={_acme()}\n".encode() for i in range(7)}
    Path("release.tgz").write_bytes(_tar(members, "w:gz"))
    base = ["scan", "--rules", str(acme), "--jobs", "1", "release.tgz"]
    assert run([*base, "-f", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    wanted = [(f"release.tgz!config/app{i}.env", 3, 10) for i in range(7)]
    assert [(f["path"], f["line"], f["column"]) for f in doc["findings"]] == wanted
    assert run([*base, "-f", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]]
    assert uris == [path for path, _, _ in wanted]
    assert run(base) == 1
    table = capsys.readouterr().out
    assert all(f"{path}:3:10" in table for path, _, _ in wanted)
    # --no-archives: left closed, and the summary says so (never a silent pass).
    assert run([*base, "--no-archives", "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"] == [] and doc["stats"]["skipped"] == {SkipReason.ARCHIVE: 1}


def test_archive_members_go_through_the_bytes_first_engine_like_files(
    acme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _acme()
    data = f"one\rtwo\rACME_KEY={key}\r".encode()  # `\r` line ends inside a member
    Path("plain.env").write_bytes(data)
    Path("b.zip").write_bytes(_zip({"deep/plain.env": data}))
    assert run(["scan", "--rules", str(acme), "--jobs", "1", "-f", "json", "."]) == 1
    found = [(f["path"], f["line"], f["column"]) for f in json.loads(capsys.readouterr().out)["findings"]]
    assert found == [("b.zip!deep/plain.env", 3, 10), ("plain.env", 3, 10)]


def test_archive_options_are_checked_before_scanning(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "--rules", str(acme), "--archive-depth", "0", "."]) == 2
    assert "--archive-depth" in capsys.readouterr().err
    assert run(["scan", "--rules", str(acme), "--max-archive-size", "lots", "."]) == 2
    assert "--max-archive-size" in capsys.readouterr().err


# --- every kind -------------------------------------------------------------------------------------


def _single(compress: Callable[[bytes], bytes]) -> Callable[[dict[str, bytes]], bytes]:
    return lambda members: compress(next(iter(members.values())))


KINDS: dict[str, Callable[[dict[str, bytes]], bytes]] = {
    "b.zip": _zip,
    "b-stored.zip": lambda m: _zip(m, zipfile.ZIP_STORED),
    "b.tar": _tar,
    "b.tar.gz": lambda m: _tar(m, "w:gz"),
    "b.tgz": lambda m: _tar(m, "w:gz"),
    "b.tar.bz2": lambda m: _tar(m, "w:bz2"),
    "b.tar.xz": lambda m: _tar(m, "w:xz"),
    "B.TAR.GZ": lambda m: _tar(m, "w:gz"),
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_archive_kind_is_opened(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(KINDS[name]({"config/.env": ENV}))
    result = _scan(tmp_path)
    assert _where(result, tmp_path) == [(f"{name}!config/.env", 3, 9)]
    assert result.stats.files == 1 and result.stats.bytes == len(ENV)


@pytest.mark.parametrize(
    ("name", "compress"),
    [("dump.sql.gz", gzip.compress), ("dump.sql.bz2", bz2.compress), ("dump.sql.xz", lzma.compress)],
)
def test_a_compressed_file_holds_one_member_named_without_the_suffix(
    tmp_path: Path, name: str, compress: Callable[[bytes], bytes]
) -> None:
    (tmp_path / name).write_bytes(compress(ENV))
    assert _where(_scan(tmp_path), tmp_path) == [(f"{name}!dump.sql", 3, 9)]


def test_a_gz_that_holds_a_tar_is_read_as_a_tar(tmp_path: Path) -> None:
    (tmp_path / "backup.gz").write_bytes(gzip.compress(_tar({"etc/app.env": ENV})))
    assert _where(_scan(tmp_path), tmp_path) == [("backup.gz!etc/app.env", 3, 9)]


def test_kinds_come_from_the_name() -> None:
    assert archive_kind("x.tar.gz") is not None and archive_kind("x.tar.gz").container == "tar"  # type: ignore[union-attr]
    assert archive_kind("x.gz").container == "stream"  # type: ignore[union-attr]
    assert archive_kind("x.whl") is None and archive_kind("notes.txt") is None


def test_members_are_scanned_like_files(tmp_path: Path) -> None:
    nb = json.dumps({"cells": [{"cell_type": "code", "source": ["x = 1\n", "k = 'FAKE_LEAK_nbinzip01'\n"]}]}, indent=1)
    members = {
        "nb.ipynb": nb.encode(),
        "logo.png": b"\x89PNG FAKE_LEAK_inapngfile",
        "blob.bin": b"\x00\x01 FAKE_LEAK_binarymember",
        "win.txt": b"a\r\nb\rpw FAKE_LEAK_crinmember\r\n",
    }
    (tmp_path / "m.zip").write_bytes(_zip(members))
    result = _scan(tmp_path)
    at = nb.index("FAKE_LEAK_nbinzip01")
    nb_pos = (nb.count("\n", 0, at) + 1, at - nb.rfind("\n", 0, at))
    assert _where(result, tmp_path) == [("m.zip!nb.ipynb", *nb_pos), ("m.zip!win.txt", 3, 4)]
    assert result.findings[0].location.cell == 1
    assert result.stats.skipped == {SkipReason.BINARY: 2}


def test_a_big_member_is_streamed_in_chunks(tmp_path: Path) -> None:
    filler = b"".join(b"filler line %d\n" % i for i in range(CHUNK_BYTES // 12))
    data = filler + b"key FAKE_LEAK_bigmember01\n"
    (tmp_path / "big.tar.gz").write_bytes(_tar({"big.log": data}, "w:gz"))
    result = _scan(tmp_path, max_file_size=64 * 1024 * 1024)
    assert _where(result, tmp_path) == [("big.tar.gz!big.log", filler.count(b"\n") + 1, 5)]
    assert result.stats.bytes == len(data)


def test_a_member_over_the_file_size_limit_is_skipped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(_zip({"huge.env": ENV + b"x" * 5000, "ok.env": ENV}))
    result = _scan(tmp_path, max_file_size=4096)
    assert _where(result, tmp_path) == [("a.zip!ok.env", 3, 9)]
    assert [(s.path.removeprefix(str(tmp_path) + "/"), s.reason) for s in result.skipped] == [
        ("a.zip!huge.env", SkipReason.TOO_LARGE)
    ]


# --- nesting ----------------------------------------------------------------------------------------


def _nested(levels: int) -> bytes:
    """`levels` archives, alternately tar.gz and zip, the innermost holding `.env`."""
    data = _zip({"app/.env": ENV})
    for i in range(levels - 1):
        data = _tar({f"l{i}.zip": data}, "w:gz") if i % 2 == 0 else _zip({f"l{i}.tgz": data})
    return data


def test_nested_archives_open_to_the_default_depth_of_two(tmp_path: Path) -> None:
    (tmp_path / "two.tgz").write_bytes(_tar({"inner.zip": _zip({"app/.env": ENV})}, "w:gz"))
    (tmp_path / "three.zip").write_bytes(_nested(3))
    result = _scan(tmp_path)
    assert _where(result, tmp_path) == [("two.tgz!inner.zip!app/.env", 3, 9)]
    assert [(s.path.removeprefix(str(tmp_path) + "/"), s.reason) for s in result.skipped] == [
        ("three.zip!l1.tgz!l0.zip", SkipReason.ARCHIVE_DEPTH)
    ]


def test_archive_depth_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "three.zip").write_bytes(_nested(3))
    assert _where(_scan(tmp_path, archive_depth=3), tmp_path) == [("three.zip!l1.tgz!l0.zip!app/.env", 3, 9)]
    one = _scan(tmp_path, archive_depth=1)
    assert one.findings == [] and one.stats.skipped == {SkipReason.ARCHIVE_DEPTH: 1}


# --- bounds: bombs, sizes, damage -------------------------------------------------------------------


def test_a_zip_bomb_is_skipped_fast_and_counted(tmp_path: Path) -> None:
    zeros = b"\0" * (64 * 1024 * 1024)
    (tmp_path / "bomb.zip").write_bytes(_zip({"zeros.txt": zeros, "real.env": ENV}))
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(zeros, 9))
    (tmp_path / "bomb.tar.bz2").write_bytes(_tar({"zeros.txt": zeros}, "w:bz2"))
    started = time.perf_counter()
    result = _scan(tmp_path)
    assert time.perf_counter() - started < 5
    assert _where(result, tmp_path) == [("bomb.zip!real.env", 3, 9)]
    # The tar's member is also over --max-file-size (it says so in its header): noted before the bomb.
    assert result.stats.skipped == {SkipReason.ARCHIVE_BOMB: 3, SkipReason.TOO_LARGE: 1}
    bombs = {s.path.removeprefix(str(tmp_path) + "/") for s in result.skipped if s.reason == SkipReason.ARCHIVE_BOMB}
    assert bombs == {"bomb.zip!zeros.txt", "bomb.gz", "bomb.tar.bz2"}


def test_the_total_decompressed_size_is_bounded(tmp_path: Path) -> None:
    words = [secrets.token_hex(3).encode() for _ in range(64)]
    members = {f"f{i}.env": ENV + b" ".join(secrets.choice(words) for _ in range(8000)) for i in range(10)}
    (tmp_path / "many.tgz").write_bytes(_tar(members, "w:gz"))  # about 560 KB in, 200 KB on disk
    assert (tmp_path / "many.tgz").stat().st_size < 250_000
    result = _scan(tmp_path, max_archive_size=250_000)
    found = _where(result, tmp_path)
    assert 1 <= len(found) < 10  # what was read before the limit is kept...
    assert result.stats.skipped == {SkipReason.ARCHIVE_LIMIT: 1}  # ...and the stop is counted
    big = _scan(tmp_path, max_archive_size=50_000)  # an archive file over the limit is not opened
    assert big.findings == [] and big.stats.skipped == {SkipReason.TOO_LARGE: 1}


def _encrypted_zip(members: dict[str, bytes], encrypted: str) -> bytes:
    """A zip whose member `encrypted` has the encryption flag set (Python cannot write encrypted zips)."""
    data = bytearray(_zip(members, zipfile.ZIP_STORED))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(encrypted)
    data[info.header_offset + 6] |= 0x1  # local header flags
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + name_len] == encrypted.encode():
            data[central + 8] |= 0x1  # central directory flags
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def test_encrypted_members_are_counted_never_silently_passed(tmp_path: Path) -> None:
    (tmp_path / "e.zip").write_bytes(_encrypted_zip({"secret.env": ENV, "open.env": ENV}, "secret.env"))
    result = _scan(tmp_path)
    assert _where(result, tmp_path) == [("e.zip!open.env", 3, 9)]
    assert [(s.path.removeprefix(str(tmp_path) + "/"), s.reason) for s in result.skipped] == [
        ("e.zip!secret.env", SkipReason.ENCRYPTED)
    ]


def test_a_damaged_archive_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    good = _tar({"a.env": ENV, "b.env": os.urandom(200_000).hex().encode()}, "w:gz")
    (tmp_path / "cut.tgz").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not really a zip")
    result = _scan(tmp_path)
    assert _where(result, tmp_path) == [("cut.tgz!a.env", 3, 9)]
    assert result.stats.skipped == {SkipReason.CORRUPT: 2}  # one per archive, where the damage stopped it
    assert "b.env" in next(s.detail for s in result.skipped if s.path.endswith("cut.tgz"))


# --- hostile names: nothing is ever written ----------------------------------------------------------


def test_hostile_member_names_are_only_names(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name in ("../../escape.env", "/etc/absolute.env"):
            info = tarfile.TarInfo(name)
            info.size = len(ENV)
            tf.addfile(info, io.BytesIO(ENV))
        link = tarfile.TarInfo("link.env")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tf.addfile(link)
        hard = tarfile.TarInfo("hard.env")
        hard.type, hard.linkname = tarfile.LNKTYPE, "../../escape.env"
        tf.addfile(hard)
        dev = tarfile.TarInfo("dev/sda")
        dev.type = tarfile.BLKTYPE
        tf.addfile(dev)
        fifo = tarfile.TarInfo("pipe")
        fifo.type = tarfile.FIFOTYPE
        tf.addfile(fifo)
    root = tmp_path / "scan"
    root.mkdir()
    (root / "evil.tar").write_bytes(buf.getvalue())
    zip_link = zipfile.ZipInfo("zlink.env")
    zip_link.external_attr = 0o120777 << 16
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr(zip_link, "/etc/shadow")
        zf.writestr("../up.env", ENV)
    (root / "evil.zip").write_bytes(zbuf.getvalue())
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = _scan(root)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing extracted anywhere
    assert _where(result, root) == [
        ("evil.tar!../../escape.env", 3, 9),
        ("evil.tar!/etc/absolute.env", 3, 9),
        ("evil.zip!../up.env", 3, 9),
    ]
    assert result.stats.skipped == {SkipReason.SYMLINK: 3, SkipReason.NOT_REGULAR: 2}


def test_the_path_allowlist_sees_member_paths(tmp_path: Path) -> None:
    class Policy:
        def path_allowed(self, rel_path: str) -> bool:
            return rel_path.startswith("dist/bundle.zip!tests/")

    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "bundle.zip").write_bytes(_zip({"tests/fixture.env": ENV, "app/.env": ENV}))
    result = scan_paths([str(tmp_path)], FakeScanner, policy=Policy(), options=ScanOptions(include=ALL))
    assert _where(result, tmp_path) == [("dist/bundle.zip!app/.env", 3, 9)]
    assert result.stats.skipped == {SkipReason.ALLOWLISTED: 1}


def test_archives_scan_the_same_in_parallel(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"b{i}.tgz").write_bytes(_tar({f"c/{j}.env": ENV for j in range(3)}, "w:gz"))
    one = _scan(tmp_path)
    options = ScanOptions(include=ALL, jobs=2, batch=BatchLimits(files=1))
    two = scan_paths([str(tmp_path)], FakeScanner, options=options)
    assert _where(two, tmp_path) == _where(one, tmp_path) and len(one.findings) == 18


def test_a_zip_declaring_too_many_members_is_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "wide.zip").write_bytes(_zip({f"f{i}.env": ENV for i in range(30)}))
    result = _scan(tmp_path)
    assert len(result.findings) == 30
    from secretops.scan.sources import archive as archive_mod

    limits = archive_mod.ArchiveLimits(max_members=20)
    notes: list[str] = []
    with open(tmp_path / "wide.zip", "rb") as fh:
        archive_mod.scan_archive(
            fh,
            "wide.zip",
            archive_mod.ArchiveKind("zip", None, ".zip"),
            limits,
            lambda *_: pytest.fail("no member may be read"),
            lambda skip: notes.append(skip.reason),
        )
    assert notes == [SkipReason.ARCHIVE_LIMIT]
