"""`secretops serve` as a process: real uvicorn, a real due rotation, real SIGTERMs.

The secret's `.env` target restarts nothing, so the engine waits out `drain` (3 s) after writing
it and before revoking: the SIGTERM lands while that rotation is in progress.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue

LOCAL_KEY = "6f" * 32
OLD = "old-django-key-for-the-process-test"
POLICY = """\
version: 1
issuers:
  app: {kind: app}
targets:
  web: {kind: dotenv, path: "%(dir)s/web.env"}
secrets:
  - name: shop/django
    kind: django-secret-key
    issuer: app
    grace: 0s
    drain: 2s
    generator: {kind: django-secret-key}
    consumers:
      - {target: web, env: SECRET_KEY}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETOPS_SERVE")}
        env.update(
            PYTHONUNBUFFERED="1",
            SECRETOPS_STATE_DIR=str(root / ".secretops"),
            SECRETOPS_POLICIES=str(root / "policies"),
            SECRETOPS_LOCAL_KEY=LOCAL_KEY,
            SECRETOPS_SERVE_JITTER_MINUTES="0",  # the first tick at once
            SECRETOPS_SERVE_INTERVAL_MINUTES="60",
            SECRETOPS_GITHUB_WEBHOOK_SECRET="whsec-process-test-000",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from secretops.cli.entry import main; main()", "serve", "--port", str(self.port)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"{text!r} never appeared:\n{self.output()}")
            time.sleep(0.05)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(POLICY % {"dir": tmp_path})
    (tmp_path / "web.env").write_text(f"SECRET_KEY={OLD}\n")
    store = LocalStore(
        tmp_path / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32))
    )
    store.put("shop/django", SecretValue(OLD), labels=frozenset({Label.CURRENT}))
    store.close()
    s = Served(tmp_path)
    yield s
    s.stop()


def _secret_key(root: Path) -> str:
    return parse_dotenv((root / "web.env").read_text())["SECRET_KEY"].value


def test_sigterm_mid_rotation_finishes_the_run_then_exits(served: Served) -> None:
    served.wait_for("rotating shop/django")
    served.wait_for("Uvicorn running")
    assert served.get("/healthz").status_code == 200
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(30) == 0, served.output()
    out = served.output()
    assert "shutting down: no new rotation or incident starts" in out
    assert "stopped cleanly" in out and "shop/django: run r-" in out
    new = _secret_key(served.root)
    assert new != OLD
    assert new not in out and OLD not in out and "whsec-process-test" not in out
    history = subprocess.run(
        [sys.executable, "-c", "from secretops.cli.entry import main; main()", "history"],
        cwd=served.root,
        env={**os.environ, "SECRETOPS_STATE_DIR": str(served.root / ".secretops")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "shop/django" in history.stdout and "complete" in history.stdout, history.stdout + history.stderr


def test_second_sigterm_stops_waiting_and_names_the_resumable_run(served: Served) -> None:
    served.wait_for("rotating shop/django")
    served.wait_for("Uvicorn running")
    served.proc.send_signal(signal.SIGTERM)
    served.wait_for("waiting up to")
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(30) == 1, served.output()
    out = served.output()
    assert "second signal" in out
    assert "left running: the due run" in out
    assert "resumable with `secretops resume`" in out and "shop/django" in out
