"""Where commands write to the audit log: one entry per rotation run, from the CLI layer.

The rotation commands (`rotate`, `resume`, `compromised`) call `record_runs` with the results
the engine returned, so every run (complete, rolled back, failed...) leaves one entry holding
its run id, outcome and the fingerprints its journal names, never a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from secretops.audit import open_audit
from secretops.rotate.engine import RunResult
from secretops.state.interface import StateBackend

__all__ = ["record_runs"]


def record_runs(
    state: Path | StateBackend, results: Sequence[RunResult], action: str, *, compromised: bool = False
) -> None:
    """Append one `rotate` (or `resume`) entry per result, to `state`'s audit log (a path: the local file)."""
    log = open_audit(state)
    for result in results:
        log.append(
            action,
            secret=result.secret,
            run=result.run_id,
            outcome=result.outcome.value,
            compromised=compromised,
            exit_code=result.exit_code,
            skipped_targets=[f.target for f in result.skipped_targets if f.target],
            proof=result.proof,
        )
