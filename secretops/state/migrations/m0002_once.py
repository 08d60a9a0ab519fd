"""Schema 2: `secretops_once`, keys claimed once across every runner sharing the state.

`secretops serve` replicas claim each GitHub webhook delivery id here, so a redelivered event
is ignored by whichever replica it reaches, not only by the one that handled it first. Keys are
ids (GUIDs), never values.
"""

from __future__ import annotations

SQL = """
CREATE TABLE secretops_once (
    kind        text NOT NULL,
    key         text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    runner      text NOT NULL,
    PRIMARY KEY (kind, key)
);
"""
