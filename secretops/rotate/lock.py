"""One rotation of a secret at a time: an `fcntl.flock` file lock per secret.

The embedded default keeps lock files under `state_dir/locks/`. The lock is held by an open
file description, so it vanishes when the process dies (a crash never leaves a stale lock),
and a second run of the same secret fails at once with `RotationLockedError` (exit code 1).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from pathlib import Path
from types import TracebackType

from secretops.errors import RotationError

__all__ = ["RotationLockedError", "SecretLock"]


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
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
