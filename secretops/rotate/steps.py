"""The names of a run's steps, in order, as they appear in the journal and in `history`.

A run goes `generate` → `stage` → `apply` → `distribute` (per target) → `redeploy` (per target)
→ `verify` → `promote` → `grace` → `drain` → `revoke` → `prove-dead` → `mark-revoked`. Issuers that mint
the value themselves (`generates_value`: AWS IAM, manual) skip `generate` and `stage` comes
right after `apply`. `rollback` appears only when a step before `promote` failed.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ORDER", "UNFINISHED"]

GENERATE: Final = "generate"
STAGE: Final = "stage"
APPLY: Final = "apply"
DISTRIBUTE: Final = "distribute"
REDEPLOY: Final = "redeploy"
VERIFY: Final = "verify"
PROMOTE: Final = "promote"
GRACE: Final = "grace"
DRAIN: Final = "drain"
REVOKE: Final = "revoke"
PROVE_DEAD: Final = "prove-dead"
MARK_REVOKED: Final = "mark-revoked"
ROLLBACK: Final = "rollback"
RUN: Final = "run"

#: Every step in the order a run takes them.
ORDER: Final = (
    GENERATE,
    STAGE,
    APPLY,
    DISTRIBUTE,
    REDEPLOY,
    VERIFY,
    PROMOTE,
    GRACE,
    DRAIN,
    REVOKE,
    PROVE_DEAD,
    MARK_REVOKED,
)

#: Run outcomes that `resume` picks up.
UNFINISHED: Final = frozenset({"running", "incomplete", "awaiting-revoke", "failed"})
