"""Small helpers shared by the issuer modules: account names, strategy checks, scrubbing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from secretops.errors import IssuerError
from secretops.inventory.models import SecretSpec, Strategy
from secretops.issuers.interface import Credential
from secretops.values import SecretValue

NEW_VALUE = "new value from the pending version (not shown)"


def require_strategy(kind: str, secret: SecretSpec, allowed: Iterable[Strategy]) -> Strategy:
    """`secret.strategy` when this issuer supports it, else an `IssuerError` naming the choices."""
    allowed = frozenset(allowed)
    if secret.strategy not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise IssuerError(
            f"{secret.name}: the {kind} issuer does not support strategy {secret.strategy.value}",
            hint=f"use one of: {names}",
        )
    return secret.strategy


def single_account(kind: str, secret: SecretSpec, current: Credential | None, what: str) -> str:
    """The one account of an overlap/replace secret: `accounts[0]`, else the current username."""
    if secret.accounts:
        return secret.accounts[0]
    if current is not None and current.attributes.get("username"):
        return current.attributes["username"]
    raise IssuerError(
        f"{secret.name}: the {kind} issuer needs the {what} to rotate",
        hint=f"set accounts: [<{what}>] on the secret",
    )


def idle_account(
    secret: SecretSpec, current: Credential | None, user_of: Callable[[str], str] = lambda account: account
) -> str:
    """For alternate: the account of `secret.accounts` that `current` does not use.

    With no current credential (first rotation) the second account is taken, so the first,
    which is usually the one in service, keeps working. `user_of` maps an account entry to the
    username credentials carry (MySQL's `app_a@%` is user `app_a`).
    """
    if len(secret.accounts) != 2:
        raise IssuerError(
            f"{secret.name}: strategy alternate needs exactly two accounts", hint="set accounts: [app_a, app_b]"
        )
    first, second = secret.accounts
    if current is None:
        return second
    used = current.attributes.get("username")
    if used == user_of(first):
        return second
    if used == user_of(second):
        return first
    raise IssuerError(
        f"{secret.name}: the current credential's user {used!r} is not one of accounts {secret.accounts}",
        hint="fix accounts in the policy, or store the current credential with the right username",
    )


def other_than(secret: SecretSpec, old: Credential, keep: Credential) -> str:
    """The username of `old`, refusing when it is the one `keep` uses (alternate revoke)."""
    old_user = old.attributes.get("username", "")
    if not old_user:
        raise IssuerError(f"{secret.name}: the credential to revoke has no username attribute")
    if old_user == keep.attributes.get("username"):
        raise IssuerError(
            f"{secret.name}: refusing to lock {old_user}: the credential to keep uses the same account",
            hint="with strategy alternate, old and new credentials live on different accounts",
        )
    return old_user


def scrub(text: str, *values: SecretValue | str | None) -> str:
    """`text` with every occurrence of each value replaced by `***` (for driver messages)."""
    for value in values:
        if value is None:
            continue
        raw = value.reveal() if isinstance(value, SecretValue) else value
        if raw:
            text = text.replace(raw, "***")
    return text


def driver_reason(exc: BaseException, *values: SecretValue | str | None) -> str:
    """The first line of a driver's error message, trimmed and scrubbed of `values`.

    libpq puts its own hint on a second, tab-indented line ("\tIs the server running on that
    host...?"): the first line says what failed ("connection to server at ... failed:
    Connection refused") and is the one to keep. A first line that only introduces a list
    ("Multiple connection attempts failed. All failures were:") is joined with the next one.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0]
    if first.endswith(":") and len(lines) > 1:
        first = f"{first} {lines[1]}"
    return scrub(first, *values)


def random_password() -> SecretValue:
    """A random value nobody holds, used to scramble a retired account."""
    return SecretValue(secrets.token_urlsafe(36))
