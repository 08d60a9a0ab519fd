"""Tests for `secretops.scan.decoders`: Kubernetes Secret `data:` values decoded into fragments."""

from __future__ import annotations

import base64
import json

import pytest

from secretops.scan.decoders import decode_base64_text, expand
from secretops.scan.models import Fragment


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


MANIFEST = f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  LOG_LEVEL: {b64("info-not-a-secret")}
---
apiVersion: v1
kind: Secret
metadata:
  name: app-secrets
type: Opaque
data:
  # the database
  DATABASE_URL: {b64("postgres://app:Zq81vPmW3rTx@db.internal:5432/app")}
  API_TOKEN: "{b64("hq2LrN7ZwXk4TbP9")}"
  binary: {base64.b64encode(bytes(range(0, 256, 7))).decode()}
stringData:
  PLAIN: not-decoded
"""


def test_decodes_secret_data_values_with_encoded_line_numbers() -> None:
    frag = Fragment(text=MANIFEST, path="k8s/secret.yaml")
    out = expand(frag)
    assert [f.text for f in out] == [
        "DATABASE_URL: postgres://app:Zq81vPmW3rTx@db.internal:5432/app\n",
        "API_TOKEN: hq2LrN7ZwXk4TbP9\n",
    ]
    lines = MANIFEST.splitlines()
    for f in out:
        key = f.text.split(":", 1)[0]
        reported = f.line_offset + 1  # a match on line 1 of the decoded text
        assert lines[reported - 1].strip().startswith(key)
        assert f.path == "k8s/secret.yaml"


def test_configmap_and_non_manifests_give_nothing() -> None:
    cm = MANIFEST.split("---")[0]
    assert expand(Fragment(text=cm, path="cm.yaml")) == []
    assert expand(Fragment(text="SECRET_KEY=abc\n", path=".env")) == []
    assert expand(Fragment(text="", path="empty")) == []


def test_line_offset_of_the_source_fragment_is_kept() -> None:
    frag = Fragment(text=MANIFEST, path="docs/guide.md", line_offset=100, commit="abc123")
    out = expand(frag)
    assert out[0].line_offset == 100 + MANIFEST.splitlines().index(
        next(line for line in MANIFEST.splitlines() if "DATABASE_URL" in line)
    )
    assert all(f.commit == "abc123" for f in out)


def test_block_scalar_value_points_at_its_first_line() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8\n-----END PRIVATE KEY-----\n"
    enc = b64(pem)
    text = "kind: Secret\ntype: kubernetes.io/tls\ndata:\n  tls.key: |\n    " + enc[:40] + "\n    " + enc[40:] + "\n"
    out = expand(Fragment(text=text, path="tls.yaml"))
    assert len(out) == 1
    assert out[0].text == "tls.key: " + pem + "\n"
    assert out[0].line_offset + 1 == 5


def test_json_secret_manifest() -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "data": {"password": b64("Vx8m2QpLk4Zr")}}
    text = json.dumps(doc, indent=2)
    out = expand(Fragment(text=text, path="secret.json"))
    assert [f.text for f in out] == ["password: Vx8m2QpLk4Zr\n"]
    assert text.splitlines()[out[0].line_offset].strip().startswith('"password"')


def test_templated_values_are_skipped() -> None:
    text = "kind: Secret\ndata:\n  password: {{ .Values.password | b64enc }}\n  token: ${TOKEN_B64}\n"
    assert expand(Fragment(text=text, path="chart/templates/secret.yaml")) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b64("hello world"), "hello world"),
        (b64("hello world").rstrip("="), "hello world"),
        (base64.urlsafe_b64encode(b"\xfb\xef>?~text").decode(), None),  # binary
        ("not base64!", None),
        ("abc", None),
        (b64("line1\nline2"), "line1\nline2"),
    ],
)
def test_decode_base64_text(value: str, expected: str | None) -> None:
    assert decode_base64_text(value) == expected
