"""Git history speed benchmark: a synthetic ~18,000-commit repository and the timing script."""
