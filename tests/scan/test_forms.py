"""Forms real repositories and ops docs write credentials in (issue 11), each across providers.

Every case is a whole small file as a team would commit it; the assertion names the rule family
that must report it, the class, and the context a grouped credential must carry. Values are fake.
"""

from __future__ import annotations

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules import load_rules
from secretops.values import FingerprintKey

KEY = FingerprintKey(b"\x05" * 32)


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(list(load_rules()), KEY)


def _leaks(scanner: Scanner, text: str, path: str) -> list[Finding]:
    return [f for f in scanner.scan(Fragment(text, path)) if f.classification is Classification.LEAK]


SQL = [
    (
        "migrations/0003_roles.sql",
        "CREATE ROLE app_user WITH LOGIN PASSWORD 'Xk9vQ2mLp7RtZw4N';\n",
        "sql-role-password",
    ),
    ("db/seed.sql", "ALTER USER reporting WITH ENCRYPTED PASSWORD 'Hq3Vn8TzKw5PmR2x';\n", "sql-role-password"),
    (
        "docker/mysql/init.sql",
        "CREATE USER 'app'@'%' IDENTIFIED BY 'Lm4Rt9QxVz2KpN7w';\n",
        "sql-identified-by-password",
    ),
    (
        "ops/mariadb.sql",
        "ALTER USER 'app'@'10.%' IDENTIFIED WITH mysql_native_password BY 'Pz7Wq2XnLk9RtM4v';\n",
        "sql-identified-by-password",
    ),
    ("ops/legacy.sql", "SET PASSWORD FOR 'app'@'%' = PASSWORD('Tq8Wz3KxNp5RmL2v');\n", "sql-set-password"),
    ("oracle/users.sql", 'ALTER USER app_owner IDENTIFIED BY "Rk4Xw9QzLm2VtN7p";\n', "sql-identified-by-password"),
    ("mssql/logins.sql", "CREATE LOGIN app_login WITH PASSWORD = 'Zk7Qm2XvLp9RtW4n';\n", "sql-login-password"),
    (
        "app/migrate.py",
        "cur.execute(\"CREATE ROLE svc LOGIN PASSWORD 'Wn4Zq8KxVm2LpR7t'\")\n",
        "sql-role-password",
    ),
]


@pytest.mark.parametrize(("path", "text", "rule"), SQL, ids=[c[0] for c in SQL])
def test_sql_that_sets_a_password_is_a_leak(scanner: Scanner, path: str, text: str, rule: str) -> None:
    assert [f.rule_id for f in _leaks(scanner, text, path)] == [rule]


def test_sql_role_password_carries_the_role_as_user(scanner: Scanner) -> None:
    (finding,) = _leaks(scanner, "CREATE ROLE app_user WITH LOGIN PASSWORD 'Xk9vQ2mLp7RtZw4N';\n", "x.sql")
    assert finding.context.get("user") == "app_user"
    assert finding.kind == "postgres-password"


@pytest.mark.parametrize(
    "text",
    [
        "CREATE ROLE app_user WITH LOGIN PASSWORD NULL;\n",
        "ALTER ROLE app_user PASSWORD :'app_password';\n",
        "CREATE USER 'app'@'%' IDENTIFIED BY '%s';\n",
        "CREATE USER 'app'@'%' IDENTIFIED BY '{{ mysql_app_password }}';\n",
        "CREATE USER 'app'@'%' IDENTIFIED WITH auth_socket;\n",
        "ALTER ROLE app_user PASSWORD '${APP_DB_PASSWORD}';\n",
        "CREATE LOGIN app_login WITH PASSWORD = '<StrongPassword>';\n",
        "-- the password column of users is hashed with bcrypt\n",
    ],
)
def test_sql_placeholders_and_prose_are_no_leak(scanner: Scanner, text: str) -> None:
    assert _leaks(scanner, text, "db/migrations/0001.sql") == []


CODE = [
    ("settings.py", 'DB_PASSWORD = os.environ.get("DB_PASSWORD", "Tq8Wz3KxNp5RmL2v")\n'),
    ("settings.py", 'TOKEN = os.getenv("TWILIO_AUTH_TOKEN", "9f3c2a7b4e1d8c6f0a5b3e9d7c2f1a4b")\n'),
    ("settings.py", 'SECRET_KEY = config("DJANGO_SECRET_KEY", default="Kv7Zq3WmLx9RnT2pQm8Zx3")\n'),
    ("config/database.php", "'password' => env('DB_PASSWORD', 'Rk4Xw9QzLm2VtN7p'),\n"),
    ("config/initializers/mail.rb", 'key = ENV.fetch("SENDGRID_API_KEY", "Vx7Kq2Lm9NzR4tPw8Yb3")\n'),
    ("src/session.js", 'const secret = process.env.SESSION_SECRET || "Vx7Kq2Lm9NzR4tPw8Yb3";\n'),
    ("src/pay.ts", "const key = process.env['PAYMENT_API_KEY'] ?? 'Qm8Zx3VkLp7NwR2tXk9v';\n"),
    ("main.go", 'const dbPassword = "Rk4Xw9QzLm2VtN7p"\n'),
    ("App.java", 'private static final String API_SECRET = "Qm8Zx3VkLp7NwR2t";\n'),
    ("Settings.cs", 'public const string DbPassword = "Wn4Zq8KxVm2LpR7t";\n'),
    ("prod.tfvars", 'db_password = "Zk7Qm2XvLp9RtW4n"\n'),
    ("group_vars/all.yml", 'mysql_root_password: "Wn4Zq8KxVm2LpR7t"\n'),
]


@pytest.mark.parametrize(("path", "text"), CODE, ids=[f"{c[0]}:{i}" for i, c in enumerate(CODE)])
def test_code_defaults_and_constants_are_leaks(scanner: Scanner, path: str, text: str) -> None:
    assert len(_leaks(scanner, text, path)) == 1


@pytest.mark.parametrize(
    "text",
    [
        'DB_PASSWORD = os.environ.get("DB_PASSWORD", "")\n',
        'DB_PASSWORD = os.environ.get("DB_PASSWORD")\n',
        'LEVEL = os.getenv("LOG_LEVEL", "Tq8Wz3KxNp5RmL2v")\n',
        'DB_PASSWORD = os.environ.get("DB_PASSWORD", "changeme")\n',
        'const port = process.env.PORT || "8080";\n',
        'const secret = process.env.SESSION_SECRET || "dev-secret";\n',
        'token = os.getenv("GITHUB_TOKEN", "<your-token>")\n',
    ],
)
def test_empty_placeholder_and_non_secret_defaults_are_no_leak(scanner: Scanner, text: str) -> None:
    assert _leaks(scanner, text, "app/settings.py") == []


TABLE_GUIDE = """\
# Production database

| Field | Value |
|---|---|
| Host | db.prod-cluster.example-corp.net |
| Port | 5432 |
| User | app_admin |
| Password | Mx8Qv3ZkLw7RtN2p |
"""


def test_two_column_table_is_one_credential_with_its_context(scanner: Scanner) -> None:
    (finding,) = _leaks(scanner, TABLE_GUIDE, "docs/ops.md")
    assert finding.rule_id == "markdown-table-password"
    assert finding.context == {"host": "db.prod-cluster.example-corp.net", "port": "5432", "user": "app_admin"}
    assert finding.kind == "postgres-password"
    assert finding.location.line == 8


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "| STRIPE_SECRET_KEY | Secret | `sk_live_51Hx9KqL2mZvR8tNw4YbP3cQxVk7LmN2pRtZw9QxKv` |\n",
            "stripe-secret-key",
        ),
        ("| **DB password** | `Hq3Vn8TzKw5PmR2x` |\n", "markdown-table-password"),
        ("| API key | Secret | `Kq9vL2xW8mZp4TnR7bYc` |\n", "markdown-table-password"),
    ],
)
def test_table_rows_with_a_value(scanner: Scanner, text: str, rule: str) -> None:
    assert [f.rule_id for f in _leaks(scanner, text, "README.md")] == [rule]


@pytest.mark.parametrize(
    "text",
    [
        "| Password | string |\n",
        "| password | The database password |\n",
        "| Password | `<your password>` |\n",
        "| Password | ******** |\n",
        "| STRIPE_SECRET_KEY | Secret | `sk_live_...` |\n",
        "| Token | required |\n",
    ],
)
def test_table_rows_that_describe_a_field_are_no_leak(scanner: Scanner, text: str) -> None:
    assert _leaks(scanner, text, "README.md") == []


def test_labeled_bullets_under_headings(scanner: Scanner) -> None:
    text = (
        "## SMTP (Gmail)\n\n- Server: smtp.gmail.com\n- App password: qwhz mvtk plra ynbe\n\n"
        "## Database\n\nHost: pg.internal.example-corp.net\nUser: billing\nPassword: Kv7Zq3WmLx9RnT2p\n"
    )
    found = {f.rule_id: f for f in _leaks(scanner, text, "docs/runbook.md")}
    assert set(found) == {"google-app-password", "generic-password-assignment"}
    assert found["generic-password-assignment"].context.get("host") == "pg.internal.example-corp.net"
    assert found["generic-password-assignment"].context.get("user") == "billing"


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        (
            'curl -H "Authorization: Bearer figd_iuOH1MjUgJmTBn6Cpf_lPX0_VaNpN-lo_oyv0Avx" https://api.figma.com/v1/me\n',
            "figma-pat",
        ),
        ('curl -H "Authorization: Bearer Zk2Lm9Qv8Xn3Wp4RzT7bQx" https://api.internal/\n', "http-bearer-token"),
    ],
)
def test_a_provider_token_in_a_bearer_header_is_reported_as_that_provider(
    scanner: Scanner, header: str, rule: str
) -> None:
    assert [f.rule_id for f in _leaks(scanner, header, "scripts/check.sh")] == [rule]
