"""OpenAI, Anthropic and Hugging Face.

- OpenAI: `GET https://api.openai.com/v1/models` with the key as a bearer (admin keys:
  `GET /v1/organization/projects?limit=1`). 401 (`invalid_api_key`) is dead; 403 is a key
  without that permission (live); 429 with `insufficient_quota` is a working key with no quota
  left (live), other 429s are rate limits. The organization comes from the `openai-organization`
  response header when present. https://platform.openai.com/docs/api-reference/models/list
  and https://platform.openai.com/docs/guides/error-codes
- Anthropic: `GET https://api.anthropic.com/v1/models` with `x-api-key` and
  `anthropic-version: 2023-06-01` (admin keys: `GET /v1/organizations/users?limit=1`). 401
  `authentication_error` is dead, 403 `permission_error` live, 429 `rate_limit_error` a rate
  limit (`retry-after`), 529 `overloaded_error` unknown. Every answer names the organization in
  the `anthropic-organization-id` header. https://docs.anthropic.com/en/api/errors
- Hugging Face: `GET https://huggingface.co/api/whoami-v2` with the token as a bearer; 200 names
  the account (`name`) and the token (`auth.accessToken.displayName`); 401 is dead.
  https://huggingface.co/docs/huggingface_hub/package_reference/hf_api#huggingface_hub.HfApi.whoami
"""

from __future__ import annotations

from typing import Any

import httpx

from secretops.liveness._http import HttpVerifier, Probe, json_body
from secretops.liveness.interface import Leak, LivenessResult

__all__ = ["AnthropicVerifier", "HuggingfaceVerifier", "OpenaiVerifier"]


def _error_field(body: Any, name: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        value = body["error"].get(name)
        return value if isinstance(value, str) else ""
    return ""


class OpenaiVerifier(HttpVerifier):
    """OpenAI project, user, service-account, legacy and admin keys."""

    id = "openai"
    hosts = frozenset({"api.openai.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v1/models` (admin keys: `GET /v1/organization/projects?limit=1`)."""
        path = "/v1/organization/projects?limit=1" if leak.rule_id == "openai-admin-key" else "/v1/models"
        return Probe("GET", "https://api.openai.com" + path, headers={"Authorization": f"Bearer {leak.value.reveal()}"})

    def rate_limited(self, response: httpx.Response) -> bool:
        """A 429 that is not `insufficient_quota` (that one is an answer: the key works)."""
        return response.status_code == 429 and _error_field(json_body(response), "code") != "insufficient_quota"

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """403 and an out-of-quota 429 are working keys."""
        org = response.headers.get("openai-organization")
        if response.status_code == 429:
            return LivenessResult.live_as(self.id, org, "accepted, but the account has no quota left (HTTP 429)")
        if response.status_code == 403:
            return LivenessResult.live_as(self.id, org, "authenticated, but lacks that permission (HTTP 403)")
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The organization the key belongs to, from the `openai-organization` header."""
        org = response.headers.get("openai-organization")
        return str(org) if org else None


class AnthropicVerifier(HttpVerifier):
    """Anthropic API keys (`sk-ant-api03-`) and admin keys (`sk-ant-admin01-`)."""

    id = "anthropic"
    hosts = frozenset({"api.anthropic.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /v1/models` (admin keys: `GET /v1/organizations/users?limit=1`)."""
        path = "/v1/organizations/users?limit=1" if leak.rule_id == "anthropic-admin-key" else "/v1/models"
        return Probe(
            "GET",
            "https://api.anthropic.com" + path,
            headers={"x-api-key": leak.value.reveal(), "anthropic-version": "2023-06-01"},
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """403 `permission_error` is a working key."""
        if response.status_code == 403:
            org = response.headers.get("anthropic-organization-id")
            return LivenessResult.live_as(self.id, org, "authenticated, but lacks that permission (HTTP 403)")
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The organization id from the `anthropic-organization-id` header."""
        org = response.headers.get("anthropic-organization-id")
        return f"organization {org}" if org else None


class HuggingfaceVerifier(HttpVerifier):
    """Hugging Face user access tokens (`hf_`) and organization tokens (`api_org_`)."""

    id = "huggingface"
    hosts = frozenset({"huggingface.co"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /api/whoami-v2` with the token as a bearer."""
        return Probe(
            "GET", "https://huggingface.co/api/whoami-v2", headers={"Authorization": f"Bearer {leak.value.reveal()}"}
        )

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """`<account> (token <name>, <role>)`."""
        if not isinstance(body, dict):
            return None
        name = body.get("name")
        auth = body.get("auth")
        token = auth.get("accessToken") if isinstance(auth, dict) else None
        if isinstance(token, dict) and token.get("displayName") and name:
            role = f", {token['role']}" if token.get("role") else ""
            return f"{name} (token {token['displayName']}{role})"
        return str(name) if name else None
