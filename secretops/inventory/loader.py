"""Reads `policies/*.yaml` into an `Inventory`, reporting every problem with file, line and field.

YAML is composed into nodes first (`yaml.SafeLoader`), so each mapping key and list item has a
line (`LineMap`), then constructed into plain data and validated piece by piece: the file's top
level (`PolicyFile` without its sections), each issuer, each target, each secret. A broken
secret does not hide the problems of its neighbours, and the valid pieces still go through the
whole-inventory checks (`secretops.inventory.check`). A pydantic error's `loc` is walked back
through the data (skipping discriminator tags) to the YAML path, hence to a line. The YAML
parsing with lines is `secretops.inventory.yaml_lines`; the translation of pydantic errors into
`Problem`s is `secretops.inventory.validation_errors`.

`load_inventory(path)` returns the `Inventory` or raises `PolicyProblems` (a `PolicyError`)
holding every `Problem`; `collect(path)` returns both, for `secretops policy check`. Warnings
(severity `warning`: an empty file, `grace: 0s`) do not make a policy invalid: they are kept in
`Inventory.warnings`. `local_targets=True` also checks this machine's `.env` targets (they exist,
they hold each consumer's key: `local_targets.check_local_targets`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from secretops.errors import PolicyError
from secretops.inventory.check import check_inventory
from secretops.inventory.fill_in import check_placeholders, stand_in_placeholders, without_placeholder_noise
from secretops.inventory.local_targets import check_local_targets
from secretops.inventory.models import IssuerSpec, PolicyFile, SecretSpec, TargetSpec
from secretops.inventory.problems import LineMap, Located, Problem, YamlPath, format_path
from secretops.inventory.validation_errors import translate_errors, type_in_words
from secretops.inventory.yaml_lines import parse_yaml

__all__ = ["Inventory", "PolicyProblems", "collect", "load_inventory", "policy_files"]

logger = logging.getLogger(__name__)

_SECTIONS = ("issuers", "targets", "secrets")
_ISSUER: TypeAdapter[IssuerSpec] = TypeAdapter(IssuerSpec)
_TARGET: TypeAdapter[TargetSpec] = TypeAdapter(TargetSpec)
T = TypeVar("T")


class PolicyProblems(PolicyError):
    """Policy files hold mistakes; `problems` lists every one (file, line, field, hint)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in policy files:\n{lines}",
            hint="fix them, then run `secretops policy check`",
        )


@dataclass(frozen=True)
class Inventory:
    """Every valid secret, issuer and target declared under a policy path, by name.

    Names are global across files. `where(name)` says where a secret was declared.
    """

    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    issuers: dict[str, IssuerSpec] = field(default_factory=dict)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    locations: dict[tuple[str, str], tuple[Path, int]] = field(default_factory=dict, repr=False)
    warnings: tuple[Problem, ...] = ()

    def where(self, secret_name: str) -> tuple[Path, int]:
        """The file and line declaring secret `secret_name` (`KeyError` if unknown)."""
        return self.locations[("secret", secret_name)]

    def where_issuer(self, name: str) -> tuple[Path, int]:
        """The file and line declaring issuer `name`."""
        return self.locations[("issuer", name)]

    def where_target(self, name: str) -> tuple[Path, int]:
        """The file and line declaring target `name`."""
        return self.locations[("target", name)]

    def issuer_of(self, secret_name: str) -> IssuerSpec:
        """The issuer spec of a secret."""
        return self.issuers[self.secrets[secret_name].issuer]


def policy_files(path: Path) -> list[Path]:
    """The policy files under `path`: itself if a file, else its `*.yaml`/`*.yml`, recursively.

    Hidden files and directories are skipped; other files (`scan.toml`, READMEs) are ignored.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise PolicyError(
            f"no policy directory or file at {path}",
            hint="pass a directory of *.yaml policies (default: policies/, or set SECRETOPS_POLICIES)",
        )
    found = [
        p
        for p in path.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    return sorted(found)


def load_inventory(path: Path, *, local_targets: bool = False, base_dir: Path | None = None) -> Inventory:
    """The inventory under `path` (a directory or one file); raises `PolicyProblems` on any problem.

    `local_targets=True` also refuses `.env` targets missing here (see `collect`).
    """
    inventory, problems = collect(path, local_targets=local_targets, base_dir=base_dir)
    if problems:
        raise PolicyProblems(problems)
    return inventory


def collect(
    path: Path, *, local_targets: bool = False, base_dir: Path | None = None
) -> tuple[Inventory, list[Problem]]:
    """The inventory of every valid entry under `path`, and every error found, in file order.

    Warnings go to `Inventory.warnings`. With `local_targets`, `.env` targets are checked on
    this machine's disk: relative paths resolve against `base_dir` (default: the working
    directory, as `secretops rotate` resolves them).
    """
    files = policy_files(path)
    problems: list[Problem] = []
    issuers: list[Located[IssuerSpec]] = []
    targets: list[Located[TargetSpec]] = []
    secrets: list[Located[SecretSpec]] = []
    broken_issuers: set[str] = set()
    broken_targets: set[str] = set()
    secrets_complete = True
    placeholders: list[Problem] = []
    states: list[tuple[Path, Any, LineMap]] = []
    for file in files:
        parsed = parse_yaml(file, problems)
        if parsed is None:
            secrets_complete = False
            continue
        data, lines = parsed
        if _declares_nothing(data):
            problems.append(
                Problem(
                    file,
                    lines.line(()),
                    "",
                    "the file declares no issuers, targets or secrets" + (" (it is empty)" if data is None else ""),
                    "fill it in, or delete it: an empty file may mean the policies meant to be here are missing",
                    "empty-policy",
                    "warning",
                )
            )
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    file,
                    lines.line(()),
                    "",
                    f"the top level must be a mapping (version, issuers, targets, secrets), not {type_in_words(data)}",
                    "start the file with `version: 1` and the sections as keys",
                    "not-a-mapping",
                )
            )
            secrets_complete = False
            continue
        found = check_placeholders(file, data, lines)
        if found:  # validate the rest of the draft around them
            placeholders.extend(found)
            data = stand_in_placeholders(data)
        file_ok = _validate_file(file, data, lines, problems, issuers, targets, secrets, broken_issuers, broken_targets)
        secrets_complete = secrets_complete and file_ok
        if "state" in data:
            states.append((file, data["state"], lines))
    if len(states) > 1:  # each one's own mistakes were named above; here, files that disagree
        from secretops.inventory.state_decl import state_problems

        problems.extend(p for p in state_problems(states)[1] if p.code == "conflicting-state")
    problems.extend(
        check_inventory(
            issuers,
            targets,
            secrets,
            broken_issuers=broken_issuers,
            broken_targets=broken_targets,
            secrets_complete=secrets_complete,
        )
    )
    if local_targets:
        problems.extend(check_local_targets(targets, secrets, base_dir=base_dir))
    if placeholders:  # a draft from `secretops discover`: each placeholder once, not its side effects
        problems = [*without_placeholder_noise(problems, placeholders), *placeholders]
    order = {f: i for i, f in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line or 0))
    errors = [p for p in problems if p.severity == "error"]
    warnings = tuple(p for p in problems if p.severity == "warning")
    inventory = _build(files, issuers, targets, secrets, warnings)
    return inventory, errors


def _declares_nothing(data: Any) -> bool:
    if data is None:
        return True
    return isinstance(data, dict) and not any(data.get(section) for section in (*_SECTIONS, "state"))


def _build(
    files: Sequence[Path],
    issuers: Sequence[Located[IssuerSpec]],
    targets: Sequence[Located[TargetSpec]],
    secrets: Sequence[Located[SecretSpec]],
    warnings: tuple[Problem, ...] = (),
) -> Inventory:
    inventory = Inventory(files=tuple(files), warnings=warnings)
    _index("issuer", issuers, inventory.issuers, inventory.locations)
    _index("target", targets, inventory.targets, inventory.locations)
    _index("secret", secrets, inventory.secrets, inventory.locations)
    return inventory


def _index(
    kind: str,
    entries: Sequence[Located[T]],
    into: dict[str, T],
    locations: dict[tuple[str, str], tuple[Path, int]],
) -> None:
    for entry in entries:
        if entry.name in into:  # a duplicate, already reported: the first one wins
            continue
        into[entry.name] = entry.spec
        locations[(kind, entry.name)] = (entry.file, entry.line())


# ---------------------------------------------------------------- validation


def _validate_file(
    file: Path,
    data: dict[Any, Any],
    lines: LineMap,
    problems: list[Problem],
    issuers: list[Located[IssuerSpec]],
    targets: list[Located[TargetSpec]],
    secrets: list[Located[SecretSpec]],
    broken_issuers: set[str],
    broken_targets: set[str],
) -> bool:
    """Validate one file's pieces into the lists; False when a secret could not be read."""
    complete = True
    top = {k: v for k, v in data.items() if k not in _SECTIONS}
    try:
        PolicyFile.model_validate(top)
    except ValidationError as exc:
        problems.extend(translate_errors(exc, file, (), top, lines, PolicyFile, None))

    for section, adapter, into, broken in (
        ("issuers", _ISSUER, issuers, broken_issuers),
        ("targets", _TARGET, targets, broken_targets),
    ):
        raw = data.get(section)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(
                _shape_problem(file, lines, (section,), raw, f"a mapping of {section[:-1]} names to {section}")
            )
            continue
        for name, body in raw.items():
            path: YamlPath = (section, name)
            if not isinstance(name, str):
                problems.append(
                    Problem(
                        file,
                        lines.line(path),
                        format_path(path),
                        f"{section[:-1]} names are strings, got {type_in_words(name)}",
                        "quote the name",
                        "wrong-type",
                    )
                )
                continue
            try:
                spec = adapter.validate_python(body)
            except ValidationError as exc:
                broken.add(name)
                root = IssuerSpec if section == "issuers" else TargetSpec
                problems.extend(translate_errors(exc, file, path, body, lines, root, section[:-1]))
                continue
            into.append(Located(name, spec, file, path, lines))  # type: ignore[arg-type]

    raw_secrets = data.get("secrets")
    if raw_secrets is None:
        return complete
    if not isinstance(raw_secrets, list):
        problems.append(
            _shape_problem(
                file, lines, ("secrets",), raw_secrets, "a list of secrets (each item starts with `- name:`)"
            )
        )
        return False
    for i, body in enumerate(raw_secrets):
        path = ("secrets", i)
        try:
            secret = SecretSpec.model_validate(body)
        except ValidationError as exc:
            complete = False
            problems.extend(translate_errors(exc, file, path, body, lines, SecretSpec, None))
            continue
        secrets.append(Located(secret.name, secret, file, path, lines))
    return complete


def _shape_problem(file: Path, lines: LineMap, path: YamlPath, raw: Any, expected: str) -> Problem:
    return Problem(
        file, lines.line(path), format_path(path), f"expected {expected}, got {type_in_words(raw)}", None, "wrong-type"
    )
