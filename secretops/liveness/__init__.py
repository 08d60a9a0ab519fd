"""Liveness: is a leaked value still accepted where it was issued? (`secretops scan --verify`)

`VERIFIERS` maps each verifier id to its class; `RULE_VERIFIERS` maps detection rule ids
(`secretops rules`) to a verifier id, and `KIND_VERIFIERS` maps the kinds of database
passwords (`postgres-password`, ...) to the database verifiers, so that a grouped
host/user/password finding from any rule is checked too. `verifier_id_for` applies both.
`verify_findings` (in `check.py`) runs them over a scan's findings.
"""

from __future__ import annotations

from typing import Final

from secretops.liveness.ai import AnthropicVerifier, HuggingfaceVerifier, OpenaiVerifier
from secretops.liveness.aws import AwsStsVerifier
from secretops.liveness.databases import MysqlVerifier, PostgresVerifier, RedisVerifier
from secretops.liveness.hosting import DigitaloceanVerifier, HerokuVerifier, RenderVerifier, VercelVerifier
from secretops.liveness.interface import (
    Leak,
    Liveness,
    LivenessError,
    LivenessResult,
    Verifier,
    VerifyContext,
)
from secretops.liveness.messaging import SendgridVerifier, SlackVerifier, TwilioVerifier
from secretops.liveness.payments import StripeVerifier
from secretops.liveness.registries import NpmVerifier, PypiVerifier
from secretops.liveness.vcs import GithubVerifier, GitlabVerifier

__all__ = [
    "DATABASE_VERIFIERS",
    "KIND_VERIFIERS",
    "RULE_VERIFIERS",
    "VERIFIERS",
    "Leak",
    "Liveness",
    "LivenessError",
    "LivenessResult",
    "Verifier",
    "VerifyContext",
    "verifier_id_for",
]

VERIFIERS: Final[dict[str, type[Verifier]]] = {
    GithubVerifier.id: GithubVerifier,
    GitlabVerifier.id: GitlabVerifier,
    SlackVerifier.id: SlackVerifier,
    StripeVerifier.id: StripeVerifier,
    OpenaiVerifier.id: OpenaiVerifier,
    AnthropicVerifier.id: AnthropicVerifier,
    SendgridVerifier.id: SendgridVerifier,
    TwilioVerifier.id: TwilioVerifier,
    DigitaloceanVerifier.id: DigitaloceanVerifier,
    RenderVerifier.id: RenderVerifier,
    VercelVerifier.id: VercelVerifier,
    HerokuVerifier.id: HerokuVerifier,
    NpmVerifier.id: NpmVerifier,
    PypiVerifier.id: PypiVerifier,
    HuggingfaceVerifier.id: HuggingfaceVerifier,
    AwsStsVerifier.id: AwsStsVerifier,
    PostgresVerifier.id: PostgresVerifier,
    MysqlVerifier.id: MysqlVerifier,
    RedisVerifier.id: RedisVerifier,
}

#: Verifiers that contact the host named in the scanned text (`--verify-databases` only).
DATABASE_VERIFIERS: Final = frozenset(v.id for v in VERIFIERS.values() if v.network == "scanned-host")

RULE_VERIFIERS: Final[dict[str, str]] = {
    # GitHub: every token kind GET /user accepts (refresh tokens are not bearer tokens).
    "github-personal-access-token": "github",
    "github-fine-grained-token": "github",
    "github-oauth-token": "github",
    "github-user-to-server-token": "github",
    "github-server-to-server-token": "github",
    # GitLab: personal, project and group access tokens (the other glxx- kinds have no self endpoint).
    "gitlab-personal-access-token": "gitlab",
    "slack-bot-token": "slack",
    "slack-user-token": "slack",
    "slack-app-token": "slack",
    "slack-legacy-token": "slack",
    "stripe-secret-key": "stripe",
    "stripe-restricted-key": "stripe",
    "stripe-test-secret-key": "stripe",
    "openai-project-key": "openai",
    "openai-user-key": "openai",
    "openai-service-account-key": "openai",
    "openai-legacy-key": "openai",
    "openai-admin-key": "openai",
    "anthropic-api-key": "anthropic",
    "anthropic-admin-key": "anthropic",
    "sendgrid-api-key": "sendgrid",
    "twilio-auth-token": "twilio",
    "twilio-auth-token-pair": "twilio",
    "twilio-api-key-secret": "twilio",
    "digitalocean-personal-access-token": "digitalocean",
    "digitalocean-oauth-token": "digitalocean",
    "render-api-key": "render",
    "vercel-personal-token": "vercel",
    "vercel-legacy-token": "vercel",
    "vercel-api-key": "vercel",
    "heroku-api-key": "heroku",
    "heroku-legacy-api-key": "heroku",
    "npm-access-token": "npm",
    "pypi-upload-token": "pypi",
    "testpypi-upload-token": "pypi",
    "huggingface-access-token": "huggingface",
    "huggingface-org-token": "huggingface",
    "aws-secret-access-key": "aws-sts",
}

#: Database password kinds (set by the rule, or inferred when a host/user/password block is grouped).
KIND_VERIFIERS: Final[dict[str, str]] = {f"{db}-password": db for db in ("postgres", "mysql", "redis")}


def verifier_id_for(rule_id: str, kind: str) -> str | None:
    """The verifier for a finding of `rule_id` and `kind`, or None when none applies."""
    return RULE_VERIFIERS.get(rule_id) or KIND_VERIFIERS.get(kind)
