"""`serve` configuration: flags > environment > serve.toml > defaults; secrets only from env or files."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.errors import ConfigError
from secretops.serve.config import ServeConfig, load_config


def test_defaults_bind_localhost_with_hooks_off() -> None:
    cfg = load_config(environ={})
    assert (cfg.host, cfg.port, cfg.interval_minutes, cfg.concurrency) == ("127.0.0.1", 8080, 15.0, 1)
    assert cfg.github_webhook_secret is None and cfg.findings_token is None and cfg.github_token is None


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    (tmp_path / "hook.secret").write_text("whsec-from-file\n")
    (tmp_path / "hook.secret").chmod(0o600)
    (tmp_path / "serve.toml").write_text(
        '[serve]\nhost = "10.0.0.5"\nport = 9000\ninterval_minutes = 30\nconcurrency = 2\n'
        'policies = "policies"\ngithub_webhook_secret_file = "hook.secret"\n'
    )
    env = {"SECRETOPS_SERVE_PORT": "9100", "SECRETOPS_FINDINGS_TOKEN": "tok-from-env"}
    cfg = load_config(tmp_path / "serve.toml", env, concurrency=4)
    assert (cfg.host, cfg.port, cfg.interval_minutes, cfg.concurrency) == ("10.0.0.5", 9100, 30.0, 4)
    assert cfg.policies == tmp_path / "policies"
    assert cfg.github_webhook_secret is not None and cfg.github_webhook_secret.reveal() == "whsec-from-file"
    assert cfg.findings_token is not None and cfg.findings_token.reveal() == "tok-from-env"
    assert "whsec-from-file" not in repr(cfg) and "tok-from-env" not in repr(cfg) + cfg.describe()


def test_env_file_variables(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("tok-in-a-file")
    (tmp_path / "t").chmod(0o600)
    cfg = load_config(environ={"SECRETOPS_SERVE_GITHUB_TOKEN_FILE": str(tmp_path / "t")})
    assert cfg.github_token is not None and cfg.github_token.reveal() == "tok-in-a-file"


def test_a_secret_written_in_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "serve.toml").write_text('findings_token = "tok-inline-value"\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "serve.toml", {})
    assert "findings_token_file" in (err.value.hint or "") and "tok-inline-value" not in str(err.value)


def test_world_readable_secret_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "t").write_text("tok-readable")
    (tmp_path / "t").chmod(0o644)
    load_config(environ={"SECRETOPS_FINDINGS_TOKEN_FILE": str(tmp_path / "t")})
    assert "readable by others" in caplog.text and "tok-readable" not in caplog.text


@pytest.mark.parametrize(
    ("env", "field"),
    [({"SECRETOPS_SERVE_PORT": "http"}, "port"), ({"SECRETOPS_SERVE_CONCURRENCY": "0"}, "concurrency")],
)
def test_bad_values_name_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ=env)
    assert field in err.value.message


def test_unknown_key_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "serve.toml").write_text("intervall = 3\n")
    with pytest.raises(ConfigError, match="intervall"):
        load_config(tmp_path / "serve.toml", {})
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", {})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(environ={"SECRETOPS_GITHUB_WEBHOOK_SECRET_FILE": str(tmp_path / "missing")})


def test_config_is_frozen() -> None:
    cfg = ServeConfig()
    with pytest.raises(ValueError):
        cfg.port = 1  # type: ignore[misc]


def test_every_key_and_variable_is_in_docs_service_md(repo_root: Path) -> None:
    from secretops.serve.config import _ENV, SECRET_KEYS

    text = (repo_root / "docs" / "service.md").read_text()
    for key in ServeConfig.model_fields:
        documented = f"`{key}_file`" if key in SECRET_KEYS else f"`{key}`"
        assert documented in text, key
    for var in [*_ENV.values(), *(v for pair in SECRET_KEYS.values() for v in pair)]:
        assert f"`{var}`" in text, var


def test_serve_without_its_extra_names_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from secretops.cli.app import run

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the serve extra were not installed
    assert run(["serve"]) == 2
    err = capsys.readouterr().err
    assert "[serve] extra" in err and "Traceback" not in err
