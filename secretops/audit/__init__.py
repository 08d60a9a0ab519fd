"""Audit logs: `AuditLog` (interface) and the local hash-chained JSON lines file."""

from __future__ import annotations

from pathlib import Path

from secretops.audit.interface import AuditEntry, AuditError, AuditLog, AuditVerdict
from secretops.audit.local import LocalAuditLog

__all__ = ["AuditEntry", "AuditError", "AuditLog", "AuditVerdict", "LocalAuditLog", "open_audit"]


def open_audit(state_dir: Path) -> AuditLog:
    """The audit log of the state directory `state_dir` (the local file, for now)."""
    return LocalAuditLog(state_dir)
