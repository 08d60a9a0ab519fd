"""AWS: `sts:GetCallerIdentity`, signed with the leaked key pair (botocore's SigV4).

GetCallerIdentity needs no permission: any working key pair gets its account and ARN. A key id
AWS does not know (`InvalidClientTokenId`), a secret that does not match it
(`SignatureDoesNotMatch`) or an expired session (`ExpiredToken`) is dead; throttling, 5xx and
network errors are unknown. The secret needs its access key id, which the scanner groups with
it (`access_key_id` in the finding's context); temporary keys (`ASIA...`) also need their
session token, and without one the verdict is unknown rather than a false "dead".
https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html

Requests go to the STS endpoints in `hosts` only (checked on every request, before signing is
sent); `VerifyContext.aws_endpoint_url` replaces them for tests against moto.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from secretops.liveness.interface import Leak, LivenessResult, Verifier

__all__ = ["AwsStsVerifier"]

log = logging.getLogger(__name__)

_DEAD_CODES: Final = {
    "InvalidClientTokenId": "AWS does not know this access key id (deleted or never existed)",
    "SignatureDoesNotMatch": "the secret does not match its access key id",
    "ExpiredToken": "the session has expired",
    "ExpiredTokenException": "the session has expired",
    "InvalidAccessKeyId": "AWS does not know this access key id",
    "UnrecognizedClientException": "AWS does not recognise these credentials",
}
_THROTTLE: Final = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


class AwsStsVerifier(Verifier):
    """AWS secret access keys, with the access key id found next to them."""

    id = "aws-sts"
    hosts = frozenset({"sts.amazonaws.com", "sts.us-east-1.amazonaws.com"})

    def verify(self, leak: Leak) -> LivenessResult:
        """`GetCallerIdentity` with the pair; the ARN is the identity."""
        key_id = leak.context.get("access_key_id", "")
        if not key_id:
            return LivenessResult.unknown(self.id, "needs the access key id (AKIA...) next to the secret")
        session_token = leak.context.get("session_token") or None
        if key_id.startswith("ASIA") and session_token is None:
            return LivenessResult.unknown(self.id, "temporary credentials (ASIA...) need their session token")
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        _quiet_botocore()
        endpoint = self.ctx.aws_endpoint_url
        allowed = set(self.hosts)
        if endpoint is not None:
            from urllib.parse import urlsplit

            allowed = {urlsplit(endpoint).hostname or ""}
        timeout = self.ctx.timeout
        try:
            session = boto3.session.Session(
                aws_access_key_id=key_id,
                aws_secret_access_key=leak.value.reveal(),
                aws_session_token=session_token,
                region_name="us-east-1",
            )
            client: Any = session.client(
                "sts",
                endpoint_url=endpoint,
                config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
            )
        except BotoCoreError as exc:  # a broken AWS_PROFILE or config file on this machine
            return LivenessResult.unknown(self.id, f"cannot set up an STS client ({type(exc).__name__})")

        def allowlist(request: Any, **_: Any) -> None:
            from urllib.parse import urlsplit

            host = urlsplit(str(request.url)).hostname
            if host not in allowed:
                raise _RefusedHost(str(host))

        client.meta.events.register("before-send.sts.GetCallerIdentity", allowlist)
        try:
            answer = client.get_caller_identity()
        except _RefusedHost:
            log.error("%s: refused a request to a host outside its allowlist", self.id)
            return LivenessResult.unknown(self.id, "refused: host not on the STS allowlist")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _DEAD_CODES:
                return LivenessResult.dead(self.id, f"refused by AWS STS: {_DEAD_CODES[code]} ({code})")
            if code in ("AccessDenied", "AccessDeniedException"):
                return LivenessResult.live_as(self.id, key_id, "authenticated, but denied GetCallerIdentity")
            if code in _THROTTLE:
                return LivenessResult.unknown(self.id, "rate limited by AWS STS; try again later")
            shown = code if re.fullmatch(r"[A-Za-z.]{1,60}", code) else "an error"
            return LivenessResult.unknown(self.id, f"AWS STS answered {shown}")
        except BotoCoreError as exc:
            return LivenessResult.unknown(self.id, f"cannot reach AWS STS ({type(exc).__name__})")
        finally:
            client.close()
        arn = answer.get("Arn")
        return LivenessResult.live_as(self.id, arn, f"accepted (account {answer.get('Account')})")


class _NoDebug(logging.Filter):
    """Drops botocore's DEBUG records, which can hold whole requests and responses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _quiet_botocore() -> None:
    """Install `_NoDebug` on the botocore loggers that print bodies and headers (once)."""
    for name in ("botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.auth"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoDebug) for f in logger.filters):
            logger.addFilter(_NoDebug())


class _RefusedHost(Exception):
    """Raised inside botocore's send hook to stop a request to a host off the allowlist."""
