"""AWS STS GetCallerIdentity against a private moto server that checks signatures.

The session `moto_server` accepts any signature. This module starts its own, with
`INITIAL_NO_AUTH_ACTION_COUNT=2`: the first two requests (create the user, create its key) run
unauthenticated, every later one must be signed by a key moto knows, so a wrong secret or an
unknown key id is really refused.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from secretops.liveness import VERIFIERS, Leak, Liveness, VerifyContext
from secretops.values import SecretValue
from tests.helpers import free_port, service_unavailable
from tests.services import _moto_binary, silence_botocore_bodies

pytestmark = pytest.mark.aws


@pytest.fixture(scope="module")
def strict_moto() -> Iterator[tuple[str, dict[str, Any]]]:
    """(endpoint, {"user", "key_id", "secret"}): a moto server with signature checks and one IAM key."""
    silence_botocore_bodies()
    binary = _moto_binary()
    if binary is None:
        service_unavailable("moto_server not found (pip install 'moto[server]')")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "2"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([binary, "-p", str(port), "-H", "127.0.0.1"], stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                service_unavailable("moto_server exited")
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - local http
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    service_unavailable("moto_server did not answer within 30 s")
                time.sleep(0.1)
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
        )
        user = f"leaky-{secrets.token_hex(3)}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        yield url, {"user": user, "key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture
def ctx(strict_moto: tuple[str, dict[str, Any]]) -> Iterator[VerifyContext]:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(599))) as client:
        yield VerifyContext(client=client, timeout=5.0, aws_endpoint_url=strict_moto[0])


def _leak(secret: str, **context: str) -> Leak:
    return Leak("aws-secret-access-key", "aws", "aws-access-key", SecretValue(secret), context)


def test_a_working_key_pair_is_live_with_its_arn(
    strict_moto: tuple[str, dict[str, Any]], ctx: VerifyContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, key = strict_moto
    result = VERIFIERS["aws-sts"](ctx).verify(_leak(key["secret"], access_key_id=key["key_id"]))
    assert result.state is Liveness.LIVE, result.detail
    assert result.identity is not None and key["user"] in result.identity
    assert key["secret"] not in caplog.text and key["secret"] not in repr(result)


def test_a_wrong_secret_or_unknown_key_id_is_dead(strict_moto: tuple[str, dict[str, Any]], ctx: VerifyContext) -> None:
    _, key = strict_moto
    verifier = VERIFIERS["aws-sts"](ctx)
    wrong = verifier.verify(_leak(key["secret"][:-2] + "zz", access_key_id=key["key_id"]))
    assert wrong.state is Liveness.DEAD and "SignatureDoesNotMatch" in wrong.detail
    unknown_id = verifier.verify(_leak(key["secret"], access_key_id="AKIA" + "Q" * 16))
    assert unknown_id.state is Liveness.DEAD and "InvalidClientTokenId" in unknown_id.detail
    assert key["secret"] not in wrong.detail + unknown_id.detail


def test_without_the_key_id_or_a_session_token_it_is_unknown(ctx: VerifyContext) -> None:
    verifier = VERIFIERS["aws-sts"](ctx)
    assert verifier.verify(_leak("s" * 40)).state is Liveness.UNKNOWN
    temporary = verifier.verify(_leak("s" * 40, access_key_id="ASIA" + "Q" * 16))
    assert temporary.state is Liveness.UNKNOWN and "session token" in temporary.detail


def test_sts_unreachable_is_unknown() -> None:
    with httpx.Client() as client:
        ctx = VerifyContext(client=client, timeout=1.0, aws_endpoint_url=f"http://127.0.0.1:{free_port()}")
        result = VERIFIERS["aws-sts"](ctx).verify(_leak("s" * 40, access_key_id="AKIA" + "Q" * 16))
    assert result.state is Liveness.UNKNOWN


def test_a_request_off_the_sts_allowlist_is_never_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a test endpoint, STS goes to its official host only; a redirected endpoint is refused."""
    import botocore.endpoint

    sent: list[str] = []

    def no_network(self: Any, request: Any) -> Any:
        sent.append(str(request.url))
        raise AssertionError("must not send")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", no_network)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "https://sts.attacker.invalid")
    with httpx.Client() as client:
        ctx = VerifyContext(client=client, timeout=1.0)
        result = VERIFIERS["aws-sts"](ctx).verify(_leak("s" * 40, access_key_id="AKIA" + "Q" * 16))
    assert result.state is Liveness.UNKNOWN and "allowlist" in result.detail
    assert sent == []
