"""Secret values that cannot leak by accident, and the fingerprints that stand for them.

`SecretValue` wraps a value so that `repr`, `str`, f-strings, logging and tracebacks show
`***`. Code that really needs the value calls `reveal()`, and only in memory, only while
verifying or rotating. A fingerprint is HMAC-SHA256 under a per-installation key (design.md),
so a finding can be matched to an inventory secret without storing or printing the value.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Final

__all__ = ["FingerprintKey", "SecretValue", "fingerprint", "mask"]

_MASK: Final = "********"


class SecretValue:
    """A secret held in memory. Prints as `***`; compares in constant time."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("SecretValue wraps a str")
        self._value = value

    def reveal(self) -> str:
        """The raw value. Call only where it must go to an issuer, a target or the store."""
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._value.encode()).digest())

    def __len__(self) -> int:
        return len(self._value)


def mask(value: str | SecretValue) -> str:
    """A masked preview: a short non-secret prefix (at most a quarter of the value), then stars.

    a 16-character value `abcd` + 12 more becomes `abcd********`; a 6-character password becomes `*` only.
    The length of the value is not disclosed.
    """
    raw = value.reveal() if isinstance(value, SecretValue) else value
    keep = min(4, len(raw) // 4)
    return raw[:keep] + _MASK


class FingerprintKey:
    """The per-installation HMAC key behind every fingerprint.

    Taken from `SECRETOPS_FINGERPRINT_KEY` (hex, at least 32 bytes) when set, so CI and a team
    share fingerprints and baselines; otherwise read from, or created in, a key file of mode 0600.
    """

    __slots__ = ("_key",)

    ENV: Final = "SECRETOPS_FINGERPRINT_KEY"

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("fingerprint key must be at least 32 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "FingerprintKey(***)"

    @classmethod
    def load(cls, path: Path, environ: dict[str, str] | None = None) -> FingerprintKey:
        """The key from the environment, else from `path`, creating it (0600, atomically)."""
        env = os.environ if environ is None else environ
        from_env = env.get(cls.ENV)
        if from_env:
            try:
                return cls(bytes.fromhex(from_env.strip()))
            except ValueError as exc:
                from secretops.errors import ConfigError

                raise ConfigError(
                    f"{cls.ENV} is not a hex key of at least 32 bytes",
                    hint="generate one with: python -c 'import secrets; print(secrets.token_hex(32))'",
                ) from exc
        if path.exists():
            return cls(bytes.fromhex(path.read_text().strip()))
        from secretops.fileio import write_private

        key = secrets.token_bytes(32)
        write_private(path, key.hex() + "\n")
        return cls(key)

    def digest(self, value: str) -> str:
        """Hex HMAC-SHA256 of `value`, truncated to 32 hex characters (128 bits)."""
        return hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def fingerprint(key: FingerprintKey, value: str | SecretValue) -> str:
    """The fingerprint of a value: `hmac-sha256:<32 hex>`. Safe to print, log and store."""
    raw = value.reveal() if isinstance(value, SecretValue) else value
    return "hmac-sha256:" + key.digest(raw)
