"""New secret values, made with the `secrets` module only.

`generate(spec)` turns a `GeneratorSpec` into a `Generated`: the value, and non-secret
attributes that go with it (a JWT key id, a public key). Kinds:

- `password`: `length` characters (default 32) drawn uniformly from the enabled classes
  (lowercase, uppercase, digits, `symbols`) minus `exclude`, with at least `min_each` of every
  enabled class (the issuer's character rules).
- `token`: a URL-safe token of `length` characters (default 43, i.e. 256 bits).
- `django-secret-key`: 50 characters from Django's own `get_random_secret_key` alphabet.
- `jwt-hmac`: a random HMAC key, base64url without padding, of `bits` bits (default 256); the
  value is the key itself and its key id goes in the `kid` attribute (apps look the key up by
  `kid`, and a template can render `{kid}` next to `{value}`).
- `ed25519` / `rsa`: a private key in PKCS#8 PEM as the value; the public key (SubjectPublicKeyInfo
  PEM) in the `public_key` attribute and its SHA-256 in `public_key_sha256`.
- `issuer`: the issuer mints the value (AWS access keys, manual entry); `generate` refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from secretops.errors import RotationError
from secretops.inventory.models import GeneratorSpec
from secretops.values import SecretValue

__all__ = [
    "DJANGO_ALPHABET",
    "Generated",
    "GeneratorError",
    "generate",
    "key_id",
    "password",
    "password_alphabet",
]

# django.core.management.utils.get_random_secret_key uses exactly this alphabet and 50 characters.
DJANGO_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
DEFAULT_PASSWORD_LENGTH = 32
DEFAULT_TOKEN_LENGTH = 43


class GeneratorError(RotationError):
    """A generator spec cannot produce a value (for example every character is excluded)."""


@dataclass(frozen=True, slots=True)
class Generated:
    """A freshly generated value and the non-secret attributes that belong with it."""

    value: SecretValue
    attributes: Mapping[str, str] = field(default_factory=dict)


def password_alphabet(spec: GeneratorSpec) -> list[str]:
    """The enabled character classes of `spec`, each minus `exclude`, in a fixed order."""
    classes: list[str] = []
    if spec.lowercase:
        classes.append(string.ascii_lowercase)
    if spec.uppercase:
        classes.append(string.ascii_uppercase)
    if spec.digits:
        classes.append(string.digits)
    if spec.symbols:
        classes.append("".join(dict.fromkeys(spec.symbols)))
    out = []
    for chars in classes:
        kept = "".join(c for c in chars if c not in spec.exclude)
        if not kept:
            raise GeneratorError(
                f"generator: every character of class {chars[:3]!r}... is excluded",
                hint="shorten `exclude`, or disable that character class",
            )
        out.append(kept)
    return out


def password(spec: GeneratorSpec) -> str:
    """A password meeting `spec`: uniform over all allowed characters, `min_each` per class.

    Draws whole candidates uniformly and keeps the first that has `min_each` of every class
    (rejection sampling keeps the distribution uniform over valid passwords, unlike inserting
    forced characters). Impossible specs fail fast.
    """
    length = spec.length or DEFAULT_PASSWORD_LENGTH
    classes = password_alphabet(spec)
    if spec.min_each * len(classes) > length:
        raise GeneratorError(
            f"generator: length {length} cannot hold {spec.min_each} of each of {len(classes)} classes",
            hint="raise `length` or lower `min_each`",
        )
    alphabet = "".join(classes)
    for _ in range(10_000):
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(sum(c in chars for c in candidate) >= spec.min_each for chars in classes):
            return candidate
    raise GeneratorError(  # pragma: no cover - needs an absurd spec (e.g. 1 symbol, min_each 8 of 8 chars)
        "generator: could not meet the character rules", hint="raise `length` or lower `min_each`"
    )


def key_id(material: bytes) -> str:
    """A short, stable key id derived from public (or hashed) key material: 16 hex chars."""
    return hashlib.sha256(material).hexdigest()[:16]


def _token(length: int) -> str:
    # token_urlsafe(n) yields ~1.3 n characters; draw enough and cut to the exact length.
    out = ""
    while len(out) < length:
        out += secrets.token_urlsafe(length)
    return out[:length]


def generate(spec: GeneratorSpec) -> Generated:
    """A new value for `spec` (see the module docstring for each kind)."""
    if spec.kind == "password":
        return Generated(SecretValue(password(spec)))
    if spec.kind == "token":
        return Generated(SecretValue(_token(spec.length or DEFAULT_TOKEN_LENGTH)))
    if spec.kind == "django-secret-key":
        return Generated(SecretValue("".join(secrets.choice(DJANGO_ALPHABET) for _ in range(50))))
    if spec.kind == "jwt-hmac":
        bits = spec.bits or 256
        if bits < 256 or bits > 1024 or bits % 8:
            raise GeneratorError(f"jwt-hmac bits must be a multiple of 8 in 256..1024, not {bits}")
        raw = secrets.token_bytes(bits // 8)
        # The kid is a hash of a hash: it identifies the key without helping to guess it.
        kid = key_id(hashlib.sha256(b"secretops-kid:" + raw).digest())
        value = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return Generated(SecretValue(value), {"kid": kid})
    if spec.kind in ("ed25519", "rsa"):
        private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
        if spec.kind == "ed25519":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=spec.bits or 3072)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return Generated(
            SecretValue(pem),
            {"public_key": public.decode(), "public_key_sha256": hashlib.sha256(der).hexdigest(), "kid": key_id(der)},
        )
    raise GeneratorError(
        f"generator kind {spec.kind!r} does not make values here: the issuer mints them",
        hint="this secret's issuer must be one that generates values (aws-iam, manual)",
    )
