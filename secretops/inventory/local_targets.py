"""The inventory check that reads this machine's disk: `.env` targets exist and hold their consumers' keys.

`policy check` runs it; `collect(..., local_targets=False)` skips it (checking away from the
host that holds the files). It reads key names only, never values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from secretops.inventory.models import DotenvTargetSpec, SecretSpec, TargetSpec
from secretops.inventory.problems import Located, Problem, suggest

__all__ = ["check_local_targets"]


def check_local_targets(
    targets: Sequence[Located[TargetSpec]],
    secrets: Sequence[Located[SecretSpec]],
    *,
    base_dir: Path | None = None,
) -> list[Problem]:
    """`.env` targets that do not exist here (unless `create: true`), and keys they lack (unless `new: true`).

    A relative `path` resolves against `base_dir` (default: the working directory), the same
    way `secretops rotate` resolves it. Reads key names only, never values.
    """
    from secretops.targets.dotenv import inspect_dotenv, resolve_path

    problems: list[Problem] = []
    seen: set[str] = set()
    keys: dict[str, frozenset[str]] = {}
    for target in targets:
        spec = target.spec
        if not isinstance(spec, DotenvTargetSpec) or target.name in seen:
            continue
        seen.add(target.name)
        path = resolve_path(spec, base_dir)
        state = inspect_dotenv(path)
        if state.keys is not None:
            keys[target.name] = state.keys
            continue
        if spec.create and state.problem in ("missing-file", "missing-directory"):
            continue
        relative = not Path(spec.path).expanduser().is_absolute()
        resolved = (
            f" (`{spec.path}` is relative: it resolves against the working directory, "
            f"{base_dir if base_dir is not None else Path.cwd()}, as `secretops rotate` resolves it)"
            if relative
            else ""
        )
        code = {
            "missing-file": "missing-target-file",
            "missing-directory": "missing-target-directory",
            "not-a-file": "target-not-a-file",
        }.get(state.problem or "", "target-unreadable")
        hint = "fix `path`" + (f" (did you mean {state.suggestion}?)" if state.suggestion else "")
        if code in ("missing-target-file", "missing-target-directory"):
            hint += (
                ", or set `create: true` if the first rotation should create the file: otherwise a rotation would "
                "write a file no app reads, then revoke the value the app still uses"
            )
        problems.append(target.problem(("path",), f"{state.detail}{resolved}", hint, code))
    for secret in secrets:
        for ci, consumer in enumerate(secret.spec.consumers):
            held = keys.get(consumer.target)
            if held is None or consumer.new or consumer.env in held:
                continue
            guess = suggest(consumer.env, held)
            target_spec = next(t.spec for t in targets if t.name == consumer.target)
            assert isinstance(target_spec, DotenvTargetSpec)
            where = resolve_path(target_spec, base_dir)
            problems.append(
                secret.problem(
                    ("consumers", ci, "env"),
                    f"{consumer.env} is not set in {where} (target '{consumer.target}')"
                    + (f"; did you mean {guess}?" if guess else ""),
                    "fix `env`: the app keeps reading the variable it has, which the rotation would revoke; "
                    "or set `new: true` on the consumer if the first rotation should add it",
                    "missing-target-key",
                )
            )
    return problems
