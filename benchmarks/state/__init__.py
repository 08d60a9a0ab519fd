"""State benchmarks (issue 14): `rotate --due` at scale on PostgreSQL vs file state, and exactly once."""
