"""Shared test helpers: service availability that turns into a failure under CI."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

REQUIRE_SERVICES = os.environ.get("SECRETOPS_REQUIRE_SERVICES") == "1"


def service_unavailable(reason: str) -> NoReturn:
    """Skip with `reason`, or fail when `SECRETOPS_REQUIRE_SERVICES=1` (set by `.ci/run`)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
