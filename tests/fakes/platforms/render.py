"""A stateful fake of Render's API (platform-apis.md §2), traps included.

- The bulk `PUT /services/{id}/env-vars` replaces every var (omitted ones are deleted); the
  per-key `PUT .../env-vars/{key}` touches one. Empty values are rejected.
- Env-var lists are paginated with cursors (`page_size` items per page).
- Env groups: per-key PUT works, bulk `PUT/PATCH /env-groups/{id}` answers 405.
- `POST /services/{id}/deploys` answers 201 with the deploy, or 202 with no body when
  `queue_deploys` is set. Deploys advance one status per GET; `deploy_outcomes` decides how the
  next ones end. A deploy going live deactivates the previous live one and becomes what the
  running service sees (`runtime_env`: group vars, then service vars).
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

import httpx

from tests.fakes.platforms.base import FakePlatform, Handler, body_of, reply

_TERMINAL = {"live", "deactivated", "build_failed", "update_failed", "pre_deploy_failed", "canceled"}


class FakeRender(FakePlatform):
    """Services, env groups and deploys."""

    token = "rnd_fakeTokenForTests000"

    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.services: dict[str, dict[str, str]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.deploys: dict[str, list[dict[str, Any]]] = {}  # service -> newest first
        self.live_env: dict[str, dict[str, str]] = {}
        self.queue_deploys = False
        self.deploy_outcomes: list[str] = []
        self._ids = itertools.count(1)

    def routes(self) -> list[tuple[str, str, Handler]]:
        s = r"/v1/services/(?P<sid>[^/]+)"
        g = r"/v1/env-groups/(?P<gid>[^/]+)"
        return [
            ("GET", s + "/env-vars", self._list_env),
            ("PUT", s + "/env-vars", self._bulk_put),
            ("GET", s + "/env-vars/(?P<key>[^/]+)", self._get_env),
            ("PUT", s + "/env-vars/(?P<key>[^/]+)", self._put_env),
            ("DELETE", s + "/env-vars/(?P<key>[^/]+)", self._delete_env),
            ("POST", s + "/deploys", self._create_deploy),
            ("GET", s + "/deploys", self._list_deploys),
            ("GET", s + "/deploys/(?P<did>[^/]+)", self._get_deploy),
            ("GET", g, self._get_group),
            ("PUT", g, self._no_bulk_group),
            ("PATCH", g, self._no_bulk_group),
            ("PUT", g + "/env-vars/(?P<key>[^/]+)", self._put_group_env),
        ]

    # ------------------------------------------------------------ setup

    def add_service(self, sid: str, env: dict[str, str]) -> None:
        """A service with `env`, live with it."""
        self.services[sid] = dict(env)
        self.deploys[sid] = [{"id": f"dep-initial-{sid}", "status": "live", "trigger": "new_commit"}]
        self.live_env[sid] = self._effective(sid)

    def add_group(self, gid: str, env: dict[str, str], services: list[str]) -> None:
        """An env group linked to `services`."""
        self.groups[gid] = {"id": gid, "name": gid, "env": dict(env), "services": list(services)}
        for sid in services:
            self.live_env[sid] = self._effective(sid)

    def _effective(self, sid: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for group in self.groups.values():
            if sid in group["services"]:
                out.update(group["env"])
        out.update(self.services[sid])
        return out

    def runtime_env(self, sid: str) -> dict[str, str]:
        """What the running service sees (as of its last live deploy)."""
        return dict(self.live_env[sid])

    # ------------------------------------------------------------ env vars

    def _value(self, request: httpx.Request) -> str | httpx.Response:
        body = body_of(request)
        if isinstance(body, dict) and body.get("generateValue"):
            return secrets.token_urlsafe(24)
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, str) or value == "":
            return self.error(400, "invalid_value", "value must be a non-empty string")
        return value

    def _list_env(self, request: httpx.Request, sid: str) -> httpx.Response:
        if sid not in self.services:
            return self.error(404, "not_found", "service not found")
        keys = list(self.services[sid])
        cursor = request.url.params.get("cursor")
        start = keys.index(cursor) + 1 if cursor in keys else 0
        limit = min(int(request.url.params.get("limit", self.page_size)), self.page_size)
        page = keys[start : start + limit]
        return reply(200, [{"envVar": {"key": k, "value": self.services[sid][k]}, "cursor": k} for k in page])

    def _bulk_put(self, request: httpx.Request, sid: str) -> httpx.Response:
        body = body_of(request)
        self.services[sid] = {item["key"]: item["value"] for item in body}  # omitted vars are deleted
        return reply(200, [{"envVar": {"key": k, "value": v}} for k, v in self.services[sid].items()])

    def _get_env(self, request: httpx.Request, sid: str, key: str) -> httpx.Response:
        if sid not in self.services:
            return self.error(404, "not_found", "service not found")
        if key not in self.services[sid]:
            return self.error(404, "not_found", "env var not found")
        return reply(200, {"key": key, "value": self.services[sid][key]})

    def _put_env(self, request: httpx.Request, sid: str, key: str) -> httpx.Response:
        if sid not in self.services:
            return self.error(404, "not_found", "service not found")
        value = self._value(request)
        if isinstance(value, httpx.Response):
            return value
        self.services[sid][key] = value
        return reply(200, {"key": key, "value": value})

    def _delete_env(self, request: httpx.Request, sid: str, key: str) -> httpx.Response:
        self.services.get(sid, {}).pop(key, None)
        return reply(204)

    # ------------------------------------------------------------ env groups

    def _get_group(self, request: httpx.Request, gid: str) -> httpx.Response:
        group = self.groups.get(gid)
        if group is None:
            return self.error(404, "not_found", "env group not found")
        return reply(
            200,
            {
                "id": gid,
                "name": group["name"],
                "envVars": [{"key": k, "value": v} for k, v in group["env"].items()],
                "secretFiles": [],
                "serviceLinks": [{"id": sid, "name": sid, "type": "web_service"} for sid in group["services"]],
            },
        )

    def _no_bulk_group(self, request: httpx.Request, gid: str) -> httpx.Response:
        return self.error(405, "method_not_allowed", "use the per-key endpoint")

    def _put_group_env(self, request: httpx.Request, gid: str, key: str) -> httpx.Response:
        group = self.groups.get(gid)
        if group is None:
            return self.error(404, "not_found", "env group not found")
        value = self._value(request)
        if isinstance(value, httpx.Response):
            return value
        group["env"][key] = value
        return reply(200, {"key": key, "value": value})

    # ------------------------------------------------------------ deploys

    def _create_deploy(self, request: httpx.Request, sid: str) -> httpx.Response:
        if sid not in self.services:
            return self.error(404, "not_found", "service not found")
        outcome = self.deploy_outcomes.pop(0) if self.deploy_outcomes else "live"
        dep = {
            "id": f"dep-{next(self._ids)}",
            "status": "created",
            "trigger": "api",
            "statuses": ["build_in_progress", "update_in_progress", outcome],
            "env": self._effective(sid),
        }
        self.deploys[sid].insert(0, dep)
        if self.queue_deploys:
            return reply(202)
        return reply(201, self._view(dep))

    @staticmethod
    def _view(dep: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in dep.items() if k not in ("statuses", "env")}

    def _list_deploys(self, request: httpx.Request, sid: str) -> httpx.Response:
        limit = int(request.url.params.get("limit", 20))
        items = self.deploys.get(sid, [])[:limit]
        return reply(200, [{"deploy": self._view(d), "cursor": d["id"]} for d in items])

    def _get_deploy(self, request: httpx.Request, sid: str, did: str) -> httpx.Response:
        dep = next((d for d in self.deploys.get(sid, []) if d["id"] == did), None)
        if dep is None:
            return self.error(404, "not_found", "deploy not found")
        if dep.get("statuses"):
            dep["status"] = dep["statuses"].pop(0)
            if dep["status"] == "live":
                for other in self.deploys[sid]:
                    if other is not dep and other["status"] == "live":
                        other["status"] = "deactivated"
                self.live_env[sid] = dict(dep["env"])
        return reply(200, self._view(dep))
