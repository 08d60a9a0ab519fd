"""Checksum validators a rule names with `checksum = "<name>"`.

A token format with a built-in checksum lets the scanner tell a real token from a random string
of the right shape: a candidate whose checksum fails is not reported as a leak.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import Final

__all__ = ["CHECKSUMS", "base62_crc32"]

_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_INDEX: Final = {c: i for i, c in enumerate(_BASE62)}


def _base62_decode(text: str) -> int | None:
    value = 0
    for ch in text:
        digit = _BASE62_INDEX.get(ch)
        if digit is None:
            return None
        value = value * 62 + digit
    return value


def base62_crc32(token: str) -> bool:
    """GitHub (`ghp_`, `gho_`, ...) and npm (`npm_`) tokens: prefix, 30 random base62, 6-char CRC32.

    The last six characters are the base62 CRC32 of the random part
    (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/).
    """
    _, sep, body = token.partition("_")
    if not sep or len(body) < 7:
        return False
    random_part, check = body[:-6], body[-6:]
    expected = _base62_decode(check)
    return expected is not None and expected == zlib.crc32(random_part.encode("ascii", "replace"))


CHECKSUMS: Final[Mapping[str, Callable[[str], bool]]] = {
    "github": base62_crc32,
    "npm": base62_crc32,
    "crc32": base62_crc32,
}
