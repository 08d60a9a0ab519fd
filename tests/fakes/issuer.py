"""A fake `Issuer` with an in-memory "server", for engine unit tests.

It keeps, per account, the set of values that authenticate. Failures are injected by naming an
operation in `fail` (raising once per listed count) and every call is recorded in `calls`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import ClassVar

from secretops.errors import IssuerError
from secretops.inventory.models import SecretSpec, Strategy
from secretops.issuers.interface import Credential, Issuer, PlanStep
from secretops.values import SecretValue


class FakeIssuer(Issuer):
    """Accounts with sets of valid values; supports every strategy."""

    kind = "fake"
    strategies: ClassVar[frozenset[Strategy]] = frozenset(Strategy)

    def __init__(self, *, generates_value: bool = False) -> None:
        self.valid: dict[str, set[str]] = {}
        self.calls: list[str] = []
        self.fail: dict[str, Exception] = {}
        self.minted: list[str] = []  # generates_value: every value ever minted
        self.gen = generates_value

    # The ABC declares generates_value as a ClassVar; tests flip it per instance.
    @property  # type: ignore[misc]
    def generates_value(self) -> bool:  # type: ignore[override]
        return self.gen

    def seed(self, account: str, value: str) -> Credential:
        """Make `value` valid for `account` (the credential in service before any rotation)."""
        self.valid.setdefault(account, set()).add(value)
        return Credential(SecretValue(value), {"username": account})

    def _maybe_fail(self, op: str) -> None:
        self.calls.append(op)
        if op in self.fail:
            raise self.fail.pop(op)

    def _account(self, secret: SecretSpec, current: Credential | None) -> str:
        if secret.strategy is Strategy.ALTERNATE:
            a, b = secret.accounts
            if current is None:
                return b
            return a if current.attributes.get("username") == b else b
        if secret.accounts:
            return secret.accounts[0]
        return current.attributes.get("username", "app") if current else "app"

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        account = self._account(secret, current)
        return [
            PlanStep("issuer:fake", f"set new value on {account}", "new value (not shown)"),
            PlanStep("issuer:fake", f"log in as {account} with the new value"),
            PlanStep("issuer:fake", "revoke the previous value"),
        ]

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        self._maybe_fail("apply")
        account = self._account(secret, current)
        if self.gen:
            value = "minted-" + secrets.token_hex(8)
            self.minted.append(value)
        else:
            assert proposed is not None
            value = proposed.reveal()
        values = self.valid.setdefault(account, set())
        if secret.strategy is not Strategy.OVERLAP:
            values.clear()  # alternate resets the idle account; replace changes the one value
        values.add(value)
        return Credential(SecretValue(value), {"username": account})

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        self._maybe_fail("check")
        account = credential.attributes.get("username", "")
        return credential.value.reveal() in self.valid.get(account, set())

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        self._maybe_fail("revoke")
        account = old.attributes.get("username", "")
        if secret.strategy is Strategy.ALTERNATE and account == keep.attributes.get("username"):
            raise IssuerError("refusing to lock the account in service")
        self.valid.get(account, set()).discard(old.value.reveal())

    def rollback(self, secret: SecretSpec, new: Credential, keep: Credential | None) -> None:
        self._maybe_fail("rollback")
        if secret.strategy is Strategy.OVERLAP or self.gen:
            self.valid.get(new.attributes.get("username", ""), set()).discard(new.value.reveal())

    def reconcile(self, secret: SecretSpec, known: Sequence[Credential]) -> list[str]:
        self.calls.append("reconcile")
        keep = {c.value.reveal() for c in known}
        removed = []
        for account, values in self.valid.items():
            for value in list(values):
                if value.startswith("minted-") and value not in keep:
                    values.discard(value)
                    removed.append(f"leftover value of {account}")
        return removed

    def works(self, account: str, value: str | SecretValue) -> bool:
        """Test helper: does `value` authenticate as `account` now?"""
        raw = value.reveal() if isinstance(value, SecretValue) else value
        return raw in self.valid.get(account, set())
