"""`DigitalOceanTarget`: env vars of a DigitalOcean App Platform app (platform-apis.md §1).

The only way to change an env var is `PUT /v2/apps/{id}` with the **whole** spec; anything left
out (components, domains, other vars, source settings) is deleted. So `set_env` always starts
from a fresh `GET /v2/apps/{id}`, edits the one key and nothing else, and sends the rest back
exactly as read:

- `EnvRef(key)` edits `spec.envs` (app level); `EnvRef(key, component)` edits the `envs` of the
  component of that name in `services`, `workers`, `jobs`, `static_sites` or `functions`.
  App-level SECRET vars do not reach workers and jobs, so policies list those components
  (`inventory/check.py` insists) and the engine writes one ref per component.
- Other vars' `EV[1:...]` values are sent back unchanged (that keeps them; omitting `value`
  would empty them). The edited var gets the new plaintext and `type: SECRET`; its `scope` is
  kept (new vars get the platform default, `RUN_AND_BUILD_TIME`).
- A bindable reference (`${db.DATABASE_URL}`) is never overwritten: that raises.
- The update creates a deployment: `pending_deployment` of the PUT's response. The app is read
  again to confirm the var is there, is a SECRET, and that nothing else in the spec moved.

Reads: DigitalOcean returns SECRET values encrypted (`EV[...]`) and cannot decrypt them for
us. `read_fingerprint` therefore returns None for an encrypted value, except when the `EV[...]`
string is exactly the one this process observed right after its own write: then the var
provably still holds what we wrote, and its fingerprint is known. A fresh process (resume)
sees None; the engine then rewrites and redeploys, which is harmless. GENERAL (plaintext)
vars read back normally.

`redeploy` returns the deployment the last `set_env` created (or, when nothing was written by
this process, starts one with `POST /v2/apps/{id}/deployments`). `wait` polls `phase`: ACTIVE is
live, ERROR and CANCELED failed (with the failing steps' reasons), SUPERSEDED follows the app's
in-progress or active deployment (a newer deploy built from the same spec).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from secretops.inventory.models import DigitalOceanTargetSpec
from secretops.targets._platform import PlatformTarget
from secretops.targets.interface import Deployment, DeployState, EnvRef, TargetError
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["COMPONENT_KINDS", "DigitalOceanTarget"]

#: The spec arrays that hold components, each with its own `envs`.
COMPONENT_KINDS = ("services", "workers", "jobs", "static_sites", "functions")
_KEY = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
_LIVE = {"ACTIVE"}
_FAILED = {"ERROR", "CANCELED"}


def _is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith("EV[")


def _is_binding(value: object) -> bool:
    return isinstance(value, str) and "${" in value


def _mask_encrypted(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _mask_encrypted(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask_encrypted(v) for v in node]
    return "EV[*]" if _is_encrypted(node) else node


class DigitalOceanTarget(PlatformTarget):
    """One App Platform app (`app_id`); refs name a component, or None for app level."""

    kind = "digitalocean"
    base_url = "https://api.digitalocean.com"

    def __init__(self, name: str, spec: DigitalOceanTargetSpec, token: SecretValue, **kw: Any) -> None:
        super().__init__(name, token, **kw)
        self.spec = spec
        self._pending: Deployment | None = None
        # ref -> (the EV[...] string read right after our write, the value we wrote)
        self._sealed: dict[EnvRef, tuple[str, SecretValue]] = {}

    def describe(self) -> str:
        """`digitalocean:<app id>`."""
        return f"digitalocean:{self.spec.app_id}"

    # ---------------------------------------------------------------- spec access

    def _get_app(self) -> dict[str, Any]:
        body = self.api.json("GET", f"/v2/apps/{self.spec.app_id}")
        if not isinstance(body, dict) or not isinstance(body.get("app"), dict):
            raise TargetError(f"{self.describe()}: GET app answered without an app object")
        app: dict[str, Any] = body["app"]
        if not isinstance(app.get("spec"), dict):
            raise TargetError(f"{self.describe()}: the app has no spec", hint="check the app id")
        return app

    def _envs(self, spec: dict[str, Any], ref: EnvRef, *, create: bool) -> list[dict[str, Any]] | None:
        """The `envs` list `ref` lives in (created empty when `create`), None when absent."""
        if ref.component is None:
            holder = spec
        else:
            found = [
                comp
                for kind in COMPONENT_KINDS
                for comp in spec.get(kind) or []
                if isinstance(comp, dict) and comp.get("name") == ref.component
            ]
            if not found:
                present = sorted(
                    str(c.get("name")) for k in COMPONENT_KINDS for c in spec.get(k) or [] if isinstance(c, dict)
                )
                raise TargetError(
                    f"{self.describe()}: the app has no component {ref.component!r} (it has: {', '.join(present)})",
                    hint="fix `components` in the policy to match the app spec",
                )
            holder = found[0]
        envs = holder.get("envs")
        if envs is None:
            if not create:
                return None
            envs = holder["envs"] = []
        if not isinstance(envs, list):
            raise TargetError(f"{self.describe()}: unexpected `envs` in the app spec at {ref}")
        return envs

    @staticmethod
    def _entry(envs: list[dict[str, Any]] | None, key: str) -> dict[str, Any] | None:
        for entry in envs or []:
            if isinstance(entry, dict) and entry.get("key") == key:
                return entry
        return None

    def _without(self, spec: dict[str, Any], ref: EnvRef) -> dict[str, Any]:
        """A copy of `spec` without `ref`'s entry: what must not change when `ref` is written.

        Encrypted values compare as equal whatever their ciphertext (the platform may re-encrypt).
        """
        other: dict[str, Any] = _mask_encrypted(copy.deepcopy(spec))
        envs = self._envs(other, ref, create=False)
        if envs is not None:
            envs[:] = [e for e in envs if not (isinstance(e, dict) and e.get("key") == ref.key)]
            if not envs and ref.component is None:
                other.pop("envs", None)
            elif not envs:
                for kind in COMPONENT_KINDS:
                    for comp in other.get(kind) or []:
                        if isinstance(comp, dict) and comp.get("name") == ref.component:
                            comp.pop("envs", None)
        return other

    # ---------------------------------------------------------------- Target

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Fresh GET, edit `ref` only, PUT the full spec, then read back and confirm."""
        if not _KEY.match(ref.key):
            raise TargetError(
                f"{self.describe()}: {ref.key!r} is not a valid App Platform env var name",
                hint="use letters, digits and underscores, not starting with a digit",
            )
        app = self._get_app()
        before = app["spec"]
        spec = copy.deepcopy(before)
        envs = self._envs(spec, ref, create=True)
        assert envs is not None
        entry = self._entry(envs, ref.key)
        if entry is not None and _is_binding(entry.get("value")):
            raise TargetError(
                f"{self.describe()}: {ref} is a bindable reference (${{...}}); refusing to overwrite it",
                hint="remove this consumer from the policy, or change the app spec by hand",
            )
        if entry is None:
            envs.append({"key": ref.key, "value": value.reveal(), "type": "SECRET", "scope": "RUN_AND_BUILD_TIME"})
        else:
            entry["value"] = value.reveal()
            entry["type"] = "SECRET"
        body = self.api.json(
            "PUT",
            f"/v2/apps/{self.spec.app_id}",
            json={"spec": spec, "update_all_source_versions": False},
            redact=[value],
        )
        pending = (body or {}).get("app", {}).get("pending_deployment") if isinstance(body, dict) else None
        if isinstance(pending, dict) and pending.get("id"):
            self._pending = Deployment(str(pending["id"]), DeployState.PENDING, str(pending.get("phase", "")))
        self._confirm(ref, value, expected_rest=self._without(before, ref))

    def _confirm(self, ref: EnvRef, value: SecretValue, *, expected_rest: dict[str, Any]) -> None:
        after = self._get_app()["spec"]
        entry = self._entry(self._envs(after, ref, create=False), ref.key)
        if entry is None or not entry.get("value"):
            raise TargetError(
                f"{self.describe()}: {ref} is missing or empty after the update",
                hint="check the app's spec in the control panel",
            )
        if entry.get("type") != "SECRET":
            raise TargetError(f"{self.describe()}: {ref} is not a SECRET after the update")
        if self._without(after, ref) != expected_rest:
            raise TargetError(
                f"{self.describe()}: the app spec changed beyond {ref} during the update",
                hint="someone else edited the app at the same time; check its spec, then resume",
            )
        stored = entry["value"]
        if _is_encrypted(stored):
            self._sealed[ref] = (stored, value)
        elif stored != value.reveal():
            raise TargetError(f"{self.describe()}: {ref} reads back a different value after the update")

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """The var's fingerprint; None when unset or encrypted (`EV[...]`) and not our own write."""
        spec = self._get_app()["spec"]
        entry = self._entry(self._envs(spec, ref, create=False), ref.key)
        if entry is None:
            return None
        stored = entry.get("value")
        if not isinstance(stored, str) or stored == "":
            return None
        if _is_encrypted(stored):
            sealed = self._sealed.get(ref)
            if sealed is not None and sealed[0] == stored:
                return fingerprint(key, sealed[1])
            return None  # DigitalOcean cannot decrypt EV[...] for us
        return fingerprint(key, stored)

    def redeploy(self) -> Deployment:
        """The deployment our last update created, or a new one (`POST .../deployments`)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        body = self.api.json("POST", f"/v2/apps/{self.spec.app_id}/deployments", json={"force_build": False})
        dep = body.get("deployment") if isinstance(body, dict) else None
        if not isinstance(dep, dict) or not dep.get("id"):
            raise TargetError(f"{self.describe()}: creating a deployment answered without one")
        return Deployment(str(dep["id"]), DeployState.PENDING, str(dep.get("phase", "")))

    def _get_deployment(self, dep_id: str) -> dict[str, Any]:
        body = self.api.json("GET", f"/v2/apps/{self.spec.app_id}/deployments/{dep_id}")
        dep = body.get("deployment") if isinstance(body, dict) else None
        if not isinstance(dep, dict):
            raise TargetError(f"{self.describe()}: deployment {dep_id} answered without a deployment object")
        return dep

    @staticmethod
    def _failure_detail(dep: dict[str, Any]) -> str:
        phase = str(dep.get("phase"))
        reasons: list[str] = []
        steps = (dep.get("progress") or {}).get("steps") or []

        def walk(items: list[Any]) -> None:
            for step in items:
                if not isinstance(step, dict):
                    continue
                if step.get("status") == "ERROR":
                    reason = step.get("reason") or {}
                    msg = reason.get("message") if isinstance(reason, dict) else None
                    reasons.append(f"{step.get('name')}: {msg}" if msg else str(step.get("name")))
                walk(step.get("steps") or [])

        walk(steps)
        detail = phase + (": " + "; ".join(reasons) if reasons else "")
        return detail if len(detail) <= 300 else detail[:297] + "..."

    def _check(self) -> Callable[[Deployment], Deployment]:
        def check(current: Deployment) -> Deployment:
            dep = self._get_deployment(current.id)
            phase = str(dep.get("phase", "UNKNOWN"))
            if phase in _LIVE:
                note = current.detail if current.detail.startswith("superseded") else ""
                return Deployment(current.id, DeployState.LIVE, phase + (f" ({note})" if note else ""))
            if phase in _FAILED:
                return Deployment(current.id, DeployState.FAILED, self._failure_detail(dep))
            if phase == "SUPERSEDED":
                app = self._get_app()
                newer = (
                    app.get("in_progress_deployment") or app.get("pending_deployment") or app.get("active_deployment")
                )
                if isinstance(newer, dict) and newer.get("id") and newer["id"] != current.id:
                    return Deployment(str(newer["id"]), DeployState.PENDING, f"superseded {current.id}")
                return Deployment(current.id, DeployState.FAILED, "SUPERSEDED, and the app has no newer deployment")
            note = current.detail if current.detail.startswith("superseded") else phase
            return Deployment(current.id, DeployState.PENDING, note)

        return check

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """Poll `phase` until ACTIVE (live) or ERROR/CANCELED (failed); follow SUPERSEDED."""
        if deployment.state is not DeployState.PENDING:
            return deployment
        return self._poll(deployment, timeout, self._check())
