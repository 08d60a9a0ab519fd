"""A stateful fake of Vercel's project env and deployment API (platform-apis.md §3), traps included.

- `POST /v10/projects/{p}/env?upsert=true` answers 200 with a `failed` array for entries it
  refused (a `sensitive` var for `development`, a target set overlapping a different var, or one
  `fail_next_upsert` injection); without `upsert`, a duplicate is 403 `ENV_ALREADY_EXISTS`.
- The list `GET /v10/projects/{p}/env` returns ciphertext even with `decrypt=true`; the single
  `GET /v1/projects/{p}/env/{id}` decrypts. `sensitive` values are never returned.
- The list is paginated (`page_size`, `pagination.next`, `until=`).
- `POST /v13/deployments` with `deploymentId` redeploys; it advances one `readyState` per GET,
  ending as `deploy_outcomes` says (READY by default, ERROR, or CANCELED). A READY production
  deployment takes the env at its creation (`runtime_env`).
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx

from tests.fakes.platforms.base import FakePlatform, Handler, body_of, reply


class FakeVercel(FakePlatform):
    """One team's projects, their env vars and deployments."""

    token = "vercel_fake_token_for_tests"

    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.projects: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.deploy_outcomes: list[str] = []
        self.fail_next_upsert: dict[str, str] | None = None
        self.team_ids: list[str | None] = []
        self._ids = itertools.count(1)

    def error(self, status: int, ident: str, message: str) -> httpx.Response:
        return reply(status, {"error": {"code": ident, "message": message}})

    def routes(self) -> list[tuple[str, str, Handler]]:
        p = r"/(?P<ver>v\d+)/projects/(?P<project>[^/]+)/env"
        return [
            ("GET", p, self._list),
            ("POST", p, self._create),
            ("GET", p + r"/(?P<env_id>[^/]+)", self._get_one),
            ("GET", r"/v6/deployments", self._list_deployments),
            ("POST", r"/v13/deployments", self._redeploy),
            ("GET", r"/v13/deployments/(?P<dep>[^/]+)", self._get_deployment),
        ]

    # ------------------------------------------------------------ setup

    def add_project(self, pid: str, name: str, envs: list[dict[str, Any]]) -> None:
        """A project with `envs` (`key`, `value`, `type`, `target`) and one READY production deploy."""
        stored = [{"id": f"env-{next(self._ids)}", "gitBranch": None, **e} for e in envs]
        self.projects[pid] = {"id": pid, "name": name, "envs": stored}
        dep_id = f"dpl_{next(self._ids)}"
        self.deployments[dep_id] = {
            "uid": dep_id,
            "id": dep_id,
            "name": name,
            "projectId": pid,
            "target": "production",
            "readyState": "READY",
            "states": [],
            "env": self._env_for(pid, "production"),
        }

    def _project(self, ref: str) -> dict[str, Any] | None:
        return next((p for p in self.projects.values() if ref in (p["id"], p["name"])), None)

    def _env_for(self, pid: str, target: str) -> dict[str, str]:
        return {e["key"]: e["value"] for e in self.projects[pid]["envs"] if target in e["target"]}

    def values(self, pid: str, key: str) -> dict[str, str]:
        """Stored plaintext of `key` by environment."""
        return {t: e["value"] for e in self.projects[pid]["envs"] if e["key"] == key for t in e["target"]}

    def runtime_env(self, pid: str) -> dict[str, str]:
        """What the newest READY production deployment serves."""
        ready = [d for d in self.deployments.values() if d["projectId"] == pid and d["readyState"] == "READY"]
        return dict(ready[-1]["env"])

    def check_request(self, request: httpx.Request) -> httpx.Response | None:
        self.team_ids.append(request.url.params.get("teamId"))
        return None

    # ------------------------------------------------------------ env

    @staticmethod
    def _cipher(value: str) -> str:
        return "eyJ2IjoxfQ." + base64.b64encode(value[::-1].encode()).decode()

    def _list(self, request: httpx.Request, ver: str, project: str) -> httpx.Response:
        proj = self._project(project)
        if proj is None or ver != "v10":
            return self.error(404, "not_found", "Project not found")
        envs = proj["envs"]
        until = request.url.params.get("until")
        start = next((i + 1 for i, e in enumerate(envs) if e["id"] == until), 0)
        page = envs[start : start + self.page_size]
        shown = []
        for e in page:
            item = {k: v for k, v in e.items() if k != "value"}
            if e["type"] != "sensitive":
                item["value"] = self._cipher(e["value"])  # even with decrypt=true (vercel/sdk#118)
            shown.append(item)
        more = start + self.page_size < len(envs)
        pagination = {"count": len(page), "next": page[-1]["id"] if more else None, "prev": None}
        return reply(200, {"envs": shown, "pagination": pagination})

    def _get_one(self, request: httpx.Request, ver: str, project: str, env_id: str) -> httpx.Response:
        proj = self._project(project)
        entry = next((e for e in proj["envs"] if e["id"] == env_id), None) if proj else None
        if entry is None or ver != "v1":
            return self.error(404, "not_found", "Env var not found")
        out = {k: v for k, v in entry.items() if k != "value"}
        if entry["type"] != "sensitive":
            out["value"] = entry["value"]
            out["decrypted"] = True
        return reply(200, out)

    def _create(self, request: httpx.Request, ver: str, project: str) -> httpx.Response:
        proj = self._project(project)
        if proj is None or ver != "v10":
            return self.error(404, "not_found", "Project not found")
        upsert = request.url.params.get("upsert") == "true"
        body = body_of(request)
        items = body if isinstance(body, list) else [body]
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for item in items:
            key, targets = item["key"], sorted(item["target"])

            def fail(code: str, message: str, key: str = key, targets: list[str] = targets) -> None:
                failed.append({"error": {"code": code, "message": message, "key": key, "target": targets}})

            if self.fail_next_upsert is not None:
                inj, self.fail_next_upsert = self.fail_next_upsert, None
                fail(inj["code"], inj["message"])
                continue
            if item.get("type") == "sensitive" and "development" in targets:
                fail("invalid_sensitive_target", "Sensitive variables cannot target development")
                continue
            same = [e for e in proj["envs"] if e["key"] == key and not e.get("gitBranch")]
            exact = next((e for e in same if sorted(e["target"]) == targets), None)
            overlap = [e for e in same if e is not exact and set(e["target"]) & set(targets)]
            if exact is not None and not upsert:
                return self.error(403, "ENV_ALREADY_EXISTS", f"A variable with the name `{key}` already exists")
            if overlap:
                fail("ENV_CONFLICT", f"A variable with the name `{key}` already exists for the target")
                continue
            if exact is not None:
                exact.update(value=item["value"], type=item.get("type", exact["type"]))
                created.append({k: v for k, v in exact.items() if k != "value"})
            else:
                entry = {
                    "id": f"env-{next(self._ids)}",
                    "key": key,
                    "value": item["value"],
                    "type": item.get("type", "encrypted"),
                    "target": targets,
                    "gitBranch": None,
                }
                proj["envs"].append(entry)
                created.append({k: v for k, v in entry.items() if k != "value"})
        return reply(200, {"created": created, "failed": failed})

    # ------------------------------------------------------------ deployments

    def _list_deployments(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        found = [
            d
            for d in self.deployments.values()
            if d["projectId"] == q.get("projectId")
            and d["target"] == q.get("target", d["target"])
            and d["readyState"] == q.get("state", d["readyState"])
        ]
        found = list(reversed(found))[: int(q.get("limit", 20))]
        return reply(200, {"deployments": [self._view(d) for d in found], "pagination": {"next": None}})

    @staticmethod
    def _view(dep: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in dep.items() if k not in ("states", "env")}

    def _redeploy(self, request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        source = self.deployments.get(body.get("deploymentId", ""))
        if source is None or source["name"] != body.get("name"):
            return self.error(404, "not_found", "Deployment not found")
        outcome = self.deploy_outcomes.pop(0) if self.deploy_outcomes else "READY"
        dep_id = f"dpl_{next(self._ids)}"
        dep: dict[str, Any] = {
            "uid": dep_id,
            "id": dep_id,
            "name": source["name"],
            "projectId": source["projectId"],
            "target": body.get("target", "production"),
            "readyState": "QUEUED",
            "states": ["BUILDING", outcome],
            "env": self._env_for(source["projectId"], "production"),
        }
        if outcome == "ERROR":
            dep["errorCode"] = "BUILD_FAILED"
            dep["errorMessage"] = 'Command "npm run build" exited with 1'
        self.deployments[dep_id] = dep
        return reply(200, self._view(dep))

    def _get_deployment(self, request: httpx.Request, dep: str) -> httpx.Response:
        found = self.deployments.get(dep)
        if found is None:
            return self.error(404, "not_found", "Deployment not found")
        if found["states"]:
            found["readyState"] = found["states"].pop(0)
        view = self._view(found)
        if found["readyState"] != "ERROR":
            view.pop("errorMessage", None)
            view.pop("errorCode", None)
        return reply(200, view)
