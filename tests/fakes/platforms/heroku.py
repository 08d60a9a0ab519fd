"""A stateful fake of Heroku's config-var and release API (platform-apis.md §4).

- `PATCH /apps/{app}/config-vars` merges: `null` deletes a key, keys not mentioned stay. The
  answer is the full map. Each change creates a release (status `pending`, then `succeeded` or
  what `release_outcomes` says on the next GET) that restarts dynos with the new config.
- `GET /apps/{app}/releases` honours `Range: version ..; order=desc, max=N` (206 + `Next-Range`
  when more remain).
- Requests without `Accept: application/vnd.heroku+json; version=3` are refused.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx

from tests.fakes.platforms.base import FakePlatform, Handler, body_of, reply


class FakeHeroku(FakePlatform):
    """Apps, config vars and releases."""

    token = "heroku-fake-token-0000"

    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, dict[str, Any]] = {}
        self.release_outcomes: list[str] = []
        self._ids = itertools.count(1)

    def routes(self) -> list[tuple[str, str, Handler]]:
        a = r"/apps/(?P<app>[^/]+)"
        return [
            ("GET", a + "/config-vars", self._get_config),
            ("PATCH", a + "/config-vars", self._patch_config),
            ("GET", a + "/releases", self._list_releases),
            ("GET", a + "/releases/(?P<rel>[^/]+)", self._get_release),
        ]

    def check_request(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("accept") != "application/vnd.heroku+json; version=3":
            return self.error(400, "bad_request", "Accept header must request version 3")
        return None

    def add_app(self, app: str, config: dict[str, str]) -> None:
        """An app running `config` (release v1, succeeded)."""
        self.apps[app] = {"config": dict(config), "releases": [], "running": dict(config)}
        self._release(app, "Initial release", "succeeded")

    def running_config(self, app: str) -> dict[str, str]:
        """What the dynos run with (the last succeeded release)."""
        return dict(self.apps[app]["running"])

    def _release(self, app: str, description: str, status: str) -> dict[str, Any]:
        releases = self.apps[app]["releases"]
        rel = {
            "id": f"rel-{next(self._ids):04d}",
            "version": len(releases) + 1,
            "status": status,
            "description": description,
            "config": dict(self.apps[app]["config"]),
        }
        releases.append(rel)
        return rel

    @staticmethod
    def _view(rel: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in rel.items() if k != "config"}

    def _get_config(self, request: httpx.Request, app: str) -> httpx.Response:
        if app not in self.apps:
            return self.error(404, "not_found", "Couldn't find that app.")
        return reply(200, self.apps[app]["config"])

    def _patch_config(self, request: httpx.Request, app: str) -> httpx.Response:
        if app not in self.apps:
            return self.error(404, "not_found", "Couldn't find that app.")
        body = body_of(request)
        config = self.apps[app]["config"]
        for key, value in body.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        names = ", ".join(sorted(body))
        self._release(app, f"Set {names} config vars", "pending")
        return reply(200, config)

    def _list_releases(self, request: httpx.Request, app: str) -> httpx.Response:
        releases = list(self.apps[app]["releases"])
        rng = request.headers.get("range", "")
        if "order=desc" in rng:
            releases.reverse()
        m = re.search(r"max=(\d+)", rng)
        limit = int(m.group(1)) if m else 200
        page = releases[:limit]
        if len(releases) > limit:
            return reply(
                206, [self._view(r) for r in page], headers={"Next-Range": f"version ]{page[-1]['version']}.."}
            )
        return reply(200, [self._view(r) for r in page])

    def _get_release(self, request: httpx.Request, app: str, rel: str) -> httpx.Response:
        found = next((r for r in self.apps[app]["releases"] if rel in (r["id"], str(r["version"]))), None)
        if found is None:
            return self.error(404, "not_found", "Couldn't find that release.")
        if found["status"] == "pending":
            found["status"] = self.release_outcomes.pop(0) if self.release_outcomes else "succeeded"
            if found["status"] == "succeeded":
                self.apps[app]["running"] = dict(found["config"])
        return reply(200, self._view(found))
