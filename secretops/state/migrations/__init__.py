"""The PostgreSQL state's schema, as numbered migrations applied in order (`PostgresState.migrate`).

Each migration is one module `mNNNN_<what>.py` holding `SQL`, run in one transaction with its
row in `secretops_schema_version`. A migration is never edited once released: change the
schema with a new one. `LATEST` is the newest version this secretops knows; a database at a
higher version was migrated by a newer secretops, and this one refuses to touch it.

SQL lives in Python modules rather than `.sql` files so that it ships with the package whatever
the build's package-data rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from secretops.state.migrations import m0001_initial, m0002_once

__all__ = ["LATEST", "MIGRATIONS", "Migration"]


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: `version` (1, 2, ...), a short `name`, and the `sql` that applies it."""

    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        """`0001_initial`: how reports and `state migrate` name it."""
        return f"{self.version:04d}_{self.name}"


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", m0001_initial.SQL),
    Migration(2, "once", m0002_once.SQL),
)

LATEST: int = MIGRATIONS[-1].version

assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1)), "migrations must be numbered 1, 2, ..."
