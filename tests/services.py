"""Session fixtures for real servers (PostgreSQL, MariaDB, Redis, moto, OpenBao).

Each fixture skips with a clear reason when its service is absent, or fails under
`SECRETOPS_REQUIRE_SERVICES=1` (see `tests/helpers.py`).
"""
