"""A stateful fake of DigitalOcean App Platform (platform-apis.md §1), traps included.

- `PUT /v2/apps/{id}` replaces the whole spec: omitted components, domains and envs are gone.
- SECRET values are stored encrypted: reads return `EV[1:...:...]`; sending an `EV[...]` back
  keeps the value; omitting `value` stores an empty value (the spec still shows `EV[...]`).
- App-level SECRET vars do not reach workers and jobs (`runtime_env`).
- Every update creates a deployment (`pending_deployment` in the answer); a newer deployment
  supersedes one still in progress. Deployments advance one phase per GET; `deploy_outcomes`
  decides how the next ones end (ACTIVE by default, or ERROR / CANCELED).
"""

from __future__ import annotations

import copy
import itertools
import re
import secrets
from typing import Any

import httpx

from tests.fakes.platforms.base import FakePlatform, Handler, body_of, reply

COMPONENT_KINDS = ("services", "workers", "jobs", "static_sites", "functions")
_KEY = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
_TERMINAL = {"ACTIVE", "ERROR", "CANCELED", "SUPERSEDED"}


class FakeDigitalOcean(FakePlatform):
    """Apps by id, their (encrypted) specs, deployments, and what running containers see."""

    token = "dop_v1_fake_token_for_tests"

    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, dict[str, Any]] = {}
        self.ev: dict[str, str] = {}  # EV[...] -> plaintext
        self.deployments: dict[str, dict[str, Any]] = {}
        self.live: dict[str, dict[str, Any]] = {}  # app id -> spec of the active deployment
        self.puts: list[dict[str, Any]] = []
        self.deploy_outcomes: list[str] = []  # how the next deployments end; empty = ACTIVE
        self._ids = itertools.count(1)

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", r"/v2/apps/(?P<app>[^/]+)", self._get_app),
            ("PUT", r"/v2/apps/(?P<app>[^/]+)", self._put_app),
            ("POST", r"/v2/apps/(?P<app>[^/]+)/deployments", self._create_deployment),
            ("GET", r"/v2/apps/(?P<app>[^/]+)/deployments/(?P<dep>[^/]+)", self._get_deployment),
        ]

    # ------------------------------------------------------------ setup and inspection

    def add_app(self, app_id: str, spec: dict[str, Any]) -> None:
        """Create an app from a plaintext spec (SECRET values get encrypted) and deploy it live."""
        self.apps[app_id] = {"id": app_id, "spec": self._store_spec(copy.deepcopy(spec))}
        self.live[app_id] = copy.deepcopy(self.apps[app_id]["spec"])

    def stored_spec(self, app_id: str) -> dict[str, Any]:
        """The spec as the API would show it (EV[...] values)."""
        return copy.deepcopy(self.apps[app_id]["spec"])

    def plaintext(self, app_id: str, component: str | None, key: str) -> str | None:
        """The decrypted stored value of a var (what the next deployment would get)."""
        spec = self.apps[app_id]["spec"]
        for entry in _envs(spec, component) or []:
            if entry.get("key") == key:
                value = entry.get("value", "")
                return self.ev.get(value, value)
        return None

    def runtime_env(self, app_id: str, component: str) -> dict[str, str]:
        """What the running container of `component` sees (the active deployment's spec)."""
        spec = self.live[app_id]
        kind = next(k for k in COMPONENT_KINDS for c in spec.get(k) or [] if c.get("name") == component)
        out: dict[str, str] = {}
        for entry in spec.get("envs") or []:
            if entry.get("type") == "SECRET" and kind in ("workers", "jobs"):
                continue  # observed: app-level SECRET vars do not reach workers and jobs
            out[entry["key"]] = self.ev.get(entry.get("value", ""), entry.get("value", ""))
        for entry in _envs(spec, component) or []:
            out[entry["key"]] = self.ev.get(entry.get("value", ""), entry.get("value", ""))
        return out

    # ------------------------------------------------------------ handlers

    def _store_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Encrypt SECRET plaintext; keep known EV[...]; an omitted value becomes empty."""
        lists = [spec.get("envs") or []] + [c.get("envs") or [] for k in COMPONENT_KINDS for c in spec.get(k) or []]
        for envs in lists:
            for entry in envs:
                if not _KEY.match(str(entry.get("key", ""))):
                    raise _Invalid(f"invalid env key {entry.get('key')!r}")
                value = entry.get("value", "")  # omitted value: the container gets an empty variable
                entry.setdefault("scope", "RUN_AND_BUILD_TIME")
                entry.setdefault("type", "GENERAL")
                if isinstance(value, str) and value.startswith("EV["):
                    if value not in self.ev:
                        raise _Invalid("invalid encrypted value")
                    entry["value"] = value
                elif entry["type"] == "SECRET":
                    token = f"EV[1:{secrets.token_hex(8)}:{secrets.token_hex(16)}]"
                    self.ev[token] = value
                    entry["value"] = token
                else:
                    entry["value"] = value
        return spec

    def _app_view(self, app_id: str) -> dict[str, Any]:
        app = self.apps[app_id]
        view: dict[str, Any] = {"id": app_id, "spec": copy.deepcopy(app["spec"])}
        for field in ("active_deployment", "in_progress_deployment"):
            dep_id = app.get(field)
            if dep_id:
                view[field] = self._dep_view(dep_id)
        return view

    def _dep_view(self, dep_id: str) -> dict[str, Any]:
        dep = self.deployments[dep_id]
        view = {k: v for k, v in dep.items() if k not in ("spec", "phases", "app")}
        return copy.deepcopy(view)

    def _get_app(self, request: httpx.Request, app: str) -> httpx.Response:
        if app not in self.apps:
            return self.error(404, "not_found", "app not found")
        return reply(200, {"app": self._app_view(app)})

    def _put_app(self, request: httpx.Request, app: str) -> httpx.Response:
        if app not in self.apps:
            return self.error(404, "not_found", "app not found")
        body = body_of(request)
        self.puts.append(copy.deepcopy(body))
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict) or "name" not in body["spec"]:
            return self.error(422, "unprocessable_entity", "spec is required")
        try:
            spec = self._store_spec(copy.deepcopy(body["spec"]))
        except _Invalid as exc:
            return self.error(422, "unprocessable_entity", str(exc))
        self.apps[app]["spec"] = spec  # the PUT replaces the whole spec
        dep_id = self._new_deployment(app, "app spec updated")
        view = self._app_view(app)
        view["pending_deployment"] = self._dep_view(dep_id)
        return reply(200, {"app": view})

    def _new_deployment(self, app: str, cause: str) -> str:
        for other in self.deployments.values():
            if other["app"] == app and other["phase"] not in _TERMINAL:
                other["phase"] = "SUPERSEDED"
                other["phases"] = []
        dep_id = f"dep-{next(self._ids)}"
        outcome = self.deploy_outcomes.pop(0) if self.deploy_outcomes else "ACTIVE"
        self.deployments[dep_id] = {
            "id": dep_id,
            "app": app,
            "cause": cause,
            "phase": "PENDING_BUILD",
            "phases": ["BUILDING", "DEPLOYING", outcome],
            "progress": {"steps": []},
            "spec": copy.deepcopy(self.apps[app]["spec"]),
        }
        self.apps[app]["in_progress_deployment"] = dep_id
        return dep_id

    def _create_deployment(self, request: httpx.Request, app: str) -> httpx.Response:
        if app not in self.apps:
            return self.error(404, "not_found", "app not found")
        dep_id = self._new_deployment(app, "manual")
        return reply(200, {"deployment": self._dep_view(dep_id)})

    def _get_deployment(self, request: httpx.Request, app: str, dep: str) -> httpx.Response:
        found = self.deployments.get(dep)
        if found is None or found["app"] != app:
            return self.error(404, "not_found", "deployment not found")
        if found["phases"]:
            found["phase"] = found["phases"].pop(0)
            if found["phase"] == "ACTIVE":
                self.live[app] = copy.deepcopy(found["spec"])
                self.apps[app]["active_deployment"] = dep
                self.apps[app].pop("in_progress_deployment", None)
            elif found["phase"] == "ERROR":
                found["progress"] = {
                    "steps": [
                        {
                            "name": "build",
                            "status": "ERROR",
                            "steps": [
                                {
                                    "name": "buildpack",
                                    "status": "ERROR",
                                    "reason": {"code": "BuildJobExitNonZero", "message": "build exited with code 1"},
                                }
                            ],
                        }
                    ]
                }
                self.apps[app].pop("in_progress_deployment", None)
        return reply(200, {"deployment": self._dep_view(dep)})


class _Invalid(Exception):
    pass


def _envs(spec: dict[str, Any], component: str | None) -> list[dict[str, Any]] | None:
    if component is None:
        envs: list[dict[str, Any]] | None = spec.get("envs")
        return envs
    for kind in COMPONENT_KINDS:
        for comp in spec.get(kind) or []:
            if comp.get("name") == component:
                found: list[dict[str, Any]] | None = comp.get("envs")
                return found
    raise KeyError(component)
