"""`/healthz` and `/metrics` through the real ASGI app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from secretops.inventory.status import SecretStatus, State
from secretops.serve.app import Service, build_app
from tests.serve.conftest import Client, FakeOps, Harness, alert_body, config


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _row(name: str, state: State, last: datetime | None, due: datetime | None) -> SecretStatus:
    return SecretStatus(
        name=name,
        kind="postgres-password",
        issuer="db",
        issuer_kind="postgres",
        strategy="overlap",
        period=timedelta(days=30),
        grace=timedelta(hours=1),
        consumers=1,
        targets=("web",),
        state=state,
        version=1,
        created_at=last,
        age=None,
        last_rotated=last,
        next_due=due,
        pending=None,
        file=None,
        line=None,
    )


def test_healthz_ok_then_503_with_the_reason(harness: Harness) -> None:
    got = harness.client.get("/healthz")
    assert got.status_code == 200 and got.json()["status"] == "ok"
    harness.ops.state_problem = "state backend unreachable (OperationalError)"
    got = harness.client.get("/healthz")
    assert got.status_code == 503
    assert got.json()["state"] == "state backend unreachable (OperationalError)"
    harness.ops.state_problem = None
    harness.service.begin_shutdown()
    got = harness.client.get("/healthz")
    assert got.status_code == 503 and got.json()["scheduler"] == "shutting down"


def test_healthz_503_when_the_scheduler_thread_is_not_running(tmp_path: Path) -> None:
    ops = FakeOps()
    service = Service(config(), ops, state_dir=tmp_path, scheduler_options={"first_delay": 3600, "poll": 0.05})
    with Client(build_app(service)) as client:
        assert client.get("/healthz").status_code == 200
        service.scheduler.stop()
        service.scheduler.drain(2)
        got = client.get("/healthz")
        assert got.status_code == 503 and "stopped" in got.json()["scheduler"]


def test_metrics_parse_and_count_runs_schedule_and_deliveries(harness: Harness) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    harness.ops.rows = [
        _row("shop/db", State.OK, now, now + timedelta(days=30)),
        _row("shop/old", State.OVERDUE, now - timedelta(days=60), now - timedelta(days=30)),
        _row("shop/new", State.NEVER_ROTATED, None, None),
    ]
    harness.ops.due_names = ["shop/db", "shop/old"]
    harness.service.scheduler.run_now()
    assert harness.service.scheduler.drain(5)
    harness.github(alert_body(), delivery="m-1")
    harness.github(alert_body(), delivery="m-2", signature="sha256=00")
    got = harness.client.get("/metrics")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain; version=0.0.4")
    s = _samples(got.text)
    assert s[("secretops_rotations_total", (("outcome", "complete"),))] == 2
    assert s[("secretops_rotations_total", (("outcome", "failed"),))] == 0
    assert s[("secretops_rotation_last_success_timestamp_seconds", (("secret", "shop/db"),))] == now.timestamp()
    assert (
        s[("secretops_rotation_next_due_timestamp_seconds", (("secret", "shop/old"),))]
        == (now - timedelta(days=30)).timestamp()
    )
    assert ("secretops_rotation_last_success_timestamp_seconds", (("secret", "shop/new"),)) not in s
    assert s[("secretops_secrets_overdue", ())] == 2
    assert s[("secretops_due_run_duration_seconds_count", ())] == 1
    assert s[("secretops_scheduler_last_tick_timestamp_seconds", ())] > 0
    assert s[("secretops_scheduler_run_in_progress", ())] == 0
    assert s[("secretops_webhook_deliveries_total", (("hook", "github"), ("result", "accepted")))] == 1
    assert s[("secretops_webhook_deliveries_total", (("hook", "github"), ("result", "unauthorized")))] == 1
    assert not any(name.startswith(("python_", "process_")) for name, _ in s)  # its own registry, not the global one


def test_two_services_in_one_process_have_their_own_registries(tmp_path: Path) -> None:
    a = Service(config(), FakeOps(), start_scheduler=False)
    b = Service(config(), FakeOps(), start_scheduler=False)
    a.metrics.rotations.labels(outcome="complete").inc()
    assert _samples(b.metrics.render().decode())[("secretops_rotations_total", (("outcome", "complete"),))] == 0
