"""`VercelTarget`: a Vercel project's env vars for some environments (platform-apis.md §3).

`set_env` upserts one var for the policy's `environments` (`POST /v10/projects/{p}/env?upsert=true`
with `target: [...]`), typed `encrypted`, or `sensitive` when the existing var already is.
Vercel answers 200 even when the write failed: the `failed` array is checked and any entry
raises.

Reads: the list (`GET /v10/projects/{p}/env`) may return ciphertext even with `decrypt=true`,
so it only finds the var's ids; each value comes from `GET /v1/projects/{p}/env/{id}`.
`sensitive` vars are write-only: `read_fingerprint` returns None for them (the engine then
relies on deploy status and health checks). When different vars serve the requested
environments with different values, the result is a `mixed:` marker that matches no
fingerprint, so the engine sees a mismatch.

Env changes reach only new deployments. `redeploy` finds the current production deployment
(`GET /v6/deployments?projectId=...&target=production&state=READY&limit=1`) and redeploys it
(`POST /v13/deployments`); preview and development values apply to the next build, so a target
without `production` has nothing to deploy. `wait` polls `readyState`: READY is live, ERROR and
CANCELED failed; a CANCELED redeploy is usually the project's Ignored Build Step skipping a
same-commit build, and the detail says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from secretops.inventory.models import VercelTargetSpec
from secretops.targets._platform import PlatformTarget
from secretops.targets.interface import Deployment, DeployState, EnvRef, TargetError
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["VercelTarget"]


class VercelTarget(PlatformTarget):
    """One Vercel project (`project`: id or name), optionally in a team (`team_id`)."""

    kind = "vercel"
    base_url = "https://api.vercel.com"

    def __init__(self, name: str, spec: VercelTargetSpec, token: SecretValue, **kw: Any) -> None:
        super().__init__(name, token, **kw)
        self.spec = spec

    def describe(self) -> str:
        """`vercel:<project>`."""
        return f"vercel:{self.spec.project}"

    def _params(self, **extra: str | int) -> dict[str, str | int]:
        params: dict[str, str | int] = dict(extra)
        if self.spec.team_id:
            params["teamId"] = self.spec.team_id
        return params

    def _check_ref(self, ref: EnvRef) -> None:
        if ref.component is not None:
            raise TargetError(
                f"{self.describe()}: Vercel has no components (got {ref})",
                hint="choose Vercel environments with `environments` on the target",
            )

    def _list(self) -> list[dict[str, Any]]:
        """Every env var of the project (values may be ciphertext: ids and metadata only)."""
        out: list[dict[str, Any]] = []
        params = self._params()
        for _ in range(100):
            body = self.api.json("GET", f"/v10/projects/{self.spec.project}/env", params=params)
            if not isinstance(body, dict):
                break
            out.extend(e for e in body.get("envs") or [] if isinstance(e, dict))
            nxt = (body.get("pagination") or {}).get("next")
            if not nxt:
                break
            params = self._params(until=nxt)
        return out

    def _matching(self, key: str) -> list[dict[str, Any]]:
        """Vars named `key` serving any of our environments (branch-specific ones excluded)."""
        wanted = set(self.spec.environments)
        return [
            e
            for e in self._list()
            if e.get("key") == key and not e.get("gitBranch") and wanted & set(e.get("target") or [])
        ]

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Upsert `ref.key` for every configured environment; raise on any `failed` entry."""
        self._check_ref(ref)
        existing = self._matching(ref.key)
        sensitive = any(e.get("type") == "sensitive" for e in existing) and "development" not in self.spec.environments
        body = self.api.json(
            "POST",
            f"/v10/projects/{self.spec.project}/env",
            params=self._params(upsert="true"),
            json={
                "key": ref.key,
                "value": value.reveal(),
                "type": "sensitive" if sensitive else "encrypted",
                "target": list(self.spec.environments),
            },
            redact=[value],
        )
        failed = body.get("failed") if isinstance(body, dict) else None
        if failed:
            reasons = []
            for item in failed:
                err = item.get("error", item) if isinstance(item, dict) else {}
                code = err.get("code", "error") if isinstance(err, dict) else "error"
                message = err.get("message", "") if isinstance(err, dict) else ""
                text = f"{code}: {message}" if message else str(code)
                reasons.append(text.replace(value.reveal(), "***") if len(value) >= 4 else text)
            raise TargetError(
                f"{self.describe()}: Vercel did not save {ref.key}: " + "; ".join(reasons)[:300],
                hint="see Vercel's message; the var may exist for another environment set or branch",
            )

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """Fingerprint of the value our environments get; None if unset for one, or sensitive."""
        self._check_ref(ref)
        matches = self._matching(ref.key)
        covered = {t for e in matches for t in e.get("target") or []}
        if not matches or not set(self.spec.environments) <= covered:
            return None
        if any(e.get("type") == "sensitive" for e in matches):
            return None  # write-only
        fps: set[str] = set()
        for entry in matches:
            body = self.api.json(
                "GET", f"/v1/projects/{self.spec.project}/env/{entry.get('id')}", params=self._params()
            )
            value = body.get("value") if isinstance(body, dict) else None
            if not isinstance(value, str):
                return None
            fps.add(fingerprint(key, value))
        if len(fps) == 1:
            return fps.pop()
        return "mixed:" + ",".join(sorted(fps))

    def redeploy(self) -> Deployment:
        """Redeploy the current READY production deployment (new env needs a new deployment)."""
        if "production" not in self.spec.environments:
            return Deployment("none", DeployState.NONE, "preview/development values apply to the next deployment")
        body = self.api.json(
            "GET",
            "/v6/deployments",
            params=self._params(projectId=self.spec.project, target="production", state="READY", limit=1),
        )
        deployments = body.get("deployments") if isinstance(body, dict) else None
        if not deployments:
            raise TargetError(
                f"{self.describe()}: no READY production deployment to redeploy",
                hint="deploy the project once, then resume the rotation",
            )
        current = deployments[0]
        created = self.api.json(
            "POST",
            "/v13/deployments",
            params=self._params(),
            json={
                "name": current.get("name") or self.spec.project,
                "deploymentId": current["uid"],
                "target": "production",
            },
        )
        if not isinstance(created, dict) or not created.get("id"):
            raise TargetError(f"{self.describe()}: the redeploy answered without a deployment id")
        return Deployment(str(created["id"]), DeployState.PENDING, str(created.get("readyState", "")))

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """Poll `readyState` until READY (live) or ERROR/CANCELED (failed)."""
        if deployment.state is not DeployState.PENDING:
            return deployment

        def check(current: Deployment) -> Deployment:
            body = self.api.json("GET", f"/v13/deployments/{current.id}", params=self._params())
            state = str(body.get("readyState")) if isinstance(body, dict) else "UNKNOWN"
            if state == "READY":
                return Deployment(current.id, DeployState.LIVE, "READY")
            if state == "ERROR":
                assert isinstance(body, dict)
                why = body.get("errorMessage") or body.get("errorCode") or "build or deploy error"
                return Deployment(current.id, DeployState.FAILED, f"ERROR: {why}"[:300])
            if state == "CANCELED":
                return Deployment(
                    current.id,
                    DeployState.FAILED,
                    "CANCELED: the redeploy was canceled (an Ignored Build Step skips same-commit builds); "
                    "the new values are not live",
                )
            return Deployment(current.id, DeployState.PENDING, state)

        return self._poll(deployment, timeout, check)
