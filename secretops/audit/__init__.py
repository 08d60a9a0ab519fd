"""Audit logs: `AuditLog` (interface) and the local hash-chained JSON lines file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from secretops.audit.interface import AuditEntry, AuditError, AuditLog, AuditVerdict
from secretops.audit.local import LocalAuditLog

if TYPE_CHECKING:
    from secretops.settings import Settings
    from secretops.state.interface import StateBackend

__all__ = ["AuditEntry", "AuditError", "AuditLog", "AuditVerdict", "LocalAuditLog", "open_audit"]


def open_audit(where: Path | Settings | StateBackend) -> AuditLog:
    """The audit log kept with the rotation state.

    `Settings` open the state backend they name (`SECRETOPS_STATE`: the file beside the journal,
    or the PostgreSQL table); a `StateBackend` gives its own; a bare `Path` is a state directory
    (the local file: what callers that know only `state_dir` get).
    """
    if isinstance(where, Path):
        return LocalAuditLog(where)
    from secretops.settings import Settings
    from secretops.state import open_state

    if isinstance(where, Settings):
        return open_state(where).audit()
    return where.audit()
