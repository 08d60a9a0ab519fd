"""The scheduler: interval and jitter on an injected clock, one run at a time, graceful stop mid-run."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from secretops.serve.app import Service
from secretops.serve.scheduler import Scheduler
from tests.serve.conftest import FakeOps, config


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _blocking_job(gate: threading.Event, calls: list[str]) -> Callable[[Callable[[], bool]], object]:
    def job(should_stop: Callable[[], bool]) -> object:
        calls.append("start")
        gate.wait(10)
        calls.append("end")
        return None

    return job


def test_ticks_follow_interval_plus_jitter_on_the_injected_clock() -> None:
    clock = Clock()
    calls: list[float] = []
    done = threading.Event()

    def job(should_stop: Callable[[], bool]) -> object:
        calls.append(clock.t)
        done.set()
        return None

    sched = Scheduler(job, interval=600, jitter=60, first_delay=0, monotonic=clock, rng=random.Random(4))
    assert sched.tick().started
    assert done.wait(5)
    sched.drain(5)
    assert not sched.tick().started  # not yet: the next one is 600..660 s away
    wait = sched.seconds_to_next()
    assert 600 <= wait <= 660
    clock.t += wait - 1
    assert not sched.tick().started
    clock.t += 1
    assert sched.tick().started
    sched.drain(5)
    assert sched.runs_started == 2 and len(calls) == 2


def test_first_tick_waits_a_random_part_of_the_jitter() -> None:
    delays = set()
    for seed in range(5):
        clock = Clock()
        sched = Scheduler(lambda s: None, interval=60, jitter=30, monotonic=clock, rng=random.Random(seed))
        delays.add(round(sched.seconds_to_next(), 3))
        assert 0 <= sched.seconds_to_next() <= 30
    assert len(delays) > 1


def test_a_run_in_progress_is_never_started_twice() -> None:
    gate, calls = threading.Event(), []
    clock = Clock()
    sched = Scheduler(_blocking_job(gate, calls), interval=60, first_delay=0, monotonic=clock)
    assert sched.tick().started
    clock.t += 120
    info = sched.tick()
    assert not info.started and info.reason == "previous run still in progress"
    assert not sched.run_now().started
    gate.set()
    assert sched.drain(5)
    assert calls == ["start", "end"] and sched.runs_started == 1


def test_a_failing_run_is_logged_by_type_and_the_next_tick_runs(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def job(should_stop: Callable[[], bool]) -> object:
        runs.append(1)
        raise RuntimeError("boom with sk_live_fakeNOTLOGGED0000")

    sched = Scheduler(job, interval=60, first_delay=0, monotonic=Clock())
    sched.run_now()
    sched.drain(5)
    sched.run_now()
    sched.drain(5)
    assert len(runs) == 2 and sched.last_error == "RuntimeError"
    assert "unexpected RuntimeError" in caplog.text and "NOTLOGGED" not in caplog.text


def test_loop_thread_stop_mid_run_lets_the_rotation_finish_and_starts_nothing_new(tmp_path: Path) -> None:
    """The SIGTERM path: the real loop thread runs, a stop arrives while a rotation is mid-run."""
    ops = FakeOps()
    ops.due_names = ["shop/a", "shop/b"]
    ops.gate = threading.Event()
    service = Service(
        config(interval_minutes=0.001, shutdown_timeout_seconds=10),  # a tick every 60 ms
        ops,
        state_dir=tmp_path,
        scheduler_options={"first_delay": 0, "poll": 0.01},
    )
    service.start()
    assert ops.mid_run.wait(5), "the first rotation never started"
    assert service.scheduler.alive()[0]
    time.sleep(0.2)  # several intervals pass while the run is in progress
    assert service.scheduler.runs_started == 1
    service.begin_shutdown()  # what the first SIGTERM does
    finisher = threading.Timer(0.2, ops.gate.set)
    finisher.start()
    assert service.shutdown() is True
    finisher.join()
    assert ops.finished == ["shop/a"]  # the rotation in flight finished its run
    assert ops.calls.count("run_due") == 1  # and no run started after the stop
    assert not service.scheduler.alive()[0]
    assert not service.scheduler.running
    time.sleep(0.1)
    assert ops.calls.count("run_due") == 1


def test_shutdown_timeout_logs_what_is_left(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ops = FakeOps()
    ops.gate = threading.Event()
    ops.unfinished_runs = lambda: ["r-20260101-abc shop/db"]  # type: ignore[method-assign]
    service = Service(config(), ops, state_dir=tmp_path, start_scheduler=False)
    service.start()
    service.scheduler.run_now()
    assert ops.mid_run.wait(5)
    try:
        assert service.shutdown(timeout=0.2) is False
        assert "left running: the due run" in caplog.text
        assert "unfinished run r-20260101-abc shop/db: resumable with `secretops resume`" in caplog.text
        assert service.shutdown() is False  # idempotent: the CLI calls it again after uvicorn returns
    finally:
        ops.gate.set()
        service.scheduler.drain(5)


def test_second_signal_stops_waiting(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ops = FakeOps()
    ops.gate = threading.Event()
    service = Service(config(shutdown_timeout_seconds=60), ops, state_dir=tmp_path, start_scheduler=False)
    service.start()
    service.scheduler.run_now()
    assert ops.mid_run.wait(5)
    threading.Timer(0.2, service.abandon).start()
    began = time.monotonic()
    try:
        assert service.shutdown() is False
        assert time.monotonic() - began < 5
        assert "second signal" in caplog.text and "exiting with work in progress" in caplog.text
    finally:
        ops.gate.set()
        service.scheduler.drain(5)
