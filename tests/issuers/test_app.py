"""AppIssuer (app-held secrets) and the ISSUERS registry."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from secretops.errors import IssuerError
from secretops.inventory.models import IssuerSpec, NoIssuerSpec, SecretSpec
from secretops.issuers import ISSUERS, Issuer, build_issuer
from secretops.issuers.app import AppIssuer
from secretops.issuers.interface import Credential
from secretops.values import SecretValue

SECRET = SecretSpec(name="web/django", kind="django-secret-key", issuer="app", generator={"kind": "django-secret-key"})


def test_app_issuer_returns_the_generated_value() -> None:
    issuer = build_issuer(NoIssuerSpec(kind="app"), {})
    assert isinstance(issuer, AppIssuer) and not issuer.generates_value and not issuer.verifiable
    new = issuer.apply(SECRET, None, SecretValue("django-insecure-fake-new"))
    assert new == Credential(SecretValue("django-insecure-fake-new"))
    assert issuer.check(SECRET, new)
    issuer.revoke(SECRET, Credential(SecretValue("old")), new)  # no-op
    assert "django-insecure" not in repr(issuer.plan(SECRET, new))
    with pytest.raises(IssuerError, match="needs a generated value"):
        issuer.apply(SECRET, None, None)


def test_every_issuer_spec_kind_has_an_implementation() -> None:
    examples = [
        {"kind": "postgres", "admin_dsn_env": "X"},
        {"kind": "mysql", "admin_dsn_env": "X"},
        {"kind": "redis", "admin_url_env": "X"},
        {"kind": "aws-iam"},
        {"kind": "manual", "instructions": "do it"},
        {"kind": "app"},
    ]
    adapter: TypeAdapter[IssuerSpec] = TypeAdapter(IssuerSpec)
    assert {e["kind"] for e in examples} == set(ISSUERS)
    for example in examples:
        spec = adapter.validate_python(example)
        issuer = build_issuer(spec, {})  # constructing touches nothing
        assert isinstance(issuer, Issuer) and issuer.kind == example["kind"]
        assert type(issuer) is ISSUERS[spec.kind]
        assert issuer.strategies
        issuer.close()
