"""`scan --inventory` after real rotations: every replaced value is `revoked`, the live one `current`.

End to end through the CLI, as a user runs it: `store import` adopts the deployed Redis password,
`rotate` replaces it twice (real Redis ACL user, `.env` target), then `scan --inventory` looks at
copies of each value that leaked along the way. Run over the LocalStore and over OpenBao.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from secretops.cli.app import run
from secretops.targets.dotenv import parse_dotenv
from tests.store.openbao import BaoServer

TEMPLATE = "redis://{username}:{password|url}@127.0.0.1:6379/0"

POLICY = """\
version: 1
issuers:
  cache: {kind: redis, admin_url_env: REDIS_ADMIN_URL}
targets:
  app: {kind: dotenv, path: "%(dir)s/app.env", restart: ["true"]}
secrets:
  - name: app/redis
    kind: redis-password
    issuer: cache
    accounts: [%(user)s]
    strategy: overlap
    grace: 0s
    generator: {kind: token, length: 32}
    consumers:
      - {target: app, env: REDIS_URL, template: "%(template)s"}
"""


@pytest.fixture
def acl_user(redis_server: str) -> Iterator[tuple[str, str]]:
    user, old = f"scaninv_{secrets.token_hex(4)}", "old-" + secrets.token_urlsafe(18)
    admin = redis.Redis.from_url(redis_server)
    admin.execute_command("ACL", "SETUSER", user, "on", f">{old}", "~scaninv:*", "+ping")
    try:
        yield user, old
    finally:
        admin.execute_command("ACL", "DELUSER", user)
        admin.close()


@pytest.fixture(params=["local", pytest.param("vault", marks=pytest.mark.vault)])
def project(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_server: str,
    acl_user: tuple[str, str],
) -> Path:
    user, old = acl_user
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "app.yaml").write_text(POLICY % {"dir": tmp_path, "user": user, "template": TEMPLATE})
    (tmp_path / "app.env").write_text(f"REDIS_URL=redis://{user}:{old}@127.0.0.1:6379/0\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", "3c" * 32)
    monkeypatch.setenv("REDIS_ADMIN_URL", redis_server)
    if request.param == "vault":
        bao: BaoServer = request.getfixturevalue("bao_server")
        monkeypatch.setenv("VAULT_ADDR", bao.addr)
        monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
        monkeypatch.setenv("SECRETOPS_VAULT_PREFIX", bao.settings().prefix)
    return tmp_path


def _deployed(project: Path) -> str:
    return parse_dotenv((project / "app.env").read_text())["REDIS_URL"].value


@pytest.mark.redis
def test_each_replaced_value_is_revoked_after_two_rotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    urls = [_deployed(project)]
    assert run(["store", "import"]) == 0
    for _ in range(2):
        assert run(["rotate", "app/redis"]) == 0, capsys.readouterr().out
        urls.append(_deployed(project))
    assert len(set(urls)) == 3
    capsys.readouterr()

    leaks = project / "leaks"
    leaks.mkdir()
    for name, url in zip(("adopted", "first", "live"), urls, strict=True):
        (leaks / f"{name}.env").write_text(f"REDIS_URL={url}\n")
    assert run(["scan", "leaks", "--inventory", "-f", "json", "--no-progress"]) == 1
    report = json.loads(capsys.readouterr().out)
    seen = {Path(f["path"]).stem: f.get("inventory") for f in report["findings"]}
    assert seen == {
        "adopted": {"secret": "app/redis", "version": 1, "state": "revoked"},
        "first": {"secret": "app/redis", "version": 2, "state": "revoked"},
        "live": {"secret": "app/redis", "version": 3, "state": "current"},
    }
    # and the store holds exactly one version per rotation
    assert run(["store", "list", "--json"]) == 0
    (state,) = json.loads(capsys.readouterr().out)
    assert [(v["number"], v["labels"], v["revoked_at"] is not None) for v in state["versions"]] == [
        (1, [], True),
        (2, ["previous"], True),
        (3, ["current"], False),
    ]
