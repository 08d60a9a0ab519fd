"""What the engine returns and what it reads: run outcomes and results, and the inventory view.

`RunResult` is one run's outcome with what to print (`summary`) and its exit code; `Outcome`
names how it ended. `InventoryView` is what the engine needs from an inventory, and
`StaticInventory` one assembled in code. Re-exported by `secretops.rotate.engine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from secretops.errors import ExitCode
from secretops.inventory.models import IssuerSpec, SecretSpec, TargetSpec

__all__ = ["Failure", "InventoryView", "Outcome", "RunResult", "StaticInventory"]


class InventoryView(Protocol):
    """What the engine needs from an inventory (`secretops.inventory.loader.Inventory` fits)."""

    @property
    def secrets(self) -> Mapping[str, SecretSpec]:
        """Secrets by name."""

    @property
    def issuers(self) -> Mapping[str, IssuerSpec]:
        """Issuer specs by name."""

    @property
    def targets(self) -> Mapping[str, TargetSpec]:
        """Target specs by name."""


@dataclass(frozen=True)
class StaticInventory:
    """An inventory assembled in code (tests, embedding)."""

    secrets: Mapping[str, SecretSpec]
    issuers: Mapping[str, IssuerSpec]
    targets: Mapping[str, TargetSpec]


class Outcome(StrEnum):
    """How a run ended (or stands)."""

    COMPLETE = "complete"
    AWAITING_REVOKE = "awaiting-revoke"
    ROLLED_BACK = "rolled-back"
    FAILED = "failed"  # rolled back only in part, or could not start
    INCOMPLETE = "incomplete"  # promoted, but revoke/proof failed: both values work
    NOTHING = "nothing-to-do"
    SKIPPED = "skipped"  # `run_due`: another runner holds the secret, or rotated it meanwhile
    INTERRUPTED = "interrupted"  # this runner lost its lease: stopped at a step boundary, resumable


@dataclass(frozen=True, slots=True)
class Failure:
    """Which step failed, on which target, and why (never a value)."""

    step: str
    target: str | None
    reason: str
    hint: str | None = None
    exit_code: ExitCode = ExitCode.FINDINGS

    def where(self) -> str:
        """`step distribute on target web`."""
        return f"step {self.step}" + (f" on target {self.target}" if self.target else "")


@dataclass
class RunResult:
    """The outcome of one run, with what to print."""

    secret: str
    run_id: str | None
    outcome: Outcome
    lines: list[str] = field(default_factory=list)
    failure: Failure | None = None
    problems: list[str] = field(default_factory=list)
    next_step: str | None = None
    revoke_after: datetime | None = None
    proof: str | None = None
    skipped_targets: list[Failure] = field(default_factory=list)
    note: str | None = None  # why a run was skipped

    @property
    def exit_code(self) -> int:
        """0 complete, awaiting revoke or skipped for another runner; 1 rolled back, incomplete or
        interrupted; 3/4 when auth/reachability caused it."""
        ok = (Outcome.COMPLETE, Outcome.AWAITING_REVOKE, Outcome.NOTHING, Outcome.SKIPPED)
        if self.outcome in ok and not self.skipped_targets:
            return int(ExitCode.OK)
        if self.failure is not None and self.failure.exit_code in (ExitCode.AUTH, ExitCode.UNAVAILABLE, ExitCode.USAGE):
            return int(self.failure.exit_code)
        return int(ExitCode.FINDINGS)

    def summary(self) -> str:
        """One paragraph saying what happened and what to do next."""
        head = f"{self.secret}: run {self.run_id or '-'}: {self.outcome.value}"
        parts = [head]
        if self.note:
            parts.append(f"  {self.note}")
        if self.failure is not None:
            parts.append(f"  failed at {self.failure.where()}: {self.failure.reason}")
        for skipped in self.skipped_targets:
            parts.append(f"  NOT switched: target {skipped.target} ({skipped.step}): {skipped.reason}")
        parts.extend(f"  problem: {p}" for p in self.problems)
        if self.revoke_after is not None:
            parts.append(f"  previous value stays valid until {self.revoke_after.isoformat(timespec='seconds')}")
        if self.proof:
            parts.append(f"  proof: {self.proof}")
        if self.next_step:
            parts.append(f"  next: {self.next_step}")
        return "\n".join(parts)
