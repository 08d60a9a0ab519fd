"""Shared by the CI-integration tests: an offline wheelhouse of the base install."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import service_unavailable
from tests.install.closure import base_closure, repack


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of this environment's base distributions, plus virtualenv's bundled setuptools (to
    build secretops): `pip install --no-index --find-links` installs the base install offline."""
    wheels = tmp_path_factory.mktemp("wheels")
    for dist in base_closure().values():
        repack(dist, wheels)
    try:
        import virtualenv
    except ImportError:
        service_unavailable("virtualenv is not installed (pre-commit brings it)")
    embedded = sorted((Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed").glob("setuptools-*.whl"))
    if not embedded:
        service_unavailable("virtualenv bundles no setuptools wheel (needed to build secretops offline)")
    shutil.copy2(embedded[-1], wheels)
    return wheels

