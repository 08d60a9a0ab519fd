"""Checks a rotation runs before it changes anything: every consumer's key is where the policy says.

A consumer whose env var its target does not hold yet is nearly always a typo (`DATABSE_URL`):
the rotation would add the new value under the misspelt name while the app keeps reading the
old variable, whose value is then revoked. So `rotate` refuses before any change, naming the
consumer, the target and the key, with the nearest existing key name, unless the consumer says
`new: true` (the first rotation adds it).

Only targets that can tell "unset" from "hidden" are asked: `.env` files (read from disk, keys
only) and targets with a `list_keys()` (Render) or whose read of an unset var is None for sure
(Heroku). A `.env` file that does not exist is the target's own error (`create: true` or a
wrong `path`); with `create: true` every key of a file still to be made is new. GitHub Actions
secrets can never be read back, so a consumer there without a health check or
`verify: accept-unverified` is refused here too, before the change instead of at the revoke.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping

from secretops.errors import PolicyError, TargetError
from secretops.inventory.models import ConsumerSpec, SecretSpec
from secretops.targets.dotenv import DotenvTarget, parse_dotenv
from secretops.targets.interface import EnvRef, Target
from secretops.values import FingerprintKey

__all__ = ["ALWAYS_WRITE_ONLY", "check_consumers", "held_keys"]

#: Target kinds whose reads return None exactly when the var is unset.
_READ_TELLS_UNSET = frozenset({"heroku", "render"})

#: Target kinds that never return a value.
ALWAYS_WRITE_ONLY = frozenset({"github"})


def held_keys(target: Target) -> frozenset[str] | None:
    """Every key `target` holds now, or None when it cannot list them (or a `.env` is not there yet)."""
    if isinstance(target, DotenvTarget):
        try:
            text = target.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TargetError(f"{target.describe()}: cannot read: {exc.strerror}") from exc
        return frozenset(parse_dotenv(text))
    lister: Callable[[], list[str]] | None = getattr(target, "list_keys", None)
    if callable(lister):
        return frozenset(lister())
    return None


def _missing(
    consumer: ConsumerSpec, target: Target, keys: frozenset[str] | None, probe: FingerprintKey
) -> tuple[bool, str | None]:
    """(missing, nearest existing key) for an app-level consumer."""
    if keys is not None:
        if consumer.env in keys:
            return False, None
        found = difflib.get_close_matches(consumer.env, sorted(keys), n=1, cutoff=0.6)
        return True, found[0] if found else None
    if target.kind in _READ_TELLS_UNSET:
        return target.read_fingerprint(EnvRef(consumer.env), probe) is None, None
    return False, None


def check_consumers(secret: SecretSpec, targets: Mapping[str, Target], probe: FingerprintKey) -> None:
    """Raise `PolicyError` naming every consumer whose key is missing (not `new`) or unverifiable."""
    problems: list[str] = []
    hints: list[str] = []
    listed: dict[str, frozenset[str] | None] = {}
    for consumer in secret.consumers:
        target = targets[consumer.target]
        if target.kind in ALWAYS_WRITE_ONLY and consumer.health is None and consumer.verify != "accept-unverified":
            problems.append(
                f"consumer {consumer.target}:{consumer.env}: {target.describe()} is write-only and the consumer "
                "has no health check, so nothing could show the app uses the new value"
            )
            hints.append(f"add `health` to consumer {consumer.target}:{consumer.env}, or `verify: accept-unverified`")
            continue
        if consumer.new or consumer.components:
            continue
        if consumer.target not in listed:
            listed[consumer.target] = held_keys(target)
        missing, nearest = _missing(consumer, target, listed[consumer.target], probe)
        if not missing:
            continue
        guess = f" (did you mean {nearest}?)" if nearest else ""
        problems.append(
            f"consumer {consumer.target}:{consumer.env}: {target.describe()} does not hold {consumer.env}{guess}; "
            f"the app would keep reading the variable it has while its value is revoked"
        )
        hints.append(
            "fix `env` of that consumer"
            + (f" (to {nearest})" if nearest else "")
            + ", or mark it `new: true` if the first rotation should add it"
        )
    if problems:
        raise PolicyError(
            f"{secret.name}: nothing was changed: " + "; ".join(problems),
            hint="; ".join(dict.fromkeys(hints)),
        )
