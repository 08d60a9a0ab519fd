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
from collections.abc import Mapping
from pathlib import Path
from typing import Final

__all__ = ["MAX_SHOWN_PERCENT", "FingerprintKey", "FingerprintKeyError", "SecretValue", "fingerprint", "mask"]

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


#: The most of a value `mask(..., shown=N)` may show: past half, a preview is the value.
MAX_SHOWN_PERCENT: Final = 50


def mask(value: str | SecretValue, shown: int | None = None) -> str:
    """A masked preview: a short non-secret prefix (at most a quarter of the value), then stars.

    a 16-character value `abcd` + 12 more becomes `abcd********`; a 6-character password becomes `*` only.
    The length of the value is not disclosed. `shown` (`scan --redact N`) sets the prefix to N
    percent of the value instead (rounded down; 0: stars only; at most `MAX_SHOWN_PERCENT`).
    """
    raw = value.reveal() if isinstance(value, SecretValue) else value
    share = None if shown is None else max(0, min(shown, MAX_SHOWN_PERCENT))
    keep = min(4, len(raw) // 4) if share is None else len(raw) * share // 100
    return raw[:keep] + _MASK


class FingerprintKeyError(Exception):
    """The key file cannot be read, parsed or created; `message` and `hint` say which and what to do.

    Not a `SecretOpsError` (this module sits below `errors.py` users); `Settings.fingerprint_key`
    turns it into a `ConfigError`, or into an ephemeral key for commands that can live with one.
    """

    def __init__(self, message: str, hint: str, *, can_fall_back: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.can_fall_back = can_fall_back


_KEY_HINT: Final = (
    "set SECRETOPS_FINGERPRINT_KEY (64 hex characters, shared by the team and CI), or point "
    "SECRETOPS_FINGERPRINT_KEY_FILE or XDG_CONFIG_HOME at a writable folder"
)


class FingerprintKey:
    """The per-installation HMAC key behind every fingerprint.

    Taken from `SECRETOPS_FINGERPRINT_KEY` (hex, at least 32 bytes) when set, so CI and a team
    share fingerprints and baselines; otherwise read from, or created in, a key file of mode 0600.
    An `ephemeral` key (`FingerprintKey.ephemeral_key`) lives in this process only: its
    fingerprints match nothing written by another run.
    """

    __slots__ = ("_key", "ephemeral")

    ENV: Final = "SECRETOPS_FINGERPRINT_KEY"

    def __init__(self, key: bytes, *, ephemeral: bool = False) -> None:
        if len(key) < 32:
            raise ValueError("fingerprint key must be at least 32 bytes")
        self._key = key
        self.ephemeral = ephemeral

    def __repr__(self) -> str:
        return "FingerprintKey(***, ephemeral)" if self.ephemeral else "FingerprintKey(***)"

    @classmethod
    def ephemeral_key(cls) -> FingerprintKey:
        """A random key for this process only (when no key file can be created)."""
        return cls(secrets.token_bytes(32), ephemeral=True)

    @classmethod
    def load(cls, path: Path | None, environ: Mapping[str, str] | None = None) -> FingerprintKey:
        """The key from the environment, else from `path`, creating it (0600, atomically).

        Raises `FingerprintKeyError` when the file cannot be read or is not a key, and (with
        `can_fall_back` set) when there is no file and none can be created (`path` None: no home
        folder; or a read-only or missing home).
        """
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
        if path is None:
            raise FingerprintKeyError(
                "no place for the fingerprint key file (no home folder, XDG_CONFIG_HOME unset)",
                _KEY_HINT,
                can_fall_back=True,
            )
        try:
            text = path.read_text(encoding="ascii") if path.is_file() else None
        except (OSError, UnicodeDecodeError) as exc:
            raise FingerprintKeyError(
                f"cannot read the fingerprint key file {path}: {getattr(exc, 'strerror', None) or 'not a hex key'}",
                "check its permissions; " + _KEY_HINT,
            ) from exc
        if text is not None:
            try:
                return cls(bytes.fromhex(text.strip()))
            except ValueError:  # the message would quote the file's text: say less
                raise FingerprintKeyError(
                    f"the fingerprint key file {path} does not hold a hex key of at least 32 bytes",
                    "restore it, or remove it to create a new key (fingerprints and baselines made "
                    "with the old one then stop matching)",
                ) from None
        from secretops.fileio import write_private

        key = secrets.token_bytes(32)
        try:
            write_private(path, key.hex() + "\n")
        except OSError as exc:
            raise FingerprintKeyError(
                f"cannot create the fingerprint key file {path}: {exc.strerror or type(exc).__name__}",
                _KEY_HINT,
                can_fall_back=True,
            ) from exc
        return cls(key)

    def digest(self, value: str) -> str:
        """Hex HMAC-SHA256 of `value`, truncated to 32 hex characters (128 bits)."""
        return hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def fingerprint(key: FingerprintKey, value: str | SecretValue) -> str:
    """The fingerprint of a value: `hmac-sha256:<32 hex>`. Safe to print, log and store."""
    raw = value.reveal() if isinstance(value, SecretValue) else value
    return "hmac-sha256:" + key.digest(raw)
