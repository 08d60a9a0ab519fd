"""`secretops state migrate` and `state show` through `run()`, as a user sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from secretops.cli.app import run
from secretops.state.interface import new_run_id
from secretops.state.migrations import LATEST
from secretops.state.postgres import PostgresState
from tests.state.conftest import PgSchema


def _with_password(url: str, password: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{quote(password, safe='')}@")


@pytest.mark.postgres
def test_migrate_then_show_on_postgres(
    pg_schema: PgSchema, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tag: str
) -> None:
    # The shared server trusts local connections, so any password works; it must never be shown.
    password = "pw-cli-Hx4%not-real"
    monkeypatch.setenv("SECRETOPS_STATE", _with_password(pg_schema.url, password))

    assert run(["state", "show"]) == 0
    out = capsys.readouterr().out
    assert "backend  postgresql" in out and "not migrated yet" in out and "state migrate" in out
    with PostgresState(pg_schema.url) as probe:
        assert probe.schema_version() == 0  # `show` never migrates

    assert run(["state", "migrate"]) == 0
    out = capsys.readouterr().out
    assert f"schema 0 -> {LATEST}" in out and "0001_initial" in out
    assert run(["state", "migrate"]) == 0
    assert f"schema {LATEST}, up to date" in capsys.readouterr().out

    secret = f"shop/db-{tag}"
    with PostgresState(pg_schema.url, lease=timedelta(seconds=5)) as state, state.exclusive(secret):
        run_id = new_run_id(datetime.now(UTC))
        state.start_run(run_id, secret).append("run", "started")
        assert run(["state", "show"]) == 0
        captured = capsys.readouterr()
    out = captured.out
    assert "runs     1" in out and "leases   1 held" in out
    assert secret in out and run_id in out and "expires in" in out
    assert "postgres:***@127.0.0.1:5432" in out
    assert password not in out + captured.err


@pytest.mark.postgres
def test_a_newer_schema_exits_2_and_says_to_upgrade(
    pg_schema: PgSchema, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with PostgresState(pg_schema.url) as state:
        state.migrate()
    pg_schema.query("INSERT INTO secretops_schema_version (version, name) VALUES (%s, 'future')", (LATEST + 7,))
    monkeypatch.setenv("SECRETOPS_STATE", pg_schema.url)
    assert run(["state", "migrate"]) == 2
    err = capsys.readouterr().err
    assert f"schema {LATEST + 7}" in err and "upgrade secretops" in err


def test_a_malformed_url_exits_2_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.setenv("SECRETOPS_STATE", "postgresql://u:pw-bad%zz-Qz2@127.0.0.1:5432/db?nonsense=1")
    assert run(["state", "migrate"]) == 2
    err = capsys.readouterr().err
    assert "not a valid PostgreSQL connection string" in err and "pw-bad" not in err


def test_an_unreachable_database_exits_4(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    from tests.helpers import free_port

    monkeypatch.setenv("SECRETOPS_STATE", f"postgresql://u:pw-gone-Qz1@127.0.0.1:{free_port()}/nowhere")
    assert run(["state", "migrate"]) == 4
    err = capsys.readouterr().err
    assert "cannot reach the PostgreSQL state" in err and "pw-gone-Qz1" not in err


def test_files_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tag: str
) -> None:
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / "state"))
    assert run(["state", "migrate"]) == 0
    assert "state files" in capsys.readouterr().out
    from secretops.state.files import FileState

    state = FileState(tmp_path / "state")
    secret = f"shop/db-{tag}"
    with state.exclusive(secret):
        state.start_run(new_run_id(datetime.now(UTC)), secret).append("run", "started")
        assert run(["state", "show"]) == 0
        out = capsys.readouterr().out
    assert "backend  files" in out and "runs     1" in out and "leases   1 held" in out and secret in out


def test_help_lists_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["state", "-h"]) == 0
    out = capsys.readouterr().out
    assert "migrate" in out and "show" in out
