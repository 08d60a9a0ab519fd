"""Step 2 of `classify`: placeholders and templates (`<DB_PASSWORD>`, `${VAR}`, `your-api-key-here`, `xxxx`)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Final

from secretops.scan.filters.randomness import CASE_PIECE, WORD_PART, shannon_entropy
from secretops.scan.filters.testcreds import TESTISH
from secretops.scan.filters.weak_defaults import TEMPLATE_DEFAULT
from secretops.scan.vocabulary import (
    JWT_CLAIMS,
    KNOWN_EXAMPLES,
    PLACEHOLDER_WORDS,
    TEXTBOOK_DOMAINS,
    TEXTBOOK_HOSTS,
    TEXTBOOK_USERS,
    WEAK_WORDS,
)

_PLACEHOLDER_PATTERNS: Final = (
    (re.compile(r"(?:<|&lt;|&#x3[cC];|&#60;)[^<>&\n]{1,80}(?:>|&gt;|&#x3[eE];|&#62;)"), "angle-bracket template"),
    (re.compile(r"\$\{\{[^}]*\}\}|\{\{[^}]*\}\}|\{%.*%\}"), "template expression"),
    (re.compile(r"\$\{[^}]*\}|^\$\{|^\$[A-Za-z_][A-Za-z0-9_]*$|\$\(|^%[A-Z_]+%$"), "variable reference"),
    (
        re.compile(
            r"%\([A-Za-z_]+\)[sd]|^%[sd]$|(?<![%\w])%[sd](?!\w)|#\{[^}]*\}|^\{\d*\}$"
            # str.format / f-string fields: {name}, {cfg.pw}, {values[1]}, {pw!r}, {pw:>8}, {{ x | f }}-less
            r"|\{[A-Za-z_][\w.]*(?:\[[^\]{}\n]{1,40}\])*(?:![rsa])?(?::[^{}\n]{0,20})?(?:\|[\w]+)*\}"
        ),
        "format placeholder",
    ),
    (re.compile(r"\[[A-Z0-9][A-Z0-9_ -]{2,}\]|^\{[A-Z][A-Z0-9_ -]{2,}\}$"), "bracketed placeholder"),
    (re.compile(r"(?i)(?:^|[^a-z])your(?:[^a-z]|$)|^your[a-z]"), "instructional placeholder (your-...)"),
    (
        re.compile(
            r"(?i)(?:^|[^a-z])(?:insert|enter|put|add|paste|replace|fill|set|my|some|generate)[-_ ]"
            r"(?:[a-z0-9]+[-_ ]){0,3}(?:password|passwd|pass|pwd|secret|token|key|api[-_]?key|value|here)"
        ),
        "instructional placeholder",
    ),
    (re.compile(r"(?i)[-_ .]here$|goes[-_ ]?here"), "instructional placeholder (...-here)"),
    # `REPLACE_ME`, `replace-me`: a marker for the person filling the file in, in any slot (unlike
    # `changeme`, which products ship as a real default password: see `issued_slot`)
    (re.compile(r"(?i)(?<![a-z])replace[-_ ]?me(?![a-z])"), "instruction to replace the value"),
    (
        # `replace-with-50-random-characters`, `set-me`, `generate-a-long-random-string`, `fill-me-in`:
        # an instruction for the person filling the file in, made only of words and numbers.
        re.compile(
            r"(?i)^(?!replace[-_ ]me$)(?:replace|set|generate|gen|fill|insert|enter|put|paste|provide|create|add)"
            r"[-_ ](?:me|it|this|with|in|a|an|the|to|using|via|by|random|long|strong|new|own|real|"
            r"actual|secure|generated|your|one|value|later|before|after|prod|production)"
            r"(?:[-_ ][a-z0-9]+)*$"
        ),
        "instruction, not a value",
    ),
    (
        # a run of x at an edge or after a separator (`npg_xxxx`, `xxxx-xxxx`), or a long one; a short
        # run inside random text (`...7xXxX9...`, one real key in 30,000) is no mask
        re.compile(r"(?i)(?<![a-z0-9])x{4,}|x{4,}(?![a-z0-9])|x{8,}|^x{2,}$|\*{3,}|\.\.\.|\u2026|#{4,}"),
        "masked or elided value",
    ),
    (re.compile(r"(?i)example|sample|placeholder|redacted|\bdummy-?value\b"), "documented example value"),
    (re.compile(r"(?i)a1b2c3|1a2b3c"), "example sequence"),
)


def _demo_jwt(value: str) -> bool:
    """True for a JWT whose payload names no subject, issuer, expiry, role or user (`{"some": "payload"}`)."""
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(payload, dict) and not (JWT_CLAIMS & {str(k).lower() for k in payload})


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


DESCRIPTIVE_REASON: Final = "placeholder: a descriptive"
_TRAILING_ESCAPES = re.compile(r"(?:\\+[nrt0])+$")
_WORDS_ONLY = re.compile(r"^[A-Za-z]+(?:[ _-]+[A-Za-z]+)*$")
_DESCRIPTIVE = re.compile(r"(?i)pass(?:wor)?d|passwd|pswd|secret|token|api[-_ ]?key|private[-_ ]?key|credential")
_FILLER_WORDS = re.compile(r"(?:foo|bar|baz|qux|quux|dummy|secret|password|passwd|token|key|api|my|your|some|value)")


def _sequential_runs(text: str) -> list[int]:
    """Lengths of the runs of consecutive characters (`abc`, `xyz`, `12345`) that make up `text`."""
    runs: list[int] = []
    for i, ch in enumerate(text):
        if i and ord(ch) == ord(text[i - 1]) + 1:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


def _mostly_sequential(letters: str) -> bool:
    """True for long letter runs like the alphabet typed with a few slips (`BA1C2defGHijk...`)."""
    if len(letters) < 16:
        return False
    return sum(n for n in _sequential_runs(letters) if n >= 3) >= 0.85 * len(letters)


def _filler(norm: str) -> bool:
    """True for values made only of filler words and sequences: `foobar`, `XYZ12345`, `abcdefg123`."""
    if len(norm) < 4 or norm in WEAK_WORDS or norm.isdigit():
        return False
    rest = _FILLER_WORDS.sub(" ", norm)
    chunks = rest.split()
    if not chunks:
        return True
    return all(all(n >= 3 for n in _sequential_runs(c)) for c in chunks)


_ALNUM_RUN = re.compile(r"[A-Za-z0-9]{12,}")


def _has_random_run(value: str) -> bool:
    """True when `value` holds a generated-looking run (12+ letters/digits, mixed classes, high entropy).

    A token such as `sb_secret_d5qm9Nk...` or `AGE-SECRET-KEY-14SFHH...` carries a descriptive word
    in its fixed prefix; the random run after it is what makes it a real value, so the word and
    phrase heuristics below must not call it a placeholder.
    """
    for run in _ALNUM_RUN.findall(value):
        classes = sum((any(c.islower() for c in run), any(c.isupper() for c in run), any(c.isdigit() for c in run)))
        if classes < 2 or shannon_entropy(run) < 3.3:
            continue
        # CamelCase prose (`PassWordMustBeAtLeast6Chars`) splits into word-length pieces; generated
        # text splits into pieces of one or two characters on average.
        pieces = CASE_PIECE.findall(run)
        if len(run) / max(len(pieces), 1) < 3.0:
            return True
    return False


def decoded_placeholder_reason(decoded: str) -> str | None:
    """Why a base64-decoded value (Kubernetes Secret `data:`) is a placeholder, or None.

    Placeholders (`<token>`, `your-api-key-here`) and template defaults (`changeme`) both count:
    in a manifest, an encoded `changeme` is the template's stand-in for the real value.
    """
    value = decoded.strip()
    why = placeholder_reason(value)
    if why:
        return why
    m = TEMPLATE_DEFAULT.search(value)
    if m and _WORDS_ONLY.match(value.replace(" ", "-")):
        return f"placeholder: template default ({m.group(0).lower()})"
    return None


def placeholder_reason(value: str, *, name: str | None = None, context: Mapping[str, str] | None = None) -> str | None:
    """Why `value` is a placeholder rather than a real secret, or None."""
    if value in KNOWN_EXAMPLES:
        return "placeholder: documented example key"
    for pattern, why in _PLACEHOLDER_PATTERNS:
        m = pattern.search(value)
        if m:
            return f"placeholder: {why} {m.group(0)!r}" if len(m.group(0)) <= 40 else f"placeholder: {why}"
    value = _TRAILING_ESCAPES.sub("", value) or value
    norm = _norm(value)
    if value.lower().strip("-_.") in PLACEHOLDER_WORDS or norm in PLACEHOLDER_WORDS:
        return f"placeholder: the word {value.lower()!r}"
    if name and _norm(name) and norm == _norm(name.strip("\"'`*")):
        return "placeholder: the value repeats its own name"
    random_run = _has_random_run(value)
    if _WORDS_ONLY.match(value) and _DESCRIPTIVE.search(value) and not TESTISH.search(value):
        return f"{DESCRIPTIVE_REASON} word (password, secret, token, key) rather than a value"
    core = re.sub(r"[0-9]+$", "", value)
    if len(core) >= 16 and core.isalpha() and _DESCRIPTIVE.search(core) and not TESTISH.search(value):
        return f"{DESCRIPTIVE_REASON} phrase (password, secret, token...) rather than a value"
    phrase = re.sub(r"[^A-Za-z]+$", "", re.sub(r"[0-9]+", "", value))
    if (
        not random_run
        and _WORDS_ONLY.match(phrase)
        and _DESCRIPTIVE.search(phrase)
        and len(WORD_PART.findall(phrase)) >= 3
        and not TESTISH.search(value)
    ):
        return "placeholder: a phrase about the value rather than a value"
    letters = re.sub(r"[0-9]", "", norm)
    if (_filler(norm) or _mostly_sequential(letters)) and not TESTISH.search(value):
        return "placeholder: filler (foo, bar, abc, xyz, 123...)"
    if len(value) >= 4 and len(set(value.lower())) <= 2:
        return "placeholder: repeated characters"
    ctx = context or {}
    host = ctx.get("host", "").lower()
    user = ctx.get("user", "").lower()
    if host in TEXTBOOK_HOSTS or host.endswith(TEXTBOOK_DOMAINS):
        return f"placeholder: textbook host {host!r}"
    if user in TEXTBOOK_USERS and norm in {"password", "pass", "pwd", "secret"}:
        return "placeholder: textbook user:password"
    if value.count(":") == 1:  # a decoded `user:password` pair (HTTP Basic)
        pair_user, pair_pass = value.strip().split(":")
        if pair_user.lower() in TEXTBOOK_USERS and _norm(pair_pass) in PLACEHOLDER_WORDS | {"s3cr3t", "passw0rd"}:
            return "placeholder: textbook user:password"
    if value.startswith("eyJ") and _demo_jwt(value):
        return "placeholder: a demo JWT whose payload has no real claims"
    return None
