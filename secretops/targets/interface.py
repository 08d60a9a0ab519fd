"""The `Target` seam: a place that holds a copy of a secret as an environment variable.

A target can set one variable, read back its fingerprint (to prove the write landed, and to
tell on resume whether a step is already done), redeploy, and wait for the deployment. Setting a
value does not mean running code sees it: the engine always redeploys and waits before it
trusts a target, and never revokes a value that any target may still serve.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

from secretops.errors import AuthError, TargetError, UnavailableError
from secretops.values import FingerprintKey, SecretValue

__all__ = [
    "DeployState",
    "Deployment",
    "EnvRef",
    "Target",
    "TargetAuthError",
    "TargetError",
    "TargetUnavailableError",
]


class TargetAuthError(TargetError, AuthError):
    """The platform refused our token (exit code 3)."""


class TargetUnavailableError(TargetError, UnavailableError):
    """The platform cannot be reached (exit code 4)."""


@dataclass(frozen=True, slots=True)
class EnvRef:
    """One variable on a target. `component` scopes it (DigitalOcean component, None = app level)."""

    key: str
    component: str | None = None

    def __str__(self) -> str:
        return f"{self.component}:{self.key}" if self.component else self.key


class DeployState(StrEnum):
    """Where a deployment stands."""

    PENDING = "pending"
    LIVE = "live"
    FAILED = "failed"
    NONE = "none"  # nothing to deploy (GitHub secrets, a .env without restart)


@dataclass(frozen=True, slots=True)
class Deployment:
    """A deployment the target started; `id` is the platform's, `detail` is human-readable."""

    id: str
    state: DeployState
    detail: str = ""


class Target(ABC):
    """A platform or file that keeps copies of secrets as environment variables."""

    kind: ClassVar[str]

    @abstractmethod
    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Create or replace `ref` with `value`. Calling it twice must be harmless."""

    @abstractmethod
    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """The fingerprint of the value `ref` holds now, None if unset or unreadable (write-only)."""

    def read_value(self, ref: EnvRef) -> SecretValue | None:
        """The value `ref` holds now, for consumer verification (`rotate/consumer_check.py`).

        Targets that can show values (a `.env` file) override this, and then None means unset.
        The default, None, means "cannot show it": the engine falls back to `read_fingerprint`
        and, when that is None too, to the value it rendered (a write-only target).
        """
        return None

    def reads_values(self) -> bool:
        """True when this target overrides `read_value` (a None from it then means unset)."""
        return type(self).read_value is not Target.read_value

    @abstractmethod
    def redeploy(self) -> Deployment:
        """Make running code pick up the new values (deploy, restart, or nothing needed)."""

    @abstractmethod
    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """Poll until `deployment` is live or failed, or raise `TargetError` on timeout."""

    def describe(self) -> str:
        """A short human name, e.g. `dotenv:/srv/app/.env`."""
        return self.kind

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
