"""`verify_findings`: which findings are checked, bounded concurrency, one check per identical leak."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from secretops.liveness import Liveness, LivenessError
from secretops.liveness.check import VerifyOptions, verify_findings
from secretops.scan.models import Classification, Finding, Location, Severity
from secretops.values import SecretValue
from tests.fakes.providers import FakeInternet
from tests.liveness.conftest import random_text


def _finding(rule: str, value: str, cls: Classification = Classification.LEAK, kind: str = "api-key") -> Finding:
    return Finding(
        rule_id=rule,
        kind=kind,
        provider="x",
        classification=cls,
        severity=Severity.HIGH,
        confidence="high",
        location=Location("a.env", 1, 1, 1, 10),
        fingerprint="hmac-sha256:" + value[-8:],
        preview="****",
        secret=SecretValue(value),
    )


def test_findings_without_a_check_say_why_and_keep_their_order(internet: FakeInternet) -> None:
    token = random_text(40)
    internet["api.github.com"].add(token, login="octocat")
    findings = [
        _finding("acme-api-key", random_text(20)),
        _finding("github-personal-access-token", token),
        _finding("github-personal-access-token", random_text(40), Classification.PLACEHOLDER),
        _finding("generic-password-assignment", random_text(12), kind="postgres-password"),
        Finding(
            rule_id="npm-access-token",
            kind="api-key",
            provider="npm",
            classification=Classification.LEAK,
            severity=Severity.HIGH,
            confidence="high",
            location=Location("a.env", 2, 1, 2, 10),
            fingerprint="hmac-sha256:none",
            preview="****",
            secret=None,  # the scan did not keep it
        ),
    ]
    with internet.client() as client:
        out = verify_findings(findings, VerifyOptions(), client=client)
    assert [f.rule_id for f in out] == [f.rule_id for f in findings]
    verdicts = [f.liveness for f in out]
    assert all(v is not None for v in verdicts)
    assert verdicts[0] is not None and "no liveness check for rule acme-api-key" in verdicts[0].detail
    assert verdicts[1] is not None and verdicts[1].state is Liveness.LIVE
    assert verdicts[2] is not None and "classified placeholder" in verdicts[2].detail
    assert verdicts[3] is not None and "--verify-databases" in verdicts[3].detail
    assert verdicts[4] is not None and "not kept in memory" in verdicts[4].detail
    assert [v.state for v in verdicts if v is not None].count(Liveness.UNKNOWN) == 4
    assert internet.hosts == ["api.github.com"]


def test_concurrency_is_bounded() -> None:
    lock = threading.Lock()
    active = peak = 0

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return httpx.Response(401, json={"message": "Bad credentials"})

    findings = [_finding("github-personal-access-token", random_text(40)) for _ in range(12)]
    with httpx.Client(transport=httpx.MockTransport(slow)) as client:
        started = time.perf_counter()
        out = verify_findings(findings, VerifyOptions(concurrency=3), client=client)
        elapsed = time.perf_counter() - started
    assert {f.liveness.state for f in out if f.liveness} == {Liveness.DEAD}
    assert 1 < peak <= 3
    assert elapsed < 12 * 0.05  # ran in parallel


def test_identical_leaks_are_checked_once(internet: FakeInternet) -> None:
    token = random_text(40)
    internet["api.github.com"].add(token, login="octocat")
    findings = [_finding("github-personal-access-token", token) for _ in range(5)]
    with internet.client() as client:
        out = verify_findings(findings, VerifyOptions(), client=client)
    assert [f.liveness.identity for f in out if f.liveness] == ["octocat"] * 5
    assert internet["api.github.com"].calls == 1


def test_a_verifier_that_crashes_is_unknown_and_names_no_value(
    internet: FakeInternet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretops.liveness.vcs import GithubVerifier

    token = random_text(40)

    def boom(self: GithubVerifier, leak: object) -> None:
        raise RuntimeError(f"bug with {token}")

    monkeypatch.setattr(GithubVerifier, "verify", boom)
    with internet.client() as client:
        (out,) = verify_findings([_finding("github-personal-access-token", token)], VerifyOptions(), client=client)
    assert out.liveness is not None and out.liveness.state is Liveness.UNKNOWN
    assert token not in out.liveness.detail and "RuntimeError" in out.liveness.detail


@pytest.mark.parametrize(
    "kwargs", [{"timeout": 0}, {"timeout": -1}, {"timeout": 121}, {"concurrency": 0}, {"concurrency": 65}]
)
def test_options_out_of_range_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(LivenessError):
        VerifyOptions(**kwargs)  # type: ignore[arg-type]
