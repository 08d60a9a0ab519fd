"""The revocation seam: kill a leaked value at its provider when no inventory secret holds it.

A `Revoker` takes a `Leak` (`secretops.liveness.interface`) and asks the provider, through its
documented revocation API and only on its own official hosts (`hosts`), to revoke the value.
Its `RevokeResult` says `revoked` (the provider accepted the request), or not, with our own
sentence (never the provider's echo). Providers with no such API have `ManualSteps`: what a
person does in the provider's dashboard, with the link. Revoking is never the last word: the
caller proves the value dead with the liveness verifiers afterwards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import httpx

from secretops.liveness.interface import Leak

__all__ = ["ManualSteps", "RevokeContext", "RevokeResult", "Revoker"]


@dataclass(frozen=True, slots=True)
class RevokeResult:
    """What a revocation request achieved: `revoked`, who did it (`revoker`) and what happened."""

    revoked: bool
    revoker: str
    detail: str


@dataclass(frozen=True, slots=True)
class ManualSteps:
    """How a person revokes a value of this provider by hand."""

    provider: str
    steps: tuple[str, ...]
    link: str


@dataclass(frozen=True, slots=True)
class RevokeContext:
    """Shared by revokers: an HTTP client that follows no redirects; `aws_endpoint_url` for moto tests."""

    client: httpx.Client
    timeout: float = 10.0
    aws_endpoint_url: str | None = None


class Revoker(ABC):
    """Revokes leaked values of one provider through its documented API."""

    id: ClassVar[str]
    hosts: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, ctx: RevokeContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def revoke(self, leak: Leak) -> RevokeResult:
        """Ask the provider to revoke `leak.value`. Never raises for a remote failure."""
