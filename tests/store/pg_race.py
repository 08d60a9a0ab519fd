"""The child side of `test_processes_racing_promote_exactly_one_wins` (a small module: spawned
processes import only this and the store, not the whole test module)."""

from __future__ import annotations

from typing import Any

from secretops.store.interface import StoreConflictError
from secretops.store.postgres import PostgresStore
from secretops.values import FingerprintKey


def race_promote(
    url: str, key: bytes, fp_key: bytes, rounds: list[tuple[int, int]], i: int, barrier: Any, results: Any
) -> None:
    """In each round, promote `race-<round>`'s pending version at the same moment as the others."""
    store = PostgresStore(url, key=key, fingerprint_key=FingerprintKey(fp_key))
    try:
        for r, (number, expected) in enumerate(rounds):
            barrier.wait(timeout=60)
            try:
                store.promote(f"race-{r}", number, expected_current=expected, run_id=f"proc-{i}")
                results.put((r, i, "won"))
            except StoreConflictError:
                results.put((r, i, "conflict"))
    finally:
        store.close()
