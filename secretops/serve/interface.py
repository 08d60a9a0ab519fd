"""The service seam: what `secretops serve`'s HTTP app and scheduler ask of secretops.

`Operations` is everything the service does to the world: the due rotation, the schedule for
`/metrics`, a state reachability probe for `/healthz`, matching an alert or a scan report to the
inventory, and the on-compromise flow for what matched. `secretops.serve.operations.
EngineOperations` implements it over the rotation engine and `secretops.incident`; tests pass a
fake, so the HTTP layer is tested without slow rotations.

Nothing here holds a value except `GitHubAlert.value` (in memory, while matching), which prints
as `***`; a `Match` names secrets and fingerprints only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from secretops.incident.findings import LeakedFinding
from secretops.inventory.status import SecretStatus
from secretops.rotate.engine import RunResult
from secretops.values import SecretValue

__all__ = ["DueReport", "GitHubAlert", "IncidentReport", "Match", "Operations"]


@dataclass(frozen=True, slots=True)
class GitHubAlert:
    """A GitHub secret-scanning alert: `alert.number`, `alert.secret_type`, `repository.full_name`.

    `value` is `alert.secret` when the payload carried it (GitHub's webhook payload usually does
    not; `GET /repos/{owner}/{repo}/secret-scanning/alerts/{number}` does, with a token).
    """

    number: int
    secret_type: str
    repository: str
    delivery: str
    value: SecretValue | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Match:
    """What an alert or a report matched in the inventory (names and fingerprints only).

    `findings` are the leak findings matched by fingerprint (handed to the on-compromise flow);
    `secrets` the inventory secrets they, or the provider-and-repository rule, point at;
    `matched_by` is `fingerprint`, `provider-and-repository` or `nothing`.
    """

    source: str
    matched_by: str
    secrets: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    findings: tuple[LeakedFinding, ...] = field(default=(), repr=False, compare=False)
    note: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing in the inventory matched (nothing will be rotated)."""
        return not self.secrets

    def to_json(self) -> dict[str, Any]:
        """The response body: what matched, by names and fingerprints."""
        out: dict[str, Any] = {
            "source": self.source,
            "matched_by": self.matched_by,
            "secrets": list(self.secrets),
            "fingerprints": list(self.fingerprints),
            "unmatched": list(self.unmatched),
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class DueReport:
    """One due run: the results of what ran, and the due secrets left for later (shutting down)."""

    results: tuple[RunResult, ...]
    not_started: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """The on-compromise flow's outcome for one match: its exit code and the secrets it rotated.

    `retry` is True when it could not start because another run holds a matched secret (the
    service runs it again a little later).
    """

    source: str
    exit_code: int
    rotated: tuple[str, ...] = ()
    closed: bool = False
    todo: tuple[str, ...] = ()
    retry: bool = False


class Operations(ABC):
    """What the service does to the world (see the module docstring)."""

    #: The state backend's name ("files", "postgresql"), for `/metrics`.
    state_backend: str = "files"

    @abstractmethod
    def run_due(self, should_stop: Callable[[], bool]) -> DueReport:
        """Finish unfinished runs, then rotate every due secret; start no new secret once `should_stop()`."""

    @abstractmethod
    def schedule(self) -> Sequence[SecretStatus]:
        """Every inventory secret's place in its schedule (last rotated, next due), for `/metrics`."""

    @abstractmethod
    def check_state(self) -> str | None:
        """None when the state backend answers; otherwise why not (no credentials in it)."""

    @abstractmethod
    def match_alert(self, alert: GitHubAlert) -> Match:
        """The inventory secrets a GitHub alert is about (by fingerprint, else provider and repository)."""

    @abstractmethod
    def match_findings(self, findings: Sequence[LeakedFinding], source: str) -> Match:
        """The inventory secrets a scan report's leak findings are, by fingerprint."""

    @abstractmethod
    def respond(self, match: Match) -> IncidentReport:
        """Run the on-compromise flow for `match` (rotate with no grace, revoke, prove dead)."""

    def unfinished_runs(self) -> list[str]:
        """Runs the journal holds as unfinished (`run-id secret` each), for the shutdown log."""
        return []

    def claim_delivery(self, delivery: str) -> bool | None:
        """Claim a webhook delivery id in the shared state: True the first time any replica does,
        False for a delivery another replica already took, None when the state is not shared."""
        return None
