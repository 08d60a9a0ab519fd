"""A fake `Target`: env vars in a dict, deploys that succeed or fail on demand."""

from __future__ import annotations

from datetime import timedelta

from secretops.errors import TargetError
from secretops.targets.interface import Deployment, DeployState, EnvRef, Target
from secretops.values import FingerprintKey, SecretValue, fingerprint


class FakeTarget(Target):
    """Holds values by ref; `fail` names operations that raise once; `write_only` hides reads."""

    kind = "fake"

    def __init__(self, name: str = "fake", *, write_only: bool = False) -> None:
        self.name = name
        self.env: dict[EnvRef, str] = {}
        self.calls: list[str] = []
        self.fail: dict[str, Exception] = {}
        self.deploy_fails = 0  # the next N deploys end FAILED
        self.write_only = write_only
        self.live: dict[EnvRef, str] = {}  # what running code sees (updated by a live deploy)
        self.lie_on_write = 0  # the next N set_env calls silently store something else
        self.shows_values = True  # False: like Render, only fingerprints can be read back

    def describe(self) -> str:
        return f"fake:{self.name}"

    def _maybe_fail(self, op: str) -> None:
        self.calls.append(op)
        if op in self.fail:
            raise self.fail.pop(op)

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        self._maybe_fail(f"set {ref}")
        if self.lie_on_write:
            self.lie_on_write -= 1
            self.env[ref] = "garbage"
        else:
            self.env[ref] = value.reveal()

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        self._maybe_fail(f"read {ref}")
        if self.write_only or ref not in self.env:
            return None
        return fingerprint(key, self.env[ref])

    def read_value(self, ref: EnvRef) -> SecretValue | None:
        if self.write_only or not self.shows_values:
            return None
        return SecretValue(self.env[ref]) if ref in self.env else None

    def reads_values(self) -> bool:
        return not self.write_only and self.shows_values

    def redeploy(self) -> Deployment:
        self._maybe_fail("redeploy")
        if self.deploy_fails:
            self.deploy_fails -= 1
            return Deployment("d-bad", DeployState.PENDING, "will fail")
        return Deployment("d-ok", DeployState.PENDING)

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        self._maybe_fail("wait")
        if deployment.id == "d-bad":
            return Deployment(deployment.id, DeployState.FAILED, "build failed: exit 1")
        self.live = dict(self.env)
        return Deployment(deployment.id, DeployState.LIVE)

    def seed(self, key: str, value: str) -> None:
        """Pre-set a var as if deployed long ago."""
        self.env[EnvRef(key)] = value
        self.live[EnvRef(key)] = value


def no_target_error() -> TargetError:
    """A typical platform error for injection."""
    return TargetError("platform said 500")
