"""Acceptance: a Neon-style DATABASE_URL leaked in a markdown guide, killed end to end.

On a private scram-sha-256 cluster (a wrong password is really refused): the guide is committed
to git; `scan --verify --verify-databases --format json` says `live`; `compromised --from-scan`
matches the finding to the inventory secret by fingerprint, switches the `.env` and a fake
DigitalOcean app (app level and the worker component) to the other role, revokes the old
password (the server refuses it), proves it dead; `scan --verify` now says `dead`; the incident
report names the commit and holds no value; `audit verify` passes.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from secretops.cli.app import run
from secretops.inventory.models import DigitalOceanTargetSpec, TargetSpec
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets import Target
from secretops.targets import build_target as real_build_target
from secretops.targets.digitalocean import DigitalOceanTarget
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue
from tests.fakes.platforms.digitalocean import FakeDigitalOcean
from tests.services import PgCluster

LOCAL_KEY = "5c" * 32
TEMPLATE = "postgresql://{username}:{password|url}@127.0.0.1:%d/postgres?sslmode=prefer"


_pg_ok = PgCluster.logs_in


@pytest.fixture
def roles(pg_cluster: PgCluster) -> Iterator[tuple[str, str, str]]:
    with pg_cluster.alternate_roles("inc", "npg_" + secrets.token_hex(10)) as made:
        yield made


def _policy(tmp: Path, port: int, role_a: str, role_b: str) -> str:
    return f"""version: 1
issuers:
  pg: {{kind: postgres, admin_dsn_env: PG_ADMIN_DSN, host: 127.0.0.1, port: {port}, retire: scramble}}
targets:
  web-env: {{kind: dotenv, path: "{tmp / "app" / ".env"}", restart: ["true"]}}
  do:
    kind: digitalocean
    app_id: app-1
    components:
      - {{name: web, type: service}}
      - {{name: worker, type: worker, env: [DATABASE_URL]}}
secrets:
  - name: shop/db
    kind: postgres-password
    issuer: pg
    accounts: [{role_a}, {role_b}]
    strategy: alternate
    grace: 0s
    generator: {{kind: password, length: 24}}
    consumers:
      - {{target: web-env, env: DATABASE_URL, template: "{TEMPLATE % port}"}}
      - target: do
        env: DATABASE_URL
        template: "{TEMPLATE % port}"
        app_level: true
        components: [worker]
        verify: accept-unverified
"""


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    capsys.readouterr()
    code = run(["scan", "--verify", "--verify-databases", "--format", "json", "--no-progress", *args])
    return code, json.loads(capsys.readouterr().out)["findings"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.mark.postgres
@pytest.mark.git
def test_leaked_guide_url_is_killed_end_to_end(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pg_cluster: PgCluster,
    roles: tuple[str, str, str],
) -> None:
    role_a, role_b, password = roles
    leaked = pg_cluster.dsn(role_a, password) + "?sslmode=prefer"
    assert _pg_ok(leaked)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(_policy(tmp_path, pg_cluster.port, role_a, role_b))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text(f"DATABASE_URL={leaked}\nDEBUG=0\n")
    (tmp_path / "docs").mkdir()
    guide = tmp_path / "docs" / "guide.md"
    guide.write_text(f"# Connecting\n\nCopy this into your shell:\n\n```\nDATABASE_URL={leaked}\n```\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "docs/guide.md")
    _git(tmp_path, "commit", "-q", "-m", "guide")
    commit = _git(tmp_path, "rev-parse", "HEAD")

    do = FakeDigitalOcean()
    do.add_app(
        "app-1",
        {
            "name": "shop",
            "envs": [{"key": "DATABASE_URL", "value": leaked, "type": "SECRET", "scope": "RUN_TIME"}],
            "services": [{"name": "web"}],
            "workers": [{"name": "worker", "envs": [{"key": "DATABASE_URL", "value": leaked, "type": "SECRET"}]}],
        },
    )

    def build_target(name: str, spec: TargetSpec, env: Any, *, base_dir: Path | None = None) -> Target:
        if isinstance(spec, DigitalOceanTargetSpec):
            client = httpx.Client(transport=httpx.MockTransport(do.handle))
            return DigitalOceanTarget(name, spec, SecretValue(do.token), client=client, sleep=lambda _s: None)
        return real_build_target(name, spec, env, base_dir=base_dir)

    monkeypatch.setattr("secretops.cli.rotate.build_target", build_target)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY)
    monkeypatch.setenv("PG_ADMIN_DSN", pg_cluster.admin_dsn)
    store = LocalStore(
        tmp_path / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32))
    )
    store.put("shop/db", SecretValue(password), attributes={"username": role_a}, labels=frozenset({Label.CURRENT}))
    store.close()

    # 1. The scan says live.
    code, findings = _scan(capsys, "docs/guide.md")
    (tmp_path / "report.json").write_text(json.dumps({"version": 1, "findings": findings}))
    assert [f["liveness"]["state"] for f in findings] == ["live"], findings
    assert code == 1

    # 2. compromised --from-scan: matched, switched, revoked, proven dead.
    started = time.perf_counter()
    code = run(["compromised", "--from-scan", "report.json", "--report", "incident.md", "--verify-databases"])
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out + captured.err
    assert "shop/db" in out and "web-env:DATABASE_URL" in out
    assert password not in out and quote(password, safe="") not in out
    assert elapsed < 10, f"compromised took {elapsed:.1f} s"

    new_env = parse_dotenv((tmp_path / "app" / ".env").read_text())
    new_url = new_env["DATABASE_URL"].value
    assert role_b in new_url and password not in new_url and new_env["DEBUG"].value == "0"
    assert _pg_ok(new_url)
    assert do.plaintext("app-1", None, "DATABASE_URL") == new_url
    assert do.plaintext("app-1", "worker", "DATABASE_URL") == new_url
    assert do.runtime_env("app-1", "worker")["DATABASE_URL"] == new_url
    assert not _pg_ok(leaked), "the leaked password still logs in"

    # 3. The same scan now says dead.
    code, findings = _scan(capsys, "docs/guide.md")
    assert [f["liveness"]["state"] for f in findings] == ["dead"], findings

    # 4. The incident report: timeline, commit, purge commands, no value.
    report = (tmp_path / "incident.md").read_text()
    assert "closed: every leaked value is proven dead" in report
    for event in ("found", "matched", "switched", "verified", "revoked", "proven-dead"):
        assert f"| {event} |" in report, event
    assert "shop/db -> web-env" in report and "shop/db -> do" in report
    assert commit[:12] in report and "git filter-repo" in report
    assert "does not make it safe again" in report and "access logs" in report
    assert password not in report and quote(password, safe="") not in report
    assert findings[0]["fingerprint"] in report

    # Run again (dry): the leaked version is now revoked in the store, nothing left to rotate.
    assert run(["compromised", "--from-scan", "report.json", "--dry-run"]) == 0
    assert "(version 1, revoked)" in capsys.readouterr().out

    # 5. The audit log holds the incident and the run, and its chain is intact.
    assert run(["audit", "verify"]) == 0
    assert "chain intact" in capsys.readouterr().out
    audit = (tmp_path / ".secretops" / "journal" / "audit.jsonl").read_text()
    actions = [json.loads(line)["action"] for line in audit.splitlines()]
    assert actions == ["compromise", "rotate"]
    assert password not in audit and quote(password, safe="") not in audit
