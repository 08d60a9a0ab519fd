"""Multi-line credentials become one finding with context and an inferred provider."""

from __future__ import annotations

from secretops.scan.engine import Scanner
from secretops.scan.group import infer_provider
from secretops.scan.models import Classification, Finding, Fragment, Severity
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


def test_lone_key_id_is_reported_alone_at_lower_severity_and_far_ids_are_not_paired() -> None:
    # Issue 11: a lone access key id is worth a look (whose key is it, where is its secret?), but
    # it opens nothing by itself: medium for a long-term AKIA id, low for a temporary ASIA one.
    (lone,) = scan("aws_access_key_id = AKIA3U55XTPLPFT7V4SE\n")
    assert (lone.rule_id, lone.provider, lone.kind) == ("aws-access-key-id-alone", "aws", "aws-access-key-id")
    assert lone.classification is Classification.LEAK and lone.severity is Severity.MEDIUM
    (temporary,) = scan('{"AccessKeyId": "ASIAQ7ZJ4KXW2MBN5RTE", "Expiration": "2026-12-01T12:00:00Z"}\n')
    assert temporary.rule_id == "aws-temporary-access-key-id-alone" and temporary.severity is Severity.LOW
    far = (
        "aws_access_key_id = AKIA3U55XTPLPFT7V4SE\n"
        + "x = 1\n" * 20
        + ("aws_secret_access_key = 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\n")
    )
    alone, secret = scan(far)
    assert (alone.rule_id, alone.location.line, alone.severity) == ("aws-access-key-id-alone", 1, Severity.MEDIUM)
    assert secret.rule_id == "aws-secret-access-key" and "access_key_id" not in secret.context
    assert secret.severity.rank > alone.severity.rank


def test_documented_example_key_id_alone_is_no_leak() -> None:
    findings = scan("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", "deploy/app.env")
    assert all(f.classification is not Classification.LEAK for f in findings)


def test_each_profile_pairs_its_own_key_id_and_secret() -> None:
    text = (
        "[default]\naws_access_key_id = AKIA3U55XTPLPFT7V4SE\n"
        "aws_secret_access_key = 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\n\n"
        "[ci]\naws_access_key_id = ASIAQ7ZJ4KXW2MBN5RTE\n"
        "aws_secret_access_key = Wq3Zt8LmN2vB6yR1kP0sD4fG7hJ9cX5aE2uI8oTq\n"
        "aws_session_token = IQoJb3JpZ2luX2VjEHsaCWV1LXdlc3QtMSJHMEUCIQD3k9Zq7Lm2Vx8Rt4Yw6Bn1Pc5Hj0Sa"
        "3Gf9Ke2Ud7Wi4Oq8Mz1Xv6Nb3Ty5Lr0Ps9Dh2Fj7Ck4Gm8Qw1Ea6Rz3Tx5Yu0Ip9\n"
    )
    findings = scan(text, "home/.aws/credentials")
    assert not [f for f in findings if f.rule_id.endswith("-alone")]
    by_line = {f.location.line: f for f in findings if f.rule_id == "aws-secret-access-key"}
    assert by_line[3].context["access_key_id"] == "AKIA3U55XTPLPFT7V4SE"
    assert by_line[7].context["access_key_id"] == "ASIAQ7ZJ4KXW2MBN5RTE"
    assert len(by_line) == 2


def test_key_id_inside_a_presigned_url_is_context_of_the_url() -> None:
    url = (
        "https://exports.s3.eu-west-1.amazonaws.com/q4.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=ASIAQ7ZJ4KXW2MBN5RTE%2F20261201%2Feu-west-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20261201T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f\n"
    )
    (f,) = scan(f"REPORT_URL={url}")
    assert f.rule_id == "aws-presigned-url" and f.context["access_key_id"] == "ASIAQ7ZJ4KXW2MBN5RTE"


def test_tagged_identifier_joins_a_secret_of_another_provider_on_its_own_line() -> None:
    # An SES SMTP user name is an access key id; in a relay map it sits beside its password.
    relay = "[email-smtp.eu-west-1.amazonaws.com]:587"
    line = f"{relay} AKIA3U55XTPLPFT7V4SE:BJ4kWq9ZrT2mXv7Lp0Nc5Hs8Ud1Ye6Rb3Kf9Gt2Aw5Qz\n"
    (f,) = scan(line, "etc/postfix/sasl_passwd")
    assert f.rule_id == "postfix-sasl-password" and f.context["access_key_id"] == "AKIA3U55XTPLPFT7V4SE"


def test_infer_provider() -> None:
    assert infer_provider("ep-lively-smoke-a5b0oxbb.us-east-2.aws.neon.tech") == ("neon", "postgres-password")
    assert infer_provider("db.abc.supabase.co") == ("supabase", "postgres-password")
    assert infer_provider("x.db.ondigitalocean.com") == ("digitalocean", None)
    assert infer_provider("sentry.io") == ("sentry", None)
    assert infer_provider("neon.tech.evil.com") is None


def test_an_aws_key_id_glued_to_another_providers_token_is_not_its_context() -> None:
    """Found by the long fuzz run: `sk-proj-...AWS_ACCESS_KEY_ID=AKIA...` on one line gave the
    OpenAI key an `access_key_id` context (and printed the id beside it in the table)."""
    text = (
        "OPENAI_API_KEY=sk-proj-DJppkFFEZciCQP00U87juJUBEoAXHmGRZ2XsTS5MivpF9k9jz89iLWeajzT3BlbkFJV6"
        "xuRXLAsfmhVwlva_byCSEsWAGU0g47kCxhG4rS2A5e7sAuPFJiN7UZpjAWS_ACCESS_KEY_ID=AKIATMAAF2KV52BW6CDZ\n"
    )
    found = {f.rule_id: f for f in scan(text, "deploy/.env")}
    assert "access_key_id" not in found["openai-project-key"].context
    assert "aws-access-key-id-alone" in found
