"""Fixtures for liveness tests: the fake internet, a verify context that records its sleeps."""

from __future__ import annotations

import secrets
import string
import zlib
from collections.abc import Iterator

import httpx
import pytest

from secretops.liveness.interface import VerifyContext
from tests.fakes.providers import FakeInternet

_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def random_text(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A random string no filter takes for a placeholder."""
    while True:
        v = "".join(secrets.choice(alphabet) for _ in range(n))
        if not any(w in v.lower() for w in ("test", "fake", "mock", "dummy", "xxxx", "example", "sample")):
            return v


def crc_token(prefix: str) -> str:
    """A `ghp_`/`npm_`-style token with a valid base62 CRC32 checksum."""
    body = random_text(30)
    num, out = zlib.crc32(body.encode()), ""
    while num:
        num, rem = divmod(num, 62)
        out = _B62[rem] + out
    return prefix + body + out.rjust(6, "0")


class Sleeps(list[float]):
    """The delays a verifier asked for (no real sleeping in tests)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def internet() -> FakeInternet:
    return FakeInternet()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(internet: FakeInternet) -> Iterator[httpx.Client]:
    with internet.client() as c:
        yield c


@pytest.fixture
def ctx(client: httpx.Client, sleeps: Sleeps) -> VerifyContext:
    return VerifyContext(client=client, timeout=2.0, max_retries=2, max_retry_after=5.0, sleep=sleeps)
