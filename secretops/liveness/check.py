"""Run the verifiers over a scan's findings: bounded in time and concurrency, values in memory only.

The scan keeps each finding's value in memory (`Finding.secret`, a `SecretValue`) when
`--verify` is on (`ScanOptions.keep_secrets`); `verify_findings` hands it to the verifier as a
`Leak` and returns the findings with `liveness` set. The caller then drops the values
(`secretops.scan.baseline.without_values`) before anything is rendered, so no value reaches an
output. Identical leaks (same verifier, fingerprint and context) are checked once. Findings that
are placeholders, that no verifier covers, or whose verifier contacts the scanned host while
`databases` is off get an `unknown` verdict saying why: a finding is never silently unchecked.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import httpx

from secretops.extras import missing_extra
from secretops.liveness import DATABASE_VERIFIERS, VERIFIERS, verifier_id_for
from secretops.liveness.interface import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Leak,
    LivenessError,
    LivenessResult,
    Verifier,
    VerifyContext,
)
from secretops.scan.models import Classification, Finding

__all__ = ["MAX_CONCURRENCY", "MAX_TIMEOUT", "VerifyOptions", "build_client", "verify_findings"]

log = logging.getLogger(__name__)

MAX_CONCURRENCY: Final = 64
MAX_TIMEOUT: Final = 120.0
_Key = tuple[str, str, tuple[tuple[str, str], ...]]
_CHECKED: Final = frozenset({Classification.LEAK, Classification.WEAK_DEFAULT, Classification.TEST_CREDENTIAL})


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """`--verify-databases`, `--verify-timeout` (seconds per check), `--verify-concurrency`."""

    databases: bool = False
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise LivenessError(
                f"--verify-timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds",
                hint="10 is the default",
            )
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise LivenessError(
                f"--verify-concurrency must be between 1 and {MAX_CONCURRENCY}", hint="8 is the default"
            )


def build_client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The shared client: bounded timeouts, no redirects (proxy settings from the environment apply)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        transport=transport,
        headers={"User-Agent": "secretops-verify"},
    )


def _leak(finding: Finding) -> Leak | None:
    if finding.secret is None:
        return None
    return Leak(
        rule_id=finding.rule_id,
        provider=finding.provider,
        kind=finding.kind,
        value=finding.secret,
        context=dict(finding.context),
    )


def _precheck(finding: Finding, databases: bool) -> tuple[str | None, LivenessResult | None]:
    """The verifier id to run, or the verdict when none will run."""
    if finding.classification not in _CHECKED:
        return None, LivenessResult.unknown("none", f"not checked: classified {finding.classification}")
    vid = verifier_id_for(finding.rule_id, finding.kind)
    if vid is None:
        return None, LivenessResult.unknown("none", f"no liveness check for rule {finding.rule_id}")
    if vid in DATABASE_VERIFIERS and not databases:
        return None, LivenessResult.unknown(
            vid, "not checked: logging in contacts the host named in the text; pass --verify-databases"
        )
    if finding.secret is None:
        return None, LivenessResult.unknown(vid, "not checked: the value was not kept in memory")
    return vid, None


def verify_findings(
    findings: Sequence[Finding],
    options: VerifyOptions,
    *,
    client: httpx.Client | None = None,
    context_factory: Callable[[httpx.Client], VerifyContext] | None = None,
) -> list[Finding]:
    """`findings` in the same order, each with `liveness` set.

    `client` is the HTTP client the verifiers share (built here, and closed, when None);
    `context_factory` lets tests set retries, sleeps and the STS endpoint.
    """
    own = client is None
    http = client if client is not None else build_client(options.timeout)
    try:
        ctx = (
            context_factory(http)
            if context_factory
            else VerifyContext(client=http, timeout=options.timeout, max_retry_after=min(10.0, options.timeout))
        )
        verifiers: dict[str, Verifier] = {}
        jobs: dict[_Key, Leak] = {}
        plan: list[tuple[_Key | None, LivenessResult | None]] = []
        for finding in findings:
            vid, verdict = _precheck(finding, options.databases)
            if vid is None:
                plan.append((None, verdict))
                continue
            leak = _leak(finding)
            assert leak is not None
            key = (vid, finding.fingerprint, tuple(sorted(finding.context.items())))
            jobs.setdefault(key, leak)
            if vid not in verifiers:
                verifiers[vid] = VERIFIERS[vid](ctx)
            plan.append((key, None))
        results: dict[_Key, LivenessResult] = {}
        if jobs:

            def run(item: tuple[_Key, Leak]) -> tuple[_Key, LivenessResult]:
                key, leak = item
                verifier = verifiers[key[0]]
                try:
                    return key, verifier.verify(leak)
                except Exception as exc:  # a verifier bug must not end the scan, nor print a value
                    log.debug("%s failed: %s", verifier.id, type(exc).__name__)
                    missing = missing_extra(exc, verifier.id) if isinstance(exc, ModuleNotFoundError) else None
                    if missing is not None:  # a scanner-only install: the driver comes with an extra
                        detail = f"not checked: needs the {missing.module} package (the [{missing.extra}] extra)"
                        return key, LivenessResult.unknown(verifier.id, detail)
                    return key, LivenessResult.unknown(verifier.id, f"check failed ({type(exc).__name__})")

            workers = min(options.concurrency, len(jobs))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
                for key, result in pool.map(run, jobs.items()):
                    results[key] = result
        out: list[Finding] = []
        for finding, (planned, verdict) in zip(findings, plan, strict=True):
            out.append(dataclasses.replace(finding, liveness=results[planned] if planned is not None else verdict))
        return out
    finally:
        if own:
            http.close()
