"""Off-format values, template defaults by slot, and the forms added for issue 11's benchmark misses.

* A value one slip off a strict provider format that its key name (or its own prefix) presents it
  as cannot authenticate there: a placeholder whose reason says `off-format` (docs/rules.md). A
  value with no resemblance to the format stays a leak, and so does anything matching a prefix
  family the provider may use without documenting it (Slack's `xox?-`, GitLab's custom prefixes).
* `REPLACE_ME` is a placeholder in any slot; `changeme` is a placeholder where a provider issues
  the value (`SENTRY_AUTH_TOKEN`), a weak default where the owner picks it (passwords, `SECRET_KEY`).
* Subscript assignments (`os.environ["K"] = "v"`, also in notebooks), PgBouncer's userlist,
  foreign-data-wrapper user mappings, PDO's password argument, a compact Gmail app password.

Every value is fake (random strings of the right shape, generated here).
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.filters import classify
from secretops.scan.filters.off_format import checksum_off_reason, off_format_reason
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules import load_rules
from secretops.scan.sources.notebook import notebook_fragments
from secretops.values import FingerprintKey

L, P, W = Classification.LEAK, Classification.PLACEHOLDER, Classification.WEAK_DEFAULT
SCANNER = Scanner(list(load_rules()), FingerprintKey(b"\x0b" * 32))
_R = random.Random(1111)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _s(n: int, alphabet: str = ALNUM) -> str:
    while True:
        v = "".join(_R.choice(alphabet) for _ in range(n))
        if not any(w in v.lower() for w in ("test", "fake", "mock", "dummy", "xxxx", "example")):
            return v


def _crc_token(prefix: str, *, bad: bool = False) -> str:
    body = _s(30)
    num, out = zlib.crc32(body.encode()) + (1 if bad else 0), ""
    while num:
        num, rem = divmod(num, 62)
        out = B62[rem] + out
    return prefix + body + out.rjust(6, "0")


def _scan(text: str, path: str = "deploy/app.env") -> list[Finding]:
    return SCANNER.scan(Fragment(text, path))


def _failing(text: str, path: str = "deploy/app.env") -> list[Finding]:
    return [f for f in _scan(text, path) if f.classification in (L, W)]


SLACK_BODY = f"{_s(12, string.digits)}-{_s(13, string.digits)}-{_s(24)}"

OFF_FORMAT = [
    ("SLACK_BOT_TOKEN", f"xoqb-{SLACK_BODY}"),  # prefix one character off
    ("Token", f"xoqb-{SLACK_BODY}"),  # Slack's structured body picks it without a name
    ("TWILIO_API_KEY", "SK" + _s(31, HEX)),  # SIDs are 34 characters
    ("twilioApiKey", "SK" + _s(33, HEX)),
    ("SENTRY_AUTH_TOKEN", "sntryu_" + _s(63, HEX)),
    ("observabilityToken", "sntryu_" + _s(63, HEX)),  # the value's prefix picks the provider
    ("HF_TOKEN", "hf_" + _s(33, string.ascii_letters)),
    ("GOOGLE_API_KEY", "AIza" + _s(34, ALNUM + "_-")),
    ("SENDGRID_API_KEY", f"SG.{_s(21, ALNUM + '_-')}.{_s(43, ALNUM + '_-')}"),
    ("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_" + _s(63, HEX)),
    ("GITHUB_TOKEN", _crc_token("ghp_", bad=True)),
    ("NPM_TOKEN", _crc_token("npm_", bad=True)),
    ("STRIPE_SECRET_KEY", "sk_lime_" + _s(24)),
    ("VAULT_TOKEN", "hws." + _s(24)),
]

NOT_OFF_FORMAT = [
    ("SLACK_BOT_TOKEN", f"xoxb-{SLACK_BODY}"),  # valid
    ("SLACK_BOT_TOKEN", f"xoxq-{SLACK_BODY}"),  # an undocumented Slack kind is still Slack's family
    ("SLACK_SIGNING_SECRET", _s(32, HEX)),  # no resemblance to xox?-
    ("TWILIO_API_KEY", "SK" + _s(32, HEX)),  # valid
    ("TWILIO_AUTH_TOKEN", _s(32, HEX)),
    ("GITHUB_TOKEN", _s(40, HEX)),  # a classic 40-hex OAuth token: an older format
    ("GITHUB_TOKEN", _crc_token("ghp_")),  # valid checksum
    ("NPM_TOKEN", "3f2c9e1a-7b4d-4c8e-9a1f-2d6b8e0c4a7f"),  # a legacy npm token (UUID)
    ("GITLAB_TOKEN", "glpaz-" + _s(20)),  # self-managed GitLab may set a custom prefix
    ("VAULT_TOKEN", "hvz." + _s(24)),  # Vault's hv?. family
    ("HF_TOKEN", "hf_" + _s(40, string.ascii_letters)),  # far from the length: judged as usual
    ("API_KEY", "SK" + _s(31, ALNUM)),  # not hex: no Twilio shape
    ("SENTRY_AUTH_TOKEN", _s(64, HEX)),  # Sentry's older unprefixed tokens
]


@pytest.mark.parametrize(("name", "value"), OFF_FORMAT, ids=[f"{n}:{v[:6]}" for n, v in OFF_FORMAT])
def test_near_misses_of_strict_formats_are_off_format(name: str, value: str) -> None:
    why = off_format_reason(value, name)
    assert why is not None and why.startswith("placeholder: off-format:")
    assert value not in why and value[:8] not in why  # reasons never quote the value
    found = _scan(f"{name}={value}\n")
    assert found and {f.classification for f in found} == {P}, [(f.rule_id, f.reasons) for f in found]


@pytest.mark.parametrize(("name", "value"), NOT_OFF_FORMAT, ids=[f"{n}:{v[:6]}" for n, v in NOT_OFF_FORMAT])
def test_valid_values_and_values_unlike_the_format_are_judged_as_usual(name: str, value: str) -> None:
    assert off_format_reason(value, name) is None
    assert classify(value, path="deploy/app.env", name=name, generic=True).classification is L


def test_an_off_format_value_is_still_reported_with_include_placeholders() -> None:
    (f,) = _scan(f"SLACK_BOT_TOKEN=xoqb-{SLACK_BODY}\n")
    assert f.classification is P and f.severity.value == "info"
    assert any("off-format" in r for r in f.reasons)


def test_off_format_only_judges_generic_rules_the_provider_rule_keeps_its_match() -> None:
    # a specific rule matched its own regex: its verdict stands (azure's client-secret rule
    # accepts 31-34 characters after `Q~`, as gitleaks does)
    value = f"{_s(3)}8Q~{_s(33, ALNUM + '_-')}"
    assert classify(value, path="deploy/app.env", name="AZURE_CLIENT_SECRET", generic=False).classification is L


def test_github_documentation_token_fails_its_checksum_in_any_rule() -> None:
    docs_token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"  # GitHub's docs example
    assert checksum_off_reason(docs_token) is not None
    assert checksum_off_reason(f"x-access-token:{docs_token}") is not None
    assert checksum_off_reason(_crc_token("ghp_")) is None
    netrc = f"machine github.com login x-access-token password {docs_token}\n"
    assert _failing(netrc, "home/.netrc") == []
    auth = base64.b64encode(f"x-access-token:{docs_token}".encode()).decode()
    docker = json.dumps({"auths": {"ghcr.io": {"auth": auth}}}, indent=2)
    assert _failing(docker, "home/.docker/config.json") == []
    live = _crc_token("ghp_")
    assert [f.classification for f in _failing(f"machine github.com login x password {live}\n", "home/.netrc")] == [L]


def test_kubernetes_secret_data_decoding_to_an_off_format_value_is_no_leak() -> None:
    for name, value in (("SLACK_BOT_TOKEN", f"xoqb-{SLACK_BODY}"), ("NPM_TOKEN", _crc_token("npm_", bad=True))):
        encoded = base64.b64encode(value.encode()).decode()
        manifest = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  {name}: {encoded}\n"
        assert _failing(manifest, "k8s/secret.yaml") == [], name
    live = base64.b64encode(f"xoxb-{SLACK_BODY}".encode()).decode()
    manifest = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  SLACK_BOT_TOKEN: {live}\n"
    assert _failing(manifest, "k8s/secret.yaml")


# -- template defaults: who picks the value ---------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "SENTRY_AUTH_TOKEN=changeme",
        "stripe_secret_key: changeme",
        "aws_secret_access_key = changeme",
        "GOOGLE_CLIENT_SECRET=changeme",
        'export const VAULT_TOKEN = "changeme";',
        "fly secrets set NPM_TOKEN=changeme",
        "kubectl create secret generic app --from-literal=TWILIO_AUTH_TOKEN=changeme",
        'hostingToken = "change-me"',
    ],
)
def test_changeme_where_a_provider_issues_the_value_is_a_placeholder(line: str) -> None:
    found = _scan(line + "\n", "deploy/app.sh" if line.startswith(("fly", "kubectl")) else "deploy/app.env")
    assert found and {f.classification for f in found} == {P}, [(f.rule_id, f.reasons) for f in found]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("machine github.com login x-access-token password changeme\n", "home/.netrc"),
        ("https://x-access-token:changeme@github.com\n", "home/.git-credentials"),
        ("https://gitlab-ci-token:changeme@gitlab.com/group/app.git\n", "ci/clone.txt"),
    ],
)
def test_changeme_where_the_user_names_an_issued_token_is_a_placeholder(text: str, path: str) -> None:
    found = _scan(text, path)
    assert found and {f.classification for f in found} == {P}, [(f.rule_id, f.reasons) for f in found]
    # the same slot with a person's user name is a password someone may really have set
    if "x-access-token" in text:
        assert {f.classification for f in _scan(text.replace("x-access-token", "orbit"), path)} == {W}


@pytest.mark.parametrize(
    "line",
    [
        "DB_PASSWORD=changeme",
        "SECRET_KEY=changeme",  # Django's signing key: the owner picks it, changeme forges sessions
        "DJANGO_SECRET_KEY=change-me",
        "JWT_SECRET=changeme",
        "GITHUB_WEBHOOK_SECRET=changeme",  # webhook secrets are chosen by the owner
        "API_KEY=changeme",  # a bare name says neither: the cautious class
        "db.prod.internal:5432:app:app_user:changeme",
    ],
)
def test_changeme_where_the_owner_picks_the_value_stays_a_weak_default(line: str) -> None:
    path = "deploy/.pgpass" if line.startswith("db.") else "deploy/app.env"
    assert [f.classification for f in _scan(line + "\n", path)] == [W]


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("DB_PASSWORD=REPLACE_ME", "deploy/app.env"),
        ("SECRET_KEY=replace-me", "deploy/.env"),
        ("db.prod.internal:5432:app:app_user:REPLACE_ME", "deploy/.pgpass"),
        ("machine db.prod.internal login app_user password REPLACE_ME", "home/.netrc"),
        ("redis-cli -h db.prod.internal -a REPLACE_ME ping", "ops/check.sh"),
        ("CREATE ROLE app WITH LOGIN PASSWORD 'REPLACE_ME';", "db/roles.sql"),
    ],
)
def test_replace_me_is_a_placeholder_in_any_slot(line: str, path: str) -> None:
    found = _scan(line + "\n", path)
    assert found and {f.classification for f in found} == {P}, [(f.rule_id, f.reasons) for f in found]


# -- forms ------------------------------------------------------------------------------------------


def _notebook(*lines: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": list(lines)}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def test_subscript_assignments_in_a_notebook_cell_are_found_at_their_file_line() -> None:
    secret, password = _s(32), _s(19)
    text = _notebook(
        "import os\n",
        f'os.environ["TWILIO_API_SECRET"] = "{secret}"\n',
        f'os.environ["DB_PASSWORD"] = "{password}"\n',
    )
    assert '\\"TWILIO_API_SECRET\\"' in text  # escaped quotes in the file
    fragments = notebook_fragments(text, "analysis.ipynb")
    assert fragments is not None
    found = [(fr, f) for fr in fragments for f in SCANNER.scan(fr) if f.classification is L]
    lines = text.splitlines()
    # the runner maps a cell line to the file line through the fragment's positions
    located = [fr.positions.locate(f.location.line, f.location.column)[0] for fr, f in found if fr.positions]
    assert sorted(located) == sorted(
        i + 1 for i, line in enumerate(lines) if "TWILIO_API_SECRET" in line or "DB_PASSWORD" in line
    )
    assert {f.secret.reveal() for _, f in found if f.secret} == {secret, password}


@pytest.mark.parametrize(
    "line",
    [
        'os.environ["DB_PASSWORD"] = "{v}"',
        "ENV['SLACK_TOKEN'] = '{v}'",
        "$_ENV['APP_SECRET'] = '{v}';",
        'config["api_key"] = "{v}"',
    ],
)
def test_subscript_assignments_in_code(line: str) -> None:
    assert len(_failing(line.format(v=_s(20)) + "\n", "app/settings.py")) == 1


def test_subscript_reads_and_comparisons_are_no_assignment() -> None:
    for line in ('password = request.form["password"]', 'if settings["DB_PASSWORD"] == "Hq3Vn8TzKw5PmR2x":'):
        assert _failing(line + "\n", "app/views.py") == [], line


def test_pgbouncer_userlist_reports_clear_text_passwords_not_hashes() -> None:
    password = _s(22)
    text = f'"admin" "md5{_s(32, HEX)}"\n"app" "{password}"\n"scram" "SCRAM-SHA-256$4096:{_s(24)}=$a:b"\n'
    found = _failing(text, "etc/pgbouncer/userlist.txt")
    assert [(f.rule_id, f.location.line, f.context.get("user")) for f in found] == [
        ("pgbouncer-userlist-password", 2, "app")
    ]


def test_fdw_user_mapping_password_with_its_user() -> None:
    text = (
        "CREATE SERVER reports FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', dbname 'reports');\n"
        f"CREATE USER MAPPING FOR app SERVER reports OPTIONS (user 'reporter', password '{_s(20)}');\n"
    )
    found = _failing(text, "db/fdw.sql")
    assert [(f.rule_id, f.location.line, f.context.get("user")) for f in found] == [
        ("sql-user-mapping-password", 2, "reporter")
    ]


def test_pdo_constructor_password_with_host_and_user() -> None:
    text = f"<?php\n$pdo = new PDO('mysql:host=orbit-db.internal;dbname=app', 'app', '{_s(20)}');\n"
    (f,) = _failing(text, "src/db.php")
    assert f.rule_id == "php-pdo-password" and f.location.line == 2
    assert (f.context.get("host"), f.context.get("user")) == ("orbit-db.internal", "app")


def test_compact_gmail_app_password_as_a_code_constant() -> None:
    # 16 random letters: some have under 3.2 bits per character (the old entropy floor)
    text = 'namespace App {\n    private const string GmailAppPassword = "cktlurircckkmigx";\n}\n'
    assert [f.rule_id for f in _failing(text, "src/Settings.cs")] == ["google-app-password-compact"]
