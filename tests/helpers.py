"""Shared test helpers: service availability that turns into a failure under CI."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

REQUIRE_SERVICES = os.environ.get("SECRETOPS_REQUIRE_SERVICES") == "1"

#: A rule file of the tests' own (`--rules`), so scan tests do not depend on the built-in rules.
ACME_RULE = """
[[rules]]
id = "acme-api-key"
description = "Acme API key (acme_ prefix)"
provider = "acme"
kind = "api-key"
severity = "high"
keywords = ["acme_"]
regex = '''\\b(acme_[A-Za-z0-9]{20})\\b'''
secret_group = 1
examples = ["key = acme_Q7vT2mLp9XcR4nBz8WkY"]
"""
#: A value `ACME_RULE` finds (fake).
ACME_KEY = "acme_Q7vT2mLp9XcR4nBz8WkY"


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
