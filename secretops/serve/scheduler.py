"""The service's scheduler: the due rotation every `interval` seconds, with random jitter.

One loop thread decides when a run starts; the run itself (`job`) happens in its own worker
thread, so the loop keeps beating (`/healthz` reads its heartbeat) while a rotation waits out a
redeploy. At most one run is in progress in a process: a tick that finds the previous run still
going skips (and says so). Two replicas are kept apart by the state backend's per-secret
exclusivity, not here.

Shutdown: `stop()` ends scheduling at once and tells the running job to start nothing new
(`job(should_stop)`: the operations check it before each secret); `drain(timeout)` waits for the
run in progress to finish. Threads are never cancelled: the engine's steps are atomic and
journaled, so a run cut short by the process dying (a timeout, a second signal) is resumable.

The clock, the wait and the random source are injectable, so tests never sleep for long.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Job", "Scheduler", "TickInfo"]

log = logging.getLogger(__name__)

#: The work of one tick; it is handed `should_stop` and must check it before starting each secret.
Job = Callable[[Callable[[], bool]], object]


@dataclass(frozen=True, slots=True)
class TickInfo:
    """What the last tick did: when (wall clock), and whether it started a run."""

    at: float
    started: bool
    reason: str


class Scheduler:
    """Runs `job` every `interval` seconds plus `uniform(0, jitter)`, one run at a time.

    `first_delay` is the wait before the first tick (default: `uniform(0, jitter)`, so replicas
    started together do not tick together). `monotonic`, `wall` and `wait(event, seconds)` (which
    returns early when the event is set) are injectable; `poll` bounds each wait, which is how
    often the heartbeat moves.
    """

    def __init__(
        self,
        job: Job,
        *,
        interval: float,
        jitter: float = 0.0,
        first_delay: float | None = None,
        poll: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        wait: Callable[[threading.Event, float], bool] | None = None,
        rng: random.Random | None = None,
        on_tick: Callable[[TickInfo], None] | None = None,
        on_done: Callable[[object, float], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.job = job
        self.interval = interval
        self.jitter = max(0.0, jitter)
        self.poll = poll
        self._monotonic = monotonic
        self._wall = wall
        self._wait = wait or (lambda event, seconds: event.wait(seconds))
        self._rng = rng or random.SystemRandom()
        self._on_tick = on_tick
        self._on_done = on_done
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._loop: threading.Thread | None = None
        self._next_at = self._monotonic() + (first_delay if first_delay is not None else self._jitter())
        self.heartbeat = self._monotonic()
        self.last_tick: TickInfo | None = None
        self.runs_started = 0
        self.run_started_at: float | None = None  # wall clock of the run in progress
        self.last_error: str | None = None

    # ------------------------------------------------------------ state

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: nothing new starts."""
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        """True while a run is in progress."""
        worker = self._worker
        return worker is not None and worker.is_alive()

    def alive(self) -> tuple[bool, str]:
        """Whether the loop runs and beats (`/healthz`), with the reason when it does not."""
        if self._stop.is_set():
            return False, "scheduler stopped (shutting down)"
        if self._loop is None or not self._loop.is_alive():
            return False, "scheduler thread is not running"
        age = self._monotonic() - self.heartbeat
        if age > 3 * self.poll + 1:
            return False, f"scheduler heartbeat is {age:.0f}s old"
        return True, "ok"

    def seconds_to_next(self) -> float:
        """Seconds until the next tick (0 when it is due)."""
        return max(0.0, self._next_at - self._monotonic())

    # ------------------------------------------------------------ control

    def start(self) -> None:
        """Start the loop thread (idempotent)."""
        with self._lock:
            if self._loop is not None and self._loop.is_alive():
                return
            self._loop = threading.Thread(target=self._run_loop, name="secretops-scheduler", daemon=True)
            self._loop.start()

    def stop(self) -> None:
        """Stop scheduling; the run in progress is told to start no further secret."""
        if not self._stop.is_set():
            log.info("scheduler: stopping (no new rotation starts)")
        self._stop.set()

    def drain(self, timeout: float | None = None, *, abandon: threading.Event | None = None) -> bool:
        """Wait up to `timeout` seconds (or until `abandon` is set) for the run in progress; True when none is left."""
        deadline = None if timeout is None else self._monotonic() + timeout
        while True:
            worker = self._worker
            if worker is None or not worker.is_alive():
                break
            if abandon is not None and abandon.is_set():
                return False
            left = 0.5 if deadline is None else min(0.5, deadline - self._monotonic())
            if left <= 0:
                return False
            worker.join(left)
        loop = self._loop
        if loop is not None and loop is not threading.current_thread():
            loop.join(1.0)
        return True

    def tick(self) -> TickInfo:
        """One decision: start a run if it is time and none is in progress (the loop calls this)."""
        now = self._monotonic()
        self.heartbeat = now
        if self._stop.is_set():
            return self._record(False, "stopping")
        if now < self._next_at:
            return TickInfo(self._wall(), False, "not yet")
        self._next_at = now + self.interval + self._jitter()
        return self.run_now()

    def run_now(self) -> TickInfo:
        """Start a run now unless one is in progress or the scheduler is stopping."""
        with self._lock:
            if self._stop.is_set():
                return self._record(False, "stopping")
            if self.running:
                log.info("scheduler: the previous run is still in progress; this tick starts nothing")
                return self._record(False, "previous run still in progress")
            self._worker = threading.Thread(target=self._run_job, name="secretops-rotate-due", daemon=True)
            self.runs_started += 1
            self.run_started_at = self._wall()
            self._worker.start()
            return self._record(True, "started")

    # ------------------------------------------------------------ internals

    def _jitter(self) -> float:
        return self._rng.uniform(0.0, self.jitter) if self.jitter else 0.0

    def _record(self, started: bool, reason: str) -> TickInfo:
        info = TickInfo(self._wall(), started, reason)
        self.last_tick = info
        if self._on_tick is not None:
            self._on_tick(info)
        return info

    def _run_job(self) -> None:
        began = self._monotonic()
        result: object = None
        try:
            result = self.job(self._stop.is_set)
            self.last_error = None
        except Exception as exc:  # a bug or a broken policy must not end the service; /healthz stays up
            self.last_error = type(exc).__name__
            log.error("scheduler: the due run failed: %s", _describe(exc))
        finally:
            self.run_started_at = None
        if self._on_done is not None:
            self._on_done(result, self._monotonic() - began)

    def _run_loop(self) -> None:
        log.info("scheduler: started (every %.0fs, jitter up to %.0fs)", self.interval, self.jitter)
        while not self._stop.is_set():
            self.tick()
            self._wait(self._stop, max(0.0, min(self.poll, self._next_at - self._monotonic())))
        self.heartbeat = self._monotonic()
        log.info("scheduler: stopped")


def _describe(exc: BaseException) -> str:
    """An exception for a log line: `SecretOpsError` messages never hold values; others by type only."""
    from secretops.errors import SecretOpsError

    if isinstance(exc, SecretOpsError):
        return exc.message
    return f"unexpected {type(exc).__name__} (a bug)"
