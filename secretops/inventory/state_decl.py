"""`state:` in a policy file: where rotation state lives, for a team that keeps it with its policies.

`SECRETOPS_STATE` wins over it. At most one value across all policy files: two files that say
different things are a `conflicting-state` problem (which one would a runner use?). A policy is
committed, so its `url` may not hold a password (`StateSpec` refuses it); `url_env` names the
environment variable that holds the whole URL instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from secretops.inventory.models import StateSpec
from secretops.inventory.problems import LineMap, Problem

__all__ = ["DeclaredState", "declared_state", "state_problems"]

_ADAPTER: TypeAdapter[StateSpec | str] = TypeAdapter(StateSpec | str)


@dataclass(frozen=True, slots=True)
class DeclaredState:
    """The `state:` the policies declare, and where."""

    spec: StateSpec
    file: Path
    line: int


def _spec(raw: Any) -> StateSpec:
    if raw == "files":
        return StateSpec(backend="files")
    if isinstance(raw, str):
        raise ValueError("state is `files` or a mapping (backend, url_env or url, lease)")
    return StateSpec.model_validate(raw)


def state_problems(
    found: Sequence[tuple[Path, Any, LineMap]],
) -> tuple[DeclaredState | None, list[Problem]]:
    """The one `state:` declared across `found` (file, raw value, line map), and the problems."""
    problems: list[Problem] = []
    first: DeclaredState | None = None
    for file, raw, lines in found:
        line = lines.line(("state",))
        try:
            spec = _spec(raw)
        except (ValidationError, ValueError) as exc:
            errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else [{"msg": str(exc)}]
            for err in errors:
                field = ".".join(["state", *(str(p) for p in err.get("loc", ()))])
                problems.append(
                    Problem(
                        file,
                        lines.line(("state", *err.get("loc", ()))),
                        field,
                        str(err["msg"]).removeprefix("Value error, "),
                        "docs/policies.md describes `state:` (backend, url_env or url, lease)",
                        "invalid-value",
                    )
                )
            continue
        if first is None:
            first = DeclaredState(spec, file, line)
        elif spec != first.spec:
            problems.append(
                Problem(
                    file,
                    line,
                    "state",
                    f"declares another state than {first.file.name}:{first.line}",
                    "declare `state:` in one policy file only",
                    "conflicting-state",
                )
            )
    return first, problems


def declared_state(policies: Path) -> DeclaredState | None:
    """The `state:` of the policies under `policies` (a folder or a file), or None.

    Raises `PolicyProblems` (file, line, field) when it is malformed or two files disagree;
    a policy folder that does not exist declares nothing (a scan-only checkout has none).
    """
    from secretops.inventory.loader import PolicyProblems, policy_files
    from secretops.inventory.yaml_lines import parse_yaml

    if not policies.exists():
        return None
    found: list[tuple[Path, Any, LineMap]] = []
    problems: list[Problem] = []
    for file in policy_files(policies):
        parsed = parse_yaml(file, problems)
        if parsed is None:
            continue
        data, lines = parsed
        if isinstance(data, dict) and "state" in data:
            found.append((file, data["state"], lines))
    declared, more = state_problems(found)
    problems = [p for p in problems if p.severity == "error"] + more
    if problems and found:
        raise PolicyProblems(problems)
    return declared
