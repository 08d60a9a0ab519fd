"""The secret store: the source of truth for values and their rotation state."""
