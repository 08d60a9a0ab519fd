"""The local audit log: a SHA-256 hash chain in `state_dir/journal/audit.jsonl`, beside the journal.

Each line is one entry as compact JSON with sorted keys:

```json
{"action": "rotate", "detail": {"outcome": "complete", "run": "r-..."}, "hash": "<sha256>",
 "prev": "<sha256 of the line before>", "secret": "shop/db", "seq": 7,
 "ts": "2026-12-01T22:00:00.123456+00:00", "user": "alice"}
```

`hash` is the SHA-256 of the entry's own canonical JSON without `hash`; `prev` is the SHA-256
of the previous line's bytes (64 zeros for the first). So an altered line fails its own hash,
a removed or reordered line breaks `seq` and `prev`, and `audit.head` (written atomically after
each append: the last `seq` and line hash) shows lines cut off the end. Appends take an
exclusive `flock` on the log, write one line, fsync it, then update the head.

This is tamper-evident, not tamper-proof: someone who can rewrite the whole file and its head
can forge a consistent chain. Copy the head hash `audit verify` prints somewhere they cannot
write (a ticket, a chat message) to anchor it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from secretops.audit.interface import ACTIONS, AuditEntry, AuditError, AuditLog, AuditVerdict, check_detail
from secretops.fileio import write_atomic
from secretops.store.access_log import current_user

__all__ = ["AUDIT_FILE", "GENESIS", "HEAD_FILE", "LocalAuditLog", "line_hash"]

AUDIT_FILE: Final = "audit.jsonl"
HEAD_FILE: Final = "audit.head"
GENESIS: Final = "0" * 64
_TAIL: Final = 1 << 16  # bytes read back from the end to find the last line
_LOCK = threading.Lock()  # flock is per open file: threads of one process also queue here


def line_hash(line: bytes) -> str:
    """The SHA-256 (hex) of one line's bytes, without its newline."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _self_hash(obj: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in obj.items() if k != "hash"})).hexdigest()


class LocalAuditLog(AuditLog):
    """The hash-chained audit file of one state directory."""

    def __init__(self, state_dir: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(state_dir) / "journal" / AUDIT_FILE
        self.head_path = self.path.with_name(HEAD_FILE)
        self._clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------ writing

    def append(self, action: str, *, secret: str | None = None, **detail: object) -> AuditEntry:
        """Append one entry under an exclusive lock; fsync it; update the head."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        clean = check_detail(detail)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with _LOCK:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    seq, prev = self._last(fd)
                    entry = AuditEntry(seq + 1, self._clock(), action, current_user(), secret, clean, prev)
                    obj: dict[str, Any] = {
                        "seq": entry.seq,
                        "ts": entry.ts.isoformat(),
                        "action": action,
                        "user": entry.user,
                        "secret": secret,
                        "detail": clean,
                        "prev": prev,
                    }
                    obj["hash"] = _self_hash(obj)
                    line = _canonical(obj)
                    os.write(fd, line + b"\n")
                    os.fsync(fd)
                    head = {"seq": entry.seq, "sha256": line_hash(line)}
                    write_atomic(self.head_path, json.dumps(head, sort_keys=True) + "\n", mode=0o600)
                finally:
                    os.close(fd)  # releases the flock
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror}",
                hint="check the state directory's permissions and free space",
            ) from exc
        return entry

    def _last(self, fd: int) -> tuple[int, str]:
        """The last entry's `seq` and line hash (0 and `GENESIS` for an empty log)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        start = max(0, size - _TAIL)
        data = os.pread(fd, size - start, start)
        if not data.endswith(b"\n"):
            raise AuditError(
                f"the audit log {self.path} ends in a torn line (a write was cut short)",
                hint="run `secretops audit verify`, keep a copy of the file, then investigate before going on",
            )
        last = data[:-1].rsplit(b"\n", 1)[-1]
        try:
            seq = int(json.loads(last)["seq"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditError(
                f"the last line of the audit log {self.path} is not an audit entry",
                hint="run `secretops audit verify` to see what is wrong",
            ) from exc
        return seq, line_hash(last)

    # ------------------------------------------------------------ reading

    def _lines(self) -> list[bytes]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {self.path}: {exc.strerror}") from exc
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines

    def entries(self) -> list[AuditEntry]:
        """Every entry, oldest first."""
        out = []
        for number, raw in enumerate(self._lines(), 1):
            try:
                obj = json.loads(raw)
                out.append(
                    AuditEntry(
                        seq=int(obj["seq"]),
                        ts=datetime.fromisoformat(obj["ts"]),
                        action=str(obj["action"]),
                        user=str(obj["user"]),
                        secret=obj.get("secret"),
                        detail=dict(obj.get("detail") or {}),
                        prev=str(obj["prev"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise AuditError(
                    f"{self.path} line {number} is not an audit entry", hint="run `secretops audit verify`"
                ) from exc
        return out

    def head(self) -> tuple[int, str] | None:
        """The recorded head (last `seq`, its line hash), or None when there is none."""
        try:
            obj = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(obj["seq"]), str(obj["sha256"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return (-1, "")

    def verify(self) -> AuditVerdict:
        """Check every line's own hash, its `seq` and `prev` link, and the head; the first bad line wins."""
        lines = self._lines()
        prev = GENESIS
        for number, raw in enumerate(lines, 1):
            try:
                obj = json.loads(raw)
                if not isinstance(obj, dict):
                    raise ValueError
            except ValueError:
                return AuditVerdict(False, len(lines), number, "not a JSON audit entry (altered or torn)")
            if obj.get("hash") != _self_hash(obj) or raw != _canonical(obj):
                return AuditVerdict(False, len(lines), number, "its content does not match its hash (altered)")
            if obj.get("seq") != number:
                return AuditVerdict(
                    False,
                    len(lines),
                    number,
                    f"holds entry {obj.get('seq')} where entry {number} belongs (a line was removed or reordered)",
                )
            if obj.get("prev") != prev:
                return AuditVerdict(
                    False, len(lines), number, "does not chain to the line before it (removed, reordered or replaced)"
                )
            prev = line_hash(raw)
        head = self.head()
        if head is None:
            if lines:
                return AuditVerdict(False, len(lines), len(lines) + 1, "the head file is missing (lines may be cut)")
            return AuditVerdict(True, 0)
        seq, digest = head
        n = len(lines)
        if seq > n:
            return AuditVerdict(
                False, n, n + 1, f"missing: the head records {seq} entries but the log ends at line {n} (lines removed)"
            )
        if seq < n:
            return AuditVerdict(
                False, n, max(seq, 0) + 1, f"beyond the head, which records {max(seq, 0)} entries (head altered?)"
            )
        if lines and digest != prev:
            return AuditVerdict(False, n, n, "does not match the hash the head records (last line or head altered)")
        return AuditVerdict(True, len(lines))
