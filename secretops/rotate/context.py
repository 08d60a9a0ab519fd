"""What a run carries from step to step (`RunContext`), and the signals that unwind it.

`StepFailed` carries a failed step's `Failure` up to the rollback; `LeaseLost` stops a run at a
step boundary when its lease is gone (nothing journaled as failed: another runner resumes it).
Shared by `secretops.rotate.engine` and the modules that take its steps (`consumers`, `revoke`,
`rollback`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from secretops.inventory.models import ConsumerSpec, SecretSpec
from secretops.issuers.interface import Credential, Issuer
from secretops.rotate.journal import RunRecord
from secretops.rotate.results import Failure
from secretops.state.interface import LeaseLostError, RunLog, SecretLease
from secretops.store.interface import StoredValue
from secretops.targets.interface import EnvRef, Target
from secretops.values import SecretValue

__all__ = ["LeaseLost", "RunContext", "StepFailed", "consumer_refs", "credential_of"]


class StepFailed(Exception):
    """A step failed: `failure` says where and why (never a value); `cause` is the error."""

    def __init__(self, failure: Failure, cause: BaseException) -> None:
        super().__init__(failure.reason)
        self.failure = failure
        self.cause = cause


class LeaseLost(Exception):
    """`LeaseLostError` before step `step` (on `target`): unwinds the run without journaling a failure."""

    def __init__(self, step: str, target: str | None, error: LeaseLostError) -> None:
        super().__init__(error.message)
        self.step = step
        self.target = target
        self.error = error


def consumer_refs(consumer: ConsumerSpec) -> list[EnvRef]:
    """The refs a consumer is written to: one per component, plus app level when asked (or none given)."""
    refs = [EnvRef(consumer.env, component) for component in consumer.components]
    if consumer.app_level or not consumer.components:
        refs.append(EnvRef(consumer.env))
    return refs


def credential_of(stored: StoredValue) -> Credential:
    """A stored version as the issuer's `Credential` (its value and attributes)."""
    return Credential(stored.value, dict(stored.version.attributes))


@dataclass
class RunContext:
    """One run in progress: its secret, journal, lease, issuer and targets, and what it did so far."""

    secret: SecretSpec
    run: RunLog
    lease: SecretLease
    issuer: Issuer
    targets: dict[str, Target]
    old: StoredValue | None
    older: SecretValue | None  # the value before `old` (`{previous}` of the old rendering)
    compromised: bool
    force: bool
    prior: RunRecord | None = None  # the journal as it stood when a resume began
    new: StoredValue | None = None
    new_cred: Credential | None = None  # known as soon as `apply` returned
    touched: set[str] = field(default_factory=set)
    distributed: set[str] = field(default_factory=set)
    skipped: dict[str, Failure] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def by_target(self) -> dict[str, list[ConsumerSpec]]:
        """The secret's consumers grouped by target name, in policy order."""
        out: dict[str, list[ConsumerSpec]] = {}
        for consumer in self.secret.consumers:
            out.setdefault(consumer.target, []).append(consumer)
        return out

    def secrets_in_play(self) -> list[str]:
        """Every value this run knows (to scrub from error messages)."""
        vals: list[SecretValue] = [v for v in (self.older,) if v is not None]
        if self.old is not None:
            vals.append(self.old.value)
        if self.new is not None:
            vals.append(self.new.value)
        if self.new_cred is not None:
            vals.append(self.new_cred.value)
        return [v.reveal() for v in vals if len(v) >= 4]
