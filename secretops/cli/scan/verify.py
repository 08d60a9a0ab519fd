"""`--verify`: the liveness options, each finding's verdict, and the live leaks `--fail-on-live` fails on.

`secretops.liveness` is imported only when `--verify` is given (it pulls in httpx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretops.errors import ConfigError
from secretops.scan.runner import ScanResult

if TYPE_CHECKING:
    from secretops.liveness.check import VerifyOptions
    from secretops.scan.models import Finding


def parse_verify_options(
    verify: bool, databases: bool, timeout: float, concurrency: int, fail_on_live: bool
) -> VerifyOptions | None:
    """The liveness options, or None without `--verify`; bad values and `--fail-on-live` alone exit 2."""
    if not verify:
        if fail_on_live:
            raise ConfigError("--fail-on-live needs --verify", hint="run: secretops scan --verify --fail-on-live")
        if databases:
            raise ConfigError(
                "--verify-databases needs --verify", hint="run: secretops scan --verify --verify-databases"
            )
        return None
    # Imported only now: liveness pulls in httpx and its verifiers, ~0.1 s a plain scan does not need.
    from secretops.liveness.check import VerifyOptions
    from secretops.liveness.interface import LivenessError

    try:
        return VerifyOptions(databases=databases, timeout=timeout, concurrency=concurrency)
    except LivenessError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None


def verify_liveness(result: ScanResult, options: VerifyOptions) -> ScanResult:
    """`result` with each finding's liveness (values stay in memory; the caller drops them)."""
    import dataclasses

    from secretops.liveness.check import verify_findings

    return dataclasses.replace(result, findings=verify_findings(result.findings, options))


def live_leaks(result: ScanResult) -> list[Finding]:
    """Leaks and weak defaults a provider accepted (`--fail-on-live`), whatever their severity."""
    from secretops.scan.runner import FAILING_CLASSES

    return [
        f for f in result.findings if f.classification in FAILING_CLASSES and f.liveness is not None and f.liveness.live
    ]
