"""Slack, SendGrid and Twilio.

- Slack: `POST https://slack.com/api/auth.test` with the token as a bearer. Slack answers 200
  for everything: `{"ok": true, "user", "team", ...}` for a working token, `{"ok": false,
  "error": "invalid_auth" | "token_revoked" | "token_expired" | "account_inactive" | ...}` for a
  dead one; 429 with `Retry-After` when rate limited.
  https://docs.slack.dev/reference/methods/auth.test
- SendGrid: `GET https://api.sendgrid.com/v3/scopes` (any key may read its own scopes); 401
  for a bad key; 403 is a working key without that scope (live).
  https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access
- Twilio: `GET https://api.twilio.com/2010-04-01/Accounts/{AccountSid}.json` with HTTP basic
  auth, the Account SID and its auth token (or an API key SID `SK...` and its secret). It needs
  the Account SID that the scanner grouped with the token (`account_id` in the finding's
  context); without it the verdict is `unknown`. 401 (code 20003) is dead; a `closed` account
  is dead too. https://www.twilio.com/docs/iam/api/account#fetch-an-account-resource
"""

from __future__ import annotations

import re
from typing import Any, Final

import httpx

from secretops.liveness._http import HttpVerifier, Probe, json_body
from secretops.liveness.interface import Leak, LivenessResult

__all__ = ["SendgridVerifier", "SlackVerifier", "TwilioVerifier"]

_SLACK_DEAD: Final = frozenset(
    {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed", "no_permission"}
)
_ACCOUNT_SID: Final = re.compile(r"AC[0-9a-f]{32}")
_KEY_SID: Final = re.compile(r"SK[0-9a-f]{32}")


class SlackVerifier(HttpVerifier):
    """Slack bot, user, app-level and legacy tokens by `auth.test`."""

    id = "slack"
    hosts = frozenset({"slack.com"})

    def probe(self, leak: Leak) -> Probe:
        """`POST /api/auth.test` with the token as a bearer."""
        return Probe(
            "POST",
            "https://slack.com/api/auth.test",
            headers={"Authorization": f"Bearer {leak.value.reveal()}"},
            data={},
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """`ok: true` live (`user` in `team`), a dead-token `error` dead, anything else unknown."""
        body = json_body(response)
        if not response.is_success or not isinstance(body, dict):
            return self.unexpected(response)
        if body.get("ok") is True:
            user, team = body.get("user"), body.get("team")
            who = f"{user} in {team}" if user and team else (user or team)
            return LivenessResult.live_as(self.id, who)
        error = str(body.get("error") or "")
        if error in _SLACK_DEAD:
            return LivenessResult.dead(self.id, f"refused by slack.com: {error}")
        code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "an unexpected error"
        return LivenessResult.unknown(self.id, f"slack.com answered {code}")


class SendgridVerifier(HttpVerifier):
    """SendGrid API keys (`SG.`) by `GET /v3/scopes`."""

    id = "sendgrid"
    hosts = frozenset({"api.sendgrid.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v3/scopes` with the key as a bearer."""
        return Probe(
            "GET", "https://api.sendgrid.com/v3/scopes", headers={"Authorization": f"Bearer {leak.value.reveal()}"}
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """200 live (with its scope count), 401 dead, 403 live without that scope."""
        if response.is_success:
            body = json_body(response)
            scopes = body.get("scopes") if isinstance(body, dict) else None
            detail = f"accepted ({len(scopes)} scopes)" if isinstance(scopes, list) else "accepted"
            return LivenessResult.live_as(self.id, None, detail)
        if response.status_code == 403:
            return LivenessResult.live_as(self.id, None, "authenticated, but may not list its scopes (HTTP 403)")
        return super().judge(response, leak)


class TwilioVerifier(HttpVerifier):
    """Twilio auth tokens and API key secrets, with the Account SID found next to them."""

    id = "twilio"
    hosts = frozenset({"api.twilio.com"})

    def probe(self, leak: Leak) -> Probe | LivenessResult:
        """`GET /2010-04-01/Accounts/{AccountSid}.json`, basic auth SID (or key SID) and secret."""
        account = leak.context.get("account_id", "")
        if not _ACCOUNT_SID.fullmatch(account):
            return LivenessResult.unknown(
                self.id, "needs the Account SID (AC...) next to the token; none was found with it"
            )
        username = account
        if leak.rule_id == "twilio-api-key-secret":
            key_sid = leak.context.get("api_key_id", "")
            if not _KEY_SID.fullmatch(key_sid):
                return LivenessResult.unknown(self.id, "needs the API key SID (SK...) next to the secret")
            username = key_sid
        return Probe(
            "GET",
            f"https://api.twilio.com/2010-04-01/Accounts/{account}.json",
            auth=(username, leak.value.reveal()),
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """200 live (a `closed` account dead), 401 dead, else unknown."""
        body = json_body(response)
        if response.is_success and isinstance(body, dict) and body.get("status") == "closed":
            return LivenessResult.dead(self.id, "the Twilio account is closed")
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """`<friendly name> (<Account SID>)`."""
        if not isinstance(body, dict):
            return None
        name, sid = body.get("friendly_name"), body.get("sid")
        return f"{name} ({sid})" if name and sid else (sid or name)
