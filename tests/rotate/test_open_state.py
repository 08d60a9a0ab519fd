"""`open_state`: SECRETOPS_STATE picks the backend; errors name the setting, never the password."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from secretops.errors import ConfigError, ExitCode
from secretops.extras import MissingExtraError
from secretops.settings import Settings
from secretops.state import mask_url, open_state
from secretops.state.files import FileState

PASSWORD = "Tr0ub4dor-and-3"


@pytest.mark.parametrize("value", [None, "", "files", " files "])
def test_unset_or_files_is_the_file_state_under_state_dir(tmp_path: Path, value: str | None) -> None:
    env = {"SECRETOPS_STATE_DIR": str(tmp_path / "st")}
    if value is not None:
        env["SECRETOPS_STATE"] = value
    state = open_state(Settings.from_env(env))
    assert isinstance(state, FileState) and state.state_dir == tmp_path / "st"
    assert state.name == "files" and str(tmp_path / "st") in state.describe()


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://admin:{PASSWORD}@db.internal/state",
        f"redis://:{PASSWORD}@127.0.0.1:6379/0",
        f"sqlite:///tmp/state.db?password={PASSWORD}",
        PASSWORD,  # a password pasted into the wrong variable
    ],
)
def test_unknown_backend_is_a_usage_error_with_the_password_masked(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_state(Settings.from_env({"SECRETOPS_STATE": url}))
    err = info.value
    assert err.exit_code is ExitCode.USAGE
    assert "SECRETOPS_STATE" in err.message
    assert PASSWORD not in err.message and PASSWORD not in (err.hint or "") and PASSWORD not in str(err)


def test_settings_never_show_the_state_url() -> None:
    settings = Settings.from_env({"SECRETOPS_STATE": f"postgresql://secretops:{PASSWORD}@db/state"})
    assert settings.state is not None and settings.state.reveal().endswith("@db/state")
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert PASSWORD not in repr(Settings(state=f"postgresql://u:{PASSWORD}@h/d"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://bob:{PASSWORD}@db.example:5432/state", "postgresql://bob:***@db.example:5432/state"),
        (
            f"postgres://db/state?sslmode=require&password={PASSWORD}",
            "postgres://db/state?sslmode=require&password=***",
        ),
        ("postgresql://db.example/state", "postgresql://db.example/state"),
        ("postgresql://[::1]:5433/state", "postgresql://[::1]:5433/state"),
        (f"postgresql://bob:{PASSWORD}@db:notaport/x", "***"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def _without(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> ModuleType:
        if name == "secretops.state.postgres":
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)


def test_postgres_without_the_driver_names_the_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "psycopg")
    with pytest.raises(MissingExtraError) as info:
        open_state(Settings.from_env({"SECRETOPS_STATE": f"postgresql://u:{PASSWORD}@127.0.0.1/state"}))
    assert info.value.extra == "postgres" and "[postgres]" in info.value.message
    assert PASSWORD not in info.value.message and "u:***@127.0.0.1" in info.value.message


def test_postgres_backend_missing_from_this_build_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "secretops.state.postgres")
    with pytest.raises(ConfigError, match="no PostgreSQL state backend") as info:
        open_state(Settings.from_env({"SECRETOPS_STATE": f"postgres://u:{PASSWORD}@h/state"}))
    assert PASSWORD not in str(info.value)


def test_postgres_url_builds_postgres_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL and clock reach `PostgresState` as given (no connection is made here)."""
    pytest.importorskip("psycopg", reason="the [postgres] extra is not installed")
    from secretops.state import postgres

    seen: dict[str, object] = {}

    class Fake:
        name = "postgresql"

        def __init__(self, url: str, **kw: object) -> None:
            seen.update(url=url, **kw)

    monkeypatch.setattr(postgres, "PostgresState", Fake)
    clock = object()
    got = open_state(
        Settings.from_env({"SECRETOPS_STATE": "postgresql://u:pw@127.0.0.1/state"}),
        clock=clock,  # type: ignore[arg-type]
    )
    assert isinstance(got, Fake)
    assert seen == {"url": "postgresql://u:pw@127.0.0.1/state", "clock": clock}


def test_state_lease_reaches_postgres_state_and_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    seen = _fake_postgres(monkeypatch)
    env = {"SECRETOPS_STATE": "postgresql://u:pw@127.0.0.1/state", "SECRETOPS_STATE_LEASE": "2m"}
    open_state(Settings.from_env(env))
    assert seen["lease"] == timedelta(minutes=2)
    for bad in ("30", "1s", "2d", "soon"):
        with pytest.raises(ConfigError, match="SECRETOPS_STATE_LEASE"):
            Settings.from_env({**env, "SECRETOPS_STATE_LEASE": bad})


def _fake_postgres(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    pytest.importorskip("psycopg", reason="the [postgres] extra is not installed")
    from secretops.state import postgres

    seen: dict[str, object] = {}

    class Fake:
        name = "postgresql"

        def __init__(self, url: str, **kw: object) -> None:
            seen.update(url=url, **kw)

    monkeypatch.setattr(postgres, "PostgresState", Fake)
    return seen


def _policies(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


def test_state_declared_in_a_policy_is_used_when_secretops_state_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    seen = _fake_postgres(monkeypatch)
    folder = _policies(tmp_path, team="version: 1\nstate:\n  url_env: TEAM_STATE_URL\n  lease: 45s\n")
    monkeypatch.setenv("TEAM_STATE_URL", "postgresql://rotator:pw@db.internal/state")
    open_state(Settings.from_env({"SECRETOPS_POLICIES": str(folder)}))
    assert seen == {"url": "postgresql://rotator:pw@db.internal/state", "clock": None, "lease": timedelta(seconds=45)}
    # SECRETOPS_STATE wins over the policy, SECRETOPS_STATE_LEASE over its lease
    seen.clear()
    env = {
        "SECRETOPS_POLICIES": str(folder),
        "SECRETOPS_STATE": "postgresql://other@h/s",
        "SECRETOPS_STATE_LEASE": "1m",
    }
    open_state(Settings.from_env(env))
    assert seen["url"] == "postgresql://other@h/s" and seen["lease"] == timedelta(minutes=1)
    # `state: files` and no state at all are the file state
    for text in ("version: 1\nstate: files\n", "version: 1\napp: shop\nsecrets: []\n"):
        (folder / "team.yaml").write_text(text)
        got = open_state(Settings.from_env({"SECRETOPS_POLICIES": str(folder), "SECRETOPS_STATE_DIR": str(tmp_path)}))
        assert got.name == "files"


def test_a_policy_state_names_its_file_line_and_field_when_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretops.errors import ConfigError
    from secretops.inventory.loader import PolicyProblems, collect

    _fake_postgres(monkeypatch)
    folder = _policies(tmp_path, team="version: 1\nstate:\n  url_env: TEAM_STATE_URL\n")
    monkeypatch.delenv("TEAM_STATE_URL", raising=False)
    with pytest.raises(ConfigError, match=r"team\.yaml:2: state\.url_env names TEAM_STATE_URL, which is not set"):
        open_state(Settings.from_env({"SECRETOPS_POLICIES": str(folder)}))

    (folder / "team.yaml").write_text("version: 1\nstate:\n  url: postgresql://rotator:Hunter2pw@db/state\n")
    with pytest.raises(PolicyProblems) as info:
        open_state(Settings.from_env({"SECRETOPS_POLICIES": str(folder)}))
    (problem,) = info.value.problems
    assert problem.file.name == "team.yaml" and problem.line == 3 and problem.field == "state.url"
    assert "password" in problem.message and "Hunter2pw" not in str(info.value)
    _, problems = collect(folder)  # `policy check` says the same
    assert any(p.line == 3 and "password" in p.message for p in problems)
    assert all("Hunter2pw" not in p.message for p in problems)

    (folder / "team.yaml").write_text("version: 1\nstate:\n  url_env: A_URL\n")
    (folder / "other.yaml").write_text("version: 1\nstate:\n  url_env: B_URL\n")
    with pytest.raises(PolicyProblems) as info:
        open_state(Settings.from_env({"SECRETOPS_POLICIES": str(folder)}))
    assert [p.code for p in info.value.problems] == ["conflicting-state"]
    _, problems = collect(folder)
    assert [p.code for p in problems] == ["conflicting-state"]
