"""The test-credential decision table of docs/rules.md, one case per row (the ids are the rows).

A path alone never hides a live credential: a value built like a live one stays a `leak` under
`tests/`, `fixtures/`, `spec/cassettes/` or in a CI `services:` block. Test credentials come from
the value and its surroundings. Every case runs through the full built-in rule set.

Every value here is fake; the live-looking ones are generated (GitHub tokens with a valid CRC32).
"""

from __future__ import annotations

import random
import shutil
import string
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretops.scan.config import ScanPolicy
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Finding, Fragment, Severity
from secretops.scan.rules.loader import load_rules
from secretops.values import FingerprintKey

SCANNER = Scanner(load_rules(), FingerprintKey(b"t" * 32))
ROOT = Path(__file__).resolve().parents[2]
L, P, T, W = (
    Classification.LEAK,
    Classification.PLACEHOLDER,
    Classification.TEST_CREDENTIAL,
    Classification.WEAK_DEFAULT,
)

_R = random.Random(1010)
ALNUM = string.ascii_letters + string.digits
DIGITS, HEX = string.digits, "0123456789abcdef"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _s(n: int, alphabet: str = ALNUM) -> str:
    while True:
        v = "".join(_R.choice(alphabet) for _ in range(n))
        if not any(w in v.lower() for w in ("test", "fake", "mock", "dummy", "xxxx", "example")):
            return v


def _ghp() -> str:
    body = _s(30)
    num, out = zlib.crc32(body.encode()), ""
    while num:
        num, rem = divmod(num, 62)
        out = B62[rem] + out
    return "ghp_" + body + out.rjust(6, "0")


def _pem() -> str:
    lines = "\n".join(_s(64, ALNUM + "+/") for _ in range(10))
    return f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{_s(60, ALNUM + '+/')}\n{lines}\n-----END RSA PRIVATE KEY-----"


SK_LIVE = "sk_live_" + _s(24)
SK_TEST = "sk_test_" + _s(24)
GHP = _ghp()
AWS_ID, AWS_SECRET = "AKIA" + _s(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), _s(40, ALNUM + "+/")
NEON = "npg_" + _s(12)
STRONG = _s(32)
CI = """name: CI
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_PASSWORD: {value}
"""
COMPOSE = """services:
  appdb:
    image: postgres:16
  web:
    build: .
    environment:
      DATABASE_URL: postgres://app:devpass@appdb:5432/app
"""


@dataclass(frozen=True)
class Row:
    """One row of the decision table: a text at a path, and what its finding must be."""

    text: str
    path: str
    cls: Classification
    severity: Severity | None = None  # checked when set
    rule: str | None = None  # the finding's rule, when the text holds several


ROWS: dict[str, Row] = {
    # test credentials: from the value
    "vendor-test-mode-key": Row(f"STRIPE_SECRET_KEY={SK_TEST}\n", "deploy/app.env", T),
    "vendor-test-mode-key-in-test-path": Row(f"STRIPE_SECRET_KEY={SK_TEST}\n", "tests/fixtures/app.env", T),
    "test-ish-value": Row("DB_PASSWORD=test_pass_2024\n", "deploy/app.env", T),
    "documented-vendor-example": Row(
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "deploy/app.env",
        P,
    ),
    # test credentials: from the surroundings
    "local-host-trivial-password": Row(
        "DATABASE_URL=postgres://app:app@localhost:5432/app\n", "deploy/app.env", T, rule="postgres-uri-password"
    ),
    "local-host-test-database": Row(
        f"DATABASE_URL=postgresql://postgres:{STRONG[:16]}@127.0.0.1:5432/test_app\n",
        "deploy/app.env",
        T,
        rule="postgres-uri-password",
    ),
    "declared-service-trivial-password": Row(COMPOSE, "docker-compose.yml", T, rule="postgres-uri-password"),
    "ci-service-container": Row(CI.format(value="Zq81vPr9Lk3w"), ".github/workflows/ci.yml", T),
    # live shapes: a leak wherever they are
    "live-prefix-in-test-path": Row(f"STRIPE_SECRET_KEY={SK_LIVE}\n", "tests/fixtures/prod.env", L, Severity.CRITICAL),
    "live-prefix-in-cassette": Row(
        f"      Authorization:\n      - Bearer {SK_LIVE}\n", "spec/cassettes/charge.yml", L, Severity.CRITICAL
    ),
    "valid-checksum-in-test-path": Row(f'GH_TOKEN = "{GHP}"\n', "tests/test_client.py", L),
    "structure-in-test-path": Row(
        f"AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n", "tests/fixtures/prod.env", L
    ),
    "private-key-in-test-path": Row(_pem() + "\n", "spec/fixtures/server.key", L, Severity.CRITICAL),
    "non-local-uri-in-test-path": Row(
        f"DATABASE_URL=postgresql://neondb_owner:{NEON}@ep-quiet-moon-123456.us-east-2.aws.neon.tech/neondb\n",
        "tests/fixtures/prod.env",
        L,
        Severity.CRITICAL,
    ),
    "live-prefix-in-ci-service": Row(CI.format(value=GHP), ".github/workflows/ci.yml", L),
    "local-host-strong-password": Row(
        f"DATABASE_URL=postgresql://postgres:{STRONG[:16]}@localhost:5432/app\n",
        "deploy/app.env",
        L,
        rule="postgres-uri-password",
    ),
    "undeclared-service-host": Row(
        "DATABASE_URL: postgres://app:devpass@appdb:5432/app\n", "deploy/app.yml", L, rule="postgres-uri-password"
    ),
    # a test path lowers only low-entropy values with no live shape
    "low-entropy-assignment-in-test-path": Row("DB_PASSWORD=Zq81vPr9Lk3w\n", "tests/app.env", L, Severity.LOW),
    "low-entropy-assignment-elsewhere": Row("DB_PASSWORD=Zq81vPr9Lk3w\n", "deploy/app.env", L, Severity.HIGH),
    "high-entropy-assignment-in-test-path": Row(f'API_KEY = "{STRONG}"\n', "tests/test_api.py", L, Severity.HIGH),
    # off-format values: one slip off a strict provider format they are presented as (cannot authenticate there)
    "off-format-prefix-under-provider-name": Row(
        f"SLACK_BOT_TOKEN=xoqb-{_s(12, DIGITS)}-{_s(13, DIGITS)}-{_s(24)}\n", "deploy/app.env", P
    ),
    "off-format-length-under-provider-name": Row(f"TWILIO_API_KEY=SK{_s(31, HEX)}\n", "deploy/app.env", P),
    "off-format-checksum": Row(f"GITHUB_TOKEN={GHP[:-1]}{'1' if GHP[-1] != '1' else '2'}\n", "deploy/app.env", P),
    "off-format-by-value-prefix": Row(f'observabilityToken = "sntryu_{_s(63, HEX)}"\n', "deploy/app.cfg", P),
    "valid-format-under-provider-name": Row(
        f"SLACK_BOT_TOKEN=xoxb-{_s(12, DIGITS)}-{_s(13, DIGITS)}-{_s(24)}\n", "deploy/app.env", L
    ),
    "unlike-the-format-under-provider-name": Row(f"GITHUB_TOKEN={_s(40, HEX)}\n", "deploy/app.env", L),
    "custom-prefix-under-provider-name": Row(f"GITLAB_TOKEN=glpaz-{_s(20)}\n", "deploy/app.env", L),
    # template defaults: who picks the value decides
    "changeme-under-issued-token-name": Row("SENTRY_AUTH_TOKEN=changeme\n", "deploy/app.env", P),
    "changeme-under-owner-picked-secret": Row("SECRET_KEY=changeme\n", "deploy/app.env", W),
    "changeme-under-password-name": Row("DB_PASSWORD=changeme\n", "deploy/app.env", W),
    "replace-me-in-any-slot": Row("db.prod.internal:5432:app:app_user:REPLACE_ME\n", "deploy/.pgpass", P),
}


def _finding(row: Row) -> Finding:
    found = SCANNER.scan(Fragment(row.text, row.path))
    if row.rule is not None:
        found = [f for f in found if f.rule_id == row.rule]
    assert len(found) == 1, [(f.rule_id, f.classification, f.reasons) for f in found]
    return found[0]


@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_decision_table(row: Row) -> None:
    f = _finding(row)
    assert f.classification is row.cls, f.reasons
    if row.severity is not None:
        assert f.severity is row.severity, f.reasons


def test_docs_table_lists_every_row() -> None:
    """docs/rules.md names every row id of this table, and no id the table lacks."""
    doc = (ROOT / "docs" / "rules.md").read_text()
    section = doc[doc.index("### Test credentials: the decision table") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    named = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert named == set(ROWS)


def test_copied_production_env_in_tests_fails_the_scan() -> None:
    """The issue's repro: a production `.env` copied to tests/fixtures/ is six leaks, none hidden."""
    text = (
        f"STRIPE_SECRET_KEY={SK_LIVE}\nAWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
        f"GITHUB_TOKEN={GHP}\n"
        f"DATABASE_URL=postgresql://neondb_owner:{NEON}@ep-quiet-moon-123456.us-east-2.aws.neon.tech/neondb\n"
        f"OPENAI_API_KEY=sk-proj-{_s(74)}T3BlbkFJ{_s(74)}\n"
    )
    found = SCANNER.scan(Fragment(text, "tests/fixtures/prod.env"))
    assert [f.classification for f in found] == [L] * 5
    assert all(f.severity.rank >= Severity.HIGH.rank for f in found)
    assert all("a test path does not make it a test credential" in " ".join(f.reasons) for f in found)


def test_guides_under_a_fixtures_folder_keep_their_one_leak(tmp_path: Path) -> None:
    guides = ROOT / "docs" / "examples" / "guides"
    for folder in ("fixtures", "tests/fixtures", "spec/fixtures"):
        leaks = []
        for guide in sorted(guides.glob("*.md")):
            path = f"{folder}/{guide.name}"
            found = SCANNER.scan(Fragment(guide.read_text(), path))
            leaks += [f for f in found if f.classification is L]
        assert [(f.rule_id, f.location.path.rsplit("/", 1)[-1]) for f in leaks] == [
            ("neon-postgres-password", "budget-ai-operations.md")
        ], folder


def test_this_repository_still_allows_its_fake_fixtures_by_path() -> None:
    """The user's explicit choice in policies/*.toml keeps this repo's fake test data out of its scan."""
    for name in ("scan.toml", "self-scan.toml"):
        policy = ScanPolicy.load(ROOT / "policies" / name)
        assert policy.path_allowed("tests/fixtures/prod.env")
        assert policy.path_allowed("tests/scan/test_test_credentials.py")
        assert not policy.path_allowed("secretops/scan/filters/off_format.py")


def test_repo_policy_allowlist_wins_over_live_shapes(tmp_path: Path) -> None:
    """End to end: a live key under an allowlisted path is not read; without the policy it fails the scan."""
    from secretops.scan.runner import ScanOptions, scan_paths

    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    (tmp_path / "tests" / "fixtures" / "prod.env").write_text(f"STRIPE_SECRET_KEY={SK_LIVE}\n")
    shutil.copy(ROOT / "policies" / "scan.toml", tmp_path / "scan.toml")
    policy = ScanPolicy.load(tmp_path / "scan.toml")

    def factory() -> Scanner:
        return SCANNER

    allowed = scan_paths([str(tmp_path)], factory, policy=policy, options=ScanOptions(jobs=1))
    assert [f for f in allowed.findings if f.classification is L] == []
    plain = scan_paths([str(tmp_path)], factory, options=ScanOptions(jobs=1))
    assert [f.classification for f in plain.findings] == [L]
    assert plain.failing(Severity.HIGH)
