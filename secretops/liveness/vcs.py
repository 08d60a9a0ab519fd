"""GitHub and GitLab: who does this token belong to?

- GitHub: `GET https://api.github.com/user` ("Get the authenticated user"). 200 names the
  `login`; 401 "Bad credentials" is a dead token; 403 is an authenticated token that may not
  read `/user` (an installation token), so live, unless it carries GitHub's rate-limit signal
  (`x-ratelimit-remaining: 0` or `Retry-After`, the secondary limit), which is retried or unknown.
  https://docs.github.com/en/rest/users/users#get-the-authenticated-user
- GitLab: `GET https://gitlab.com/api/v4/personal_access_tokens/self` with `PRIVATE-TOKEN`. 200
  names the token and its `user_id`; 401 is an invalid, revoked or expired token. A token of a
  self-managed GitLab is not known to gitlab.com: the verdict says which host refused it.
  https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token
"""

from __future__ import annotations

from typing import Any

import httpx

from secretops.liveness._http import HttpVerifier, Probe, json_body
from secretops.liveness.interface import Leak, LivenessResult

__all__ = ["GithubVerifier", "GitlabVerifier"]


class GithubVerifier(HttpVerifier):
    """GitHub tokens (`ghp_`, `github_pat_`, `gho_`, `ghu_`, `ghs_`) by `GET /user`."""

    id = "github"
    hosts = frozenset({"api.github.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /user` with the token as a bearer."""
        return Probe(
            "GET",
            "https://api.github.com/user",
            headers={
                "Authorization": f"Bearer {leak.value.reveal()}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )

    def rate_limited(self, response: httpx.Response) -> bool:
        """429, or 403 with GitHub's primary or secondary rate-limit headers."""
        if response.status_code == 429:
            return True
        return response.status_code == 403 and (
            response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """401 dead; 403 (not a rate limit) authenticated but not allowed: live."""
        if response.status_code == 403:
            return LivenessResult.live_as(self.id, None, "authenticated, but may not read /user (HTTP 403)")
        if response.status_code == 401:
            return LivenessResult.dead(self.id, "refused by api.github.com: bad credentials (HTTP 401)")
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """The account's `login`."""
        return body.get("login") if isinstance(body, dict) else None


class GitlabVerifier(HttpVerifier):
    """GitLab personal, project and group access tokens (`glpat-`) on gitlab.com."""

    id = "gitlab"
    hosts = frozenset({"gitlab.com"})

    def probe(self, leak: Leak) -> Probe:
        """`GET /api/v4/personal_access_tokens/self` with `PRIVATE-TOKEN`."""
        return Probe(
            "GET",
            "https://gitlab.com/api/v4/personal_access_tokens/self",
            headers={"PRIVATE-TOKEN": leak.value.reveal()},
        )

    def judge(self, response: httpx.Response, leak: Leak) -> LivenessResult:
        """200 live unless the token says it is revoked or inactive; 401 dead on gitlab.com."""
        body = json_body(response)
        if response.is_success and isinstance(body, dict) and (body.get("revoked") or body.get("active") is False):
            return LivenessResult.dead(self.id, "gitlab.com reports the token revoked or inactive")
        if response.status_code == 401:
            return LivenessResult.dead(
                self.id,
                "refused by gitlab.com (HTTP 401); a token of a self-managed GitLab is not checked there",
            )
        return super().judge(response, leak)

    def identity(self, body: Any, response: httpx.Response) -> str | None:
        """`<token name> (user <id>)`."""
        if not isinstance(body, dict):
            return None
        name, user = body.get("name"), body.get("user_id")
        if name and user is not None:
            return f"{name} (user {user})"
        return str(name) if name else None
