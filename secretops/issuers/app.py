"""App-held secrets with no remote issuer (Django `SECRET_KEY`, JWT HMAC keys): we mint the value.

There is nobody to ask: `apply` returns the generated value as is, `check` can only say True
for a value we hold, and `revoke` does nothing here. The overlap lives in the consumers: their
templates carry the previous value as a fallback (`SECRET_KEY_FALLBACKS`, a second JWT `kid`)
until the grace period ends, and removing it from the templates is what retires the old value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from secretops.errors import IssuerError
from secretops.inventory.models import NoIssuerSpec, SecretSpec, Strategy
from secretops.issuers._common import NEW_VALUE, require_strategy
from secretops.issuers.interface import Credential, Issuer, PlanStep
from secretops.values import SecretValue

__all__ = ["AppIssuer"]


class AppIssuer(Issuer):
    """The `app` kind: the application holds the secret; secretops only generates and distributes it."""

    kind: ClassVar[str] = "app"
    strategies: ClassVar[frozenset[Strategy]] = frozenset({Strategy.OVERLAP, Strategy.REPLACE})
    generates_value: ClassVar[bool] = False
    verifiable: ClassVar[bool] = False

    def __init__(self, spec: NoIssuerSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = env

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """No issuer call: one informational step."""
        require_strategy(self.kind, secret, self.strategies)
        detail = "overlap: consumers keep the old value as a fallback until the grace ends"
        if secret.strategy is Strategy.REPLACE:
            detail = "replace: sessions/tokens signed with the old value stop verifying"
        return [PlanStep(f"issuer:{self.kind}", f"none: the application holds the {NEW_VALUE}", detail)]

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """The generated value, unchanged."""
        require_strategy(self.kind, secret, self.strategies)
        if proposed is None:
            raise IssuerError(
                f"{secret.name}: an app-held secret needs a generated value",
                hint="set a generator (django-secret-key, jwt-hmac, token...)",
            )
        return Credential(proposed)

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """True: there is nothing to log in to. See `verifiable`."""
        return True

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """Nothing at an issuer: the old value dies when the consumers' fallbacks drop it."""
        require_strategy(self.kind, secret, self.strategies)
