"""Sort an issuer's `--dry-run` steps into the phases of a run, so the plan reads in execution order.

`Issuer.plan` lists everything the issuer will do, from the change to the proof, in its own
order; the engine interleaves targets, verification and promotion between those calls. Issuers
follow one convention in their plans (see each issuer's `plan`), which this module reads:

- steps before the first check change the credential (`apply`);
- `check: ...` / `log in ...` steps (or "no credential check possible") verify the new value;
- a step whose detail says it happens after the grace (or whose action is `revoke ...`) starts
  the revoke, and the untagged steps after a verification belong to it (ACL SAVE, killing the
  old sessions);
- a check that the old value is refused, or a detail saying "prove", is the proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from secretops.issuers.interface import PlanStep

__all__ = ["PHASES", "Phase", "split_issuer_plan"]

Phase = Literal["apply", "verify", "revoke", "prove-dead"]
PHASES: Final[tuple[Phase, ...]] = ("apply", "verify", "revoke", "prove-dead")


def _is_check(action: str) -> bool:
    return action.startswith(("check:", "log in", "login")) or "no credential check" in action


def _is_proof(action: str, detail: str) -> bool:
    return "prove" in detail or "refused" in action or "no longer active" in action


def split_issuer_plan(steps: Sequence[PlanStep]) -> dict[Phase, list[PlanStep]]:
    """The issuer's steps by phase, each phase in the issuer's order."""
    out: dict[Phase, list[PlanStep]] = {p: [] for p in PHASES}
    phase: Phase = "apply"
    for step in steps:
        action, detail = step.action.lower(), step.detail.lower()
        if _is_check(action) and _is_proof(action, detail):
            phase = "prove-dead"
        elif "grace" in detail or action.startswith("revoke"):
            phase = "revoke"
        elif _is_check(action) and phase == "apply":
            phase = "verify"
        elif phase == "verify" and not _is_check(action):
            phase = "revoke"
        elif phase == "prove-dead" and not _is_check(action):
            phase = "revoke"  # cleanup after a proof is still part of retiring the old value
        out[phase].append(step)
    return out
