"""Entropy and the shape of generated values: what tells a random token from words and identifiers."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Final


def shannon_entropy(value: str) -> float:
    """Shannon entropy of `value` in bits per character (0 for an empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


WORD_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_LETTERS_AND_SEPARATORS = re.compile(r"^[A-Za-z]+(?:[ _./:-]+[A-Za-z]+)*$")
_VOWELS: Final = frozenset("aeiouyAEIOUY")
CASE_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def wordlike(value: str) -> bool:
    """True for identifiers and phrases made of words (`NextPageToken`, `aws_access_key_id`).

    Random letters fail: their camel-case parts are short and their vowels are few.
    """
    if not _LETTERS_AND_SEPARATORS.match(value):
        return False
    parts = WORD_PART.findall(value)
    letters = sum(len(p) for p in parts)
    if not parts or letters / len(parts) < 3:
        return False
    if sum(ch in _VOWELS for ch in value) / letters < 0.2:
        return False
    return all(len(p) < 5 or any(ch in _VOWELS for ch in p) for p in parts)


def looks_random(value: str) -> bool:
    """True for a generated-looking value: letters and digits mixed, 10+ characters, entropy 3+."""
    return (
        len(value) >= 10
        and any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
        and shannon_entropy(value) >= 3.0
        and not wordlike(value)
        and not word_identifier(value)
    )


_IDENT_CHARS = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def word_identifier(value: str) -> bool:
    """True for a code identifier made of words and a few digits (`V1LocalObjectReference`, `asn1_NOVALUE`).

    Generated values fail: their case pieces are one or two characters long, or have no vowels,
    or there are many digits.
    """
    if not _IDENT_CHARS.match(value):
        return False
    pieces = CASE_PIECE.findall(value)
    digits = sum(len(p) for p in pieces if p.isdigit())
    letters = [p for p in pieces if not p.isdigit()]
    total = sum(len(p) for p in letters)
    if not total or digits > 3:
        return False
    words = [p for p in letters if len(p) >= 3 and sum(ch in _VOWELS for ch in p) / len(p) >= 0.2]
    return len(words) >= 2 and sum(len(p) for p in words) >= 0.85 * total


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def strongly_random(value: str) -> bool:
    """A long generated-looking value (not a UUID): 20+ characters, letters and digits, entropy 3.5+."""
    return len(value) >= 20 and not _UUID.match(value) and looks_random(value) and shannon_entropy(value) >= 3.5
