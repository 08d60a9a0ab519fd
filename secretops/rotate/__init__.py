"""Rotation: generators, the engine, its journal and locks (see `secretops.rotate.engine`).

The names below are imported on first use, not with the package: `secretops.state` imports
`secretops.rotate.journal`, and the engine imports `secretops.state`, so an eager import here
would be a cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "Engine": "engine",
    "Failure": "engine",
    "Outcome": "engine",
    "RunResult": "engine",
    "StaticInventory": "engine",
    "Generated": "generators",
    "generate": "generators",
    "Journal": "journal",
    "RotationLockedError": "lock",
    "SecretLock": "lock",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"secretops.rotate.{module}"), name)
    globals()[name] = value
    return value
