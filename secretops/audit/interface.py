"""The audit seam: a tamper-evident record of every rotation, compromise, reveal and revoke.

An `AuditLog` appends `AuditEntry`s and can `verify` that none was altered, removed or
reordered since. Entries carry names, fingerprints, run ids, outcomes and who acted, never a
value: `append` accepts only plain scalars (and lists of them) as detail, so a `SecretValue`
is a `TypeError`. The local log (`secretops.audit.local`) keeps a SHA-256 hash chain in a JSON
lines file beside the journal; a team-scale state backend implements this same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from secretops.errors import StoreError

__all__ = ["ACTIONS", "AuditEntry", "AuditError", "AuditLog", "AuditVerdict", "Detail", "Scalar", "check_detail"]

Scalar = str | int | float | bool | None
Detail = Mapping[str, Scalar | Sequence[Scalar]]

#: The actions recorded. `rotate` is one rotation run (of any kind, with `compromised` in its
#: detail when it was one), `resume` a resumed run, `compromise` an incident opened from
#: findings, `revoke` a leaked value revoked at its provider, `reveal` a value printed.
ACTIONS: Final = frozenset({"rotate", "resume", "compromise", "revoke", "reveal"})


class AuditError(StoreError):
    """The audit log cannot be written or read (nothing further is done without a record)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit record: `seq` counts from 1; `prev` is the SHA-256 (hex) of the line before it."""

    seq: int
    ts: datetime
    action: str
    user: str
    secret: str | None
    detail: Mapping[str, object] = field(default_factory=dict)
    prev: str = ""


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """What `verify` found: `ok`, how many entries, and the first bad line (1-based) with why."""

    ok: bool
    entries: int
    bad_line: int | None = None
    reason: str = ""


def check_detail(detail: Mapping[str, object]) -> dict[str, Scalar | list[Scalar]]:
    """`detail` as plain JSON scalars (lists of them allowed); `TypeError` for anything else."""
    out: dict[str, Scalar | list[Scalar]] = {}
    for key, val in detail.items():
        if isinstance(val, list | tuple):
            items = list(val)
            for item in items:
                if not isinstance(item, Scalar):
                    raise TypeError(f"audit detail {key!r} must hold plain scalars, not {type(item).__name__}")
            out[key] = items
        elif isinstance(val, Scalar):
            out[key] = val
        else:
            raise TypeError(f"audit detail {key!r} must be a plain scalar, not {type(val).__name__}")
    return out


class AuditLog(ABC):
    """An append-only, verifiable record of security-relevant actions."""

    @abstractmethod
    def append(self, action: str, *, secret: str | None = None, **detail: object) -> AuditEntry:
        """Record one action durably (fsynced) before returning; `AuditError` when it cannot."""

    @abstractmethod
    def entries(self) -> list[AuditEntry]:
        """Every entry, oldest first (`AuditError` when the log cannot be parsed)."""

    @abstractmethod
    def verify(self) -> AuditVerdict:
        """Whether every entry is intact and in order, naming the first bad line when not."""
