"""`secretops serve` configuration: flags > environment > `serve.toml` > defaults.

Every key (docs/service.md lists them with their variables):

| key (serve.toml)            | environment variable                      | default     |
| --------------------------- | ----------------------------------------- | ----------- |
| `host`                      | `SECRETOPS_SERVE_HOST`                    | `127.0.0.1` |
| `port`                      | `SECRETOPS_SERVE_PORT`                    | `8080`      |
| `interval_minutes`          | `SECRETOPS_SERVE_INTERVAL_MINUTES`        | `15`        |
| `jitter_minutes`            | `SECRETOPS_SERVE_JITTER_MINUTES`          | `2`         |
| `concurrency`               | `SECRETOPS_SERVE_CONCURRENCY`             | `1`         |
| `shutdown_timeout_seconds`  | `SECRETOPS_SERVE_SHUTDOWN_TIMEOUT`        | `900`       |
| `max_body_bytes`            | `SECRETOPS_SERVE_MAX_BODY_BYTES`          | `1048576`   |
| `replay_cache_size`         | `SECRETOPS_SERVE_REPLAY_CACHE_SIZE`       | `10000`     |
| `policies`                  | `SECRETOPS_POLICIES`                      | `policies`  |
| `github_webhook_secret_file`| `SECRETOPS_GITHUB_WEBHOOK_SECRET` / `..._FILE` | none (hook off) |
| `findings_token_file`       | `SECRETOPS_FINDINGS_TOKEN` / `..._FILE`   | none (hook off) |
| `github_token_file`         | `SECRETOPS_SERVE_GITHUB_TOKEN` / `..._FILE` | none      |

Secrets (the webhook secret, the findings bearer token, the GitHub API token) come from the
environment or from files, never inline in `serve.toml` (a config file ends up in a repository):
the file keys name a file holding the value. They are `SecretValue`s from the moment they are
read, so a printed config shows `***`.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from secretops.errors import ConfigError
from secretops.values import SecretValue

__all__ = ["SECRET_KEYS", "ServeConfig", "load_config"]

log = logging.getLogger(__name__)

#: (config key, environment variable for the value, for a file) of each secret.
SECRET_KEYS: dict[str, tuple[str, str]] = {
    "github_webhook_secret": ("SECRETOPS_GITHUB_WEBHOOK_SECRET", "SECRETOPS_GITHUB_WEBHOOK_SECRET_FILE"),
    "findings_token": ("SECRETOPS_FINDINGS_TOKEN", "SECRETOPS_FINDINGS_TOKEN_FILE"),
    "github_token": ("SECRETOPS_SERVE_GITHUB_TOKEN", "SECRETOPS_SERVE_GITHUB_TOKEN_FILE"),
}

_ENV: dict[str, str] = {
    "host": "SECRETOPS_SERVE_HOST",
    "port": "SECRETOPS_SERVE_PORT",
    "interval_minutes": "SECRETOPS_SERVE_INTERVAL_MINUTES",
    "jitter_minutes": "SECRETOPS_SERVE_JITTER_MINUTES",
    "concurrency": "SECRETOPS_SERVE_CONCURRENCY",
    "shutdown_timeout_seconds": "SECRETOPS_SERVE_SHUTDOWN_TIMEOUT",
    "max_body_bytes": "SECRETOPS_SERVE_MAX_BODY_BYTES",
    "replay_cache_size": "SECRETOPS_SERVE_REPLAY_CACHE_SIZE",
    "policies": "SECRETOPS_POLICIES",
}


class ServeConfig(BaseModel):
    """Everything `secretops serve` reads at start (see the module docstring for the keys)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    interval_minutes: float = Field(default=15.0, gt=0, le=7 * 24 * 60)
    jitter_minutes: float = Field(default=2.0, ge=0, le=24 * 60)
    concurrency: int = Field(default=1, ge=1, le=64)
    shutdown_timeout_seconds: float = Field(default=900.0, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    replay_cache_size: int = Field(default=10_000, ge=100, le=1_000_000)
    policies: Path | None = None
    github_webhook_secret: SecretValue | None = None
    findings_token: SecretValue | None = None
    github_token: SecretValue | None = None

    def describe(self) -> str:
        """One log line: where it listens and what is on (no secret, only whether each is set)."""
        hooks = [
            name
            for name, on in (("github", self.github_webhook_secret), ("findings", self.findings_token))
            if on is not None
        ]
        return (
            f"listening on {self.host}:{self.port}; due rotation every {self.interval_minutes:g} min "
            f"(+ up to {self.jitter_minutes:g} min jitter), concurrency {self.concurrency}; "
            f"webhooks: {', '.join(hooks) or 'none'}; GitHub API token: {'set' if self.github_token else 'not set'}"
        )


def _read_secret_file(path: Path, key: str) -> SecretValue:
    """The value in `path` (one line; surrounding whitespace dropped), warning when others can read it."""
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"serve: {key} file {path} cannot be read ({exc.strerror or type(exc).__name__})",
            hint="give a readable file (mode 0600) holding only the value",
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("serve: %s file %s is readable by others (chmod 600 it)", key, path)
    value = text.strip()
    if not value:
        raise ConfigError(f"serve: {key} file {path} is empty")
    return SecretValue(value)


def _from_file(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"serve: --config {path}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"serve: --config {path}: not a TOML file ({type(exc).__name__})") from None
    section = raw.get("serve", raw)  # `[serve]` table, or top-level keys
    if not isinstance(section, dict):
        raise ConfigError(f"serve: --config {path}: [serve] must be a table")
    values: dict[str, Any] = {}
    base = path.parent
    for key, value in section.items():
        if key in SECRET_KEYS:
            raise ConfigError(
                f"serve: --config {path}: {key} must not be written in the file",
                hint=f"put it in a 0600 file and set {key}_file, or use {SECRET_KEYS[key][0]}",
            )
        if key.endswith("_file") and key[: -len("_file")] in SECRET_KEYS:
            secret = key[: -len("_file")]
            values[secret] = _read_secret_file(base / str(value), secret)
        elif key == "policies":
            values[key] = base / str(value)
        else:
            values[key] = value
    return values


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, var in _ENV.items():
        if env.get(var):
            values[key] = env[var]
    for key, (var, file_var) in SECRET_KEYS.items():
        if env.get(var):
            values[key] = SecretValue(env[var])
        elif env.get(file_var):
            values[key] = _read_secret_file(Path(env[file_var]), key)
    return values


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServeConfig:
    """The service's config: `overrides` (flags, None = not given) > `environ` > the file > defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = _from_file(path) if path is not None else {}
    values.update(_from_env(env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ServeConfig(**values)
    except ValidationError as exc:  # pydantic quotes the input: name the field only
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"serve: invalid configuration: {problems}", hint="see docs/service.md") from None
