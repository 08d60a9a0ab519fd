"""Issuers: where a credential is minted, checked and revoked.

`ISSUERS` maps each issuer spec `kind` (`inventory/models.py`) to its implementation;
`build_issuer` constructs one from a spec and the environment holding its admin credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secretops.inventory.models import IssuerSpec
from secretops.issuers.app import AppIssuer
from secretops.issuers.aws_iam import AwsIamIssuer
from secretops.issuers.interface import (
    Credential,
    Issuer,
    IssuerAuthError,
    IssuerError,
    IssuerUnavailableError,
    PlanStep,
)
from secretops.issuers.manual import ConsoleManualInput, ManualInput, ManualIssuer, ManualStepDeclined
from secretops.issuers.mysql import MysqlIssuer
from secretops.issuers.postgres import PostgresIssuer
from secretops.issuers.redis import RedisIssuer

__all__ = [
    "ISSUERS",
    "AppIssuer",
    "AwsIamIssuer",
    "ConsoleManualInput",
    "Credential",
    "Issuer",
    "IssuerAuthError",
    "IssuerError",
    "IssuerUnavailableError",
    "ManualInput",
    "ManualIssuer",
    "ManualStepDeclined",
    "MysqlIssuer",
    "PlanStep",
    "PostgresIssuer",
    "RedisIssuer",
    "build_issuer",
]

ISSUERS: dict[str, type[Issuer]] = {
    "postgres": PostgresIssuer,
    "mysql": MysqlIssuer,
    "redis": RedisIssuer,
    "aws-iam": AwsIamIssuer,
    "manual": ManualIssuer,
    "app": AppIssuer,
}


def build_issuer(spec: IssuerSpec, env: Mapping[str, str], *, manual_input: ManualInput | None = None) -> Issuer:
    """The issuer for `spec`, reading admin credentials from `env` when it first needs them.

    `manual_input` is how a `manual` issuer talks to the operator (default: the console);
    other kinds ignore it. Nothing connects until an operation runs, so `plan` works offline.
    """
    cls: Any = ISSUERS[spec.kind]
    if cls is ManualIssuer:
        return ManualIssuer(spec, env, manual_input=manual_input)  # type: ignore[arg-type]
    issuer: Issuer = cls(spec, env)
    return issuer
