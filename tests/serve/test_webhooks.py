"""The webhooks through the real ASGI app: signatures, tokens, replays, limits, and nothing changed on refusal."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.serve.conftest import FINDINGS_TOKEN, HOOK_SECRET, Client, Harness, alert_body, sign

LEAKED = "sk_live_fakeLEAKEDvalue000111222"
REPORT = {
    "findings": [
        {
            "rule_id": "stripe-secret-key",
            "kind": "api-key",
            "provider": "stripe",
            "class": "leak",
            "path": "app/settings.py",
            "line": 3,
            "column": 9,
            "fingerprint": "hmac-sha256:" + "1f" * 16,
            "preview": "sk_live_****",
        },
        {"rule_id": "x", "class": "placeholder", "path": "a", "line": 1, "fingerprint": "hmac-sha256:" + "00" * 16},
    ]
}


def _nothing_changed(h: Harness) -> None:
    h.service.wait_incidents()
    assert h.ops.changes() == []
    assert h.service.scheduler.runs_started == 0
    assert not h.replay_file().exists()


def test_signed_alert_is_matched_and_the_incident_runs(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = alert_body(secret=LEAKED)
    got = harness.github(body, delivery="11111111-aaaa")
    assert got.status_code == 202, got.text
    doc = got.json()
    assert doc["accepted"] is True and doc["secrets"] == ["shop/stripe"] and doc["delivery"] == "11111111-aaaa"
    harness.service.wait_incidents()
    assert [m.secrets for m in harness.ops.responded] == [("shop/stripe",)]
    alert = harness.ops.alerts[0]
    assert (alert.number, alert.secret_type, alert.repository) == (7, "stripe_api_key", "acme/shop")
    assert alert.value is not None and alert.value.reveal() == LEAKED
    assert LEAKED not in got.text and LEAKED not in caplog.text and HOOK_SECRET not in caplog.text
    assert LEAKED not in repr(alert)
    mode = stat.S_IMODE(harness.replay_file().stat().st_mode)
    assert mode == 0o600 and harness.replay_file().read_text() == "11111111-aaaa\n"


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=abc", "garbage"],
    ids=["missing", "empty", "wrong", "sha1", "garbage"],
)
def test_unsigned_or_badly_signed_deliveries_are_refused(harness: Harness, signature: str | None) -> None:
    body = alert_body()
    got = harness.github(body, signature=signature if signature != "" else "sha256=")
    assert got.status_code == 401
    assert got.json() == {"error": "missing or wrong X-Hub-Signature-256"}
    _nothing_changed(harness)


def test_a_signature_made_with_another_secret_or_over_another_body_is_refused(harness: Harness) -> None:
    body = alert_body()
    assert harness.github(body, signature=sign(body, "another-secret")).status_code == 401
    assert harness.github(body, signature=sign(body + b" ")).status_code == 401
    _nothing_changed(harness)


def test_replayed_delivery_is_ignored(harness: Harness) -> None:
    body = alert_body()
    first = harness.github(body, delivery="dup-1")
    again = harness.github(body, delivery="dup-1")
    assert first.status_code == 202 and first.json()["accepted"] is True
    assert again.status_code == 202 and again.json() == {"ignored": "replayed delivery", "delivery": "dup-1"}
    harness.service.wait_incidents()
    assert harness.ops.changes() == ["match_alert", "respond"]


def test_replays_are_remembered_across_a_restart(harness: Harness, tmp_path: object) -> None:
    from secretops.serve.webhooks import DeliveryLog

    assert harness.github(alert_body(), delivery="keep-1").status_code == 202
    reloaded = DeliveryLog(harness.replay_file(), 100)
    assert reloaded.seen("keep-1") and not reloaded.seen("keep-2")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"action": "created"}).encode(), alert_body(number=-1), alert_body(number="7")],
    ids=["not-json", "list", "no-alert", "negative-number", "string-number"],
)
def test_malformed_alert_is_400_and_changes_nothing(harness: Harness, body: bytes) -> None:
    got = harness.github(body)
    assert got.status_code == 400
    _nothing_changed(harness)


def test_bad_repository_name_is_400(harness: Harness) -> None:
    doc = json.loads(alert_body())
    doc["repository"]["full_name"] = "../../etc/passwd"
    assert harness.github(json.dumps(doc).encode()).status_code == 400
    _nothing_changed(harness)


def test_missing_delivery_id_is_400(harness: Harness) -> None:
    assert harness.github(alert_body(), delivery="").status_code == 400
    assert harness.github(alert_body(), delivery="bad id with spaces").status_code == 400
    _nothing_changed(harness)


def test_unknown_event_and_other_actions_are_202_ignored(harness: Harness) -> None:
    got = harness.github(b'{"zen": "hi"}', event="push", delivery="e-1")
    assert got.status_code == 202 and got.json()["ignored"] == "event push"
    got = harness.github(alert_body(action="resolved"), delivery="e-2")
    assert got.status_code == 202 and got.json()["ignored"] == "action resolved"
    ping = harness.github(b'{"zen": "hi"}', event="ping", delivery="e-3")
    assert ping.status_code == 200 and ping.json()["pong"] is True
    _nothing_changed(harness)


def test_body_over_the_limit_is_413_and_changes_nothing(harness: Harness) -> None:
    body = alert_body(padding="x" * 5000)
    got = harness.github(body)
    assert got.status_code == 413
    got = harness.findings(b"{" + b" " * 5000 + b"}")
    assert got.status_code == 413
    _nothing_changed(harness)


def test_body_over_the_limit_without_content_length_is_413(harness: Harness) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # streamed: no Content-Length header
        for _ in range(10):
            yield b"x" * 1000

    got = harness.client.post(
        "/hooks/github-secret-scanning", content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"}
    )
    assert got.status_code == 413
    _nothing_changed(harness)


def test_findings_report_with_the_token_is_matched(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    got = harness.findings(json.dumps(REPORT).encode())
    assert got.status_code == 202, got.text
    doc = got.json()
    assert doc["secrets"] == ["shop/db"] and doc["fingerprints"] == ["hmac-sha256:" + "1f" * 16]
    harness.service.wait_incidents()
    (match,) = harness.ops.responded
    assert [f.rule_id for f in match.findings] == ["stripe-secret-key"]  # placeholders left out, as --from-scan does
    assert FINDINGS_TOKEN not in caplog.text


@pytest.mark.parametrize(
    "token", [None, "wrong", "", FINDINGS_TOKEN + "x"], ids=["missing", "wrong", "empty", "longer"]
)
def test_findings_without_the_token_is_401_and_changes_nothing(harness: Harness, token: str | None) -> None:
    got = harness.findings(json.dumps(REPORT).encode(), token=token)
    assert got.status_code == 401
    _nothing_changed(harness)


def test_findings_with_basic_auth_is_401(harness: Harness) -> None:
    got = harness.client.post("/hooks/findings", content=b"{}", headers={"Authorization": f"Basic {FINDINGS_TOKEN}"})
    assert got.status_code == 401
    _nothing_changed(harness)


@pytest.mark.parametrize(
    "body",
    [b"nope", b'{"findings": 3}', json.dumps({"findings": [{"class": "leak", "path": "a"}]}).encode()],
    ids=["not-json", "findings-not-a-list", "finding-lacks-fields"],
)
def test_malformed_findings_report_is_400_and_changes_nothing(harness: Harness, body: bytes) -> None:
    got = harness.findings(body)
    assert got.status_code == 400
    assert "report.json" not in got.text and "/tmp" not in got.text
    _nothing_changed(harness)


def test_hooks_are_off_without_their_secret(tmp_path: object) -> None:
    from secretops.serve.app import Service, build_app
    from tests.serve.conftest import Client, FakeOps, config

    ops = FakeOps()
    service = Service(config(github_webhook_secret=None, findings_token=None), ops, start_scheduler=False)
    with Client(build_app(service)) as client:
        body = alert_body()
        got = client.post("/hooks/github-secret-scanning", content=body, headers={"X-Hub-Signature-256": sign(body)})
        assert got.status_code == 404
        got = client.post("/hooks/findings", content=b"{}", headers={"Authorization": f"Bearer {FINDINGS_TOKEN}"})
        assert got.status_code == 404
    assert ops.changes() == []


def test_shutting_down_refuses_new_deliveries(harness: Harness) -> None:
    harness.service.begin_shutdown()
    got = harness.github(alert_body())
    assert got.status_code == 503
    assert harness.ops.changes() == []


def test_a_delivery_another_replica_took_is_ignored_and_changes_nothing(tmp_path: Path) -> None:
    """Two replicas share one state (PostgreSQL): GitHub's redelivery to the second is a replay."""
    from secretops.serve.app import Service, build_app
    from tests.serve.conftest import FakeOps, config

    claimed: set[str] = set()

    class SharedOps(FakeOps):
        def claim_delivery(self, delivery: str) -> bool | None:
            if delivery in claimed:
                return False
            claimed.add(delivery)
            return True

    body = alert_body()
    replicas = []
    for name in ("a", "b"):
        ops = SharedOps()
        service = Service(config(), ops, state_dir=tmp_path / name, start_scheduler=False)
        replicas.append((ops, service, Client(build_app(service))))
    try:
        (ops_a, service_a, client_a), (ops_b, _service_b, client_b) = replicas
        headers = {
            "X-GitHub-Event": "secret_scanning_alert",
            "X-GitHub-Delivery": "shared-1",
            "X-Hub-Signature-256": sign(body),
            "Content-Type": "application/json",
        }
        first = client_a.post("/hooks/github-secret-scanning", content=body, headers=headers)
        again = client_b.post("/hooks/github-secret-scanning", content=body, headers=headers)
        assert first.status_code == 202 and first.json()["accepted"] is True
        assert again.status_code == 202 and again.json() == {"ignored": "replayed delivery", "delivery": "shared-1"}
        service_a.wait_incidents()
        assert ops_a.changes() == ["match_alert", "respond"]
        assert "respond" not in ops_b.changes()
    finally:
        for _, _, client in replicas:
            client.close()
