"""Step 5 of `classify`: weak defaults someone may ship (`SECRET_KEY=change-me`, `admin`, `django-insecure-`)."""

from __future__ import annotations

import functools
import itertools
import re
from typing import Final

from secretops.scan.filters.names import last_segment, name_words, password_name, secret_term
from secretops.scan.filters.randomness import wordlike
from secretops.scan.vocabulary import COMPOUND_ENDS, PLACEHOLDER_WORDS, TAIL_WORDS, WEAK_WORDS

TEMPLATE_DEFAULT = re.compile(
    r"(?i)change[-_ ]?(?:me|this|it|in[-_ ]?prod)|please[-_ ]?change|replace[-_ ]?me|update[-_ ]?me|insecure"
)


CHANGE_ME = re.compile(r"(?i)change[-_ ]?(?:me|this|it|in[-_ ]?prod)|please[-_ ]?change|update[-_ ]?me")
# Qualifiers of a key, token or secret name that say its owner picks the value (a signing or
# session secret, an app's own key): `changeme` there is the real, guessable value.
_OWNER_PICKS: Final = frozenset(
    {
        "webhook",
        "hook",
        "signing",
        "signature",
        "encryption",
        "encrypt",
        "crypt",
        "cipher",
        "aes",
        "hmac",
        "jwt",
        "session",
        "cookie",
        "csrf",
        "salt",
        "pepper",
        "master",
        "admin",
        "root",
        "shared",
    }
)
_OWNER_PICKS_ONLY: Final = _OWNER_PICKS | {
    "app",
    "application",
    "django",
    "flask",
    "rails",
    "laravel",
    "symfony",
    "nextauth",
    "auth",
    "site",
    "server",
    "service",
    "internal",
    "local",
}
# User names that say the password slot holds a provider-issued token (GitHub, GitLab, Bitbucket, OAuth).
TOKEN_USERS: Final = frozenset({"x-access-token", "x-oauth-basic", "oauth2", "gitlab-ci-token", "x-token-auth"})
_TERM_WORDS: Final = frozenset({"token", "key", "secret", "api", "access", "client", "private", "value"})


@functools.lru_cache(maxsize=4096)
def issued_slot(name: str) -> bool:
    """True for a token, API key or client secret a provider issues (`SENTRY_AUTH_TOKEN`, `STRIPE_SECRET_KEY`).

    Not for password names, nor for names whose qualifiers say the owner picks the value
    (`SECRET_KEY`, `JWT_SECRET`, `GITHUB_WEBHOOK_SECRET`, `APP_KEY`), nor for bare names
    (`TOKEN`, `API_KEY`) that say neither.
    """
    if password_name(name):
        return False
    words = name_words(last_segment(name))
    while len(words) > 1 and (words[-1] in TAIL_WORDS or words[-1].isdigit()):
        words.pop()
    term = secret_term(words)
    if term not in ("token", "key", "secret") or not words:
        return False
    last = words[-1]
    stem = next((last[: -len(end)] for end in COMPOUND_ENDS if last.endswith(end) and len(last) > len(end)), None)
    qualifiers = {w for w in [*words[:-1], *([stem] if stem else [])] if w and w not in _TERM_WORDS}
    for end in ("api", "access", "auth", "client", "secret"):  # `sentryauth` from `SentryAuthToken`, lower-cased
        qualifiers = {q[: -len(end)] if q.endswith(end) and len(q) > len(end) else q for q in qualifiers}
    return bool(qualifiers) and not qualifiers & _OWNER_PICKS and not qualifiers <= _OWNER_PICKS_ONLY


def weak_default_reason(value: str, *, path: str) -> str | None:
    """Why `value` is a weak default someone may ship, or None (template defaults in docs are placeholders)."""
    if value.startswith("django-insecure-"):
        return "weak-default: Django's generated development key (django-insecure-)"
    m = TEMPLATE_DEFAULT.search(value)
    if m:
        return f"weak-default: template default ({m.group(0).lower()}) in a real config file"
    if value.lower() in WEAK_WORDS:
        return f"weak-default: well-known default password {value.lower()!r}"
    letters = re.sub(r"[^a-z]", "", value.lower())
    for base in (_human_base(value), letters if len(letters) >= 6 else None):
        if base and len(base) >= 4 and (base in WEAK_WORDS or base in PLACEHOLDER_WORDS):
            return "weak-default: a well-known password with letters swapped for digits or symbols"
    return None


_LEET: Final = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"})


def _human_base(value: str, *, leet: bool = True) -> str | None:
    """The word under a human-made password (`P@55w0rd!` -> `password`, `Summer2024!` -> `summer`), or None.

    Without `leet`, digits are not read as letters, `-_.$@ ` between words are dropped
    (`geheim$parole` -> `geheimparole`) and the letter case is kept.
    """
    core = value.strip("!?.#*_-")
    core = re.sub(r"[0-9!?.#*_-]+$", "", core)
    base = core.lower().translate(_LEET) if leet else re.sub(r"(?<=[A-Za-z])[-_.$@ ](?=[A-Za-z])", "", core)
    return base if base.isalpha() else None


def human_password(value: str) -> bool:
    """True for a word-based password a person typed (`pasword`, `kmsPswd`, `IAmSensitive`, `geheim$parole`).

    Random letters are not: their case flips often (`rPNKUlCXaye`) or their vowels are few.
    """
    base = _human_base(value, leet=False)
    if base is None or sum(ch.isdigit() for ch in value) > 4 or len(base) > 20:
        return False
    if base.lower() in WEAK_WORDS or wordlike(base):
        return True
    flips = sum(1 for a, b in itertools.pairwise(base) if a.islower() != b.islower())
    return len(base) <= 10 and flips <= 2
