"""`secretops compromised --from-scan REPORT.json` / `--finding FP`: kill every leaked value found.

For each leak finding of the report (or the one named by fingerprint):

1. **Match** its fingerprint against every version the store holds (`fingerprint_index`: current,
   pending, previous values...). A match names the inventory secret, its consumers and issuer.
2. **Rotate** each matched secret with no grace (`Engine.rotate(name, compromised=True)`): the
   rotation-truth rules apply (consumers verified, drain kept, never revoke while a consumer
   still uses the value unless `--force`, and then the result names the targets left broken).
3. **Revoke** a value that matches nothing at its provider, where the provider has a revocation
   API (`secretops.revoke`), after an explicit confirmation (a terminal prompt, or `--yes`);
   otherwise print that provider's manual steps with the link. The value is recovered in memory
   by re-reading the finding's location (`secretops.incident.findings.recover`).
4. **Prove dead**: the liveness verifier of the finding is asked again; only `dead` counts.

Values that reached git stay in its history: the output and the report name the commits and
the `git filter-repo` commands, and say that purging does not make a value safe again.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from secretops.audit import AuditLog
from secretops.incident.findings import LeakedFinding, git_repo_of
from secretops.incident.report import FindingRecord, Incident
from secretops.inventory.models import SecretSpec
from secretops.liveness import DATABASE_VERIFIERS, VERIFIERS, verifier_id_for
from secretops.liveness.interface import Leak, Liveness, LivenessResult, VerifyContext
from secretops.revoke.interface import RevokeContext
from secretops.revoke.providers import REVOKERS, manual_steps, revoker_id_for
from secretops.rotate import steps as S
from secretops.rotate.engine import Engine, Outcome, RunResult
from secretops.scan.inventory_match import fingerprint_index
from secretops.scan.models import InventoryMatch

__all__ = [
    "IncidentOptions",
    "bare",
    "found_at",
    "handle_findings",
    "history_commits",
    "make_client",
    "only",
    "rotate_named",
]

MAX_HISTORY_COMMITS = 500


@dataclass(slots=True)
class IncidentOptions:
    """How `compromised` acts: `force`, `dry_run`, `assume_yes`, `databases` (log in to prove dead)."""

    force: bool = False
    dry_run: bool = False
    assume_yes: bool = False
    databases: bool = False
    timeout: float = 10.0
    confirm: Callable[[str], bool] | None = None  # None: refuse (no terminal, no --yes)
    http: httpx.Client | None = None
    aws_endpoint_url: str | None = None
    echo: Callable[[str], None] = print
    matched_secrets: list[str] = field(default_factory=list)


def make_client(timeout: float) -> httpx.Client:
    """The HTTP client revokers and verifiers share: bounded, no redirects (tests replace it)."""
    from secretops.liveness.check import build_client

    return build_client(timeout)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run([git, "-C", str(repo), *args], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def history_commits(finding: LeakedFinding) -> list[str]:
    """The commits whose version of the finding's file holds its value (checked in memory)."""
    split = git_repo_of(finding.path)
    if split is None:
        return [finding.commit] if finding.commit else []
    repo, inner = split
    if finding.value is None:
        return [finding.commit] if finding.commit else []
    listed = _git(repo, "log", "--all", f"--max-count={MAX_HISTORY_COMMITS}", "--format=%H", "--", inner)
    if listed is None or listed.returncode != 0:
        return [finding.commit] if finding.commit else []
    raw = finding.value.reveal().encode()
    found = []
    for commit in listed.stdout.decode().split():
        blob = _git(repo, "show", f"{commit}:{inner}")
        if blob is not None and blob.returncode == 0 and raw in blob.stdout:
            found.append(commit)
    if finding.commit and finding.commit not in found:
        found.append(finding.commit)
    return found


def _git_notes(incident: Incident, finding: LeakedFinding, commits: list[str]) -> None:
    split = git_repo_of(finding.path)
    inner = split[1] if split else finding.path
    short = ", ".join(c[:12] for c in commits)
    incident.git_notes += [
        f"{finding.where}: the value is in git history, in commit(s) {short}. Rotating or revoking it "
        "does not remove it from history, and removing it from history does not make it safe again: "
        "anyone who cloned or fetched already has it.",
        "Purge (rewrites history; every clone must re-clone): put the value in a file outside the "
        "repository as `literal:<the value>==>***REMOVED***` (never commit that file), then run "
        "`git filter-repo --sensitive-data-removal --replace-text ../expressions.txt` "
        f"(or drop the whole file: `git filter-repo --sensitive-data-removal --invert-paths --path {inner}`), "
        "then `git push --force --mirror origin`; ask the host to purge cached views and pull-request refs "
        "(GitHub: contact support after the rewrite).",
    ]
    incident.must(f"purge {inner} from git history (commits {short}) and have every clone re-cloned")


def _verdict(finding: LeakedFinding, options: IncidentOptions, client: httpx.Client) -> LivenessResult:
    vid = verifier_id_for(finding.rule_id, finding.kind)
    if vid is None:
        return LivenessResult.unknown("none", f"no liveness check for rule {finding.rule_id}")
    if vid in DATABASE_VERIFIERS and not options.databases:
        return LivenessResult.unknown(vid, "not checked: pass --verify-databases to log in to the host it names")
    if finding.value is None:
        return LivenessResult.unknown(vid, "not checked: the value could not be recovered from its location")
    ctx = VerifyContext(client=client, timeout=options.timeout, aws_endpoint_url=options.aws_endpoint_url)
    leak = Leak(finding.rule_id, finding.provider, finding.kind, finding.value, dict(finding.context))
    try:
        return VERIFIERS[vid](ctx).verify(leak)
    except Exception as exc:  # a verifier bug must not print a value nor end the incident
        return LivenessResult.unknown(vid, f"check failed ({type(exc).__name__})")


def _consumers_from_run(incident: Incident, engine: Engine, spec: SecretSpec, result: RunResult) -> None:
    if result.run_id is None:
        return
    try:
        record = engine.state.load(result.run_id)
    except Exception:  # the summary above still stands; the report says what it lacks
        incident.log("note", spec.name, "the run's journal could not be read for the per-consumer timeline")
        return
    verified_by: dict[str, str] = {}
    for entry in record.entries:
        if entry.status not in ("done", "skipped", "failed"):
            continue
        where = entry.target or "issuer"
        if entry.step == S.DISTRIBUTE and entry.status == "done":
            incident.log("switched", f"{spec.name} -> {where}", "new value written", entry.ts)
        elif entry.step == S.REDEPLOY and entry.status == "done":
            incident.log("redeployed", f"{spec.name} -> {where}", str(entry.detail.get("deployment", "")), entry.ts)
        elif entry.step == S.VERIFY and entry.status == "done":
            check = str(entry.detail.get("check", "verified"))
            verified_by[where] = check
            incident.log("verified", f"{spec.name} -> {where}", check, entry.ts)
        elif entry.step == S.REVOKE and entry.status == "done":
            incident.log("revoked", spec.name, f"version {entry.detail.get('version')} at the issuer", entry.ts)
        elif entry.step == S.PROVE_DEAD and entry.status == "done":
            incident.log("proven-dead", spec.name, str(entry.detail.get("proof", "")), entry.ts)
        elif entry.status == "failed":
            incident.log("failed", f"{entry.step} {where}", str(entry.detail.get("reason", "")), entry.ts)
    read_back = {e.target for e in record.entries if e.step == S.DISTRIBUTE and e.status == "done" and e.target}
    skipped = {f.target for f in result.skipped_targets if f.target}
    for consumer in spec.consumers:
        if consumer.target in skipped:
            how = "NOT switched: still holds the revoked value (this app breaks)"
        elif consumer.target in read_back:
            how = verified_by.get(consumer.target) or "written; no per-target check recorded"
        else:
            how = "not switched in this run"
        incident.consumers.append(
            {"secret": spec.name, "target": consumer.target, "env": consumer.env, "verified": how}
        )


def _rotate_matched(
    incident: Incident,
    engine: Engine,
    name: str,
    records: list[FindingRecord],
    match: InventoryMatch,
    options: IncidentOptions,
    audit: AuditLog | None,
) -> int:
    spec = engine.inventory.secrets.get(name)
    echo = options.echo
    if spec is None:
        for r in records:
            r.state, r.how = "open", f"the store holds {name} but no policy declares it"
        incident.must(f"declare {name} in the policies (or rotate it by hand), then run compromised again")
        echo(f"  {name}: the store holds it but no policy declares it: cannot rotate")
        return 1
    consumers = ", ".join(f"{c.target}:{c.env}" for c in spec.consumers) or "none declared"
    echo(f"  {name} (version {match.version}, {match.state}): issuer {spec.issuer}; consumers {consumers}")
    if match.state in ("revoked", "retired"):
        for r in records:
            r.state, r.how = "dead", f"version {match.version} was already {match.state}"
        return 0
    if match.state in ("previous", "pending"):
        # Still valid at the issuer: a promoted run in its grace (previous) or a staged value
        # (pending). A compromised rotation settles that run first with no grace, revoking the
        # leaked value now, then replaces the current one as well.
        echo(f"  {name}: the leaked value is the {match.state} version {match.version}: revoking it now")
    elif match.state != "current":
        for r in records:
            r.state, r.how = "open", f"the leaked value is the {match.state} version {match.version}"
        hint = f"finish the run that holds it: secretops resume (then compromised {name} if it is still live)"
        incident.must(f"{name}: {hint}")
        echo(f"  {name}: the leaked value is the {match.state} version, not the current one: {hint}")
        return 1
    if options.dry_run:
        for step in engine.plan(name, compromised=True):
            echo(f"      {step.actor}  {step.action}" + (f"  [{step.detail}]" if step.detail else ""))
        return 0
    result = engine.rotate(name, compromised=True, force=options.force)
    options.matched_secrets.append(name)
    if audit is not None:
        audit.append(
            "rotate",
            secret=name,
            run=result.run_id,
            outcome=result.outcome.value,
            compromised=True,
            exit_code=result.exit_code,
            skipped_targets=[f.target for f in result.skipped_targets if f.target],
            proof=result.proof,
        )
    if result.run_id:
        incident.runs.append(result.run_id)
    echo(result.summary())
    _consumers_from_run(incident, engine, spec, result)
    ok = result.outcome is Outcome.COMPLETE and not result.skipped_targets
    for r in records:
        if ok:
            r.state, r.how = "dead", result.proof or f"rotated in run {result.run_id}; the issuer revoked the old value"
        else:
            r.state, r.how = "open", f"run {result.run_id or '-'}: {result.outcome.value}"
    if result.skipped_targets:
        for f in result.skipped_targets:
            incident.must(f"switch target {f.target} of {name} by hand: it still holds the revoked value")
    if not ok and result.next_step:
        incident.must(f"{name}: {result.next_step}")
    if spec.issuer and engine.inventory.issuers.get(spec.issuer) is not None:
        kind = getattr(engine.inventory.issuers[spec.issuer], "kind", "")
        if kind == "manual":
            incident.must(f"{name}: its issuer is manual: confirm in the provider's dashboard that the old key is gone")
    return result.exit_code


def _revoke_unmatched(
    incident: Incident,
    finding: LeakedFinding,
    record: FindingRecord,
    options: IncidentOptions,
    client: httpx.Client,
    audit: AuditLog | None,
) -> int:
    echo = options.echo
    rid = revoker_id_for(finding.rule_id)
    manual = manual_steps(finding.provider, finding.kind)
    link = f" ({manual.link})" if manual.link else ""
    if finding.rule_id == "unknown":
        record.state, record.how = "manual", "known by fingerprint only and not in the inventory"
        echo(
            f"  {finding.fingerprint}: not in the inventory; give --from-scan REPORT.json to revoke it at its provider"
        )
        incident.must(f"{finding.fingerprint}: find the finding in its scan report and run compromised --from-scan")
        return 1
    if rid is None or finding.value is None:
        why = (
            "the value could not be recovered from its location (file changed or moved?)"
            if finding.value is None
            else f"{finding.provider or finding.rule_id} has no revocation API we use"
        )
        record.state, record.how = "manual", why
        echo(f"  {finding.where}: not in the inventory; {why}. Revoke it by hand{link}:")
        for step in manual.steps:
            echo(f"      - {step}")
        incident.must(f"revoke the {finding.provider or finding.rule_id} credential at {finding.where} by hand{link}")
        return 1
    if options.dry_run:
        echo(f"  {finding.where}: not in the inventory; would revoke it at {rid} (after confirmation)")
        return 0
    question = f"revoke the {finding.provider} credential found at {finding.where} ({finding.fingerprint}) at {rid}?"
    confirmed = options.assume_yes or (options.confirm is not None and options.confirm(question))
    if not confirmed:
        record.state, record.how = "manual", "revocation not confirmed (no terminal and no --yes)"
        echo(f"  {finding.where}: not revoked: confirm at a terminal or pass --yes. By hand{link}:")
        for step in manual.steps:
            echo(f"      - {step}")
        incident.must(f"revoke the {finding.provider} credential at {finding.where}{link}")
        return 1
    ctx = RevokeContext(client=client, timeout=options.timeout, aws_endpoint_url=options.aws_endpoint_url)
    leak = Leak(finding.rule_id, finding.provider, finding.kind, finding.value, dict(finding.context))
    outcome = REVOKERS[rid](ctx).revoke(leak)
    if audit is not None:
        audit.append(
            "revoke",
            secret=None,
            fingerprint=finding.fingerprint,
            provider=rid,
            where=finding.where,
            revoked=outcome.revoked,
            detail=outcome.detail,
        )
    incident.log("revoked" if outcome.revoked else "revoke-failed", finding.where, f"{rid}: {outcome.detail}")
    echo(f"  {finding.where}: {rid}: {outcome.detail}")
    if not outcome.revoked:
        record.state, record.how = "open", outcome.detail
        incident.must(f"revoke the {finding.provider} credential at {finding.where} by hand{link}")
        return 1
    record.state, record.how = "revoke-requested", outcome.detail
    return 0


def handle_findings(
    findings: Sequence[LeakedFinding],
    engine: Engine,
    options: IncidentOptions,
    incident: Incident,
    audit: AuditLog | None,
) -> int:
    """Match, rotate or revoke, and prove dead every finding; the exit code (0 only when all are dead)."""
    echo = options.echo
    own_client = options.http is None
    client = options.http or make_client(options.timeout)
    code = 0
    try:
        index = fingerprint_index(engine.store)
        by_secret: dict[str, tuple[InventoryMatch, list[tuple[LeakedFinding, FindingRecord]]]] = {}
        unmatched: list[tuple[LeakedFinding, FindingRecord]] = []
        for finding in findings:
            commits = history_commits(finding)
            record = FindingRecord(finding.where, finding.rule_id, finding.provider, finding.fingerprint, commits)
            incident.findings.append(record)
            if commits:
                _git_notes(incident, finding, commits)
            match = index.get(finding.fingerprint)
            if match is None:
                incident.log("unmatched", finding.where, "the value is not in the store (no fingerprint matches)")
                unmatched.append((finding, record))
                continue
            record.secret, record.version = match.secret, match.version
            incident.log("matched", finding.where, f"{match.secret} version {match.version} ({match.state})")
            known = by_secret.get(match.secret)
            if known is None or (match.state == "current" and known[0].state != "current"):
                by_secret[match.secret] = (match, (known[1] if known else []))
            by_secret[match.secret][1].append((finding, record))
        if audit is not None and not options.dry_run:
            audit.append(
                "compromise",
                secret=None,
                findings=[f.fingerprint for f in findings],
                secrets=sorted(by_secret),
                unmatched=len(unmatched),
                force=options.force,
            )
        echo(f"{len(findings)} finding(s): {len(by_secret)} inventory secret(s), {len(unmatched)} not in the inventory")
        for name, (match, pairs) in by_secret.items():
            code = max(code, _rotate_matched(incident, engine, name, [r for _, r in pairs], match, options, audit))
        done: dict[str, FindingRecord] = {}  # one revocation per value, however often it was found
        for finding, record in unmatched:
            first = done.get(finding.fingerprint)
            if first is not None:
                record.state, record.how = first.state, f"same value as {first.where}: {first.how}"
                continue
            code = max(code, _revoke_unmatched(incident, finding, record, options, client, audit))
            done[finding.fingerprint] = record
        if options.dry_run:
            return code
        # Prove dead: ask the finding's verifier again, with the value as found.
        for finding in findings:
            record = next(
                r for r in incident.findings if r.fingerprint == finding.fingerprint and r.where == finding.where
            )
            if record.state in ("manual", "open") and record.secret is None:
                continue
            verdict = _verdict(finding, options, client)
            incident.log(
                "proven-dead" if verdict.state is Liveness.DEAD else f"liveness-{verdict.state}",
                finding.where,
                f"{verdict.verifier}: {verdict.detail}",
            )
            echo(f"  {finding.where}: {verdict.state} ({verdict.verifier}: {verdict.detail})")
            if verdict.state is Liveness.LIVE:
                record.state, record.how = "open", f"STILL LIVE after the rotation/revocation ({verdict.detail})"
                incident.must(f"{finding.where} still works: revoke it at {finding.provider} by hand now")
                code = max(code, 1)
            elif verdict.state is Liveness.DEAD:
                record.state = "dead"
            elif record.state == "revoke-requested":
                record.state = "not-proven"
                incident.must(f"{finding.where}: revocation requested, not yet proven dead: scan --verify it again")
                code = max(code, 1)
            elif record.state == "dead" and finding.value is not None:
                record.how += f" (our own liveness check: {verdict.state}, {verdict.detail})"
        for record in incident.findings:
            if record.secret is None and record.state == "manual":
                incident.must("rotate keys that exist only in a provider's dashboard (no inventory entry) by hand")
        incident.must("check each provider's access logs for use of the leaked value during the exposure window")
        incident.closed = code == 0 and all(r.state == "dead" for r in incident.findings)
        return code
    finally:
        if own_client:
            client.close()


def rotate_named(
    name: str, engine: Engine, options: IncidentOptions, incident: Incident, audit: AuditLog | None
) -> int:
    """`compromised NAME --report`: rotate one inventory secret named by hand, recording the incident."""
    from secretops.store.interface import Label

    current = engine.store.get(name, Label.CURRENT)
    version = current.version.number if current is not None else 0
    incident.log("found", name, "named by hand")
    if audit is not None and not options.dry_run:
        audit.append("compromise", secret=name, findings=[], secrets=[name], unmatched=0, force=options.force)
    code = _rotate_matched(incident, engine, name, [], InventoryMatch(name, version, "current"), options, audit)
    if not options.dry_run:
        incident.must("check the issuer's access logs for use of the leaked value during the exposure window")
        incident.closed = code == 0
    return code


def found_at(report: Path | None) -> datetime:
    """When the findings were found: the report's modification time (now without one)."""
    if report is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(report.stat().st_mtime, UTC)


def only(findings: Sequence[LeakedFinding], fingerprints: Sequence[str]) -> list[LeakedFinding]:
    """The findings whose fingerprint is one of `fingerprints` (all of them when none is given)."""
    if not fingerprints:
        return list(findings)
    wanted = set(fingerprints)
    return [f for f in findings if f.fingerprint in wanted]


def bare(fingerprints: Sequence[str]) -> list[LeakedFinding]:
    """Findings known by fingerprint only (`--finding` without a report): matched, never revoked."""
    return [
        replace(LeakedFinding("unknown", "", "", "(fingerprint only)", 0, 0, fp, ""), value=None) for fp in fingerprints
    ]
