"""`EngineOperations`: the service's `Operations` over the rotation engine and the incident flow.

Each operation builds a fresh engine (`engine_factory`, the CLI's `build_engine`), so a policy
edited on disk is picked up at the next tick, and closes its store when done.

- The due run is `Engine.run_due` (unfinished runs taken over, then every due secret, at most
  `concurrency` at a time, each under its lease with a second look): that second look also asks
  `should_stop()`, so a shutdown lets the secrets in flight finish their run and starts no other
  (they stay due for the next tick or replica).
- Matching: by fingerprint against every version the store holds
  (`secretops.scan.inventory_match.fingerprint_index`), as `compromised --from-scan` does; for a
  GitHub alert with no value (and none fetched with the configured token), by provider and
  repository: inventory secrets whose kind names the alert's provider (`api-key:stripe` for
  `stripe_api_key`, `aws-iam-key` for `aws_access_key_id`) and that have a consumer on a GitHub
  target of that repository.
- Responding: `secretops.incident.run.handle_findings` for fingerprint matches, `rotate_named`
  for the others: no grace, revoke once consumers are switched, prove dead. Never `--force`,
  never a revocation outside the inventory (that needs a person: no `--yes` here). The incident
  report is written under `state_dir/incidents/`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from secretops.audit import open_audit
from secretops.audit.hooks import record_runs
from secretops.errors import SecretOpsError
from secretops.incident.findings import LeakedFinding
from secretops.incident.report import Incident, write_report
from secretops.incident.run import IncidentOptions, handle_findings, rotate_named
from secretops.inventory.models import SecretSpec
from secretops.inventory.status import SecretStatus, State, status_of, statuses
from secretops.rotate import steps as S
from secretops.rotate.engine import Engine, InventoryView, Outcome
from secretops.rotate.lock import RotationLockedError
from secretops.scan.inventory_match import fingerprint_index
from secretops.serve.interface import DueReport, GitHubAlert, IncidentReport, Match, Operations
from secretops.serve.webhooks import fetch_alert_secret
from secretops.settings import Settings
from secretops.state import open_state
from secretops.values import SecretValue, fingerprint

__all__ = ["EngineOperations", "provider_of", "secrets_for_alert"]

log = logging.getLogger(__name__)
incident_log = logging.getLogger("secretops.serve.incident")

#: GitHub secret types whose provider prefix differs from secretops' kind prefix.
_PROVIDER_ALIASES = {"aws": ("aws", "amazon"), "github": ("github",), "gcp": ("google", "gcp")}


def provider_of(spec: SecretSpec) -> str:
    """The provider an inventory secret's kind names: `api-key:stripe` -> stripe, `aws-iam-key` -> aws."""
    kind = spec.kind.lower()
    if ":" in kind:
        return kind.split(":", 1)[1]
    return kind.split("-", 1)[0]


def _provider_matches(provider: str, secret_type: str) -> bool:
    stype = secret_type.lower()
    names = _PROVIDER_ALIASES.get(provider, (provider,))
    return any(stype == name or stype.startswith(f"{name}_") for name in names)


def secrets_for_alert(inventory: InventoryView, alert: GitHubAlert) -> list[str]:
    """Inventory secrets of the alert's provider with a consumer on a GitHub target of its repository."""
    repos: dict[str, str] = {}
    for name, target in inventory.targets.items():
        if getattr(target, "kind", None) == "github":
            repos[name] = str(getattr(target, "repo", "")).lower()
    wanted = alert.repository.lower()
    out = []
    for name, spec in inventory.secrets.items():
        if not _provider_matches(provider_of(spec), alert.secret_type):
            continue
        if any(repos.get(c.target) == wanted for c in spec.consumers):
            out.append(name)
    return out


class EngineOperations(Operations):
    """`Operations` over `engine_factory()` engines (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        engine_factory: Callable[[], Engine],
        *,
        concurrency: int = 1,
        github: httpx.Client | None = None,
        github_token: SecretValue | None = None,
        incident_http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.engine_factory = engine_factory
        self.concurrency = concurrency
        self.github = github
        self.github_token = github_token
        self.incident_http = incident_http
        self.state_backend = _backend_name(settings)

    # ------------------------------------------------------------ schedule

    def run_due(self, should_stop: Callable[[], bool]) -> DueReport:
        """See `Operations.run_due`: `Engine.run_due`, whose second look under each lease also asks `should_stop`."""
        engine = self.engine_factory()
        not_started: list[str] = []
        lock = threading.Lock()

        def still_due(name: str) -> bool:
            if should_stop():
                with lock:
                    not_started.append(name)
                return False
            row = status_of(engine.inventory, name, engine.store.state(name), engine.clock())
            return row.state in (State.OVERDUE, State.NEVER_ROTATED)

        try:
            results = engine.run_due(concurrency=self.concurrency, still_due=still_due)
            left = set(not_started)
            results = [r for r in results if not (r.secret in left and r.run_id is None)]
            runs = [r for r in results if r.outcome is not Outcome.SKIPPED]  # a skip is another runner's run
            if runs:
                record_runs(engine.state, runs, "rotate")
            for result in results:
                log.info("%s", result.summary().replace("\n", "; "))
            if not_started:
                log.info("due run: not started (shutting down): %s", ", ".join(sorted(not_started)))
            return DueReport(tuple(results), tuple(sorted(not_started)))
        finally:
            engine.close()

    def schedule(self) -> Sequence[SecretStatus]:
        """See `Operations.schedule`."""
        engine = self.engine_factory()
        try:
            return statuses(engine.inventory, engine.store, engine.clock())
        finally:
            engine.close()

    def check_state(self) -> str | None:
        """See `Operations.check_state`: the backend answers `schema_version()` (files: the folder is usable)."""
        try:
            if self.state_backend == "files":
                problem = _folder_problem(self.settings.state_dir)
                if problem is not None:
                    return problem
            backend = open_state(self.settings)
            try:
                backend.schema_version()
            finally:
                backend.close()
            return None
        except SecretOpsError as exc:
            return exc.message
        except Exception as exc:  # a driver error may quote a DSN: name its type only
            return f"state backend unreachable ({type(exc).__name__})"

    def claim_delivery(self, delivery: str) -> bool | None:
        """See `Operations.claim_delivery`: `StateBackend.claim_once` (PostgreSQL state: shared)."""
        backend = open_state(self.settings)
        try:
            return backend.claim_once("github-delivery", delivery)
        finally:
            backend.close()

    def unfinished_runs(self) -> list[str]:
        """See `Operations.unfinished_runs`."""
        try:
            engine = self.engine_factory()
        except SecretOpsError:
            return []
        try:
            return [f"{r.run_id} {r.secret}" for r in engine.history() if r.outcome in S.UNFINISHED]
        except SecretOpsError:
            return []
        finally:
            engine.close()

    # ------------------------------------------------------------ incidents

    def match_alert(self, alert: GitHubAlert) -> Match:
        """See `Operations.match_alert`."""
        source = f"github alert {alert.number} in {alert.repository} ({alert.secret_type})"
        engine = self.engine_factory()
        try:
            value = alert.value
            if value is None and self.github_token is not None and self.github is not None:
                value = fetch_alert_secret(self.github, self.github_token, alert)
            fp = fingerprint(engine.key, value) if value is not None else None
            del value
            if fp is not None:
                match = fingerprint_index(engine.store).get(fp)
                if match is not None:
                    finding = LeakedFinding(
                        rule_id=f"github-secret-scanning:{alert.secret_type}",
                        kind=alert.secret_type,
                        provider=alert.secret_type.split("_", 1)[0],
                        path=f"github.com/{alert.repository}/security/secret-scanning/{alert.number}",
                        line=0,
                        column=0,
                        fingerprint=fp,
                        preview="",
                    )
                    return Match(source, "fingerprint", (match.secret,), (fp,), findings=(finding,))
            names = secrets_for_alert(engine.inventory, alert)
            if names:
                why = "the value is not in the store" if fp else "the alert carries no value (and none was fetched)"
                return Match(
                    source,
                    "provider-and-repository",
                    tuple(names),
                    (fp,) if fp else (),
                    note=f"{why}: matched by provider and repository",
                )
            return Match(
                source,
                "nothing",
                unmatched=(fp,) if fp else (),
                note="no inventory secret matches (revoke it at the provider by hand)",
            )
        finally:
            engine.close()

    def match_findings(self, findings: Sequence[LeakedFinding], source: str) -> Match:
        """See `Operations.match_findings`."""
        engine = self.engine_factory()
        try:
            index = fingerprint_index(engine.store)
        finally:
            engine.close()
        matched = [f for f in findings if f.fingerprint in index]
        names = tuple(dict.fromkeys(index[f.fingerprint].secret for f in matched))
        unmatched = tuple(dict.fromkeys(f.fingerprint for f in findings if f.fingerprint not in index))
        note = (
            "findings not in the inventory are not revoked by the service: run compromised --from-scan at a terminal"
            if unmatched
            else None
        )
        return Match(
            source,
            "fingerprint" if matched else "nothing",
            names,
            tuple(dict.fromkeys(f.fingerprint for f in matched)),
            unmatched,
            tuple(matched),
            note,
        )

    def respond(self, match: Match) -> IncidentReport:
        """See `Operations.respond`."""
        if match.empty:
            return IncidentReport(match.source, 0)
        engine = self.engine_factory()
        incident = Incident()
        options = IncidentOptions(echo=lambda line: incident_log.info("%s", line), http=self.incident_http)
        audit = open_audit(engine.state)
        code = 1
        try:
            if match.findings:
                code = handle_findings(list(match.findings), engine, options, incident, audit)
            else:
                code = max(rotate_named(name, engine, options, incident, audit) for name in match.secrets)
        except RotationLockedError as exc:
            log.info("%s: another run holds a matched secret (%s): trying again later", match.source, exc.message)
            return IncidentReport(match.source, int(exc.exit_code), retry=True)
        except SecretOpsError as exc:
            incident.log("failed", "compromised", exc.message)
            incident.must(f"fix: {exc.message}; then run secretops compromised again")
            incident.closed = False
            code = int(exc.exit_code)
            log.error("%s: the on-compromise flow stopped: %s", match.source, exc.message)
        finally:
            engine.close()
        self._write_report(incident, match)
        log.info(
            "%s: %s (rotated: %s)",
            match.source,
            "closed" if incident.closed else "OPEN",
            ", ".join(options.matched_secrets) or "none",
        )
        return IncidentReport(match.source, code, tuple(options.matched_secrets), incident.closed, tuple(incident.todo))

    def _write_report(self, incident: Incident, match: Match) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = Path(self.settings.state_dir) / "incidents" / f"{stamp}.json"
        try:
            write_report(incident, path)
        except OSError as exc:
            log.warning("%s: incident report not written (%s)", match.source, exc.strerror or type(exc).__name__)


def _backend_name(settings: Settings) -> str:
    url = settings.state.reveal().strip().lower() if settings.state is not None else ""
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "files"


def _folder_problem(folder: Path) -> str | None:
    folder = Path(folder)
    probe = folder if folder.exists() else folder.parent
    if not probe.exists():
        return f"state folder {folder} does not exist"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"state folder {probe} is not writable"
    return None
