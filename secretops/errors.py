"""The error tree and the process exit codes.

`SecretOpsError` is the root. Each seam adds one child (`PolicyError`, `StoreError`, ...);
implementations raise subclasses and chain the driver's exception. Only `cli/` turns an error
into an `ExitCode`, through the `exit_code` each class carries. No message may hold a secret
value: name things by secret name, fingerprint or masked preview.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes shared by every command (docs/cli.md)."""

    OK = 0
    FINDINGS = 1  # leaks found, or a rotation left incomplete
    USAGE = 2  # bad arguments, bad policy, bad rule file
    AUTH = 3  # authentication or permission denied
    UNAVAILABLE = 4  # a remote (Vault, a platform, a database) cannot be reached
    BUG = 128


class SecretOpsError(Exception):
    """Root of every error secretops raises on purpose.

    `hint` says what the user can do next; `diagnostics()` renders message and hint.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message, then the hint on its own line when there is one."""
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class AuthError(SecretOpsError):
    """Credentials were refused (exit code 3). Mixed into each seam's auth error."""

    exit_code = ExitCode.AUTH


class UnavailableError(SecretOpsError):
    """A remote could not be reached or is not ready (exit code 4)."""

    exit_code = ExitCode.UNAVAILABLE


class ConfigError(SecretOpsError):
    """Bad settings, flags or files that are not policies or rules."""


class RuleError(SecretOpsError):
    """A detection rule file is malformed; the message names file, rule id and field."""


class PolicyError(SecretOpsError):
    """A policy file is malformed; the message names file, line and field."""


class StoreError(SecretOpsError):
    """The secret store failed."""


class IssuerError(SecretOpsError):
    """An issuer (Postgres, Redis, AWS IAM, ...) refused or failed an operation."""


class TargetError(SecretOpsError):
    """A target (a .env file, Render, DigitalOcean, ...) refused or failed an operation."""


class RotationError(SecretOpsError):
    """A rotation run cannot go on; the old credential is left working."""

    exit_code = ExitCode.FINDINGS
