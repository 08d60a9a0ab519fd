"""`RenderTarget`: env vars of a Render service or env group (platform-apis.md §2).

Writes use the per-key endpoint only: `PUT /services/{id}/env-vars/{key}` (or
`PUT /env-groups/{id}/env-vars/{key}`). The bulk `PUT /services/{id}/env-vars` replaces every
var and deletes the ones left out, so it is never used. Render rejects empty values; an empty
value is refused before any request. A web service and its background worker are separate
services: a policy declares one target for each, or an env group linked to both.

Reads: `GET /services/{id}/env-vars/{key}` (404 = unset), or the group's `envVars` from
`GET /env-groups/{id}`; the value is fingerprinted in memory and dropped. `list_keys` walks the
cursor-paginated `GET /services/{id}/env-vars` (an empty page ends it) and keeps names only.

Updating env vars restarts nothing. `redeploy` triggers `POST /services/{id}/deploys` for the
service, or for every service in the group's `serviceLinks`. Render answers 201 with the deploy,
or 202 with no body when the deploy is queued: then the newest deploy in
`GET /services/{id}/deploys` is ours. The returned `Deployment.id` lists `service:deploy` pairs
separated by commas. `wait` polls each deploy's `status`: `live` is done; `build_failed`,
`update_failed`, `pre_deploy_failed` and `canceled` failed; `deactivated` means a newer deploy
replaced ours, so the service's newest deploy is followed instead. With `deploy: false` in the
policy nothing is deployed (`DeployState.NONE`), and running code keeps the old values until
the next deploy.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from secretops.inventory.models import RenderTargetSpec
from secretops.targets._platform import PlatformTarget
from secretops.targets.interface import Deployment, DeployState, EnvRef, TargetError
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["RenderTarget"]

_LIVE = {"live"}
_FAILED = {"build_failed", "update_failed", "pre_deploy_failed", "canceled"}


class RenderTarget(PlatformTarget):
    """A Render service (`service_id`) or env group (`env_group_id`)."""

    kind = "render"
    base_url = "https://api.render.com/v1"
    default_headers = {"Accept": "application/json"}

    def __init__(self, name: str, spec: RenderTargetSpec, token: SecretValue, **kw: Any) -> None:
        super().__init__(name, token, **kw)
        self.spec = spec

    def describe(self) -> str:
        """`render:<service id>` or `render:env-group:<id>`."""
        if self.spec.service_id:
            return f"render:{self.spec.service_id}"
        return f"render:env-group:{self.spec.env_group_id}"

    def _check_ref(self, ref: EnvRef) -> None:
        if ref.component is not None:
            raise TargetError(
                f"{self.describe()}: Render has no components (got {ref})",
                hint="a worker is its own Render service: declare it as another target, or use an env group",
            )

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Create or update one var with the per-key PUT (never the bulk PUT)."""
        self._check_ref(ref)
        if not value.reveal():
            raise TargetError(f"{self.describe()}: Render rejects empty values ({ref})", hint="check the template")
        if self.spec.service_id:
            path = f"/services/{self.spec.service_id}/env-vars/{ref.key}"
        else:
            path = f"/env-groups/{self.spec.env_group_id}/env-vars/{ref.key}"
        self.api.request("PUT", path, json={"value": value.reveal()}, redact=[value])

    def _group(self) -> dict[str, Any]:
        body = self.api.json("GET", f"/env-groups/{self.spec.env_group_id}")
        if not isinstance(body, dict):
            raise TargetError(f"{self.describe()}: GET env group answered without an object")
        return body

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """The fingerprint of the var's value now, None when it is not set."""
        self._check_ref(ref)
        value: object = None
        if self.spec.service_id:
            response = self.api.request("GET", f"/services/{self.spec.service_id}/env-vars/{ref.key}", allow=(404,))
            if response.status_code == 404:
                return None
            body = response.json()
            if isinstance(body, dict):
                inner = body.get("envVar", body)
                value = inner.get("value") if isinstance(inner, dict) else None
        else:
            for item in self._group().get("envVars") or []:
                if isinstance(item, dict) and item.get("key") == ref.key:
                    value = item.get("value")
        if not isinstance(value, str):
            return None
        return fingerprint(key, value)

    def list_keys(self) -> list[str]:
        """Every var name on the service or group (values are not kept), following list cursors."""
        if not self.spec.service_id:
            return [str(i["key"]) for i in self._group().get("envVars") or [] if isinstance(i, dict)]
        keys: list[str] = []
        params: dict[str, str | int] = {"limit": 100}
        for _ in range(1000):
            page = self.api.json("GET", f"/services/{self.spec.service_id}/env-vars", params=params)
            items = [i for i in page or [] if isinstance(i, dict)]
            if not items:
                break
            keys.extend(str((i.get("envVar") or {}).get("key")) for i in items)
            params = {"limit": 100, "cursor": str(items[-1].get("cursor"))}
        return keys

    def _services(self) -> list[str]:
        if self.spec.service_id:
            return [self.spec.service_id]
        links = self._group().get("serviceLinks") or []
        return [str(link["id"]) for link in links if isinstance(link, dict) and link.get("id")]

    def _latest_deploy(self, service: str) -> dict[str, Any] | None:
        body = self.api.json("GET", f"/services/{service}/deploys", params={"limit": 1})
        for item in body or []:
            dep = item.get("deploy", item) if isinstance(item, dict) else None
            if isinstance(dep, dict) and dep.get("id"):
                return dep
        return None

    def redeploy(self) -> Deployment:
        """Deploy the service, or every service linked to the group."""
        if not self.spec.deploy:
            return Deployment(
                "none", DeployState.NONE, "deploy: false in the policy; running code sees the change later"
            )
        services = self._services()
        if not services:
            return Deployment("none", DeployState.NONE, "the env group is linked to no service")
        ids: list[str] = []
        for service in services:
            response = self.api.request("POST", f"/services/{service}/deploys", json={"clearCache": "do_not_clear"})
            dep: Any = response.json() if response.status_code == 201 and response.content else None
            if not (isinstance(dep, dict) and dep.get("id")):
                # 202: queued with no body; the newest deploy of the service is ours.
                dep = self._latest_deploy(service)
                if dep is None:
                    raise TargetError(f"{self.describe()}: service {service} accepted a deploy but lists none")
            ids.append(f"{service}:{dep['id']}")
        return Deployment(",".join(ids), DeployState.PENDING)

    def _status(self, service: str, deploy: str) -> tuple[str, str]:
        """(deploy id, status) of `deploy`, following a newer deploy when ours was deactivated."""
        body = self.api.json("GET", f"/services/{service}/deploys/{deploy}")
        status = str(body.get("status")) if isinstance(body, dict) else "unknown"
        if status == "deactivated":
            newest = self._latest_deploy(service)
            if newest is not None and newest["id"] != deploy:
                return str(newest["id"]), str(newest.get("status"))
        return deploy, status

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """Poll every deploy in `deployment.id` until all are live, or one failed."""
        if deployment.state is not DeployState.PENDING:
            return deployment

        def check(current: Deployment) -> Deployment:
            pairs = [part.split(":", 1) for part in current.id.split(",") if ":" in part]
            if not pairs:
                raise TargetError(f"{self.describe()}: {current.id!r} is not a Render deployment id")
            ids, states = [], []
            for service, deploy in pairs:
                deploy, status = self._status(service, deploy)
                ids.append(f"{service}:{deploy}")
                states.append((service, deploy, status))
            new_id = ",".join(ids)
            failed = [s for s in states if s[2] in _FAILED or s[2] == "deactivated"]
            if failed:
                detail = "; ".join(f"{svc} deploy {dep} {status}" for svc, dep, status in failed)
                return Deployment(new_id, DeployState.FAILED, detail)
            if all(s[2] in _LIVE for s in states):
                return Deployment(new_id, DeployState.LIVE, "live")
            return Deployment(new_id, DeployState.PENDING, ", ".join(f"{s[0]} {s[2]}" for s in states))

        return self._poll(deployment, timeout, check)
