"""How long `scan --verify` spends checking, and that concurrency bounds it (no network used).

    python -m benchmarks.liveness [--findings 96] [--latency 0.08]

`--findings` distinct GitHub-shaped leaks are verified against a local `httpx.MockTransport`
handler that answers each request after `--latency` seconds (a typical provider round trip),
at concurrency 1, 8 and 32; half the tokens are live. Prints seconds per run and the peak
number of requests in flight (never above the concurrency asked for). One run each: bounded.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time

import httpx

from secretops.liveness.check import VerifyOptions, verify_findings
from secretops.scan.models import Classification, Finding, Location, Severity
from secretops.values import SecretValue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=96)
    parser.add_argument("--latency", type=float, default=0.08)
    args = parser.parse_args()
    tokens = [secrets.token_urlsafe(27) for _ in range(min(args.findings, 1000))]
    live = set(tokens[::2])
    findings = [
        Finding(
            rule_id="github-personal-access-token",
            kind="github-token",
            provider="github",
            classification=Classification.LEAK,
            severity=Severity.CRITICAL,
            confidence="high",
            location=Location("deploy.env", i + 1, 1, i + 1, 41),
            fingerprint=f"hmac-sha256:{i:032x}",
            preview="ghp_********",
            secret=SecretValue(t),
        )
        for i, t in enumerate(tokens)
    ]
    lock = threading.Lock()
    state = {"active": 0, "peak": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
        time.sleep(args.latency)
        with lock:
            state["active"] -= 1
        token = request.headers.get("authorization", "")[7:]
        if token in live:
            return httpx.Response(200, json={"login": "octocat"})
        return httpx.Response(401, json={"message": "Bad credentials"})

    print(f"{len(findings)} findings, {args.latency * 1000:.0f} ms per request")
    for concurrency in (1, 8, 32):
        state["peak"] = 0
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            started = time.perf_counter()
            out = verify_findings(findings, VerifyOptions(concurrency=concurrency), client=client)
            seconds = time.perf_counter() - started
        states = sorted({str(f.liveness.state) for f in out if f.liveness})
        print(f"concurrency {concurrency:>2}: {seconds:6.2f} s, peak in flight {state['peak']:>2}, verdicts {states}")


if __name__ == "__main__":
    main()
