"""`rotate --due` with several runners on one state: take over dead runs, look again under each lease.

`run_due` first finishes unfinished runs (revokes whose grace passed, runs whose runner died),
each under its secret's lease: a run whose secret another runner holds is `skipped`, and a run
still in its grace is passed by without a lease or a journal line. Then it rotates what is due.
The due list is made before any lease is taken, so under each secret's lease it looks again: a
run of that secret this pass had not seen (another runner got there first), or a store state no
longer due, makes it `skipped`, never a second rotation. Skips exit 0: with several runners,
another one doing the work is expected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from secretops.errors import SecretOpsError
from secretops.rotate import steps as S
from secretops.rotate.journal import RunRecord
from secretops.rotate.lock import RotationLockedError
from secretops.rotate.results import Failure, Outcome, RunResult

if TYPE_CHECKING:
    from secretops.rotate.engine import Engine

__all__ = ["grace_ends", "held_elsewhere", "is_due", "rotate_if_due", "run_due", "skipped", "take_over"]


def skipped(secret: str, note: str, run_id: str | None = None) -> RunResult:
    """A `skipped` result: `note` says why (another runner has or had the secret)."""
    return RunResult(secret, run_id, Outcome.SKIPPED, lines=[f"{secret}: {note}"], note=note)


def held_elsewhere(secret: str, exc: RotationLockedError, run_id: str | None = None) -> RunResult:
    """`run_due`/`resume`: another runner holds `secret`, so it is doing this work (not a failure)."""
    return skipped(secret, f"skipped: another runner is on it ({exc.message})", run_id)


def run_due(
    engine: Engine,
    *,
    concurrency: int = 1,
    due: Callable[[], list[str]] | None = None,
    still_due: Callable[[str], bool] | None = None,
) -> list[RunResult]:
    """Finish unfinished runs (revokes whose grace passed, runs whose runner died), then rotate
    every secret past its period. Safe with several runners on one shared state:

    - an unfinished run is taken over under its secret's lease (a dead runner's run, once its
      lease expired, is resumed from its journal); one whose secret another runner holds is
      `skipped`;
    - the due list is computed before any lease is taken, so after taking a secret's lease the
      engine looks again: a run of it that this pass had not seen (another runner rotated it
      meanwhile), or a store state that is no longer due, makes it `skipped`, never a second
      rotation. `still_due(name)` is that second look (default: the store's state against the
      policy's period; with an injected `due` and no `still_due`, only the run check).

    A `skipped` result exits 0: with several runners, another one doing the work is expected.
    """
    records = engine.state.runs()
    seen = {r.run_id for r in records}
    results: list[RunResult] = []
    for record in records:
        if record.outcome not in S.UNFINISHED:
            continue
        after = grace_ends(engine, record)
        if after is not None:  # nothing to do yet: no lease taken, nothing journaled
            line = f"run {record.run_id}: previous value kept until {after.isoformat(timespec='seconds')}"
            results.append(RunResult(record.secret, record.run_id, Outcome.AWAITING_REVOKE, [line], revoke_after=after))
            continue
        results.append(take_over(engine, record))
    if due is None:
        from secretops.inventory.loader import Inventory
        from secretops.inventory.status import due as status_due

        names = status_due(cast("Inventory", engine.inventory), engine.store, engine.clock())
    else:
        names = due()
    if still_due is None:
        still_due = (lambda name: is_due(engine, name)) if due is None else (lambda _name: True)
    check = still_due
    busy = {r.secret for r in results if r.outcome is not Outcome.COMPLETE}
    todo = [n for n in names if n not in busy]
    results.extend(engine._each(todo, concurrency, lambda name: rotate_if_due(engine, name, seen, check)))
    return results


def grace_ends(engine: Engine, record: RunRecord) -> datetime | None:
    """When `record` is `awaiting-revoke` with its grace still running: when the grace ends.

    The same reckoning as the run's own (promote time + the policy's grace), so `run_due`
    passes by such a run without a lease or a journal line (a service polls every few minutes).
    """
    secret = engine.inventory.secrets.get(record.secret)
    started = record.started()
    promote = record.done(S.PROMOTE)
    if record.outcome != "awaiting-revoke" or secret is None or promote is None or started is None:
        return None
    if started.detail.get("compromised") or secret.grace <= timedelta(0):
        return None
    after = promote.ts + secret.grace
    return after if engine.clock() < after else None


def take_over(engine: Engine, record: RunRecord) -> RunResult:
    """Resume unfinished `record` under its secret's lease (skipped when another runner holds it)."""
    try:
        secret = engine._secret(record.secret)
        with engine.state.exclusive(record.secret) as lease:
            current = engine.state.load(record.run_id)
            if current.outcome not in S.UNFINISHED:
                # Its runner finished it between this pass's listing and taking the lease.
                note = f"skipped: run {record.run_id} was finished by another runner meanwhile ({current.outcome})"
                return skipped(record.secret, note, record.run_id)
            return engine._resume(secret, current, lease, compromised=False)
    except RotationLockedError as exc:
        return held_elsewhere(record.secret, exc, record.run_id)
    except SecretOpsError as exc:
        failure = Failure("resume", None, exc.message, exc.hint, exc.exit_code)
        return RunResult(record.secret, record.run_id, Outcome.FAILED, failure=failure)


def rotate_if_due(engine: Engine, name: str, seen: set[str], still_due: Callable[[str], bool]) -> RunResult:
    """`run_due`'s rotation of `name`: under its lease, and only if nobody rotated it meanwhile."""
    secret = engine._secret(name)
    try:
        lease = engine.state.exclusive(name)
        lease.acquire()
    except RotationLockedError as exc:
        return held_elsewhere(name, exc)
    try:
        newer = [r for r in engine.state.runs(name) if r.run_id not in seen]
        if newer:
            last = newer[-1]
            note = (
                f"skipped: already rotated by another runner (run {last.run_id}: {last.outcome}) "
                "since this pass listed what is due"
            )
            return skipped(name, note)
        if not still_due(name):
            return skipped(name, "skipped: no longer due (the store shows it rotated by another runner)")
        return engine._rotate_held(secret, lease, compromised=False, force=False)
    finally:
        lease.release()


def is_due(engine: Engine, name: str) -> bool:
    """Whether `name` is due by the store's state now (overdue or never rotated)."""
    from secretops.inventory.status import State, status_of

    row = status_of(engine.inventory, name, engine.store.state(name), engine.clock())
    return row.state in (State.OVERDUE, State.NEVER_ROTATED)
