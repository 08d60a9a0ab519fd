"""`secretops serve`: the scheduler, the webhooks and `/metrics` in one long-running process.

Builds the `Service` (`secretops.serve.app`) over `EngineOperations` with the CLI's own
`build_engine`, and runs it under uvicorn. Signals: the first SIGTERM/SIGINT stops scheduling and
lets the runs in progress finish (up to `shutdown_timeout_seconds`); a second one stops waiting,
logs what is left (resumable with `secretops resume`) and exits 1. Exit 0 after a clean stop.
docs/service.md.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from secretops.errors import ExitCode
from secretops.extras import MissingExtraError
from secretops.settings import Settings

__all__ = ["register", "serve_command"]

log = logging.getLogger("secretops.serve")


def _require_stack() -> None:
    for module in ("starlette", "uvicorn", "prometheus_client"):
        try:
            __import__(module)
        except ModuleNotFoundError as exc:
            raise MissingExtraError("secretops serve", module, "serve") from exc


def serve_command(
    config: Annotated[Path | None, typer.Option("--config", help="serve.toml (keys: docs/service.md).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8080).")] = None,
    interval: Annotated[float | None, typer.Option("--interval", help="Minutes between due runs (default 15).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, max=64, help="Rotations at once.")] = None,
    policies: Annotated[
        Path | None,
        typer.Option("--policies", help="Policy directory or file (default: policies/, or SECRETOPS_POLICIES)."),
    ] = None,
) -> int:
    """Run the rotation scheduler, the GitHub and findings webhooks, /healthz and /metrics."""
    _require_stack()
    import httpx
    import uvicorn

    from secretops.cli.rotate import build_engine
    from secretops.serve.app import Service, build_app
    from secretops.serve.config import load_config
    from secretops.serve.operations import EngineOperations

    cfg = load_config(
        config, host=host, port=port, interval_minutes=interval, concurrency=concurrency, policies=policies
    )
    settings = Settings.from_env(policies_dir=cfg.policies)
    settings.fingerprint_key()  # a broken key file is a start-up error, not a failed tick
    logging.getLogger("secretops").setLevel(min(logging.getLogger("secretops").getEffectiveLevel(), logging.INFO))
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    github = httpx.Client(timeout=10.0, follow_redirects=False) if cfg.github_token is not None else None
    ops = EngineOperations(
        settings,
        lambda: build_engine(settings, assume_yes=False),
        concurrency=cfg.concurrency,
        github=github,
        github_token=cfg.github_token,
    )
    service = Service(cfg, ops, state_dir=settings.state_dir)
    app = build_app(service)

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit:
                service.abandon()
            service.begin_shutdown()
            super().handle_exit(sig, frame)
            # uvicorn re-raises the signal after shutting down; exit 0 or 1 by what was left instead.
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    uv_config: Any = uvicorn.Config(
        app, host=cfg.host, port=cfg.port, log_level="info", access_log=False, lifespan="on", server_header=False
    )
    server = _Server(uv_config)
    try:
        server.run()
    finally:
        clean = service.shutdown()  # idempotent: the lifespan already did it, unless uvicorn forced its exit
        if github is not None:
            github.close()
    if not clean:
        logging.shutdown()
        sys.stdout.flush()
        # Threads still in a step are not waited for (their steps are journaled; `resume` finishes them).
        os._exit(int(ExitCode.FINDINGS))
    return int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add `serve` to `app`."""
    app.command("serve")(serve_command)
