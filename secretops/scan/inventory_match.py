"""Matching scan findings to inventory secrets: which stored secret did this leak expose?

The store keeps a keyed fingerprint of every version it holds (never needing the value to
compare), and a finding carries the fingerprint of the value it found, under the same
installation key. Equal fingerprints mean the same value, so `scan --inventory` can say "this is
`shop/db` version 3, the current one: run `secretops compromised shop/db`", or that the value
found was revoked long ago and no longer works.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

from secretops.scan.models import InventoryMatch
from secretops.scan.runner import ScanResult
from secretops.store.interface import Label, Store, Version

__all__ = ["annotate", "fingerprint_index"]

# When one value is stored under several secrets, the most alarming standing wins.
_RANK: Final = {"current": 0, "pending": 1, "previous": 2, "retired": 3, "revoked": 4}
# Within one secret, a value's labels win, then a recorded revocation: revoking is done to the
# value at the issuer, so an unlabelled copy of a revoked value (stores written before one
# version per rotation kept a username-less copy of each staged value) is revoked too.
_WITHIN_SECRET: Final = {"current": 0, "pending": 1, "previous": 2, "revoked": 3, "retired": 4}


def _state(version: Version) -> str:
    if version.revoked_at is not None:
        return "revoked"
    for label in (Label.CURRENT, Label.PENDING, Label.PREVIOUS):
        if label in version.labels:
            return str(label)
    return "retired"


def fingerprint_index(store: Store) -> dict[str, InventoryMatch]:
    """Every fingerprint the store holds, with the secret, version and standing it belongs to."""
    index: dict[str, InventoryMatch] = {}
    for name in store.names():
        state = store.state(name)
        if state is None:
            continue
        own: dict[str, InventoryMatch] = {}
        for version in state.versions:
            match = InventoryMatch(name, version.number, _state(version))
            known = own.get(version.fingerprint)
            if known is None or _WITHIN_SECRET[match.state] < _WITHIN_SECRET[known.state]:
                own[version.fingerprint] = match
        for fp, match in own.items():
            known = index.get(fp)
            if known is None or _RANK[match.state] < _RANK[known.state]:
                index[fp] = match
    return index


def annotate(result: ScanResult, index: Mapping[str, InventoryMatch]) -> ScanResult:
    """`result` with each finding whose value the store holds naming that inventory secret."""
    findings = [
        dataclasses.replace(f, inventory=index[f.fingerprint]) if f.fingerprint in index else f for f in result.findings
    ]
    return dataclasses.replace(result, findings=findings)
