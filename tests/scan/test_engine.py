"""The engine: prefilter backends, windows, offsets, allowlists, policy, fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.errors import PolicyError
from secretops.scan import prefilter as prefilter_mod
from secretops.scan.config import ScanPolicy
from secretops.scan.engine import LineIndex, Scanner
from secretops.scan.models import Classification, Fragment, Severity
from secretops.scan.prefilter import Prefilter
from secretops.scan.rules import load_rule_file, load_rules
from secretops.values import FingerprintKey, fingerprint

KEY = FingerprintKey(b"e" * 32)
RULES = load_rules()
NEON = "npg_EEtfjgVvVqE1"


def scan(text: str, path: str = "deploy/app.env", policy: ScanPolicy | None = None) -> list:
    return Scanner(RULES, KEY, policy).scan(Fragment(text, path))


def test_finding_fields_location_fingerprint_preview() -> None:
    text = "# header\nname = 'x'\n  DB_PASSWORD=Zq81vPr9Lk3wQ\n"
    (f,) = Scanner(RULES, KEY).scan(Fragment(text, "deploy/app.env", line_offset=100, commit="abc"))
    assert (f.location.line, f.location.column, f.location.end_line) == (103, 15, 103)
    assert f.location.end_column == 15 + len("Zq81vPr9Lk3wQ")
    assert f.location.commit == "abc"
    assert f.fingerprint == fingerprint(KEY, "Zq81vPr9Lk3wQ")
    assert f.preview == "Zq8********"
    assert f.secret is not None and f.secret.reveal() == "Zq81vPr9Lk3wQ"
    assert "Zq81vPr9Lk3wQ" not in repr(f)
    assert f.classification is Classification.LEAK and f.severity is Severity.HIGH


def test_findings_sorted_and_all_classes_returned() -> None:
    text = "A_PASSWORD=<A>\nB_PASSWORD=test_pass\nC_PASSWORD=Zq81vPr9Lk3wQ\nSECRET_KEY=change-me\n"
    found = scan(text)
    assert [f.location.line for f in found] == [1, 2, 3, 4]
    assert [f.classification for f in found] == [
        Classification.PLACEHOLDER,
        Classification.TEST_CREDENTIAL,
        Classification.LEAK,
        Classification.WEAK_DEFAULT,
    ]
    assert found[3].severity is Severity.MEDIUM


def test_inline_allow_suppresses_only_its_line() -> None:
    text = f"Password: {NEON}  # secretops:allow\nPassword: npg_Kq8vLm2Zx9Wn\n"
    found = scan(text)
    assert [f.location.line for f in found] == [2]


@pytest.mark.parametrize("marker", ["# pragma: allowlist secret", "# gitleaks:allow", "// kingfisher:ignore"])
def test_other_scanners_inline_markers_are_honoured(marker: str) -> None:
    text = f"Password: {NEON}  {marker}\nPassword: npg_Kq8vLm2Zx9Wn\n"
    assert [f.location.line for f in scan(text)] == [2]


def test_policy_allowlists_regex_and_stopword(tmp_path: Path) -> None:
    path = tmp_path / "scan.toml"
    path.write_text(
        "[rules]\ndisable = []\n[allowlist]\npaths = ['''^tests/''']\nregexes = ['''^npg_EE''']\nstopwords = ['kq8v']\n"
    )
    policy = ScanPolicy.load(path)
    text = f"Password: {NEON}\nPassword: npg_Kq8vLm2Zx9Wn\nPassword: npg_Lm3kQ9vX2zTp\n"
    assert [f.location.line for f in scan(text, policy=policy)] == [3]
    assert policy.path_allowed("tests/a.env") and not policy.path_allowed("src/a.env")
    assert policy.secret_allowed("npg_EEx") and not policy.secret_allowed("other")


def test_policy_extra_files_are_relative_and_default_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "scan.toml"
    path.write_text("[rules]\ndisable = ['generic-token-assignment']\nextra = ['rules/mine.toml']\n")
    policy = ScanPolicy.load(path)
    assert policy.extra_rule_files == (tmp_path / "rules" / "mine.toml",)
    assert policy.disabled_rules == ("generic-token-assignment",)
    assert ScanPolicy.default().allow_paths == ()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[rules]\nenable = []\n", "field 'rules.enable': unknown key"),
        ("[allowlist]\nregexes = ['(']\n", "field 'allowlist.regexes': invalid regex"),
        ("[allowlist]\nstopwords = 'x'\n", "field 'allowlist.stopwords': must be a list"),
        ("[other]\n", "unknown section [other]"),
        ("[rules\n", "not valid TOML"),
    ],
)
def test_bad_policy_is_a_clear_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "scan.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        ScanPolicy.load(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_rule_allowlist_and_path_allowlist(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("""[[rules]]
id = "acme-api-key"
description = "Acme"
provider = "acme"
kind = "api-key"
severity = "high"
keywords = ["acme_"]
regex = \'\'\'\\b(acme_[a-z0-9]{16})\\b\'\'\'
secret_group = 1
examples = ["acme_k3j9x8q2m4n7p1z5"]
  [rules.allowlist]
  regexes = [\'\'\'^acme_0\'\'\']
  stopwords = ["zzzz"]
  paths = [\'\'\'(^|/)vendor/\'\'\']
""")
    rules = load_rule_file(path)
    scanner = Scanner(rules, KEY)
    assert len(scanner.scan(Fragment("k = acme_k3j9x8q2m4n7p1z5", "a.cfg"))) == 1
    assert scanner.scan(Fragment("k = acme_0k3j9x8q2m4n7p1z", "a.cfg")) == []
    assert scanner.scan(Fragment("k = acme_k3j9zzzzq2m4n7p1", "a.cfg")) == []
    assert scanner.scan(Fragment("k = acme_k3j9x8q2m4n7p1z5", "vendor/a.cfg")) == []


def test_keywords_are_case_insensitive_and_non_ascii_offsets_are_characters() -> None:
    text = "é ü 日本語 ✓\nDB_PassWord=Zq81vPr9Lk3wQ  # ünïcode\n"
    (f,) = scan(text)
    assert (f.location.line, f.location.column) == (2, 13)


@pytest.mark.parametrize("backend", ["hyperscan", "ahocorasick", "regex"])
def test_prefilter_backends_agree(backend: str) -> None:
    if backend == "hyperscan" and prefilter_mod._hs is None:
        pytest.skip("hyperscan not installed")
    if backend == "ahocorasick" and prefilter_mod._ac is None:
        pytest.skip("pyahocorasick not installed")
    keywords = ["pass", "password", "npg_", "token"]
    text = "x PASSWORD y npg_ token passwor é password"
    assert Prefilter(keywords, backend=backend).find(text) == Prefilter(keywords, backend="regex").find(text)
    hits = Prefilter(keywords, backend=backend).find(text)
    last = text.rindex("password") + len("password")
    assert (6, 0) in hits and (10, 1) in hits and (last, 1) in hits and (last - 4, 0) in hits
    guide = (Path(__file__).resolve().parents[2] / "docs/examples/guides/budget-ai-operations.md").read_text()
    found = Scanner(RULES, KEY, prefilter_backend=backend).scan(Fragment(guide, "docs/g.md"))
    assert [(f.location.line, f.rule_id) for f in found if f.classification is Classification.LEAK] == [
        (80, "neon-postgres-password")
    ]


def test_prefilter_database_is_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if prefilter_mod._hs is None:
        pytest.skip("hyperscan not installed")
    monkeypatch.setenv("SECRETOPS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(prefilter_mod, "_MEMO", {})
    Prefilter(["alpha_", "beta_"])
    files = list(tmp_path.glob("prefilter-*.hsdb"))
    assert len(files) == 1
    monkeypatch.setattr(prefilter_mod, "_MEMO", {})
    loaded = Prefilter(["alpha_", "beta_"])  # from the file this time
    assert loaded.find("x ALPHA_ beta_") == [(8, 0), (14, 1)]
    files[0].write_bytes(b"garbage")
    monkeypatch.setattr(prefilter_mod, "_MEMO", {})
    assert Prefilter(["alpha_", "beta_"]).find("alpha_") == [(6, 0)]


def test_multiline_private_key_and_long_lines() -> None:
    body = "\n".join(["MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi" + "Zq81vPr9Lk3wQ" * 2] * 6)
    text = "key = '''\n-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n'''\n"
    (f,) = scan(text, "deploy/key.py")
    assert f.kind == "private-key" and f.location.line == 2 and f.location.end_line == 9
    minified = "a" * 50_000 + ";var DB_PASSWORD='Zq81vPr9Lk3wQ';" + "b" * 50_000
    (g,) = scan(minified, "static/app.min.js")
    assert g.location.column == 50_000 + len(";var DB_PASSWORD='") + 1


def test_keywordless_rule_runs_over_the_whole_buffer(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("""[[rules]]
id = "acme-pin"
description = "Acme pin"
provider = "acme"
kind = "pin"
severity = "low"
keywords = []
regex = \'\'\'PIN-(\\d{6})\'\'\'
secret_group = 1
examples = ["PIN-839201"]
""")
    scanner = Scanner(load_rule_file(path), KEY)
    assert [f.location.line for f in scanner.scan(Fragment("a\nb PIN-839201\n", "a.txt"))] == [2]


def test_checksum_and_decode(tmp_path: Path) -> None:
    from secretops.scan.checksums import base62_crc32

    good = "ghp_" + "A" * 30
    import zlib

    crc = zlib.crc32(("A" * 30).encode())
    digits = ""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    while crc:
        crc, r = divmod(crc, 62)
        digits = alphabet[r] + digits
    token = good + digits.rjust(6, "0")
    assert base62_crc32(token) and not base62_crc32(token[:-1] + ("1" if token[-1] != "1" else "2"))
    path = tmp_path / "r.toml"
    path.write_text("""[[rules]]
id = "acme-b64-secret"
description = "Acme base64 secret"
provider = "acme"
kind = "api-key"
severity = "low"
keywords = ["acme_b64"]
regex = \'\'\'acme_b64=([A-Za-z0-9+/=]{8,})\'\'\'
secret_group = 1
decode = "base64"
entropy = 3.0
examples = ["acme_b64=WnE4MXZQcjlMazN3UQ=="]
""")
    scanner = Scanner(load_rule_file(path), KEY)
    (f,) = scanner.scan(Fragment("acme_b64=WnE4MXZQcjlMazN3UQ==", "a.cfg"))
    assert f.fingerprint == fingerprint(KEY, "Zq81vPr9Lk3wQ")
    assert scanner.scan(Fragment("acme_b64=!!!notbase64", "a.cfg")) == []


def test_line_index_matches_naive_counting() -> None:
    text = "a\nbb\n\nccc\n" * 50
    index = LineIndex(text)
    for offset in [0, 1, 2, 5, 6, 300, 7, 299, len(text) - 1, 3]:
        assert index.line(offset) == text.count("\n", 0, offset) + 1
        assert index.column(offset) == offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_empty_fragment() -> None:
    assert scan("") == []
