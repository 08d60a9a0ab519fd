"""Revoking leaked values that no inventory secret holds (see `interface` and `providers`)."""
