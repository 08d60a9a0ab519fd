"""Targets: where copies of a secret are held (a `.env` file, Render, DigitalOcean, ...).

`TARGETS` lists the implementations by policy `kind`; `build_target` makes one from its spec.
`GitHubTarget` needs PyNaCl (the `github` extra) and is imported on first use: a missing driver
is a `MissingExtraError` naming the extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretops.extras import import_optional
from secretops.inventory.models import (
    DigitalOceanTargetSpec,
    DotenvTargetSpec,
    GitHubTargetSpec,
    HerokuTargetSpec,
    RenderTargetSpec,
    TargetSpec,
    VercelTargetSpec,
)
from secretops.targets.digitalocean import DigitalOceanTarget
from secretops.targets.dotenv import DotenvTarget
from secretops.targets.heroku import HerokuTarget
from secretops.targets.interface import Target, TargetError
from secretops.targets.render import RenderTarget
from secretops.targets.vercel import VercelTarget
from secretops.values import SecretValue

if TYPE_CHECKING:
    from secretops.targets.github import GitHubTarget

__all__ = ["TARGETS", "Target", "TargetError", "build_target"]

#: Implementations by policy `kind`. Platform kinds are added as they are written.
_EAGER: dict[str, type[Target]] = {
    "dotenv": DotenvTarget,
    "render": RenderTarget,
    "digitalocean": DigitalOceanTarget,
    "vercel": VercelTarget,
    "heroku": HerokuTarget,
}
_KINDS = (*_EAGER, "github")


def _github() -> type[GitHubTarget]:
    cls: type[GitHubTarget] = import_optional("secretops.targets.github", "the github target").GitHubTarget
    return cls


class _Registry(Mapping[str, "type[Target]"]):
    """`TARGETS`: kind -> implementation; `github` is imported on first access."""

    def __getitem__(self, kind: str) -> type[Target]:
        if kind == "github":
            return _github()
        return _EAGER[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(_KINDS)

    def __len__(self) -> int:
        return len(_KINDS)


TARGETS: Mapping[str, type[Target]] = _Registry()


def __getattr__(name: str) -> Any:
    """`GitHubTarget`, imported on first use."""
    if name == "GitHubTarget":
        return _github()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_Builder = Callable[[str, TargetSpec, Mapping[str, str], Path | None], Target]


def _dotenv(name: str, spec: TargetSpec, env: Mapping[str, str], base_dir: Path | None) -> Target:
    assert isinstance(spec, DotenvTargetSpec)
    return DotenvTarget(name, spec, base_dir=base_dir)


def _token(name: str, token_env: str, env: Mapping[str, str]) -> SecretValue:
    """The platform token from `env[token_env]`, wrapped at once; a clear error when missing."""
    raw = env.get(token_env, "").strip()
    if not raw:
        raise TargetError(
            f"target {name!r}: environment variable {token_env} is not set (it holds the platform token)",
            hint=f"export {token_env}=<token>, or set `token_env` on the target to the variable that holds it",
        )
    return SecretValue(raw)


def _platform(name: str, spec: TargetSpec, env: Mapping[str, str], base_dir: Path | None) -> Target:
    if isinstance(spec, RenderTargetSpec):
        return RenderTarget(name, spec, _token(name, spec.token_env, env))
    if isinstance(spec, DigitalOceanTargetSpec):
        return DigitalOceanTarget(name, spec, _token(name, spec.token_env, env))
    if isinstance(spec, VercelTargetSpec):
        return VercelTarget(name, spec, _token(name, spec.token_env, env))
    if isinstance(spec, HerokuTargetSpec):
        return HerokuTarget(name, spec, _token(name, spec.token_env, env))
    if isinstance(spec, GitHubTargetSpec):
        return _github()(name, spec, _token(name, spec.token_env, env))
    raise TargetError(f"target kind {spec.kind!r} is not implemented yet (target {name!r})")


_BUILDERS: dict[str, _Builder] = {
    "dotenv": _dotenv,
    "render": _platform,
    "digitalocean": _platform,
    "vercel": _platform,
    "heroku": _platform,
    "github": _platform,
}


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
