"""Multi-line credentials become one finding with context and an inferred provider."""

from __future__ import annotations

from secretops.scan.engine import Scanner
from secretops.scan.group import infer_provider
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules import load_rules
from secretops.values import FingerprintKey

KEY = FingerprintKey(b"q" * 32)
SCANNER = Scanner(load_rules(), KEY)


def scan(text: str, path: str = "deploy/notes.txt") -> list[Finding]:
    return SCANNER.scan(Fragment(text, path))


def test_bullet_list_is_one_finding_on_the_password_line() -> None:
    text = """Connection details:
   - Host: ep-cool-rain-123456.eu-central-1.aws.neon.tech
   - Port: 5432
   - Database: shop
   - User: shop_owner
   - Password: npg_EEtfjgVvVqE1
   - SSL Mode: require
"""
    findings = scan(text)
    assert len(findings) == 1
    f = findings[0]
    assert (f.location.line, f.rule_id, f.provider, f.kind) == (
        6,
        "neon-postgres-password",
        "neon",
        "postgres-password",
    )
    assert f.context == {
        "host": "ep-cool-rain-123456.eu-central-1.aws.neon.tech",
        "port": "5432",
        "database": "shop",
        "user": "shop_owner",
    }
    assert f.confidence == "high"


def test_generic_password_in_env_block_gets_kind_and_provider_from_host() -> None:
    text = (
        "DB_HOST=db-main.abc123.us-east-1.rds.amazonaws.com\nDB_PORT=5432\nDB_NAME=orders\n"
        "DB_USER=svc\nDB_PASSWORD=Zq81vPr9Lk3wQ\n"
    )
    (f,) = scan(text, "deploy/prod.env")
    assert f.rule_id == "generic-password-assignment"
    assert f.provider == "aws-rds" and f.kind == "postgres-password"
    assert f.context == {
        "host": "db-main.abc123.us-east-1.rds.amazonaws.com",
        "port": "5432",
        "database": "orders",
        "user": "svc",
    }


def test_same_prefix_attributes_win_over_nearer_ones() -> None:
    text = "SMTP_HOST=smtp.mail.internal\nDB_HOST=db.internal\nSMTP_PASSWORD=Kd93nVb7QaLp\n"
    (f,) = scan(text, "deploy/prod.env")
    assert f.context["host"] == "smtp.mail.internal"
    assert f.kind == "smtp-password"


def test_blank_line_ends_the_block() -> None:
    text = "Host: db.internal\n\nPassword: Zq81vPr9Lk3wQ\n"
    (f,) = scan(text)
    assert "host" not in f.context


def test_psql_flags_on_continuation_lines() -> None:
    text = "PGPASSWORD=Vq82kLmZ9xTw psql \\\n  -h db.internal.corp \\\n  -p 6432 -U report -d sales\n"
    (f,) = scan(text, "ops/run.sh")
    assert f.rule_id == "postgres-password-env" and f.classification is Classification.LEAK
    assert f.context == {"host": "db.internal.corp", "port": "6432", "user": "report", "database": "sales"}


def test_uri_context_comes_from_the_uri() -> None:
    (f,) = scan("DATABASE_URL=postgresql://app:Vq82kLmZ9xTw@ep-x-1.us-east-2.aws.neon.tech:5432/neondb\n")
    assert f.rule_id == "postgres-uri-password"
    assert f.provider == "neon"
    assert f.context == {"host": "ep-x-1.us-east-2.aws.neon.tech", "port": "5432", "database": "neondb", "user": "app"}


def test_neon_password_inside_a_uri_is_one_finding() -> None:
    (f,) = scan("postgresql://app:npg_Kq8vLm2Zx9Wn@ep-cool-rain-1.us-east-2.aws.neon.tech/neondb\n")
    assert f.provider == "neon" and f.context["user"] == "app"


def test_aws_key_id_and_secret_are_one_finding() -> None:
    text = (
        "[default]\naws_access_key_id = AKIA3U55XTPLPFT7V4SE\n"
        "aws_secret_access_key = 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\n"
    )
    (f,) = scan(text, "home/.aws/credentials")
    assert f.rule_id == "aws-secret-access-key" and f.provider == "aws"
    assert f.location.line == 3
    assert f.context == {"access_key_id": "AKIA3U55XTPLPFT7V4SE"}
    assert f.classification is Classification.LEAK


def test_lone_key_id_is_not_reported_and_far_ids_are_not_paired() -> None:
    assert scan("aws_access_key_id = AKIA3U55XTPLPFT7V4SE\n") == []
    far = (
        "aws_access_key_id = AKIA3U55XTPLPFT7V4SE\n"
        + "x = 1\n" * 20
        + ("aws_secret_access_key = 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\n")
    )
    (f,) = scan(far)
    assert "access_key_id" not in f.context


def test_infer_provider() -> None:
    assert infer_provider("ep-lively-smoke-a5b0oxbb.us-east-2.aws.neon.tech") == ("neon", "postgres-password")
    assert infer_provider("db.abc.supabase.co") == ("supabase", "postgres-password")
    assert infer_provider("x.db.ondigitalocean.com") == ("digitalocean", None)
    assert infer_provider("sentry.io") == ("sentry", None)
    assert infer_provider("neon.tech.evil.com") is None
