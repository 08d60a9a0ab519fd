"""Targets: where copies of a secret are held (a `.env` file, Render, DigitalOcean, ...).

`TARGETS` lists the implementations by policy `kind`; `build_target` makes one from its spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from secretops.inventory.models import DotenvTargetSpec, TargetSpec
from secretops.targets.dotenv import DotenvTarget
from secretops.targets.interface import Target, TargetError

__all__ = ["TARGETS", "Target", "TargetError", "build_target"]

#: Implementations by policy `kind`. Platform kinds are added as they are written.
TARGETS: dict[str, type[Target]] = {"dotenv": DotenvTarget}

_Builder = Callable[[str, TargetSpec, Mapping[str, str], Path | None], Target]


def _dotenv(name: str, spec: TargetSpec, env: Mapping[str, str], base_dir: Path | None) -> Target:
    assert isinstance(spec, DotenvTargetSpec)
    return DotenvTarget(name, spec, base_dir=base_dir)


_BUILDERS: dict[str, _Builder] = {"dotenv": _dotenv}


def build_target(name: str, spec: TargetSpec, env: Mapping[str, str], *, base_dir: Path | None = None) -> Target:
    """The target `name` described by `spec`; platform tokens are read from `env`.

    `base_dir` resolves a relative `.env` path (default: the working directory).
    """
    builder = _BUILDERS.get(spec.kind)
    if builder is None:
        raise TargetError(
            f"target kind {spec.kind!r} is not implemented yet (target {name!r})",
            hint="use a dotenv target for now, or leave this consumer out of the rotation",
        )
    return builder(name, spec, env, base_dir)
