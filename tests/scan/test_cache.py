"""The scanner's on-disk cache: validated rule files and prefilter databases, keyed and pruned."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from secretops.errors import RuleError
from secretops.scan import cache
from secretops.scan.rules import loader
from secretops.scan.rules import regexes as rx
from secretops.scan.rules.loader import load_rule_file, load_rules
from tests.scan.test_rules import GOOD

# The user rule of the loader tests, with the fields a cache entry must carry back too.
RULE = (
    GOOD
    + """context = { }
allowlist = { regexes = ['^acme_0+$'], paths = ['^fixtures/'], stopwords = ["example"] }
"""
)


def _cached(kind: str) -> list[str]:
    return sorted(p.name for p in cache.cache_dir().glob(f"{kind}-*"))


def test_a_validated_rule_file_is_loaded_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_rules()
    assert _cached("rules-core"), "loading validates the built-in files and caches them"
    parsed: list[int] = []
    real = loader.tomllib.loads

    def spy(text: str) -> object:
        parsed.append(1)
        return real(text)

    monkeypatch.setattr(loader.tomllib, "loads", spy)
    second = load_rules()
    assert parsed == []
    assert second.rules == first.rules
    assert [r.pattern.pattern for r in second] == [r.pattern.pattern for r in first]


def test_an_edited_rule_file_is_validated_again(tmp_path: Path) -> None:
    path = tmp_path / "cache_probe.toml"
    path.write_text(RULE)
    rule = load_rule_file(path)[0]
    cached = _cached("rules-cache_probe")
    assert rule.allow_stopwords == ("example",) and rule.allow_paths[0].pattern == "^fixtures/"
    assert load_rule_file(path) == [rule]  # from the cache
    path.write_text(RULE.replace("acme_[a-z0-9]{16})", "acme_[a-z0-9]{16}"))
    with pytest.raises(RuleError, match=r"field 'regex': does not compile"):
        load_rule_file(path)
    assert _cached("rules-cache_probe") == cached, "a file that fails validation is not cached"


def test_a_damaged_cache_entry_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cache_probe.toml"
    path.write_text(RULE)
    good = load_rule_file(path)
    for name in _cached("rules-cache_probe"):
        (cache.cache_dir() / name).write_text('[{"id": "acme-api-key"}]')
    assert load_rule_file(path) == good
    for name in _cached("rules-cache_probe"):
        (cache.cache_dir() / name).write_bytes(b"\x00not json")
    assert load_rule_file(path) == good


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("SECRETOPS_CACHE_DIR", str(blocker))
    assert len(load_rules()) > 300


def test_each_kind_keeps_only_its_newest_entries() -> None:
    kind = "prune-test"
    for i in range(cache.KEEP + 3):
        cache.write_entry(kind, f"{i:032x}", ".json", b"[]")
        path = cache.cache_dir() / f"{kind}-{i:032x}.json"
        os.utime(path, ns=(i * 10**9, i * 10**9))
    cache.write_entry(f"{kind}-extra", "f" * 32, ".json", b"[]")  # another kind: not pruned with it
    kept = _cached(kind)
    assert f"{kind}-extra-{'f' * 32}.json" in kept
    assert sorted(k for k in kept if "extra" not in k) == [f"{kind}-{i:032x}.json" for i in range(3, cache.KEEP + 3)]
    assert cache.read_entry(kind, f"{0:032x}", ".json") is None
    assert cache.read_entry(kind, f"{5:032x}", ".json") == b"[]"


def test_rule_regexes_are_rebuilt_from_cached_code_equal_to_re_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_rules()
    assert _cached("regex"), "loading the rules caches their compiled code"
    regexes = list(dict.fromkeys(r.regex for r in rules))
    key = rx.RegexCodes.key([r.regex for r in rules])
    data = cache.read_entry("regex", key, ".bin")
    assert data is not None
    codes = rx.RegexCodes._decode(data)
    assert codes is not None and set(codes) == set(regexes)
    for regex in regexes[:200]:
        rebuilt = rx.RegexCodes.build(regex, codes[regex])
        assert rebuilt == re.compile(regex, re.MULTILINE)  # same flags, groups and code
        assert rebuilt is not None and rebuilt.groupindex == re.compile(regex, re.MULTILINE).groupindex
    compiled: list[str] = []
    real = re.compile

    def spy(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return real(pattern, flags)

    rx.compile_regex.cache_clear()
    monkeypatch.setattr(rx.re, "compile", spy)
    assert rx.compile_regex(regexes[0]) == real(regexes[0], re.MULTILINE)
    assert compiled == [], "a cached regex is not parsed again"


def test_a_damaged_regex_cache_entry_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_rules()
    key = rx.RegexCodes.key([r.regex for r in rules])
    data = cache.read_entry("regex", key, ".bin")
    assert data is not None
    flipped = data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]
    assert rx.RegexCodes._decode(flipped) is None  # the checksum no longer matches
    junk = b"not marshal"
    assert rx.RegexCodes._decode(rx.zlib.crc32(junk).to_bytes(4, "big") + junk) is None
    payload = rx.marshal.dumps({"a": (1, 2)})
    assert rx.RegexCodes._decode(rx.zlib.crc32(payload).to_bytes(4, "big") + payload) is None  # wrong shape
    assert rx.RegexCodes._decode(data) is not None
