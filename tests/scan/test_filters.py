"""Classification: one test per class, plus the helpers behind them."""

from __future__ import annotations

import pytest

from secretops.scan.filters import (
    classify,
    in_ci_service_block,
    is_doc_or_template,
    is_test_path,
    shannon_entropy,
)
from secretops.scan.models import Classification

L, P, T, W = (
    Classification.LEAK,
    Classification.PLACEHOLDER,
    Classification.TEST_CREDENTIAL,
    Classification.WEAK_DEFAULT,
)


@pytest.mark.parametrize(
    "value",
    [
        "<DB_PASSWORD>",
        "npg_<PASSWORD>",
        "your-api-key-here",
        "YOUR_PASSWORD",
        "[YOUR-PASSWORD]",
        "${DB_PASSWORD}",
        "$DB_PASSWORD",
        "${{ secrets.RENDER_API_KEY }}",
        "{{ vault_db_password }}",
        "%(password)s",
        "xxxx",
        "npg_xxxxxxxxxxxx",
        "****",
        "password",
        "secret",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aaaaaaaa",
        "insert-your-token-here",
        "sk-...abcd",
    ],
)
def test_placeholders(value: str) -> None:
    verdict = classify(value, path="deploy/app.env")
    assert verdict.classification is P, verdict.reasons
    assert verdict.reasons[0].startswith("placeholder:")


def test_value_equal_to_its_name_and_textbook_uri_are_placeholders() -> None:
    assert classify("SECRET_KEY", path="a.env", name="SECRET_KEY").classification is P
    textbook = classify("pass", path="a.env", context={"host": "host", "user": "user"})
    assert textbook.classification is P


@pytest.mark.parametrize(
    ("value", "path", "context", "ci"),
    [
        ("Zq81vPr9Lk3wQ", "tests/fixtures/app.env", {}, False),
        ("Zq81vPr9Lk3wQ", "src/app_test.go", {}, False),
        ("Zq81vPr9Lk3wQ", ".github/workflows/ci.yml", {}, True),
        ("test_pass", "deploy/app.env", {}, False),
        ("test-secret-key-not-for-production", "deploy/app.env", {}, False),
        ("dummy-token-1234", "deploy/app.env", {}, False),
        ("sk_test_IhKtJ0RlgLKOmxgJTeKdNnFR", "deploy/app.env", {}, False),
        ("postgres", "deploy/app.env", {"host": "localhost"}, False),
    ],
)
def test_test_credentials(value: str, path: str, context: dict[str, str], ci: bool) -> None:
    verdict = classify(value, path=path, context=context, in_ci_service=ci)
    assert verdict.classification is T, verdict.reasons


@pytest.mark.parametrize(
    "value", ["change-me", "changeme", "django-insecure-k9#x2!m@q", "admin", "postgres", "letmein"]
)
def test_weak_defaults_in_real_config(value: str) -> None:
    verdict = classify(value, path="deploy/settings.env")
    assert verdict.classification is W, verdict.reasons


def test_template_default_in_docs_is_a_placeholder() -> None:
    assert classify("change-me", path="docs/setup.md").classification is P
    assert classify("change-me", path="backend/.env.example").classification is P
    assert classify("change-me", path="backend/.env").classification is W


@pytest.mark.parametrize(
    "value", ["npg_Hclv1yP9IEeL", "Kq9vL2xW8mZp4TnR7bYc", "p1vRt/1fjORS+6ilI8ihN5KXSc7Tvo+hBKqFYY+k"]
)
def test_leaks(value: str) -> None:
    verdict = classify(value, path="deploy/app.env")
    assert verdict.classification is L
    assert verdict.reasons


@pytest.mark.parametrize(
    ("value", "name", "path", "quoted"),
    [
        ("15", "ACCESS_TOKEN_EXPIRE_MINUTES", "a.env", False),
        ("true", "USE_TOKEN", "a.env", False),
        ("12345678", "DB_PASSWORD", "a.env", False),
        ("https://auth.internal/oauth/token", "OAUTH_TOKEN_SERVER", "a.env", False),
        ("/accounts/reset/", "reset_password_url", "a.py", True),
        ("settings.DB_PASSWORD", "password", "a.py", False),
        ("get_password()", "password", "a.py", False),
        ("pw", "password", "a.py", False),
        ("Enter your new password", "password_prompt_text", "a.py", True),
        ("current_pass_var", "password", "app.py", False),
    ],
)
def test_generic_non_credentials_are_dropped(value: str, name: str, path: str, quoted: bool) -> None:
    verdict = classify(value, path=path, name=name, generic=True, quoted=quoted, op=" = ")
    assert verdict.classification is None, verdict


def test_unquoted_identifier_is_a_literal_outside_code() -> None:
    assert (
        classify(
            "Zq81vPr9Lk3w", path="deploy/app.ini", name="password", generic=True, quoted=False, op=" = "
        ).classification
        is L
    )
    assert (
        classify(
            "Zq81vPr9Lk3w", path="deploy/app.py", name="password", generic=True, quoted=False, op=" = "
        ).classification
        is None
    )


def test_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("ab") == pytest.approx(1.0)
    assert shannon_entropy("npg_Hclv1yP9IEeL") > 3.5


def test_paths() -> None:
    assert is_test_path("tests/scan/x.py") and is_test_path("pkg/testdata/a.env") and is_test_path("a/test_x.py")
    assert not is_test_path("src/contest/app.py") and not is_test_path("latest.env")
    assert is_doc_or_template("docs/examples/guides/a.md") and is_doc_or_template("backend/.env.example")
    assert not is_doc_or_template("backend/.env")


CI = """jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:15
        env:
          POSTGRES_PASSWORD: Zq81vPr9Lk3w
    steps:
      - run: echo
        env:
          API_TOKEN: Zq81vPr9Lk3w
"""

COMPOSE = """services:
  db:
    image: postgres:15
    environment:
      POSTGRES_PASSWORD: Zq81vPr9Lk3w
"""


def test_ci_service_block_detection() -> None:
    assert in_ci_service_block(CI, CI.index("          POSTGRES_PASSWORD"), "docs/ci.md")
    assert not in_ci_service_block(CI, CI.index("          API_TOKEN"), "docs/ci.md")
    # docker-compose services are deployments, not CI containers
    assert not in_ci_service_block(COMPOSE, COMPOSE.index("      POSTGRES_PASSWORD"), "docker-compose.yml")
