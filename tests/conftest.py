"""Root fixtures: a clean environment for every test, and the service plugins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("tests.services", "tests.store.openbao")

REPO = Path(__file__).resolve().parent.parent
_CLEARED_PREFIXES = (
    "VAULT_",
    "BAO_",
    "SECRETOPS_",
    "AWS_",
    "RENDER_",
    "DIGITALOCEAN_",
    "VERCEL_",
    "HEROKU_",
    "GITHUB_TOKEN",
    "GH_TOKEN",
)
_KEPT = {"SECRETOPS_REQUIRE_SERVICES"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No Vault, platform or AWS credentials leak in from the developer's shell; keys and caches go to tmp."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) and name not in _KEPT:
            monkeypatch.delenv(name, raising=False)
    # Compiled prefilter databases go to one folder per session, not the developer's ~/.cache.
    monkeypatch.setenv("SECRETOPS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "prefilter-cache"))
    keydir = tmp_path_factory.mktemp("fpkey")
    monkeypatch.setenv("SECRETOPS_FINGERPRINT_KEY", "ab" * 32)
    monkeypatch.setenv("SECRETOPS_FINGERPRINT_KEY_FILE", str(keydir / "fingerprint.key"))
    yield


@pytest.fixture
def repo_root() -> Path:
    """The repository root (for shipped fixtures such as docs/examples/guides)."""
    return REPO
