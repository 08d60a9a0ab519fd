"""One rotation of a secret at a time: an `fcntl.flock` file lock per secret.

The embedded default keeps lock files under `state_dir/locks/`. The lock is held by an open
file description, so it vanishes when the process dies (a crash never leaves a stale lock),
and a second run of the same secret fails at once with `RotationLockedError` (exit code 1).

`lock_held` tells `status` whether a run's process is still alive: it probes with a shared,
non-blocking lock that it drops at once; `acquire` retries briefly so a probe at the same
instant never makes a starting run fail.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from pathlib import Path
from types import TracebackType

from secretops.errors import RotationError

__all__ = ["RotationLockedError", "SecretLock", "lock_held"]

_ACQUIRE_TRIES = 5
_ACQUIRE_PAUSE = 0.01


class RotationLockedError(RotationError):
    """Another run holds this secret's lock."""


def _filename(secret: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", secret)[:80]
    return f"{safe}-{hashlib.sha256(secret.encode()).hexdigest()[:8]}.lock"


class SecretLock:
    """A non-blocking exclusive lock on one secret; use as a context manager."""

    def __init__(self, directory: Path, secret: str) -> None:
        self.secret = secret
        self.path = Path(directory) / _filename(secret)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `RotationLockedError` naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            for attempt in range(_ACQUIRE_TRIES):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if attempt == _ACQUIRE_TRIES - 1:
                        raise
                    time.sleep(_ACQUIRE_PAUSE)  # perhaps only a `lock_held` probe
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RotationLockedError(
                f"secret {self.secret!r} is being rotated by another run (pid {holder})",
                hint="wait for it to finish; if it crashed, run `secretops resume` once it has exited",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SecretLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def lock_held(directory: Path, secret: str) -> bool:
    """Whether some process holds `secret`'s rotation lock now (a run is alive). Never creates files."""
    path = Path(directory) / _filename(secret)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's shared lock
    return False
