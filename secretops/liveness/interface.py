"""The liveness seam: does a leaked value still work where it was issued?

A `Verifier` takes a `Leak` (the value, as a `SecretValue`, with the finding's rule id and the
non-secret context the scanner gathered) and asks the provider, by its documented identity or
read-only endpoint, whether the value is accepted. The answer is a `LivenessResult`: `live`
(the provider accepted it, with the identity it belongs to where the provider says), `dead`
(the provider refused it as invalid, revoked or expired), or `unknown` (anything else: rate
limited, a 5xx, a timeout, no check exists). `unknown` is never a kind word for `dead`.

HTTP verifiers only ever talk to their provider's own official hosts (`Verifier.hosts`); a
host named in the scanned text is never contacted, except by the database verifiers, which log
in to the server the text names and so run only behind their own flag (`--verify-databases`).
No value reaches a result, a log line or an exception: results carry identities and our own
words, never the provider's echo of a request.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

import httpx

from secretops.display import printable
from secretops.errors import SecretOpsError
from secretops.values import SecretValue

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TIMEOUT",
    "Leak",
    "Liveness",
    "LivenessError",
    "LivenessResult",
    "Verifier",
    "VerifyContext",
    "clean_identity",
]

DEFAULT_TIMEOUT: Final = 10.0  # seconds per request or login attempt
DEFAULT_CONCURRENCY: Final = 8
MAX_IDENTITY: Final = 200


class LivenessError(SecretOpsError):
    """A liveness check could not be set up (bad options). A failed check is a result, not this."""


class Liveness(StrEnum):
    """What a verifier learned about a value."""

    LIVE = "live"
    DEAD = "dead"
    UNKNOWN = "unknown"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class LivenessResult:
    """One verdict: `state`, who checked (`verifier` id), the `identity` the provider named, why.

    `identity` is what the provider says the value belongs to (a login, an account e-mail, a
    key name), or None when it does not say. `detail` is our own sentence, never a raw reply.
    """

    state: Liveness
    verifier: str
    identity: str | None = None
    detail: str = ""
    checked_at: datetime = field(default_factory=_now)

    @property
    def live(self) -> bool:
        """Whether the provider accepted the value."""
        return self.state is Liveness.LIVE

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (docs/json-schema.md: `liveness`)."""
        return {
            "state": str(self.state),
            "verifier": self.verifier,
            "identity": self.identity,
            "detail": self.detail,
            "checked_at": self.checked_at.isoformat().replace("+00:00", "Z"),
        }

    @classmethod
    def live_as(cls, verifier: str, identity: str | None, detail: str = "accepted") -> LivenessResult:
        """A `live` verdict naming `identity`."""
        return cls(Liveness.LIVE, verifier, clean_identity(identity), detail)

    @classmethod
    def dead(cls, verifier: str, detail: str) -> LivenessResult:
        """A `dead` verdict."""
        return cls(Liveness.DEAD, verifier, None, detail)

    @classmethod
    def unknown(cls, verifier: str, detail: str) -> LivenessResult:
        """An `unknown` verdict."""
        return cls(Liveness.UNKNOWN, verifier, None, detail)


def clean_identity(identity: object) -> str | None:
    """A provider-given name made safe to print: a string, control characters escaped, cut short."""
    if identity is None or identity == "":
        return None
    text = printable(str(identity))
    return text if len(text) <= MAX_IDENTITY else text[: MAX_IDENTITY - 3] + "..."


@dataclass(frozen=True, slots=True)
class Leak:
    """What a verifier gets: the value (a `SecretValue`, printing as `***`) and the finding's facts.

    `context` holds the non-secret parts the scanner grouped with the value: `host`, `port`,
    `user`, `database`, `access_key_id`, `account_id`... (never another secret).
    """

    rule_id: str
    provider: str
    kind: str
    value: SecretValue
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerifyContext:
    """What every verifier is built with: one shared HTTP client and the bounds to respect.

    `client` is used by HTTP verifiers only (tests pass one on `httpx.MockTransport`); it must not
    follow redirects (each request also says so). `timeout` bounds each request or login;
    a rate-limited request is retried at most `max_retries` times, and only when the provider
    says when (`Retry-After`) and that is at most `max_retry_after` seconds away.
    `aws_endpoint_url` points STS elsewhere, for tests against moto only.
    """

    client: httpx.Client
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = 2
    max_retry_after: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    aws_endpoint_url: str | None = None


class Verifier(ABC):
    """Checks whether a leaked value still works at one provider.

    `hosts` is the allowlist of hosts the verifier may contact (empty for database verifiers,
    which contact the host the scanned text names: `network = "scanned-host"`).
    """

    id: ClassVar[str]
    hosts: ClassVar[frozenset[str]] = frozenset()
    network: ClassVar[str] = "provider"  # or "scanned-host"

    def __init__(self, ctx: VerifyContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def verify(self, leak: Leak) -> LivenessResult:
        """The verdict for `leak`. Never raises for a remote failure: that is `unknown`."""
