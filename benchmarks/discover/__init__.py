"""Coverage of `secretops discover` drafts against the hand-written example policies."""
