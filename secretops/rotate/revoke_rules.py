"""What must hold before the engine revokes a previous value.

See docs/rotation.md, "What secretops verifies before it revokes".

Two rules live here, both read from the run's own journal so a resumed run (a new process)
applies them exactly as the first one would:

- **Restart or drain.** Every consumer's target must have finished its redeploy in this run
  (`redeploy` done or skipped as already done). A target whose redeploy restarted nothing
  (`DeployState.NONE`: a `.env` with no `restart` command, GitHub Actions, Render with
  `deploy: false`) has readers that pick the new value up on their own, whenever they next read
  it; for those the revoke waits until `drain` has passed since the last write to them
  (`drain_wait`). Grace and drain are measured from different moments and both must pass:
  grace from `promote` (skipped by `compromised`), drain from the last `distribute` (kept by
  `compromised`, dropped only by `compromised --force`).
- **Write-only consumers.** A consumer whose target cannot read its value back
  (`read_fingerprint` is None: GitHub Actions, Vercel `sensitive`, DigitalOcean `EV[...]` after
  a restart) is trusted only on the verification of the value rendered for it plus its own
  health check, which passed before `promote`; without a health check, only an explicit
  `verify: accept-unverified` lets the revoke go ahead (`write_only_problem`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from secretops.errors import RotationError
from secretops.inventory.models import ConsumerSpec, SecretSpec
from secretops.rotate import steps as S
from secretops.rotate.journal import Entry, RunRecord
from secretops.targets.interface import DeployState, EnvRef

__all__ = ["DrainWait", "drain_wait", "duration", "restarted", "unredeployed", "write_only_problem"]


def duration(value: timedelta) -> str:
    """A duration as a policy writes it: `10s`, `2m`, `1h` (whole seconds)."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _redeploys(record: RunRecord, target: str) -> list[Entry]:
    return [
        e for e in record.entries if e.step == S.REDEPLOY and e.target == target and e.status in ("done", "skipped")
    ]


def unredeployed(record: RunRecord, targets: Iterable[str]) -> list[str]:
    """The targets with no finished `redeploy` in this run's journal (must be none before a revoke)."""
    return sorted(t for t in targets if not _redeploys(record, t))


def restarted(record: RunRecord, target: str) -> bool:
    """Whether `target`'s redeploy in this run restarted running code (not `DeployState.NONE`).

    A redeploy journaled before the state was recorded counts as "not restarted": the engine
    then drains, which is never wrong, only slower.
    """
    for entry in reversed(_redeploys(record, target)):
        state = entry.detail.get("state")
        if state is not None:
            return str(state) != DeployState.NONE.value
    return False


@dataclass(frozen=True, slots=True)
class DrainWait:
    """How long the revoke must still wait for readers that were not restarted."""

    targets: tuple[str, ...]  # the consumers' targets that were not restarted
    since: datetime | None  # the last write of the new value to one of them
    remaining: timedelta

    @property
    def needed(self) -> bool:
        """Whether there is anything to wait for."""
        return self.remaining > timedelta(0)


def drain_wait(record: RunRecord, secret: SecretSpec, targets: Iterable[str], now: datetime) -> DrainWait:
    """The rest of `secret.drain` since the last `distribute` to a target that was not restarted."""
    waiting = tuple(sorted(t for t in targets if not restarted(record, t)))
    if not waiting or secret.drain <= timedelta(0):
        return DrainWait(waiting, None, timedelta(0))
    writes = [
        e.ts
        for e in record.entries
        if e.step == S.DISTRIBUTE and e.target in waiting and e.status in ("done", "skipped")
    ]
    since = max(writes) if writes else now  # no write journaled: wait the whole drain
    remaining = since + secret.drain - now
    return DrainWait(waiting, since, max(remaining, timedelta(0)))


def write_only_problem(secret: SecretSpec, consumer: ConsumerSpec, ref: EnvRef, where: str) -> RotationError | None:
    """None when `consumer` (unreadable at `ref`) may be revoked under; else the refusal to raise."""
    if consumer.health is not None or consumer.verify == "accept-unverified":
        return None
    return RotationError(
        f"{secret.name}: {ref} on target {consumer.target} ({where}) cannot be read back, and consumer "
        f"{consumer.target}:{consumer.env} has no health check: nothing shows the app uses the new value, "
        "so the previous value is not revoked (both values work)",
        hint=f"add a `health` check to consumer {consumer.target}:{consumer.env} (a URL that uses the credential), "
        "or set `verify: accept-unverified` on it to accept the risk",
    )
