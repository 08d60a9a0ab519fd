"""Step 4 of `classify`: throwaway test credentials, judged by the value and its surroundings, never the path."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from secretops.scan import shape
from secretops.scan.filters.randomness import shannon_entropy
from secretops.scan.vocabulary import WEAK_WORDS

TESTISH = re.compile(
    r"(?i)(?<![a-z])(?:test|testing|dummy|fake|mock|fixture)|not[-_ ]?for[-_ ]?prod|do[-_ ]?not[-_ ]?use|"
    r"not[-_ ]?(?:a[-_ ]?)?re[a@]l|"
    r"(?<![a-z])(?:local|dev)[-_ ]?(?:only|password|secret)"
)


def trivial_password(value: str, context: Mapping[str, str] | None = None) -> bool:
    """True for a password anyone could guess: a well-known word, test-ish, short or low-entropy, or the user name."""
    user = (context or {}).get("user", "")
    return (
        value.lower() in WEAK_WORDS
        or bool(TESTISH.search(value))
        or shannon_entropy(value) < 3.0
        or len(value) < 10
        or (bool(user) and value.lower() == user.lower())
    )


def test_reason(
    value: str,
    *,
    context: Mapping[str, str] | None = None,
    in_ci_service: bool | Callable[[], bool] = False,
    services: frozenset[str] = frozenset(),
) -> str | None:
    """Why `value` (which has no live shape) is a throwaway test credential, or None.

    Only the value and its surroundings count, never the path: a CI service container, a
    test-ish value, a local host (or a service declared in the same file) with a trivial
    password or a test database or user. `in_ci_service` may be a callable, evaluated only
    when needed (it walks the YAML above).
    """
    if in_ci_service() if callable(in_ci_service) else in_ci_service:
        return "test-credential: CI service container"
    m = TESTISH.search(unquote(value) if "%" in value else value)
    if m:
        return f"test-credential: test-ish value ({m.group(0).lower()})"
    ctx = context or {}
    host = ctx.get("host", "").lower()
    if host and shape.is_local_host(host, services):
        if trivial_password(value, ctx):
            return f"test-credential: weak password for local host {host!r}"
        for part in ("database", "user"):
            if TESTISH.search(ctx.get(part, "")):
                return f"test-credential: local host {host!r} with a test {part}"
    return None
