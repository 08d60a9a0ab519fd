"""Generators: character rules, lengths, alphabets, key material."""

from __future__ import annotations

import base64
import string

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from secretops.inventory.models import GeneratorSpec
from secretops.rotate.generators import DJANGO_ALPHABET, GeneratorError, generate, password


def test_password_default_length_and_classes() -> None:
    for _ in range(50):
        value = generate(GeneratorSpec()).value.reveal()
        assert len(value) == 32
        assert any(c in string.ascii_lowercase for c in value)
        assert any(c in string.ascii_uppercase for c in value)
        assert any(c in string.digits for c in value)
        assert set(value) <= set(string.ascii_letters + string.digits)


def test_password_rules_min_each_symbols_exclude() -> None:
    spec = GeneratorSpec(length=12, symbols="-_.", exclude="0OIl1-", min_each=2)
    for _ in range(200):
        value = password(spec)
        assert len(value) == 12
        assert not set(value) & set("0OIl1-")
        assert sum(c in "_." for c in value) >= 2
        assert sum(c in string.digits for c in value) >= 2
        assert sum(c.isupper() for c in value) >= 2


def test_password_is_roughly_uniform() -> None:
    spec = GeneratorSpec(length=8, uppercase=False, digits=False, min_each=0)
    counts = dict.fromkeys(string.ascii_lowercase, 0)
    for _ in range(1300):
        for c in password(spec):
            counts[c] += 1
    # 10400 draws over 26 letters: expected 400 each; allow generous slack.
    assert min(counts.values()) > 300 and max(counts.values()) < 500


def test_password_impossible_specs() -> None:
    with pytest.raises(GeneratorError, match="excluded"):
        password(GeneratorSpec(digits=False, uppercase=False, exclude=string.ascii_lowercase))
    with pytest.raises(GeneratorError, match="cannot hold"):
        password(GeneratorSpec(length=8, symbols="!", min_each=3))


def test_token_is_url_safe_with_exact_length() -> None:
    value = generate(GeneratorSpec(kind="token", length=64)).value.reveal()
    assert len(value) == 64
    assert set(value) <= set(string.ascii_letters + string.digits + "-_")
    assert len(generate(GeneratorSpec(kind="token")).value) == 43


def test_django_secret_key() -> None:
    values = {generate(GeneratorSpec(kind="django-secret-key")).value.reveal() for _ in range(5)}
    assert len(values) == 5
    for value in values:
        assert len(value) == 50 and set(value) <= set(DJANGO_ALPHABET)


def test_jwt_hmac_key_and_kid() -> None:
    a = generate(GeneratorSpec(kind="jwt-hmac", bits=512))
    b = generate(GeneratorSpec(kind="jwt-hmac"))
    raw = base64.urlsafe_b64decode(a.value.reveal() + "==")
    assert len(raw) == 64
    assert len(base64.urlsafe_b64decode(b.value.reveal() + "=")) == 32
    assert len(a.attributes["kid"]) == 16 and a.attributes["kid"] != b.attributes["kid"]
    assert a.value.reveal() not in a.attributes["kid"]
    with pytest.raises(GeneratorError):
        generate(GeneratorSpec(kind="jwt-hmac", bits=128))


def test_ed25519_pair() -> None:
    gen = generate(GeneratorSpec(kind="ed25519"))
    private = serialization.load_pem_private_key(gen.value.reveal().encode(), password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    public = serialization.load_pem_public_key(gen.attributes["public_key"].encode())
    signature = private.sign(b"hello")
    assert isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(signature, b"hello")
    assert "PRIVATE" not in gen.attributes["public_key"]


def test_rsa_pair() -> None:
    gen = generate(GeneratorSpec(kind="rsa", bits=2048))
    private = serialization.load_pem_private_key(gen.value.reveal().encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    assert gen.attributes["public_key"].startswith("-----BEGIN PUBLIC KEY-----")


def test_issuer_kind_is_refused() -> None:
    with pytest.raises(GeneratorError, match="issuer mints"):
        generate(GeneratorSpec(kind="issuer"))
