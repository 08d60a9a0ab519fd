"""Where each inventory secret stands in its rotation schedule, from the store's recorded state.

A secret's clock starts when its current version was created (a rotation, or `store import`
adopting a value already deployed). It is due `period` later:

- `ok`: not due within the warning window (a tenth of the period, at most 14 days);
- `due`: due within the window: rotate soon;
- `overdue`: past its due date;
- `never-rotated`: no rotation made the current version: the store holds none, or it was
  adopted (`store import`, no run id), so when the credential was last changed is unknown.

`due()` lists what `rotate --due` rotates: overdue and never-rotated secrets. A row can also
carry the secret's latest rotation run as `RunInfo` (`running`, `interrupted`, `awaiting-revoke`,
... computed by the caller from the journal) and the consumer keys its targets do not hold.
Nothing here reads a value: only `Store.state()` metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from secretops.inventory.models import IssuerSpec, SecretSpec
from secretops.store.interface import Label, SecretState, Store

__all__ = [
    "ATTENTION_RUN_STATES",
    "DUE_WINDOW_MAX",
    "InventoryLike",
    "RunInfo",
    "SecretStatus",
    "State",
    "due",
    "due_window",
    "orphans",
    "status_of",
    "statuses",
]

DUE_WINDOW_MAX = timedelta(days=14)

#: Run states that need a person or a `resume` (a status row shows them even when not due).
ATTENTION_RUN_STATES = frozenset({"interrupted", "revoke-due", "incomplete", "failed"})


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A secret's latest rotation run, as the journal tells it (`secretops.rotate.journal`)."""

    run_id: str
    state: str  # running, interrupted, awaiting-revoke, revoke-due, complete, rolled-back, failed, incomplete
    started_at: datetime
    revoke_after: datetime | None = None

    @property
    def needs_attention(self) -> bool:
        """True when the run died or stopped half-way (`secretops resume` finishes it)."""
        return self.state in ATTENTION_RUN_STATES

    def describe(self) -> str:
        """`awaiting-revoke until 2026-12-01 22:10 UTC`, `interrupted (r-...)`, `complete`."""
        if self.state == "awaiting-revoke" and self.revoke_after is not None:
            return f"awaiting-revoke until {_utc(self.revoke_after).strftime('%Y-%m-%d %H:%M')} UTC"
        if self.state in ("running", "interrupted", "revoke-due", "incomplete", "failed"):
            return f"{self.state} ({self.run_id})"
        return self.state

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict."""
        return {
            "id": self.run_id,
            "state": self.state,
            "started_at": _utc(self.started_at).isoformat(),
            "revoke_after": _utc(self.revoke_after).isoformat() if self.revoke_after else None,
        }


class InventoryLike(Protocol):
    """What a status needs: `secretops.inventory.loader.Inventory` fits, and so does a static one.

    When the object also has `where(name) -> (file, line)`, rows carry the declaring location.
    """

    @property
    def secrets(self) -> Mapping[str, SecretSpec]:
        """Secrets by name."""

    @property
    def issuers(self) -> Mapping[str, IssuerSpec]:
        """Issuer specs by name."""


def _where(inventory: InventoryLike, name: str) -> tuple[Path | None, int | None]:
    where = getattr(inventory, "where", None)
    if where is None:
        return None, None
    try:
        file, line = where(name)
    except KeyError:
        return None, None
    return Path(file), int(line)


class State(StrEnum):
    """A secret's place in its rotation schedule."""

    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"
    NEVER_ROTATED = "never-rotated"

    @property
    def urgency(self) -> int:
        """Sort key: most urgent first."""
        return {State.OVERDUE: 0, State.NEVER_ROTATED: 1, State.DUE: 2, State.OK: 3}[self]


def due_window(period: timedelta) -> timedelta:
    """How long before its due date a secret shows as `due`."""
    return min(period / 10, DUE_WINDOW_MAX)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class SecretStatus:
    """One inventory secret with its schedule. Dates are UTC; no value, no fingerprint."""

    name: str
    kind: str
    issuer: str
    issuer_kind: str
    strategy: str
    period: timedelta
    grace: timedelta
    consumers: int
    targets: tuple[str, ...]
    state: State
    version: int | None
    created_at: datetime | None
    age: timedelta | None
    last_rotated: datetime | None
    next_due: datetime | None
    pending: int | None
    file: Path | None
    line: int | None
    adopted: bool = False
    run: RunInfo | None = None
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The row as a JSON-ready dict (ISO 8601 dates, durations in seconds)."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "name": self.name,
            "kind": self.kind,
            "issuer": self.issuer,
            "issuer_kind": self.issuer_kind,
            "strategy": self.strategy,
            "period_seconds": int(self.period.total_seconds()),
            "grace_seconds": int(self.grace.total_seconds()),
            "consumers": self.consumers,
            "targets": list(self.targets),
            "state": self.state.value,
            "version": self.version,
            "created_at": iso(self.created_at),
            "age_seconds": int(self.age.total_seconds()) if self.age is not None else None,
            "last_rotated": iso(self.last_rotated),
            "next_due": iso(self.next_due),
            "pending_version": self.pending,
            "file": str(self.file) if self.file else None,
            "line": self.line,
            "adopted": self.adopted,
            "run": self.run.to_json() if self.run else None,
            "missing": list(self.missing),
        }


def status_of(
    inventory: InventoryLike,
    name: str,
    state: SecretState | None,
    now: datetime,
    *,
    run: RunInfo | None = None,
    missing: tuple[str, ...] = (),
) -> SecretStatus:
    """The status of inventory secret `name` given its store state (None: never stored).

    A current version that no rotation made (no run id: adopted by `store import`) starts no
    clock: the credential may be years old, so the secret is `never-rotated`, due at once.
    """
    spec = inventory.secrets[name]
    issuer = inventory.issuers.get(spec.issuer)
    now = _utc(now)
    current = state.labelled(Label.CURRENT) if state else None
    pending = state.labelled(Label.PENDING) if state else None
    created = _utc(current.created_at) if current else None
    adopted = current is not None and current.run_id is None
    next_due = created + spec.period if created and not adopted else None
    if next_due is None:
        schedule = State.NEVER_ROTATED
    elif now >= next_due:
        schedule = State.OVERDUE
    elif now >= next_due - due_window(spec.period):
        schedule = State.DUE
    else:
        schedule = State.OK
    file, line = _where(inventory, name)
    return SecretStatus(
        name=name,
        kind=spec.kind,
        issuer=spec.issuer,
        issuer_kind=issuer.kind if issuer else "?",
        strategy=spec.strategy.value,
        period=spec.period,
        grace=spec.grace,
        consumers=len(spec.consumers),
        targets=tuple(sorted({c.target for c in spec.consumers})),
        state=schedule,
        version=current.number if current else None,
        created_at=created,
        age=now - created if created else None,
        last_rotated=_utc(state.rotated_at) if state and state.rotated_at and not adopted else None,
        next_due=next_due,
        pending=pending.number if pending else None,
        file=file,
        line=line,
        adopted=adopted,
        run=run,
        missing=missing,
    )


def statuses(
    inventory: InventoryLike,
    store: Store,
    now: datetime,
    *,
    runs: Mapping[str, RunInfo] | None = None,
    missing: Mapping[str, tuple[str, ...]] | None = None,
) -> list[SecretStatus]:
    """Every inventory secret's status, in inventory order.

    `runs` (latest run by secret) and `missing` (consumer keys not on their targets, by secret)
    are attached to the rows when given.
    """
    runs = runs or {}
    missing = missing or {}
    return [
        status_of(inventory, name, store.state(name), now, run=runs.get(name), missing=missing.get(name, ()))
        for name in inventory.secrets
    ]


def due(inventory: InventoryLike, store: Store, now: datetime) -> list[str]:
    """Names of secrets past their period, or never rotated (what `rotate --due` picks up)."""
    return [s.name for s in statuses(inventory, store, now) if s.state in (State.OVERDUE, State.NEVER_ROTATED)]


def orphans(inventory: InventoryLike, store: Store) -> list[str]:
    """Secrets the store holds that no policy declares (renamed or removed from policies)."""
    return [name for name in store.names() if name not in inventory.secrets]
