"""Name analysis: whether an assignment's name names a secret (`DB_PASSWORD`) or metadata (`TOKEN_TTL`)."""

from __future__ import annotations

import functools
import re

from secretops.scan.filters.randomness import strongly_random
from secretops.scan.vocabulary import (
    COMPOUND_ENDS,
    KEY_QUALIFIERS,
    PAGING_WORDS,
    PASSWORD_WORDS,
    TAIL_WORDS,
    TOKEN_META,
)

_META_NAME = re.compile(
    r"(?i)(?:[_.-]|^)(?:id|ids|sid|arn|name|names|file|filename|path|dir|url|uri|link|host|port|user|username|"
    r"type|length|len|min|max|minimum|maximum|expire[a-z_]*|expires|expiry|expiration|ttl|timeout|lifetime|age|"
    r"days|minutes|seconds|hours|field|fields|hash|hashed|header|env|var|count|policy|prompt|label|placeholder|"
    r"hint|help|regex|pattern|required|enabled|endpoint|algorithm|algo|format|encoding|prefix|suffix|mode|"
    r"strength|reset|version|rounds|validators?|type_?hint|input|form|location|store|storage|provider|"
    r"source|backend|class|model|schema|limit|size|param|params|key_id|keyid|usage|used|scope|scopes)$"
)
_BOOL_NAME = re.compile(r"(?i)^(?:is|has|show|use|enable|require|allow|validate|check|should|can|no|min|max)[_-]")
# `hashed_secret` (detect-secrets baselines), `sha256_password`: a digest of a secret, not one.
_DIGEST_NAME = re.compile(r"(?i)^(?:hashed|hash|sha1|sha256|sha512|md5|digest)[_.-]")

# Name analysis. A generic assignment's name must END in a secret word (`DB_PASSWORD`,
# `client_secret`, `apiKey`, `SECRET_KEY_BASE`, `GITHUB_TOKEN_PROD`); a name that merely contains
# one (`secretops`, `tokenizer`, `PasswordPolicy`, `secretArn`, `token_number`) names something else.
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    return [w.lower() for w in _NAME_WORD.findall(name)]


def secret_term(words: list[str]) -> str | None:
    """The secret term a name ends in (`password`, `secret`, `token`, `key`, `dsn`), or None.

    Trailing environment/encoding words are skipped (`DB_PASSWORD_PROD`, `PRIVATE_KEY_B64`).
    """
    i = len(words)
    while i > 1 and (words[i - 1] in TAIL_WORDS or words[i - 1].isdigit()):
        i -= 1
    if i == 0:
        return None
    last = words[i - 1]
    prev = words[i - 2] if i >= 2 else ""
    if last in PASSWORD_WORDS:
        return "password"
    if last == "key":
        return "key" if prev in KEY_QUALIFIERS else None
    if last in {"secret", "dsn"}:
        return last
    if last == "token":
        return None if prev in TOKEN_META or PAGING_WORDS.intersection(words[: i - 1]) else "token"
    for end in COMPOUND_ENDS:
        if last.endswith(end) and len(last) > len(end):
            stem = last[: -len(end)]
            if end == "token" and (any(stem.endswith(m) for m in TOKEN_META) or any(m in stem for m in PAGING_WORDS)):
                return None
            if end in {"password", "passwd", "passphrase", "pwd"}:
                return "password"
            return "token" if end == "token" else "secret" if end == "secret" else "dsn" if end == "dsn" else "key"
    return None


def last_segment(name: str) -> str:
    """`Token.String` -> `String`, `self.password` -> `password`: a dotted name is judged by its last part."""
    bare = name.strip("\"'`*")
    last = bare.rsplit(".", 1)[-1]
    return last or bare


def password_name(name: str | None) -> bool:
    """True when an assignment's name ends in a password word (`DB_PASSWORD`, `PGPASSWORD`, `smtp_pass`)."""
    return bool(name) and _password_name_cached(name)


@functools.lru_cache(maxsize=8192)
def _password_name_cached(name: str) -> bool:
    bare = last_segment(name)
    return "password" in (
        secret_term(name_words(bare)),
        secret_term(re.split(r"[^a-z0-9]+", bare.lower().strip("_.-"))),
    )


def _inner_term(words: list[str]) -> bool:
    """True when a secret word sits one or two words before the end (`PASSWORD_DB`, `TOKEN_GITHUB`).

    Such names are unusual but real; they only count with a strongly random value (see `name_not_secret`).
    """
    for j in range(len(words) - 2, max(-1, len(words) - 4), -1):
        trailing = words[j + 1 :]
        if any(_META_NAME.search(w) or w in TOKEN_META for w in trailing):
            return False
        if secret_term(words[: j + 1]) is not None:
            return True
    return False


def name_not_secret(name: str | None, value: str | None = None) -> str | None:
    """Why an assignment's `name` describes metadata rather than a secret (`TOKEN_EXPIRE_MINUTES`), or None.

    The name must end in a secret word; pagination and parser tokens (`NextToken`, `input_token`,
    `eos_token`) and names that only contain one (`secretops`, `tokenizer`, `secretArn`) do not.
    A name with the secret word just before its end (`PASSWORD_DB`) passes when `value` is given
    and strongly random.
    """
    if name is None:
        return None
    why, inner = _name_problem(name)
    if why and inner and value is not None and strongly_random(value):
        return None
    return why


@functools.lru_cache(maxsize=8192)
def _name_problem(name: str) -> tuple[str | None, bool]:
    """`(why the name is no secret's name or None, whether a strong value may still rescue it)`."""
    bare = last_segment(name)
    if _META_NAME.search(bare) or _BOOL_NAME.match(bare):
        return f"the name {bare!r} describes metadata, not a secret", False
    if _DIGEST_NAME.match(bare):
        return f"the name {bare!r} names a digest of a secret, not the secret", False
    words = name_words(bare)
    if "public" in words:
        return f"the name {bare!r} names a public value", False
    if words and secret_term(words) is None and secret_term(re.split(r"[^a-z0-9]+", bare.lower().strip("_.-"))) is None:
        return f"the name {bare!r} does not end in a secret word", _inner_term(words)
    return None, False
