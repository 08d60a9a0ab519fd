"""A context part that holds another finding's secret is masked (found by the long fuzz run).

Context is shown in full as a credential's public parts, but a rule's user slot can hold a
secret: `curl -u skey_...:` passes Omise's secret key (and Xendit's API key) as the user name.
The cases are the fuzz run's shrunk failures of 2026-12-02 (benchmarks/README.md, fuzz section).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.models import Fragment
from secretops.scan.rules import load_rules
from secretops.scan.rules.loader import load_rule_file
from secretops.values import FingerprintKey
from tests.scan.fuzz_core import Case, check_case

OMISE = "skey_1fbfnslnblmmgn02j68"
XENDIT = "xnd_production_dtlwGTceQVEMatbdwfAR6+i/LfeyUcGUFVcy7s6rJBCMPoOysTfC9/3QwY=="
SES_USER = "AKIAFPSMCWOZG45X6M7E"
SES_PASSWORD = "BLGOLD53JczMll1uVAW9MIwX0gAzue4ZOyIH3oy9YI89"
OPENAI = (
    "sk-proj-DJppkFFEZciCQP00U87juJUBEoAXHmGRZ2XsTS5MivpF9k9jz89iLWeajzT3BlbkFJV6xuRXLAsfmhVwlva_"
    "byCSEsWAGU0g47kCxhG4rS2A5e7sAuPFJiN7UZpj"
)
STABILITY = "sk-APQ4i4abaXLPt6bRpnfAW2Xjq7d7jmDdIzRxci0peVdYc4Zt"

SHRUNK = [
    f"curl https://api.omise.co/account -u {OMISE}:b2_key_id: 00590c1b12dee59e0a7df86cc",
    f"curl https://api.omise.co/account -u {OMISE}:0000",
    f'curl https://api.omise.co/account -u {OMISE}:stability_key = "{STABILITY}"',
    f'curl https://api.xendit.co/balance -u {XENDIT}:assemblyai.settings.api_key = "b339e6c2e43bd8d4ee8e1a7af4d11e58"',
    f"MAIL_HOST=email-smtp.eu-west-1.amazonaws.com MAIL_USERNAME={SES_USER} MAIL_PASSWORD={SES_PASSWORD};"
    f"password=OPENAI_API_KEY={OPENAI}",
    # The 1,000,000-case run at e3a9558: a `host` part running on into its own finding's password.
    (
        "[duo]\nikey = DI3JPYGT54K4H38FLEWL\nskey = qAh0Tjmr13ZmJzExRNnvxmHyUjTZns8WtmrwOTcb\n"
        "host = api-1a2b3c4d.duosecurity.comDB_PASSWORD=Zq81vPr9Lk3w"
    )
    * 2,
]


@pytest.fixture(scope="module")
def engine() -> Scanner:
    return Scanner(load_rules(), FingerprintKey(b"q" * 32))


@pytest.mark.parametrize("data", SHRUNK, ids=range(len(SHRUNK)))
def test_the_fuzz_cases_show_no_value_in_any_format(data: str) -> None:
    check_case(Case(name=b"\x1b]0;owned\x07", data=data.encode()))


def test_a_secret_in_a_user_slot_is_masked_in_the_other_findings_context(engine: Scanner) -> None:
    text = f"curl https://api.omise.co/account -u {OMISE}:b2_key_id: 00590c1b12dee59e0a7df86cc\n"
    findings = engine.scan(Fragment(text=text, path="run.sh"))
    by_rule = {f.rule_id: f for f in findings}
    assert {"omise-secret-key", "curl-basic-auth"} <= set(by_rule)
    user = by_rule["curl-basic-auth"].context["user"]
    assert OMISE not in user and user.startswith("skey") and "*" in user
    assert all(OMISE not in v for f in findings for v in f.context.values())


def test_a_public_user_name_is_still_shown_in_full(engine: Scanner) -> None:
    findings = engine.scan(Fragment(text="curl https://api.example.com/x -u deploy:Zq8vN3tLw5RkP2mX\n", path="run.sh"))
    assert [f.context.get("user") for f in findings if f.rule_id == "curl-basic-auth"] == ["deploy"]


def test_an_identifier_in_context_stays_shown(engine: Scanner) -> None:
    """An AWS SES user (an access key id) beside its password is context by design."""
    text = f"MAIL_USERNAME={SES_USER} MAIL_PASSWORD={SES_PASSWORD}\n"
    shown = [v for f in engine.scan(Fragment(text=text, path=".env")) for v in f.context.values()]
    assert SES_USER in shown


def test_a_context_part_holding_the_findings_own_secret_is_masked(tmp_path: Path) -> None:
    """A context group that runs on over the secret itself (a `host` part glued to the token)."""
    rules = tmp_path / "glued.toml"
    rules.write_text(
        """
[[rules]]
id = "acme-glued"
description = "Acme key after a host on one line (test rule)"
provider = "acme"
kind = "api-key"
severity = "high"
keywords = ["acme_"]
regex = '''host=(?P<host>\\S+?(?P<key>acme_[A-Za-z0-9]{20}))'''
secret_group = "key"
context = { host = "host" }
examples = ["host=db.example.comacme_Q7vT2mLp9XcR4nBz8WkY"]
""",
        encoding="utf-8",
    )
    scanner = Scanner(load_rule_file(rules), FingerprintKey(b"q" * 32))
    key = "acme_Q7vT2mLp9XcR4nBz8WkY"  # fake
    (finding,) = scanner.scan(Fragment(text=f"host=db.example.com{key}\n", path="app.conf"))
    assert key not in finding.context["host"] and "*" in finding.context["host"]
