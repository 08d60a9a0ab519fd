"""Acceptance: the five example guides hold exactly one real leak, and every other credential-looking
line is a placeholder or a test credential (or no finding at all when it is no credential).

Scans `docs/examples/guides/` with the full built-in rule set (every rule file in the package).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules import load_rules
from secretops.values import FingerprintKey, fingerprint

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "guides"
KEY = FingerprintKey(b"g" * 32)
P, T, NONE = Classification.PLACEHOLDER, Classification.TEST_CREDENTIAL, None

BENEFITS = "benefits-navigator-operations.md"
BUDGET = "budget-ai-operations.md"
MALAR = "malar-market-deployment.md"
PIMP = "pimpmycase-maintenance.md"
DEBT = "debt-profile-maintenance.md"

# (guide, line, expected class of every finding on that line; None = no finding), with the text.
CASES: list[tuple[str, int, Classification | None, str]] = [
    (BENEFITS, 54, NONE, "`OPENAI_API_KEY` - Required for AI analysis"),
    (BENEFITS, 65, NONE, "doctl auth init  # Enter your DO API token"),
    (BENEFITS, 98, P, "PGPASSWORD=<DB_PASSWORD> psql"),
    (BENEFITS, 145, NONE, "| SECRET_KEY | Secret | Django secret key |"),
    (BENEFITS, 149, NONE, "| OPENAI_API_KEY | Secret | OpenAI API key |"),
    (BENEFITS, 150, NONE, "| SENTRY_DSN | Secret | Sentry error tracking |"),
    (BENEFITS, 199, NONE, "AWS_ACCESS_KEY_ID=<key> (an identifier, not a secret)"),
    (BENEFITS, 200, P, "AWS_SECRET_ACCESS_KEY=<secret>"),
    (BENEFITS, 352, P, "PGPASSWORD=<DB_PASSWORD> psql"),
    (BENEFITS, 429, NONE, "document.ai_tokens_used = ai_result['tokens_used']"),
    (BENEFITS, 499, P, "PGPASSWORD=<DB_PASSWORD> psql"),
    (BENEFITS, 543, P, "PGPASSWORD=<DB_PASSWORD> pg_dump"),
    (BENEFITS, 550, P, "PGPASSWORD=<DB_PASSWORD> pg_dump"),
    (BENEFITS, 562, P, "PGPASSWORD=<DB_PASSWORD> pg_restore"),
    (BENEFITS, 572, P, "PGPASSWORD=<DB_PASSWORD> pg_restore"),
    (BENEFITS, 610, P, "PGPASSWORD=<DB_PASSWORD> pg_dump"),
    (BENEFITS, 697, NONE, "POSTGRES_USER: test_user"),
    (BENEFITS, 698, T, "POSTGRES_PASSWORD: test_pass (CI service)"),
    (BENEFITS, 729, T, "postgres://test_user:test_pass@localhost:5432/test_db"),
    (BENEFITS, 732, T, "SECRET_KEY: test-secret-key-not-for-production"),
    (BENEFITS, 751, T, "POSTGRES_PASSWORD: test_pass (CI service)"),
    (BENEFITS, 773, T, "postgres://test_user:test_pass@localhost:5432/test_db"),
    (BENEFITS, 775, T, "SECRET_KEY: test-secret-key-not-for-production"),
    (BENEFITS, 928, P, "SENTRY_DSN=https://xxx@xxx.ingest.sentry.io/xxx"),
    (BENEFITS, 984, NONE, 'python -c "import secrets; print(secrets.token_urlsafe(50))"'),
    (BUDGET, 77, NONE, "Host: ep-lively-smoke-a5b0oxbb.us-east-2.aws.neon.tech (context, not a finding)"),
    (BUDGET, 79, NONE, "User: neondb_owner (context, not a finding)"),
    (BUDGET, 139, NONE, "3. Update the SECRET_KEY variable"),
    (MALAR, 149, P, "SECRET_KEY=your-super-secret-key-change-this-in-production"),
    (MALAR, 152, P, "DATABASE_URL=postgresql://user:password@host:5432/database_name"),
    (MALAR, 157, NONE, "REDIS_URL=redis://host:6379/0"),
    (MALAR, 160, P, "JWT_SECRET_KEY=your-jwt-secret-key-change-this"),
    (MALAR, 162, NONE, "ACCESS_TOKEN_EXPIRE_MINUTES=15"),
    (MALAR, 163, NONE, "REFRESH_TOKEN_EXPIRE_DAYS=7"),
    (MALAR, 170, NONE, "TWILIO_ACCOUNT_SID=your-twilio-account-sid (an identifier)"),
    (MALAR, 171, P, "TWILIO_AUTH_TOKEN=your-twilio-auth-token"),
    (MALAR, 176, P, "INTERAKT_API_KEY=your-interakt-api-key"),
    (MALAR, 182, NONE, "SMTP_USER=your-email@gmail.com"),
    (MALAR, 183, P, "SMTP_PASSWORD=your-app-password"),
    (MALAR, 187, P, "SENTRY_DSN=https://your-sentry-dsn@sentry.io/project-id"),
    (MALAR, 214, P, "VITE_SENTRY_DSN=https://your-sentry-dsn@sentry.io/project-id"),
    (MALAR, 256, NONE, "Database Password: Generate strong password"),
    (MALAR, 304, P, "postgresql://postgres:[YOUR-PASSWORD]@db.[PROJECT-REF].supabase.co:5432/postgres"),
    (MALAR, 362, NONE, "- key: SECRET_KEY"),
    (MALAR, 364, NONE, "- key: JWT_SECRET_KEY"),
    (MALAR, 723, T, "POSTGRES_PASSWORD: test (CI service)"),
    (MALAR, 766, NONE, "service-id: ${{ secrets.RENDER_SERVICE_ID }}"),
    (MALAR, 767, P, "api-key: ${{ secrets.RENDER_API_KEY }}"),
    (MALAR, 825, P, "vercel-token: ${{ secrets.VERCEL_TOKEN }}"),
    (MALAR, 837, NONE, "- `RENDER_API_KEY`: Render API key"),
    (MALAR, 840, NONE, "- `VERCEL_TOKEN`: Vercel authentication token"),
    (MALAR, 891, T, '-d \'{"email":"test@example.com","password":"test123"}\''),
    (MALAR, 895, P, '-H "Authorization: Bearer YOUR_TOKEN"'),
    (PIMP, 136, P, '-d \'{"account":"YOUR_ACCOUNT","password":"YOUR_PASSWORD"}\''),
    (PIMP, 239, NONE, "- Generate new `JWT_SECRET_KEY`"),
    (DEBT, 79, NONE, "psql -U debtprofile_user -d debtprofile (no password)"),
]


@cache
def _scanner() -> Scanner:
    return Scanner(load_rules(), KEY)


@cache
def _findings(guide: str) -> tuple[Finding, ...]:
    path = GUIDES / guide
    return tuple(_scanner().scan(Fragment(path.read_text(encoding="utf-8"), f"docs/examples/guides/{guide}")))


def test_exactly_one_leak_the_neon_password() -> None:
    leaks = [
        f
        for guide in (BENEFITS, BUDGET, MALAR, PIMP, DEBT)
        for f in _findings(guide)
        if f.classification is Classification.LEAK
    ]
    assert len(leaks) == 1, [(f.location.path, f.location.line, f.rule_id) for f in leaks]
    leak = leaks[0]
    assert leak.location.path == f"docs/examples/guides/{BUDGET}"
    assert leak.location.line == 80
    assert leak.kind == "postgres-password"
    assert leak.provider == "neon"
    assert leak.context["host"] == "ep-lively-smoke-a5b0oxbb.us-east-2.aws.neon.tech"
    assert leak.context["database"] == "neondb"
    assert leak.context["user"] == "neondb_owner"
    assert leak.fingerprint == fingerprint(KEY, "npg_Hclv1yP9IEeL")
    assert leak.preview == "npg_********"
    assert "Hclv1yP9" not in repr(leak)
    # One finding for the whole bullet list: nothing else reported on lines 76-81.
    assert [f.location.line for f in _findings(BUDGET) if 76 <= f.location.line <= 81] == [80]


@pytest.mark.parametrize(
    ("guide", "line", "expected", "text"), CASES, ids=[f"{g.split('-')[0]}:{n}" for g, n, _, _ in CASES]
)
def test_guide_line(guide: str, line: int, expected: Classification | None, text: str) -> None:
    source_line = (GUIDES / guide).read_text(encoding="utf-8").splitlines()[line - 1]
    on_line = [f for f in _findings(guide) if f.location.line == line]
    if expected is None:
        assert on_line == [], f"{guide}:{line} {text!r} should give no finding: {[f.rule_id for f in on_line]}"
        return
    assert on_line, f"{guide}:{line} {source_line.strip()!r} gave no finding, expected {expected}"
    for finding in on_line:
        assert finding.classification is expected, (guide, line, finding.rule_id, finding.reasons)
        assert finding.reasons


def test_every_finding_in_the_guides_has_a_case() -> None:
    expected = {(g, n) for g, n, cls, _ in CASES if cls is not None} | {(BUDGET, 80)}
    for guide in (BENEFITS, BUDGET, MALAR, PIMP, DEBT):
        for f in _findings(guide):
            assert (guide, f.location.line) in expected, (
                f"unexpected finding {f.rule_id} ({f.classification}) at {guide}:{f.location.line}: add a case"
            )


def test_psql_flags_and_ci_services_give_context() -> None:
    pg = next(f for f in _findings(BENEFITS) if f.location.line == 98)
    assert pg.kind == "postgres-password" and pg.provider == "digitalocean"
    assert pg.context == {
        "host": "benefits-nav-db-do-user-29214045-0.j.db.ondigitalocean.com",
        "port": "25060",
        "user": "doadmin",
        "database": "benefits_navigator",
    }
    ci = next(f for f in _findings(BENEFITS) if f.location.line == 698)
    assert ci.context == {"user": "test_user", "database": "test_db"}
    assert any("CI service" in r for r in ci.reasons)
    uri = next(f for f in _findings(MALAR) if f.location.line == 304)
    assert uri.provider == "supabase" and uri.context["user"] == "postgres"
