"""Issuers: where a credential is minted, checked and revoked.

`ISSUERS` maps each issuer spec `kind` (`inventory/models.py`) to its implementation;
`build_issuer` constructs one from a spec and the environment holding its admin credentials.

Implementations needing a driver (psycopg, PyMySQL, redis, boto3) are imported on first use,
so that a scanner-only install imports this package, and a missing driver is a
`MissingExtraError` naming the extra to install (`secretops.extras`), raised before anything
is touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from secretops.extras import import_optional, require
from secretops.inventory.models import IssuerSpec
from secretops.issuers.app import AppIssuer
from secretops.issuers.interface import (
    Credential,
    Issuer,
    IssuerAuthError,
    IssuerError,
    IssuerUnavailableError,
    PlanStep,
)
from secretops.issuers.manual import ConsoleManualInput, ManualInput, ManualIssuer, ManualStepDeclined

if TYPE_CHECKING:
    from secretops.issuers.aws_iam import AwsIamIssuer
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

#: kind -> (module, class, driver modules it needs). Imported on first use (`ISSUERS[kind]`).
_KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "postgres": ("secretops.issuers.postgres", "PostgresIssuer", ("psycopg",)),
    "mysql": ("secretops.issuers.mysql", "MysqlIssuer", ("pymysql",)),
    "redis": ("secretops.issuers.redis", "RedisIssuer", ("redis",)),
    "aws-iam": ("secretops.issuers.aws_iam", "AwsIamIssuer", ("boto3", "botocore")),
    "manual": ("secretops.issuers.manual", "ManualIssuer", ()),
    "app": ("secretops.issuers.app", "AppIssuer", ()),
}


class _Registry(Mapping[str, "type[Issuer]"]):
    """`ISSUERS`: kind -> implementation, importing each on first access."""

    def __getitem__(self, kind: str) -> type[Issuer]:
        module, name, drivers = _KINDS[kind]
        what = f"the {kind} issuer"
        require(drivers, what)
        cls: type[Issuer] = getattr(import_optional(module, what), name)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(_KINDS)

    def __len__(self) -> int:
        return len(_KINDS)


ISSUERS: Mapping[str, type[Issuer]] = _Registry()


def __getattr__(name: str) -> Any:
    """`PostgresIssuer`, `MysqlIssuer`, ...: the implementation classes, imported on first use."""
    for kind, (_module, cls_name, _drivers) in _KINDS.items():
        if cls_name == name:
            return ISSUERS[kind]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_issuer(spec: IssuerSpec, env: Mapping[str, str], *, manual_input: ManualInput | None = None) -> Issuer:
    """The issuer for `spec`, reading admin credentials from `env` when it first needs them.

    `manual_input` is how a `manual` issuer talks to the operator (default: the console);
    other kinds ignore it. Nothing connects until an operation runs, so `plan` works offline.
    `MissingExtraError` (exit code 2) when the kind's driver is not installed.
    """
    cls: Any = ISSUERS[spec.kind]
    if cls is ManualIssuer:
        return ManualIssuer(spec, env, manual_input=manual_input)  # type: ignore[arg-type]
    issuer: Issuer = cls(spec, env)
    return issuer
