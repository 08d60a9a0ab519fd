"""Classification: one test per class, plus the helpers behind them."""

from __future__ import annotations

import time

import pytest

from secretops.scan.filters import (
    classify,
    in_ci_service_block,
    is_doc_or_template,
    is_test_path,
    name_not_secret,
    shannon_entropy,
)
from secretops.scan.models import Classification, Severity

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


@pytest.mark.parametrize("path", ["tests/fixtures/app.env", "src/app_test.go", "spec/cassettes/a.yml"])
def test_a_test_path_only_lowers_the_severity_of_a_low_entropy_value(path: str) -> None:
    verdict = classify("Zq81vPr9Lk3wQ", path=path)
    assert verdict.classification is L, verdict.reasons
    assert (verdict.severity, verdict.confidence) == (Severity.LOW, "low")
    assert classify("Zq81vPr9Lk3wQ", path="deploy/app.env").severity is None


@pytest.mark.parametrize(
    ("value", "keywords"),
    [
        ("sk_live_oOOL8dKLzdocJ2isAjIhKtJ0", ("sk_live_",)),
        ("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", ()),  # a known prefix, whatever rule matched
        ("xFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo/", ("aws_secret",)),  # structure: strongly random
    ],
)
def test_live_shapes_are_leaks_in_test_paths(value: str, keywords: tuple[str, ...]) -> None:
    for path in ("tests/fixtures/prod.env", "spec/cassettes/charge.yml", "fixtures/ops.md"):
        verdict = classify(value, path=path, keywords=keywords)
        assert verdict.classification is L, (path, verdict.reasons)
        assert verdict.severity is None


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
    def verdict(value: str, path: str) -> Classification | None:
        return classify(value, path=path, name="password", generic=True, quoted=False, op=" = ").classification

    assert verdict("Zq81vPr9Lk3w", "deploy/app.ini") is L
    # in code an unquoted value is a variable, unless it looks generated (a comment or docstring leak)
    assert verdict("current_pass_var", "deploy/app.py") is None
    assert verdict("Zq81vPr9Lk3w", "deploy/app.py") is L


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


MD_SNIPPET = """Run the tests against a throwaway database:

```yaml
    runs-on: ubuntu-latest
    services:
      postgres:
        env:
          POSTGRES_PASSWORD: Zq81vPr9Lk3w
```

```yaml
services:
  db:
    environment:
      POSTGRES_PASSWORD: Zq81vPr9Lk3w
```
"""


def test_ci_service_block_in_markdown_needs_a_job_context() -> None:
    first = MD_SNIPPET.index("          POSTGRES_PASSWORD")
    second = MD_SNIPPET.index("      POSTGRES_PASSWORD")
    assert in_ci_service_block(MD_SNIPPET, first, "docs/ci.md")
    # a compose file pasted in the same document is a deployment, not a CI container
    assert not in_ci_service_block(MD_SNIPPET, second, "docs/ci.md")
    # in a workflow file, any services block counts
    gitlab = "services:\n  - name: postgres\n    alias: db\n"
    assert in_ci_service_block(gitlab, gitlab.index("    alias"), ".gitlab-ci.yml")


def test_ci_service_block_is_computed_once_per_text() -> None:
    job = "  job{n}:\n    runs-on: ubuntu-latest\n    services:\n      pg:\n        env:\n          PW: x{n}\n"
    text = "jobs:\n" + "".join(job.format(n=i) for i in range(4000))
    starts = [i for i in range(len(text)) if text.startswith("          PW:", i)]
    began = time.perf_counter()
    assert all(in_ci_service_block(text, s, "ci.yml") for s in starts)
    assert not in_ci_service_block(text, text.index("    runs-on"), "ci.yml")
    assert time.perf_counter() - began < 1.0  # one pass over the text, then set lookups


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "PGPASSWORD",
        "smtp_pass",
        "client_secret",
        "apiKey",
        "x-api-key",
        "SECRET_KEY_BASE",
        "GITHUB_TOKEN_PROD",
        "SecretAccessKey",
        "self.password",
        "password2",
        "DB_PassWord",
    ],
)
def test_secret_names(name: str) -> None:
    assert name_not_secret(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "secretops",
        "tokenizer",
        "tokens",
        "output_token",
        "NextPageToken",
        "nextForwardToken",
        "page_token",
        "request_token_arn",
        "eos_token",
        "PasswordPolicy",
        "secretArn",
        "SecretId",
        "token_number",
        "Token.String",
        "publicKeyToken",
        "PRIVATE_KEY_USAGE_PERIOD",
        "secret_name",
        "ACCESS_KEY_ID",
        "secrets",
        "hashed_secret",  # detect-secrets baselines
        "sha256_password",
    ],
)
def test_names_that_only_contain_a_secret_word(name: str) -> None:
    assert name_not_secret(name) is not None


def test_an_unusual_name_needs_a_strongly_random_value() -> None:
    assert name_not_secret("PASSWORD_DB", "Kq9vL2xW8mZp4TnR7bYcQ") is None
    assert name_not_secret("PASSWORD_DB", "hunter2") is not None
    assert name_not_secret("secret_name", "Kq9vL2xW8mZp4TnR7bYcQ") is not None  # metadata never passes


@pytest.mark.parametrize(
    "value",
    [
        "{password}",
        "{password|url}",
        "redis://{username}:{password|url}@db",
        "${POSTGRES_PASSWORD:?set it}",
        "npg_EXAMPLEEXAMPLE",
        "XYZ12345",
        "abcdefg123",
        "foobarbaz",
        "&lt;string&gt;",
        "a1b2c3d4567890ab",
    ],
)
def test_more_placeholders(value: str) -> None:
    assert classify(value, path="deploy/app.env").classification is P


@pytest.mark.parametrize(
    ("value", "name", "path", "quoted"),
    [
        ("NextPageToken", "input_token", "paginators-1.json", True),
        ("EngineDefaults.Marker", "output_token", "paginators-1.json", True),
        ("ParseResults):", "tokens", "pyparsing/common.py", False),
        ("TokenInterface):", "token", "deploy/notes.cfg", False),
        ("AWS_ACCESS_KEY_ID", "ACCESS_KEY", "botocore/credentials.py", True),
        ("AWSAccessKeyId", "ACCESS_KEY", "botocore/credentials.py", True),
        ("not applicable", "secret", "moto/models.py", True),
        ("a%20secret", "password", "httpx/_urls.py", True),
        ("anonymous@domain.org", "passwd", "ftp.sh", True),
        ("arn:aws:iam::aws:policy/IAMUserChangePassword", "IAMUserChangePassword", "policies.json", True),
        ("accounts[0]", "secret", "issuers/_common.py", True),
        ("self._input.LA(1)", "token", "parser.py", False),
        ("3.0-", "pwd", "VERSIONS", False),
    ],
)
def test_more_non_credentials(value: str, name: str, path: str, quoted: bool) -> None:
    verdict = classify(value, path=path, name=name, generic=True, quoted=quoted, op=" = ")
    assert verdict.classification is None, verdict


@pytest.mark.parametrize(
    ("value", "path", "expected"),
    [
        ("P@55w0rd!", "moto/rds/models.py", W),  # leetspeak of a well-known password, anywhere
        ("Pass@Word1", "deploy/app.env", W),
        ("IAmSensitive", "pydantic/types.py", W),  # a word-based password in code: an example or shipped default
        ("IAmSensitive", "docs/usage.md", P),  # ... in documentation: an example
        ("IAmSensitive", "deploy/app.env", L),  # ... in real config: a (weak) leak
        ("Zq81vPr9Lk3w", "pydantic/types.py", L),
    ],
)
def test_word_based_passwords(value: str, path: str, expected: Classification) -> None:
    verdict = classify(value, path=path, name="password", generic=True, quoted=True, op=" = ")
    assert verdict.classification is expected, verdict


@pytest.mark.parametrize("value", ["FOOBARSECRET", "no-password-required", "mynewpassword", "webdavgeneratedpassword1"])
def test_descriptive_values(value: str) -> None:
    # in code and docs they describe the value; in a real config file they are a guessable secret
    assert classify(value, path="moto/core/models.py").classification is P
    assert classify(value, path="docs/setup.md").classification is P
    assert classify(value, path="deploy/app.env").classification is W
    # a test path never makes a value a test credential
    assert classify(value, path="tests/app.env").classification is W


@pytest.mark.parametrize("value", ["npg_xxxxxxxxxxxx", "xxxx-xxxx-xxxx", "sk_live_51Hxxxxxxxxxxxxxxxxx", "AbXXXX"])
def test_x_runs_at_an_edge_or_long_are_masks(value: str) -> None:
    assert classify(value, path="deploy/app.env").classification is P


def test_a_short_x_run_inside_a_random_key_is_no_mask() -> None:
    # about one random 40-character key in 30,000 holds four x in a row somewhere inside
    value = "p1vRt/1fjORS+6ilI8ih7xXxX9Sc7Tvo+hBKqFYY"
    verdict = classify(value, path="tests/fixtures/prod.env", keywords=("aws_secret",))
    assert verdict.classification is L, verdict.reasons
