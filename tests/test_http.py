"""`secretops._http`: retry delays, 429/5xx retries, error translation, redaction, client setup."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from secretops._http import ApiClient, RetryPolicy, build_client, retry_delay
from secretops.errors import ExitCode
from secretops.targets._platform import TARGET_ERRORS
from secretops.targets.interface import TargetAuthError, TargetError, TargetUnavailableError
from secretops.values import SecretValue

NOW = 1_750_000_000.0
POLICY = RetryPolicy(max_retries=3, base=1.0, cap=10.0, max_wait=120.0)
VALUE = SecretValue("s3cret-Value-that-must-not-leak")


def resp(status: int = 429, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_retry_after_seconds_and_date() -> None:
    assert retry_delay(resp(retry_after="7"), 0, POLICY, now=NOW) == 7.0
    when = format_datetime(datetime.fromtimestamp(NOW + 30, tz=UTC), usegmt=True)
    assert retry_delay(resp(retry_after=when), 0, POLICY, now=NOW) == pytest.approx(30.0)


def test_reset_header_epoch_or_delta() -> None:
    assert retry_delay(resp(ratelimit_reset=str(int(NOW) + 12)), 0, POLICY, now=NOW) == 12.0
    assert retry_delay(resp(x_ratelimit_reset="5"), 0, POLICY, now=NOW) == 5.0
    # Retry-After wins over the reset header.
    assert retry_delay(resp(retry_after="2", ratelimit_reset="50"), 0, POLICY, now=NOW) == 2.0


def test_backoff_is_exponential_capped_and_jittered() -> None:
    lows = [retry_delay(resp(), a, POLICY, now=NOW, rng=lambda: 0.0) for a in range(6)]
    highs = [retry_delay(resp(), a, POLICY, now=NOW, rng=lambda: 1.0) for a in range(6)]
    assert lows == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert highs == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


class Script:
    """Answers the given responses in order, recording requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        nxt = self.responses.pop(0)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt


def api(script: Script, slept: list[float] | None = None) -> ApiClient:
    return ApiClient(
        httpx.Client(transport=httpx.MockTransport(script)),
        platform="demo",
        base_url="https://api.example.test/v1/",
        token=SecretValue("tok-123456"),
        errors=TARGET_ERRORS,
        headers={"Accept": "application/json"},
        retry=POLICY,
        sleep=(slept.append if slept is not None else lambda _s: None),
        clock=lambda: NOW,
        rng=lambda: 0.5,
    )


def test_429_then_success_sends_auth_and_headers() -> None:
    slept: list[float] = []
    script = Script(resp(429, retry_after="3"), httpx.Response(200, json={"ok": True}))
    assert api(script, slept).json("GET", "/things", params={"a": 1}) == {"ok": True}
    assert slept == [3.0]
    req = script.requests[-1]
    assert str(req.url) == "https://api.example.test/v1/things?a=1"
    assert req.headers["authorization"] == "Bearer tok-123456" and req.headers["accept"] == "application/json"


def test_429_exhausted_or_too_long_is_unavailable() -> None:
    slept: list[float] = []
    with pytest.raises(TargetUnavailableError, match="gave up after 3 retries") as err:
        api(Script(*[resp(429)] * 4), slept).request("GET", "/x")
    assert err.value.exit_code is ExitCode.UNAVAILABLE and len(slept) == 3
    slept.clear()
    with pytest.raises(TargetUnavailableError):
        api(Script(resp(429, retry_after="3600")), slept).request("GET", "/x")
    assert slept == []  # an hour is beyond max_wait: fail now rather than hang


def test_5xx_retried_only_for_idempotent_methods() -> None:
    slept: list[float] = []
    script = Script(httpx.Response(503), httpx.Response(200))
    assert api(script, slept).request("PUT", "/k").status_code == 200
    assert len(slept) == 1
    with pytest.raises(TargetUnavailableError, match="502"):
        api(Script(httpx.Response(502), httpx.Response(200))).request("POST", "/deploys")


def test_error_translation() -> None:
    for status in (401, 403):
        with pytest.raises(TargetAuthError) as auth:
            api(Script(httpx.Response(status, json={"id": "unauthorized", "message": "bad token"}))).request("GET", "/")
        assert auth.value.exit_code is ExitCode.AUTH and "bad token" in auth.value.message
    with pytest.raises(TargetError, match="404") as nf:
        api(Script(httpx.Response(404, json={"error": {"code": "not_found", "message": "nope"}}))).request("GET", "/")
    assert "not_found: nope" in nf.value.message and nf.value.hint
    assert api(Script(httpx.Response(404))).request("GET", "/", allow=(404,)).status_code == 404
    with pytest.raises(TargetUnavailableError, match="cannot reach") as ce:
        api(Script(httpx.ConnectError("refused"))).request("GET", "/")
    assert isinstance(ce.value.__cause__, httpx.ConnectError)
    with pytest.raises(TargetUnavailableError, match="timed out"):
        api(Script(httpx.ReadTimeout("slow"))).request("GET", "/")
    with pytest.raises(TargetError, match="not JSON"):
        api(Script(httpx.Response(200, content=b"<html>"))).json("GET", "/")


def test_echoed_values_are_redacted_and_bodies_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = httpx.Response(400, json={"message": f"value {VALUE.reveal()} is invalid", "extra": VALUE.reveal()})
    with pytest.raises(TargetError) as err:
        api(Script(echo)).request("PUT", "/env/KEY", json={"value": VALUE.reveal()}, redact=[VALUE])
    assert VALUE.reveal() not in err.value.diagnostics() and "value *** is invalid" in err.value.message
    assert VALUE.reveal() not in caplog.text and "tok-123456" not in caplog.text
    assert "PUT /env/KEY -> 400" in caplog.text


def test_long_platform_messages_are_cut() -> None:
    with pytest.raises(TargetError) as err:
        api(Script(httpx.Response(422, json={"message": "x" * 1000}))).request("GET", "/")
    assert len(err.value.message) < 300


def test_build_client() -> None:
    client = build_client(token=SecretValue("abc-token"), headers={"Accept": "a/b"})
    try:
        assert client.headers["authorization"] == "Bearer abc-token"
        assert client.timeout.connect == 10.0 and client.timeout.read == 30.0
        assert client.follow_redirects is False
        assert "abc-token" not in repr(client)
    finally:
        client.close()
    bare = build_client()
    assert "authorization" not in bare.headers
    bare.close()
