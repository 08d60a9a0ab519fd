"""The access log: who read a secret's value out of the store, and when (never the value).

`secretops store show NAME --reveal` prints a value to a person's terminal. That is an access
worth a record: before the value is printed, one JSON line is appended (and fsynced) to
`state_dir/journal/access.jsonl`, next to the rotation journal (whose run files are `r-*.jsonl`,
so this file is never mistaken for a run):

```json
{"ts": "2026-12-01T22:00:00+00:00", "event": "revealed", "secret": "shop/db", "version": 4,
 "fingerprint": "hmac-sha256:...", "user": "alice", "pid": 4242, "tty": true}
```

The line carries the secret name, version number and fingerprint, never a value: `append`
accepts only plain scalars. If the record cannot be written, nothing is revealed.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from secretops.errors import StoreError

if TYPE_CHECKING:
    from secretops.audit.interface import AuditLog

__all__ = ["ACCESS_FILE", "AccessEntry", "AccessLog", "current_user"]

ACCESS_FILE: Final = "access.jsonl"

Scalar = str | int | float | bool | None


def current_user() -> str:
    """Who is running this process: `getpass.getuser()` (`$LOGNAME`, `$USER`, ... then the uid)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER") or f"uid {os.getuid()}"


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access record."""

    ts: datetime
    event: str
    secret: str
    version: int | None
    fingerprint: str | None
    user: str
    detail: dict[str, Scalar]


class AccessLog:
    """Append-only access records under `state_dir/journal/`.

    Each record also goes to the hash-chained audit log: `audit` (the state backend's,
    `open_state(settings).audit()`), else the local one of `state_dir`.
    """

    def __init__(
        self, state_dir: Path, *, clock: Callable[[], datetime] | None = None, audit: AuditLog | None = None
    ) -> None:
        self.path = Path(state_dir) / "journal" / ACCESS_FILE
        self._clock = clock or (lambda: datetime.now(UTC))
        self._audit = audit

    def append(
        self, event: str, secret: str, *, version: int | None, fingerprint: str | None, **detail: Scalar
    ) -> AccessEntry:
        """Write one record and fsync it; `StoreError` if it cannot be written."""
        for key, val in detail.items():
            if not isinstance(val, Scalar):
                raise TypeError(f"access log detail {key!r} must be a plain scalar, not {type(val).__name__}")
        entry = AccessEntry(self._clock(), event, secret, version, fingerprint, current_user(), dict(detail))
        line = {
            "ts": entry.ts.isoformat(),
            "event": event,
            "secret": secret,
            "version": version,
            "fingerprint": fingerprint,
            "user": entry.user,
            **detail,
        }
        data = (json.dumps(line, sort_keys=True) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(
                f"cannot record the access in {self.path}: {exc.strerror}",
                hint="nothing was revealed; check the state directory's permissions",
            ) from exc
        from secretops.audit import open_audit  # the hash-chained audit log records it too

        (self._audit or open_audit(self.path.parent.parent)).append(
            "reveal", secret=secret, event=event, version=version, fingerprint=fingerprint, **detail
        )
        return entry

    def entries(self) -> list[AccessEntry]:
        """Every readable record, oldest first (a torn last line is skipped)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        fixed = {"ts", "event", "secret", "version", "fingerprint", "user"}
        for raw in lines:
            try:
                obj = json.loads(raw)
                out.append(
                    AccessEntry(
                        ts=datetime.fromisoformat(obj["ts"]),
                        event=str(obj["event"]),
                        secret=str(obj["secret"]),
                        version=obj.get("version"),
                        fingerprint=obj.get("fingerprint"),
                        user=str(obj.get("user", "?")),
                        detail={k: v for k, v in obj.items() if k not in fixed},
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue
        return out
