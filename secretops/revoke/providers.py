"""Revokers for providers with a documented revocation API, and manual steps for the rest.

- GitHub: `POST https://api.github.com/credentials/revoke` with `{"credentials": [token]}`,
  unauthenticated (an authenticated request gets 403; 60 requests an hour); `202 Accepted` means
  GitHub took the revocation (and notifies the owner); `422` is "validation failed, or the
  endpoint has been spammed". It takes `ghp_`, `github_pat_`, `gho_`, `ghu_` and `ghr_` tokens,
  not installation tokens (`ghs_`, which expire within the hour).
  https://docs.github.com/en/rest/credentials/revoke
- Slack: `POST https://slack.com/api/auth.revoke` with the token as bearer; `{"ok": true,
  "revoked": true}`. https://api.slack.com/methods/auth.revoke
- GitLab: `DELETE https://gitlab.com/api/v4/personal_access_tokens/self` with the token as
  `PRIVATE-TOKEN`; `204 No Content`.
  https://docs.gitlab.com/ee/api/personal_access_tokens.html#revoke-a-personal-access-token
- AWS: IAM `UpdateAccessKey` to `Inactive`, then `DeleteAccessKey`, signed with the leaked pair
  itself (it works when the key may manage itself; otherwise the manual steps apply).
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccessKey.html

Each revoker sends only to its `hosts`, checked before every request.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from secretops.liveness.interface import Leak
from secretops.revoke.interface import ManualSteps, Revoker, RevokeResult

__all__ = ["MANUAL", "REVOKERS", "RULE_REVOKERS", "manual_steps", "revoker_id_for"]

log = logging.getLogger(__name__)


class _HttpRevoker(Revoker):
    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response | RevokeResult:
        host = urlsplit(url).hostname
        if host not in self.hosts:
            return RevokeResult(False, self.id, "refused: host not on the allowlist")
        try:
            return self.ctx.client.request(method, url, timeout=self.ctx.timeout, follow_redirects=False, **kw)
        except httpx.HTTPError as exc:
            return RevokeResult(False, self.id, f"cannot reach {host} ({type(exc).__name__})")


class GitHubRevoker(_HttpRevoker):
    """GitHub tokens of every kind the credential revocation endpoint takes."""

    id = "github"
    hosts = frozenset({"api.github.com"})

    def revoke(self, leak: Leak) -> RevokeResult:
        """Submit the token for revocation."""
        answer = self._send(
            "POST",
            "https://api.github.com/credentials/revoke",
            json={"credentials": [leak.value.reveal()]},
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
        )
        if isinstance(answer, RevokeResult):
            return answer
        if answer.status_code == 202:
            return RevokeResult(True, self.id, "GitHub accepted the revocation (202) and notifies the token's owner")
        if answer.status_code in (422, 429):  # 422: "validation failed, or the endpoint has been spammed"
            return RevokeResult(
                False, self.id, f"GitHub refused the request ({answer.status_code}: malformed or rate limited)"
            )
        return RevokeResult(False, self.id, f"GitHub answered {answer.status_code}")


class SlackRevoker(_HttpRevoker):
    """Slack bot, user and app tokens."""

    id = "slack"
    hosts = frozenset({"slack.com"})

    def revoke(self, leak: Leak) -> RevokeResult:
        """`auth.revoke` with the token itself."""
        answer = self._send(
            "POST", "https://slack.com/api/auth.revoke", headers={"Authorization": f"Bearer {leak.value.reveal()}"}
        )
        if isinstance(answer, RevokeResult):
            return answer
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code == 200 and isinstance(body, dict):
            if body.get("ok") and body.get("revoked"):
                return RevokeResult(True, self.id, "Slack revoked the token (auth.revoke)")
            error = body.get("error")
            if error in ("invalid_auth", "token_revoked", "account_inactive", "not_authed"):
                return RevokeResult(True, self.id, f"Slack no longer accepts the token ({error})")
            return RevokeResult(False, self.id, "Slack did not revoke the token")
        return RevokeResult(False, self.id, f"Slack answered {answer.status_code}")


class GitLabRevoker(_HttpRevoker):
    """GitLab personal, project and group access tokens (gitlab.com)."""

    id = "gitlab"
    hosts = frozenset({"gitlab.com"})

    def revoke(self, leak: Leak) -> RevokeResult:
        """`DELETE /personal_access_tokens/self` with the token itself."""
        answer = self._send(
            "DELETE",
            "https://gitlab.com/api/v4/personal_access_tokens/self",
            headers={"PRIVATE-TOKEN": leak.value.reveal()},
        )
        if isinstance(answer, RevokeResult):
            return answer
        if answer.status_code == 204:
            return RevokeResult(True, self.id, "GitLab revoked the token (204)")
        if answer.status_code == 401:
            return RevokeResult(True, self.id, "GitLab no longer accepts the token (401)")
        return RevokeResult(False, self.id, f"GitLab answered {answer.status_code}")


class AwsIamRevoker(Revoker):
    """AWS access keys: deactivate, then delete, signed with the leaked pair itself."""

    id = "aws-iam"
    hosts = frozenset({"iam.amazonaws.com"})

    def revoke(self, leak: Leak) -> RevokeResult:
        """`UpdateAccessKey Inactive`, then `DeleteAccessKey`."""
        key_id = leak.context.get("access_key_id", "")
        if not key_id:
            return RevokeResult(False, self.id, "needs the access key id (AKIA...) next to the secret")
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        from secretops.issuers import aws_iam  # noqa: F401 - silences botocore's body logging

        endpoint = self.ctx.aws_endpoint_url
        allowed = {urlsplit(endpoint).hostname or ""} if endpoint else set(self.hosts)
        try:
            client: Any = boto3.session.Session(
                aws_access_key_id=key_id,
                aws_secret_access_key=leak.value.reveal(),
                region_name="us-east-1",
            ).client(
                "iam",
                endpoint_url=endpoint,
                config=Config(
                    connect_timeout=self.ctx.timeout, read_timeout=self.ctx.timeout, retries={"max_attempts": 1}
                ),
            )
        except BotoCoreError as exc:
            return RevokeResult(False, self.id, f"cannot set up an IAM client ({type(exc).__name__})")

        def allowlist(request: Any, **_: Any) -> None:
            if urlsplit(str(request.url)).hostname not in allowed:
                raise _RefusedHost

        client.meta.events.register("before-send.iam", allowlist)
        try:
            client.update_access_key(AccessKeyId=key_id, Status="Inactive")
            client.delete_access_key(AccessKeyId=key_id)
        except _RefusedHost:
            return RevokeResult(False, self.id, "refused: host not on the IAM allowlist")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))[:60]
            return RevokeResult(False, self.id, f"AWS IAM refused ({code or 'an error'})")
        except BotoCoreError as exc:
            return RevokeResult(False, self.id, f"cannot reach AWS IAM ({type(exc).__name__})")
        finally:
            client.close()
        return RevokeResult(True, self.id, f"AWS IAM deactivated, then deleted access key {key_id}")


class _RefusedHost(Exception):
    """Stops a botocore request to a host off the allowlist."""


REVOKERS: Final[dict[str, type[Revoker]]] = {
    r.id: r for r in (GitHubRevoker, SlackRevoker, GitLabRevoker, AwsIamRevoker)
}

RULE_REVOKERS: Final[dict[str, str]] = {
    "github-personal-access-token": "github",
    "github-fine-grained-token": "github",
    "github-oauth-token": "github",
    "github-user-to-server-token": "github",
    "github-refresh-token": "github",
    "slack-bot-token": "slack",
    "slack-user-token": "slack",
    "slack-app-token": "slack",
    "slack-legacy-token": "slack",
    "gitlab-personal-access-token": "gitlab",
    "aws-secret-access-key": "aws-iam",
}


def revoker_id_for(rule_id: str) -> str | None:
    """The revoker for findings of `rule_id`, or None (then `manual_steps`)."""
    return RULE_REVOKERS.get(rule_id)


MANUAL: Final[dict[str, ManualSteps]] = {
    m.provider: m
    for m in (
        ManualSteps(
            "stripe",
            ("Dashboard > Developers > API keys", "Roll the key (expire now), update its consumers"),
            "https://docs.stripe.com/keys#rolling-keys",
        ),
        ManualSteps(
            "openai",
            ("Settings > API keys (project or organisation)", "Revoke the key"),
            "https://platform.openai.com/api-keys",
        ),
        ManualSteps(
            "anthropic",
            ("Console > Settings > API keys", "Disable, then delete the key"),
            "https://console.anthropic.com/settings/keys",
        ),
        ManualSteps(
            "sendgrid", ("Settings > API Keys", "Delete the key"), "https://app.sendgrid.com/settings/api_keys"
        ),
        ManualSteps(
            "twilio",
            ("Console > Account > API keys & tokens", "Delete the API key, or promote a secondary auth token"),
            "https://www.twilio.com/docs/iam/api-keys",
        ),
        ManualSteps(
            "digitalocean",
            ("Control panel > API > Tokens", "Delete the token"),
            "https://cloud.digitalocean.com/account/api/tokens",
        ),
        ManualSteps(
            "render", ("Account settings > API keys", "Revoke the key"), "https://dashboard.render.com/u/settings"
        ),
        ManualSteps("vercel", ("Account settings > Tokens", "Delete the token"), "https://vercel.com/account/tokens"),
        ManualSteps(
            "heroku",
            ("Account settings > API key: Regenerate", "or `heroku authorizations:revoke ID`"),
            "https://dashboard.heroku.com/account",
        ),
        ManualSteps(
            "npm", ("npmjs.com > Access Tokens", "Delete the token"), "https://docs.npmjs.com/revoking-access-tokens"
        ),
        ManualSteps(
            "pypi",
            ("pypi.org > Account settings > API tokens", "Remove the token"),
            "https://pypi.org/manage/account/token/",
        ),
        ManualSteps(
            "huggingface",
            ("Settings > Access Tokens", "Invalidate and refresh, or delete the token"),
            "https://huggingface.co/settings/tokens",
        ),
        ManualSteps(
            "aws",
            ("IAM console > Users > Security credentials", "Deactivate the access key, then delete it"),
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        ),
        ManualSteps(
            "github",
            ("Settings > Developer settings > Tokens", "Delete the token (or report it: POST /credentials/revoke)"),
            "https://github.com/settings/tokens",
        ),
        ManualSteps(
            "gitlab",
            ("User settings > Access tokens", "Revoke the token"),
            "https://gitlab.com/-/user_settings/personal_access_tokens",
        ),
        ManualSteps("slack", ("api.slack.com > Your apps > OAuth", "Revoke the token"), "https://api.slack.com/apps"),
        ManualSteps(
            "postgres",
            ("As an admin: ALTER ROLE <user> PASSWORD '<new>' (or DROP ROLE)", "Then terminate its sessions"),
            "https://www.postgresql.org/docs/current/sql-alterrole.html",
        ),
        ManualSteps(
            "mysql",
            ("As an admin: ALTER USER '<user>'@'<host>' IDENTIFIED BY '<new>'", "Then kill its connections"),
            "https://mariadb.com/kb/en/alter-user/",
        ),
        ManualSteps(
            "redis",
            ("As an admin: ACL SETUSER <user> resetpass >'<new>'", "Then CLIENT KILL USER <user>"),
            "https://redis.io/docs/latest/commands/acl-setuser/",
        ),
    )
}


def manual_steps(provider: str, kind: str = "") -> ManualSteps:
    """The manual revocation steps for `provider` (or for the database family of `kind`)."""
    for key in (provider.lower(), kind.split("-", 1)[0].lower()):
        if key in MANUAL:
            return MANUAL[key]
    return ManualSteps(
        provider or "unknown",
        ("Find where this credential was issued", "Revoke or rotate it there", "Then run scan --verify again"),
        "",
    )
