"""`HerokuTarget`: a Heroku app's config vars (platform-apis.md §4).

`set_env` sends `PATCH /apps/{app}/config-vars {KEY: value}`: Heroku merges it (keys not
mentioned are left alone; only `null` would delete one, and we never send `null`). The
response is the full resulting map, checked for the new value. Config vars are per app, so web
and worker dynos share them.

Each change creates a release that restarts the dynos. `redeploy` starts nothing: it finds the
newest release (`GET /apps/{app}/releases` with `Range: version ..; order=desc, max=1`), and
`wait` polls `GET /apps/{app}/releases/{id}` until `status` is `succeeded` (live) or `failed`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from secretops.inventory.models import HerokuTargetSpec
from secretops.targets._platform import PlatformTarget
from secretops.targets.interface import Deployment, DeployState, EnvRef, TargetError
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["HerokuTarget"]


class HerokuTarget(PlatformTarget):
    """One Heroku app (`app`: name or id)."""

    kind = "heroku"
    base_url = "https://api.heroku.com"
    default_headers = {"Accept": "application/vnd.heroku+json; version=3"}

    def __init__(self, name: str, spec: HerokuTargetSpec, token: SecretValue, **kw: Any) -> None:
        super().__init__(name, token, **kw)
        self.spec = spec

    def describe(self) -> str:
        """`heroku:<app>`."""
        return f"heroku:{self.spec.app}"

    def _check_ref(self, ref: EnvRef) -> None:
        if ref.component is not None:
            raise TargetError(
                f"{self.describe()}: Heroku config vars are per app, not per component (got {ref})",
                hint="remove `components` from the consumer: web and worker dynos share config vars",
            )

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Merge `{key: value}` into the config vars and check the resulting map."""
        self._check_ref(ref)
        body = self.api.json(
            "PATCH", f"/apps/{self.spec.app}/config-vars", json={ref.key: value.reveal()}, redact=[value]
        )
        got = body.get(ref.key) if isinstance(body, dict) else None
        if not isinstance(got, str) or SecretValue(got) != value:
            raise TargetError(
                f"{self.describe()}: {ref.key} does not hold the new value after the update",
                hint="check the app's config vars in the dashboard",
            )

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """The fingerprint of the config var now, None when unset."""
        self._check_ref(ref)
        body = self.api.json("GET", f"/apps/{self.spec.app}/config-vars")
        value = body.get(ref.key) if isinstance(body, dict) else None
        return fingerprint(key, value) if isinstance(value, str) else None

    @staticmethod
    def _state(release: dict[str, Any]) -> Deployment:
        rid = str(release.get("id"))
        status = str(release.get("status", "unknown"))
        version = release.get("version")
        label = f"v{version} {status}" if version is not None else status
        if status == "succeeded":
            return Deployment(rid, DeployState.LIVE, label)
        if status == "failed":
            desc = release.get("description")
            return Deployment(rid, DeployState.FAILED, label + (f": {desc}" if desc else ""))
        return Deployment(rid, DeployState.PENDING, label)

    def redeploy(self) -> Deployment:
        """The newest release: a config change already released and restarted the dynos."""
        body = self.api.json(
            "GET", f"/apps/{self.spec.app}/releases", headers={"Range": "version ..; order=desc, max=1"}
        )
        if not isinstance(body, list) or not body or not isinstance(body[0], dict):
            raise TargetError(f"{self.describe()}: the app lists no release", hint="check the app name")
        return self._state(body[0])

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """Poll the release until `succeeded` or `failed`."""
        if deployment.state is not DeployState.PENDING:
            return deployment

        def check(current: Deployment) -> Deployment:
            body = self.api.json("GET", f"/apps/{self.spec.app}/releases/{current.id}")
            if not isinstance(body, dict):
                raise TargetError(f"{self.describe()}: release {current.id} answered without an object")
            return self._state(body)

        return self._poll(deployment, timeout, check)
