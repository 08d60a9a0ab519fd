"""False alarms users hit, one regression test each, through the full built-in rule set.

Each case was a `leak` before; none may be one now. Where a rule could go too far, a companion
case checks that a real-looking value in the same place still is a leak.
Every value here is fake.
"""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest

from secretops.scan.decoders import expand
from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules.loader import load_rules
from secretops.values import FingerprintKey

SCANNER = Scanner(load_rules(), FingerprintKey(b"f" * 32))
L, P = Classification.LEAK, Classification.PLACEHOLDER


def _scan(text: str, path: str) -> list[Finding]:
    """Findings of `text` and of what the decoders find in it (as the runner scans them)."""
    fragment = Fragment(text, path)
    found = SCANNER.scan(fragment)
    for derived in expand(fragment):
        found += SCANNER.scan(derived)
    return found


def _leaks(text: str, path: str) -> list[Finding]:
    return [f for f in _scan(text, path) if f.classification in (L, Classification.WEAK_DEFAULT)]


# -- a name whose last part is no secret word; unquoted identifiers -------------------------------


def test_secret_ref_naming_a_type_is_no_secret() -> None:
    text = "spec = {\n    'secret_ref': 'V1LocalObjectReference',\n    'image': 'nginx',\n}\n"
    assert _scan(text, "kubernetes/client/models/v1_pod_spec.py") == []


def test_secret_ref_with_a_generated_value_is_still_reported() -> None:
    # the rescue for `SECRET_X` names still works for strongly random values
    text = "SECRET_REF=Kq8vLm2Zx9WnRt4Yb7Pc3Hd6\n"
    assert [f.classification for f in _scan(text, "deploy/app.env")] == [L]


@pytest.mark.parametrize("path", ["pyasn1_modules/rfc4120.py", "specs/kerberos.asn", "lib/krb5.rb"])
def test_unquoted_identifier_is_no_password(path: str) -> None:
    assert _scan("        newPasswd = asn1_NOVALUE\n", path) == []


def test_unquoted_word_password_in_a_config_file_stays_a_leak() -> None:
    # a person's password in a real config file is a real (weak) one: not an identifier
    assert [f.classification for f in _scan("DB_PASSWORD=Summer_Breeze_Kq8\n", "deploy/app.env")] == [L]


# -- pagination tokens in docstrings ---------------------------------------------------------------

PAGINATION_DOC = '''def list_items(token=None):
    """List items, one page at a time.

    Pass the pagination token from the previous page: list_items(token="eyJvZmZzZXQiOiAxMDB9")
    """


def next_batch(client):
    """Fetch the next batch.

    token: eyJwYWdlIjogMiwgImxpbWl0IjogNTB9
    """
'''


def test_pagination_tokens_in_docstrings_are_no_secrets() -> None:
    assert base64.b64decode("eyJvZmZzZXQiOiAxMDB9") == b'{"offset": 100}'
    assert _scan(PAGINATION_DOC, "sdk/paging.py") == []


def test_a_token_in_a_docstring_is_still_a_leak_when_it_is_a_credential() -> None:
    text = 'def call():\n    """Call the API.\n\n    token: Kq8vLm2Zx9WnRt4Yb7Pc3Hd6Wq1Ez5\n    """\n'
    assert [f.classification for f in _scan(text, "sdk/client.py")] == [L]


# -- documented example passwords in API example JSON (real botocore snippets) ------------------

# From botocore/data/iam/2010-05-08/examples-1.json (ChangePassword, CreateLoginProfile,
# UpdateLoginProfile), rds/2014-10-31/examples-1.json and storagegateway/2013-06-30/examples-1.json.
BOTOCORE_EXAMPLES = """{
  "version": "1.0",
  "examples": {
    "ChangePassword": [
      {
        "input": {
          "NewPassword": "]35d/{pB9Fo9wJ",
          "OldPassword": "3s0K_;xh4~8XXI"
        },
        "comments": {
          "input": {
          },
          "output": {
          }
        },
        "description": "The following command changes the password for the current IAM user.",
        "id": "3a80c66f-bffb-46df-947c-1e8fa583b470",
        "title": "To change the password for your IAM user"
      }
    ],
    "CreateLoginProfile": [
      {
        "input": {
          "Password": "h]6EszR}vJ*m",
          "PasswordResetRequired": true,
          "UserName": "Bob"
        },
        "description": "The following command changes IAM user Bob's password and sets the flag.",
        "id": "c63795bc-3444-40b3-89df-83c474ef88be",
        "title": "To create an instance profile"
      }
    ],
    "UpdateLoginProfile": [
      {
        "input": {
          "Password": "SomeKindOfPassword123!@#",
          "UserName": "Bob"
        },
        "title": "To change the password for an IAM user"
      }
    ],
    "CreateDBCluster": [
      {
        "input": {
          "MasterUserPassword": "mypassword",
          "MasterUsername": "myuser"
        },
        "title": "To create a DB cluster"
      }
    ],
    "SetLocalConsolePassword": [
      {
        "input": {
          "GatewayARN": "arn:aws:storagegateway:us-east-1:999999999999:gateway/sgw-12A3456B",
          "LocalConsolePassword": "PassWordMustBeAtLeast6Chars."
        },
        "title": "To set a password for your VM"
      }
    ]
  }
}
"""


def test_botocore_example_passwords_are_placeholders() -> None:
    found = _scan(BOTOCORE_EXAMPLES, "botocore/data/iam/2010-05-08/examples-1.json")
    assert found, "the example passwords are still seen"
    assert {f.classification for f in found} == {P}


def test_a_live_shaped_key_in_an_api_example_file_is_still_a_leak() -> None:
    text = BOTOCORE_EXAMPLES.replace('"mypassword"', '"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"')
    leaks = _leaks(text, "botocore/data/rds/2014-10-31/examples-1.json")
    assert [f.rule_id for f in leaks] == ["github-personal-access-token"]


def test_the_same_passwords_outside_an_api_example_file_are_leaks() -> None:
    assert _leaks('{"NewPassword": "]35d/{pB9Fo9wJ"}\n', "deploy/users.json")


@pytest.mark.skipif(importlib.util.find_spec("botocore") is None, reason="botocore is not installed")
def test_no_leak_in_any_installed_botocore_example_file() -> None:
    spec = importlib.util.find_spec("botocore")
    assert spec is not None and spec.origin is not None
    files = sorted((Path(spec.origin).parent / "data").glob("*/*/examples-1.json"))
    assert len(files) > 50
    leaks = [(p.parent.parent.name, f.location.line) for p in files for f in _leaks(p.read_text(), str(p))]
    assert leaks == []


# -- Kubernetes Secret data that decodes to a placeholder -----------------------------------------

K8S_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: app
type: Opaque
data:
  password: Y2hhbmdlbWU=
  api-key: eW91ci1hcGkta2V5LWhlcmU=
  token: PHRva2VuPg==
"""


def test_secret_data_decoding_to_placeholders_is_no_alarm() -> None:
    assert base64.b64decode("Y2hhbmdlbWU=") == b"changeme"
    found = _scan(K8S_SECRET, "deploy/k8s/secret.yaml")
    assert len(found) == 3
    assert {f.classification for f in found} == {P}
    assert all("Kubernetes Secret data" in f.reasons[0] for f in found)
    assert expand(Fragment(K8S_SECRET, "deploy/k8s/secret.yaml")) == []


def test_secret_data_with_a_real_password_is_still_a_leak() -> None:
    encoded = base64.b64encode(b"Kq8vLm2Zx9WnRt4Y").decode()
    text = K8S_SECRET.replace("Y2hhbmdlbWU=", encoded)
    leaks = _leaks(text, "deploy/k8s/secret.yaml")
    assert leaks and {f.location.line for f in leaks} == {7}


# -- instructions instead of values ----------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "SECRET_KEY=replace-with-50-random-characters",
        "SECRET_KEY=replace_with_a_long_random_string",
        "API_TOKEN=set-me",
        "SESSION_SECRET=set-me-in-production",
        "JWT_SECRET=generate-a-long-random-string",
        "JWT_SECRET=generate-with-openssl-rand-hex-32",
        "DB_PASSWORD=fill-me-in",
        "WEBHOOK_SECRET=paste-the-real-value-later",
    ],
)
def test_instructions_are_placeholders(line: str) -> None:
    found = _scan(line + "\n", "deploy/.env")
    assert found and {f.classification for f in found} == {P}, [(f.rule_id, f.reasons) for f in found]


# `SECRET_KEY=replace-me` is a placeholder (an instruction in any slot): tests/scan/test_off_format.py
@pytest.mark.parametrize("line", ["SECRET_KEY=change-me", "SECRET_KEY=changeme"])
def test_template_defaults_in_real_config_stay_weak_defaults(line: str) -> None:
    assert [f.classification for f in _scan(line + "\n", "deploy/.env")] == [Classification.WEAK_DEFAULT]


def test_a_real_value_starting_with_a_verb_is_not_an_instruction() -> None:
    assert [f.classification for f in _scan("SECRET_KEY=set-Kq8vLm2Zx9WnRt4Yb7Pc3Hd6Wq1\n", "deploy/.env")] == [L]


def test_azurites_published_emulator_key_is_a_documented_example_not_a_leak() -> None:
    azurite = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    text = (
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={azurite};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;\n"
    )
    assert _leaks(text, "docker-compose.test.yml") == []
    # one character off the published key is a real-looking key again
    other = azurite[:10] + ("A" if azurite[10] != "A" else "B") + azurite[11:]
    assert _leaks(text.replace(azurite, other), "docker-compose.test.yml") != []


@pytest.mark.parametrize(
    "line",
    [
        'url = f"postgresql://{values[0]}:{values[1]}@db-main.internal:5432/app"\n',
        'dsn = "postgresql://{user}:{cfg[password]}@db.internal/app".format(user=u, cfg=c)\n',
        'DATABASE_URL = f"postgresql://app:{password!s}@db.internal:5432/app"\n',
    ],
)
def test_format_fields_in_a_uri_are_placeholders(line: str) -> None:
    assert _leaks(line, "tools/build.py") == []
