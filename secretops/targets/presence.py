"""Which consumer keys a target does not hold yet (a typo in `env` or `path`, or a new key).

A consumer whose env var is missing on its target is a trap: a rotation would add the variable
under the new name while the app keeps reading the old one, soon revoked. `missing_keys`
lists every such consumer, for `status`, `store import` and `policy check`:

- `.env` targets are read from disk (keys only, never values). A missing file or directory is
  reported for each of its consumers.
- Platform targets are asked only when the caller passes built `targets` (that costs API calls
  and tokens), and only where a read can tell "unset" from "hidden": Render and Heroku.
  GitHub Actions secrets, DigitalOcean SECRET vars (`EV[...]`) and Vercel `sensitive` vars
  cannot be read back, so they are never listed here (see `WRITE_ONLY_KINDS`).

Each `MissingKey` says whether the policy expects it (`expected`: the consumer is marked
`new: true`, or the target has `create: true` and its file does not exist yet); an unexpected
one is an error before a rotation.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from secretops.inventory.check import WRITE_ONLY_TARGETS
from secretops.inventory.loader import Inventory
from secretops.inventory.models import DotenvTargetSpec
from secretops.targets.dotenv import DotenvState, inspect_dotenv, resolve_path
from secretops.targets.interface import EnvRef, Target
from secretops.values import FingerprintKey

__all__ = ["READABLE_KINDS", "WRITE_ONLY_KINDS", "MissingKey", "missing_keys"]

#: Target kinds whose values cannot be read back (at least sometimes), and why.
WRITE_ONLY_KINDS: Mapping[str, str] = WRITE_ONLY_TARGETS

#: Platform target kinds whose reads tell an unset variable apart (asked only when built targets are given).
READABLE_KINDS = frozenset({"render", "heroku"})

Reason = Literal["missing-key", "missing-file", "missing-directory", "not-a-file", "unreadable"]


@dataclass(frozen=True, slots=True)
class MissingKey:
    """One consumer whose env var its target does not hold (names only, never a value)."""

    secret: str
    consumer: int  # index in the secret's `consumers`
    target: str
    env: str
    where: str  # `dotenv:/srv/app/.env`, `render:srv-...`
    reason: Reason
    expected: bool  # marked `new: true`, or `create: true` and the file is not there yet
    detail: str = ""
    suggestion: str | None = None  # the nearest existing key (or file) name

    def __str__(self) -> str:
        what = {
            "missing-key": f"{self.env} is not set on {self.where}",
            "missing-file": f"{self.where} does not exist",
            "missing-directory": f"{self.where}: {self.detail}",
            "not-a-file": f"{self.where} is not a file",
            "unreadable": f"{self.where}: {self.detail}",
        }[self.reason]
        guess = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        note = " (expected: the first rotation adds it)" if self.expected else ""
        return f"{self.secret} consumer {self.consumer} ({self.env} on target {self.target}): {what}{guess}{note}"


def _nearest(word: str, choices: frozenset[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def missing_keys(
    inventory: Inventory,
    *,
    base_dir: Path | None = None,
    targets: Mapping[str, Target] | None = None,
) -> list[MissingKey]:
    """Every consumer whose env var is not (yet) on its target, in policy order.

    `base_dir` resolves relative `.env` paths as the rotation does (default: the working
    directory). `targets` (built targets by name) lets Render and Heroku targets be asked too;
    their errors (`TargetError`) propagate. Write-only targets are never listed.
    """
    states: dict[str, DotenvState] = {}
    probe_key = FingerprintKey(os.urandom(32))  # only "is it set" is asked; nothing is kept
    out: list[MissingKey] = []
    for secret in inventory.secrets.values():
        for ci, consumer in enumerate(secret.consumers):
            spec = inventory.targets.get(consumer.target)
            if spec is None:
                continue
            if isinstance(spec, DotenvTargetSpec):
                state = states.get(consumer.target)
                if state is None:
                    state = states[consumer.target] = inspect_dotenv(resolve_path(spec, base_dir))
                where = f"dotenv:{state.path}"
                if state.problem is not None:
                    out.append(
                        MissingKey(
                            secret.name,
                            ci,
                            consumer.target,
                            consumer.env,
                            where,
                            state.problem,
                            consumer.new or (spec.create and state.problem in ("missing-file", "missing-directory")),
                            state.detail,
                            state.suggestion,
                        )
                    )
                elif state.keys is not None and consumer.env not in state.keys:
                    out.append(
                        MissingKey(
                            secret.name,
                            ci,
                            consumer.target,
                            consumer.env,
                            where,
                            "missing-key",
                            consumer.new,
                            suggestion=_nearest(consumer.env, state.keys),
                        )
                    )
                continue
            built = None if targets is None else targets.get(consumer.target)
            if built is None or spec.kind not in READABLE_KINDS:
                continue
            if built.read_fingerprint(EnvRef(consumer.env), probe_key) is None:
                out.append(
                    MissingKey(
                        secret.name, ci, consumer.target, consumer.env, built.describe(), "missing-key", consumer.new
                    )
                )
    return out
