"""Rotation: generators, the engine, its journal and locks (see `secretops.rotate.engine`)."""

from secretops.rotate.engine import Engine, Failure, Outcome, RunResult, StaticInventory
from secretops.rotate.generators import Generated, generate
from secretops.rotate.journal import Journal
from secretops.rotate.lock import RotationLockedError, SecretLock

__all__ = [
    "Engine",
    "Failure",
    "Generated",
    "Journal",
    "Outcome",
    "RotationLockedError",
    "RunResult",
    "SecretLock",
    "StaticInventory",
    "generate",
]
