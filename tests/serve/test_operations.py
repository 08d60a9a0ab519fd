"""`EngineOperations` for real: a due rotation through the scheduler, and the on-compromise flow.

The project is what `secretops serve` runs against: policies on disk, `.env` targets, the local
store, the CLI's own `build_engine`. GitHub's alert API is a fake behind `httpx.MockTransport`.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secretops.cli.rotate import build_engine
from secretops.serve.app import Service, build_app
from secretops.serve.interface import GitHubAlert
from secretops.serve.operations import EngineOperations
from secretops.settings import Settings
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue, fingerprint
from tests.helpers import port_open, service_unavailable
from tests.serve.conftest import Client, alert_body, config

LOCAL_KEY = "5e" * 32
FP_KEY = FingerprintKey(bytes.fromhex("ab" * 32))  # tests/conftest.py's SECRETOPS_FINGERPRINT_KEY
OLD_DJANGO = "old-django-key-0123456789abcdef"
OLD_STRIPE = "sk_live_fakeOLDstripe000111222333"

POLICY = """\
version: 1
issuers:
  app: {kind: app}
targets:
  web: {kind: dotenv, path: "%(dir)s/web.env"}
secrets:
  - name: shop/django
    kind: django-secret-key
    issuer: app
    grace: 0s
    drain: 0s
    generator: {kind: django-secret-key}
    consumers:
      - {target: web, env: SECRET_KEY}
"""

GITHUB_POLICY = """\
version: 1
issuers:
  stripe: {kind: manual, instructions: Roll the key in the dashboard.}
targets:
  ci: {kind: github, repo: acme/shop}
secrets:
  - name: shop/stripe
    kind: api-key:stripe
    issuer: stripe
    generator: {kind: issuer}
    consumers:
      - {target: ci, env: STRIPE_KEY, verify: accept-unverified}
"""


def _store(root: Path) -> LocalStore:
    return LocalStore(root / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FP_KEY)


def _env(path: Path) -> dict[str, str]:
    return {k: line.value for k, line in parse_dotenv(path.read_text()).items()}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(POLICY % {"dir": tmp_path})
    (tmp_path / "web.env").write_text(f"DEBUG=0\nSECRET_KEY={OLD_DJANGO}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY)
    store = _store(tmp_path)
    store.put("shop/django", SecretValue(OLD_DJANGO), labels=frozenset({Label.CURRENT}))  # adopted: due at once
    store.close()
    return tmp_path


def _ops(project: Path, **kw: object) -> tuple[EngineOperations, Settings]:
    settings = Settings.from_env(policies_dir=project / "policies")
    return EngineOperations(settings, lambda: build_engine(settings), **kw), settings  # type: ignore[arg-type]


def test_scheduler_runs_a_real_due_rotation(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ops, settings = _ops(project, concurrency=2)
    service = Service(config(), ops, state_dir=settings.state_dir, start_scheduler=False)
    with Client(build_app(service)) as client:
        assert client.get("/healthz").status_code == 200
        assert service.scheduler.run_now().started
        assert service.scheduler.drain(60)
        store = _store(project)
        current = store.get("shop/django")
        store.close()
        assert current is not None and current.version.run_id is not None
        new = current.value.reveal()
        assert new != OLD_DJANGO and _env(project / "web.env")["SECRET_KEY"] == new
        assert service.scheduler.run_now().started  # nothing is due any more: no second rotation
        assert service.scheduler.drain(60)
        store = _store(project)
        again = store.get("shop/django")
        store.close()
        assert again is not None and again.version.number == current.version.number
        text = client.get("/metrics").text
    assert 'secretops_rotations_total{outcome="complete"} 1.0' in text
    assert "secretops_secrets_overdue 0.0" in text
    assert 'secretops_rotation_next_due_timestamp_seconds{secret="shop/django"}' in text
    audit = (project / ".secretops").rglob("audit*")
    assert any("shop/django" in p.read_text() for p in audit if p.is_file())
    assert new not in caplog.text and OLD_DJANGO not in caplog.text


def test_findings_report_runs_the_on_compromise_flow(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ops, settings = _ops(project)
    report = {
        "findings": [
            {
                "rule_id": "django-secret-key",
                "kind": "django-secret-key",
                "class": "leak",
                "path": "elsewhere/settings.py",
                "line": 1,
                "fingerprint": fingerprint(FP_KEY, OLD_DJANGO),
                "preview": "old-****",
            },
            {"rule_id": "x", "class": "leak", "path": "b", "line": 1, "fingerprint": "hmac-sha256:" + "0" * 32},
        ]
    }
    service = Service(config(), ops, state_dir=settings.state_dir, start_scheduler=False)
    with Client(build_app(service)) as client:
        got = client.post(
            "/hooks/findings",
            content=json.dumps(report).encode(),
            headers={"Authorization": "Bearer " + "findings-token-test-0123456789"},
        )
        assert got.status_code == 202, got.text
        assert got.json()["secrets"] == ["shop/django"]
        assert got.json()["unmatched"] == ["hmac-sha256:" + "0" * 32]
        service.wait_incidents()
    store = _store(project)
    state = store.state("shop/django")
    current = store.get("shop/django")
    store.close()
    assert current is not None and current.value.reveal() != OLD_DJANGO
    assert _env(project / "web.env")["SECRET_KEY"] == current.value.reveal()
    assert state is not None
    old = [v for v in state.versions if v.fingerprint == fingerprint(FP_KEY, OLD_DJANGO)]
    assert old and old[0].revoked_at is not None  # compromised: no grace, revoked
    reports = list((project / ".secretops" / "incidents").glob("*.json"))
    assert len(reports) == 1 and "shop/django" in reports[0].read_text()
    assert OLD_DJANGO not in reports[0].read_text()
    assert OLD_DJANGO not in caplog.text and current.value.reveal() not in caplog.text


@pytest.fixture
def github_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "ci.yaml").write_text(GITHUB_POLICY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY)
    store = _store(tmp_path)
    store.put("shop/stripe", SecretValue(OLD_STRIPE), labels=frozenset({Label.CURRENT}))
    store.close()
    return tmp_path


class FakeGitHub:
    """GitHub's "Get a secret scanning alert", for one alert; records every request."""

    def __init__(self, value: str | None) -> None:
        self.value = value
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != "/repos/acme/shop/secret-scanning/alerts/7":
            return httpx.Response(404, json={"message": "Not Found"})
        return httpx.Response(200, json={"number": 7, "secret_type": "stripe_api_key", "secret": self.value})


def test_alert_matched_by_fingerprint_of_the_fetched_value(github_project: Path) -> None:
    fake = FakeGitHub(OLD_STRIPE)
    client = httpx.Client(transport=httpx.MockTransport(fake))
    ops, _ = _ops(github_project, github=client, github_token=SecretValue("ghp_fakeTOKENfortests0000"))
    match = ops.match_alert(GitHubAlert(7, "stripe_api_key", "acme/shop", "d-1"))
    assert match.matched_by == "fingerprint" and match.secrets == ("shop/stripe",)
    assert match.fingerprints == (fingerprint(FP_KEY, OLD_STRIPE),)
    (request,) = fake.requests
    assert request.url.host == "api.github.com" and request.url.scheme == "https"
    assert request.headers["authorization"] == "Bearer ghp_fakeTOKENfortests0000"
    assert OLD_STRIPE not in json.dumps(match.to_json())


def test_alert_without_a_value_matches_by_provider_and_repository(github_project: Path) -> None:
    ops, _ = _ops(github_project)
    match = ops.match_alert(GitHubAlert(7, "stripe_api_key", "Acme/Shop", "d-1"))
    assert match.matched_by == "provider-and-repository" and match.secrets == ("shop/stripe",)
    assert ops.match_alert(GitHubAlert(7, "stripe_api_key", "acme/other", "d-2")).empty
    assert ops.match_alert(GitHubAlert(7, "slack_api_token", "acme/shop", "d-3")).empty


def test_fetch_failure_falls_back_to_provider_and_repository(github_project: Path) -> None:
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403, json={"message": "Resource not accessible"})

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    ops, _ = _ops(github_project, github=client, github_token=SecretValue("ghp_fakeTOKENfortests0000"))
    match = ops.match_alert(GitHubAlert(7, "stripe_api_key", "acme/shop", "d-1"))
    assert len(seen) == 1 and seen[0].url.host == "api.github.com"
    assert match.matched_by == "provider-and-repository" and match.secrets == ("shop/stripe",)


def test_webhook_value_that_is_not_in_the_store_is_not_acted_on_by_fingerprint(github_project: Path) -> None:
    ops, settings = _ops(github_project)
    service = Service(config(), ops, state_dir=settings.state_dir, start_scheduler=False)
    with Client(build_app(service)) as client:
        from tests.serve.conftest import sign

        body = alert_body(secret="sk_live_fakeUNKNOWNvalue0000000", number=9)
        doc = json.loads(body)
        doc["repository"]["full_name"] = "acme/elsewhere"
        body = json.dumps(doc).encode()
        got = client.post(
            "/hooks/github-secret-scanning",
            content=body,
            headers={
                "X-Hub-Signature-256": sign(body),
                "X-GitHub-Event": "secret_scanning_alert",
                "X-GitHub-Delivery": "u-1",
            },
        )
        assert got.status_code == 202
        assert got.json()["accepted"] is False and got.json()["matched_by"] == "nothing"
        assert "UNKNOWN" not in got.text
        service.wait_incidents()
    assert not (github_project / ".secretops" / "incidents").exists()


def test_incident_waits_for_a_secret_another_run_holds(project: Path) -> None:
    from secretops.state import open_state

    ops, settings = _ops(project)
    report = {
        "findings": [
            {
                "rule_id": "django-secret-key",
                "class": "leak",
                "path": "settings.py",
                "line": 1,
                "fingerprint": fingerprint(FP_KEY, OLD_DJANGO),
            }
        ]
    }
    service = Service(config(), ops, state_dir=settings.state_dir, start_scheduler=False, incident_retry_delay=0.3)
    state = open_state(settings)
    lease = state.exclusive("shop/django")
    lease.acquire()  # another runner is rotating it
    try:
        with Client(build_app(service)) as client:
            got = client.post(
                "/hooks/findings",
                content=json.dumps(report).encode(),
                headers={"Authorization": "Bearer findings-token-test-0123456789"},
            )
            assert got.status_code == 202
            deadline = time.monotonic() + 10
            while service.incidents_done < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _env(project / "web.env")["SECRET_KEY"] == OLD_DJANGO  # not rotated while held
            lease.release()
            while service.incidents_done < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert service.incidents_done == 2
    finally:
        lease.release()
        state.close()
    assert _env(project / "web.env")["SECRET_KEY"] != OLD_DJANGO


@pytest.fixture
def pg_state_url() -> Iterator[str]:
    """A fresh database on the shared PostgreSQL for the state, dropped afterwards."""
    try:
        import psycopg
    except ImportError:
        service_unavailable("psycopg is not installed (the postgres extra)")
    if not port_open("127.0.0.1", 5432):
        service_unavailable("PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"secretops_serve_test_{secrets.token_hex(4)}"
    with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_due_rotation_on_postgres_state(project: Path, pg_state_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETOPS_STATE", pg_state_url)
    ops, settings = _ops(project)
    assert ops.state_backend == "postgresql"
    service = Service(config(), ops, state_dir=settings.state_dir, start_scheduler=False)
    with Client(build_app(service)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["state_backend"] == "postgresql", health.text
        service.scheduler.run_now()
        assert service.scheduler.drain(60)
        text = client.get("/metrics").text
    assert 'secretops_rotations_total{outcome="complete"} 1.0' in text
    assert 'secretops_state_backend_up{backend="postgresql"} 1.0' in text
    assert _env(project / "web.env")["SECRET_KEY"] != OLD_DJANGO
    from secretops.state import open_state

    with open_state(settings) as state:
        runs = state.runs("shop/django")
    assert [r.outcome for r in runs] == ["complete"]


def test_healthz_503_when_postgres_state_is_unreachable(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SECRETOPS_STATE", f"postgresql://runner:pw-NOT-SHOWN@127.0.0.1:{port}/state?connect_timeout=2")
    ops, settings = _ops(project)
    service = Service(config(), ops, state_dir=settings.state_dir, start_scheduler=False)
    with Client(build_app(service)) as client:
        got = client.get("/healthz")
    assert got.status_code == 503 and got.json()["state"] != "ok"
    assert "pw-NOT-SHOWN" not in got.text
