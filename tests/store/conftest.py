"""Store fixtures: a factory of stores under test (`LocalStore`, and `VaultStore` on OpenBao).

The OpenBao dev server itself (`bao_server`, `start_bao`) lives in `tests/store/openbao.py`, a
plugin registered in `tests/conftest.py` so that CLI and engine tests can use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from secretops.store import LocalStore, Store, VaultStore
from secretops.values import FingerprintKey
from tests.store.openbao import BaoServer, start_bao

__all__ = ["FP_KEY", "LOCAL_KEY", "BaoServer", "start_bao"]

LOCAL_KEY = bytes(range(32))
FP_KEY = FingerprintKey(b"\x07" * 32)


@pytest.fixture(params=["local", pytest.param("vault", marks=pytest.mark.vault)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of store instances sharing one backend: call it twice for two racing clients."""
    made: list[Store] = []
    if request.param == "local":

        def make() -> Store:
            store = LocalStore(tmp_path / ".secretops", key=LOCAL_KEY, fingerprint_key=FP_KEY)
            made.append(store)
            return store

    else:
        server: BaoServer = request.getfixturevalue("bao_server")
        settings = server.settings()

        def make() -> Store:
            store = VaultStore(settings, fingerprint_key=FP_KEY)
            made.append(store)
            return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Store:
    """One store under test (LocalStore and VaultStore in turn)."""
    return store_factory()
