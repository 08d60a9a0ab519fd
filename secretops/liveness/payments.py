"""Stripe: `GET https://api.stripe.com/v1/account` with the secret or restricted key as a bearer.

200 names the account (`settings.dashboard.display_name`, else `email`, with its `acct_` id);
401 (`Invalid API Key provided`) is dead; 403 is a restricted key that may not read the account
(authenticated: live); 429 is a rate limit.
https://docs.stripe.com/api/accounts/retrieve and https://docs.stripe.com/error-codes
"""

from __future__ import annotations

from typing import Any

import httpx

from secretops.liveness._http import HttpVerifier, Probe
from secretops.liveness.interface import Leak, LivenessResult

__all__ = ["StripeVerifier"]


class StripeVerifier(HttpVerifier):
    """Stripe secret (`sk_live_`, `sk_test_`) and restricted (`rk_live_`) keys."""

    id = "stripe"
    hosts = frozenset({"api.stripe.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v1/account` with the key as a bearer."""
        return Probe(
            "GET", "https://api.stripe.com/v1/account", headers={"Authorization": f"Bearer {leak.value.reveal()}"}
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """403: a restricted key without that permission is still a working key."""
        if response.status_code == 403:
            return LivenessResult.live_as(self.id, None, "authenticated, but may not read the account (HTTP 403)")
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """`<display name or e-mail> (<acct_ id>)`."""
        if not isinstance(body, dict):
            return None
        settings = body.get("settings")
        dashboard = settings.get("dashboard") if isinstance(settings, dict) else None
        name = (dashboard.get("display_name") if isinstance(dashboard, dict) else None) or body.get("email")
        account = body.get("id")
        return f"{name} ({account})" if name and account else (account or name)
