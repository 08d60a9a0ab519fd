"""The value-shape and surroundings helpers behind the test-credential decision (scan/shape.py)."""

from __future__ import annotations

import pytest

from secretops.scan.shape import (
    api_example_document,
    declared_services,
    is_local_host,
    live_prefix,
    live_shape,
    vendor_test_marker,
)

COMPOSE = """services:
  appdb:
    image: postgres:16
  web:
    hostname: frontend
    environment:
      DATABASE_URL: postgres://app:app@appdb:5432/app
volumes:
  pgdata: {}
"""
GITLAB = """test:
  services:
    - name: postgres:15
      alias: maindb
    - redis:7
  script: pytest
"""
GITHUB = """jobs:
  test:
    runs-on: ubuntu-latest
    services:
      pgsvc:
        image: postgres:16
    steps:
      - run: pytest
"""


def test_declared_services() -> None:
    assert declared_services(COMPOSE) == {"appdb", "web", "frontend"}
    assert declared_services(GITLAB) == {"postgres", "maindb", "redis"}
    assert declared_services(GITHUB) == {"pgsvc"}
    assert declared_services("volumes:\n  pgdata: {}\n") == frozenset()


def test_local_hosts() -> None:
    assert all(is_local_host(h) for h in ("localhost", "127.0.0.1", "::1", "[::1]", "db", "api.localhost"))
    assert not is_local_host("appdb") and is_local_host("appdb", {"appdb"})
    assert not is_local_host("ep-cool-1.eu-central-1.aws.neon.tech")


@pytest.mark.parametrize(
    ("value", "marker"),
    [("sk_test_Kq8vLm2Zx9WnRt4Y", "test_"), ("access-sandbox-1234", "sandbox-"), ("sk_live_Kq8vTest9", None)],
)
def test_vendor_test_markers(value: str, marker: str | None) -> None:
    assert vendor_test_marker(value) == marker


def test_live_shapes() -> None:
    assert live_prefix("ghp_" + "a1B2" * 9) == "ghp_"
    assert live_prefix("ghp_short") is None  # a prefix needs a body
    assert live_shape("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl", generic=True) == "a private key block"
    assert live_shape("acme_Kq8vLm2Zx9Wn", generic=False, keywords=("acme_",)) is not None
    assert live_shape("Kq8vLm2Zx9WnRt4Yb7Pc", generic=False, strongly_random=True) is not None
    assert live_shape("Kq8vLm2Zx9WnRt4Yb7Pc", generic=True, strongly_random=True) is None  # no provider format
    remote = {"host": "db.prod.internal"}
    assert live_shape("Kq8vLm2Zx9", generic=True, context=remote) == "a password to a non-local host"
    assert live_shape("app", generic=True, context=remote, trivial=True) is None
    assert live_shape("Kq8vLm2Zx9", generic=True, context={"host": "localhost"}) is None


def test_api_example_document() -> None:
    text = '{"examples": {"X": [{"input": {"Password": "p"}, "title": "To do X"}]}}'
    assert api_example_document("botocore/data/iam/2010-05-08/examples-1.json", text)
    assert not api_example_document("deploy/users.json", text)
    assert not api_example_document("examples-1.json", '{"Password": "p"}')
