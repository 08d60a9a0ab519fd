"""DotenvTarget: in-place edits keeping comments, order, quoting; mode; restart command."""

from __future__ import annotations

import stat
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from secretops.errors import TargetError
from secretops.inventory.models import DotenvTargetSpec, RenderTargetSpec
from secretops.targets import build_target
from secretops.targets.dotenv import DotenvTarget, parse_dotenv
from secretops.targets.interface import DeployState, EnvRef
from secretops.values import FingerprintKey, SecretValue, fingerprint

KEY = FingerprintKey(b"k" * 32)

ORIGINAL = """\
# database settings
DATABASE_URL=postgresql://app:old@db/app
export REDIS_URL="redis://u:old@cache:6379/0"  # cache
SECRET_KEY='old-secret'

DEBUG=false # trailing comment
"""


def target(tmp_path: Path, text: str = ORIGINAL, **kw: object) -> DotenvTarget:
    path = tmp_path / ".env"
    path.write_text(text)
    path.chmod(0o640)
    return DotenvTarget("web", DotenvTargetSpec(kind="dotenv", path=str(path), **kw))  # type: ignore[arg-type]


def test_parse_styles() -> None:
    lines = parse_dotenv(ORIGINAL)
    assert lines["DATABASE_URL"].value == "postgresql://app:old@db/app"
    assert lines["DATABASE_URL"].style == "plain"
    assert lines["REDIS_URL"].value == "redis://u:old@cache:6379/0"
    assert lines["REDIS_URL"].style == "double"
    assert lines["SECRET_KEY"].value == "old-secret" and lines["SECRET_KEY"].style == "single"
    assert lines["DEBUG"].value == "false"


def test_set_keeps_everything_else(tmp_path: Path) -> None:
    t = target(tmp_path)
    t.set_env(EnvRef("REDIS_URL"), SecretValue("redis://u:new@cache:6379/0"))
    t.set_env(EnvRef("DATABASE_URL"), SecretValue("postgresql://app:n3w@db/app"))
    t.set_env(EnvRef("SECRET_KEY"), SecretValue("new-secret"))
    assert t.path.read_text() == (
        "# database settings\n"
        "DATABASE_URL=postgresql://app:n3w@db/app\n"
        'export REDIS_URL="redis://u:new@cache:6379/0"  # cache\n'
        "SECRET_KEY='new-secret'\n"
        "\n"
        "DEBUG=false # trailing comment\n"
    )
    assert stat.S_IMODE(t.path.stat().st_mode) == 0o640


def test_set_appends_missing_key_and_is_idempotent(tmp_path: Path) -> None:
    t = target(tmp_path)
    t.set_env(EnvRef("API_TOKEN"), SecretValue("tok_abc"))
    text = t.path.read_text()
    assert text.endswith("DEBUG=false # trailing comment\nAPI_TOKEN=tok_abc\n")
    t.set_env(EnvRef("API_TOKEN"), SecretValue("tok_abc"))
    assert t.path.read_text() == text


def test_new_file_is_private(tmp_path: Path) -> None:
    t = DotenvTarget("x", DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "sub" / ".env"), create=True))
    t.set_env(EnvRef("A"), SecretValue("b"))
    assert t.path.read_text() == "A=b\n"
    assert stat.S_IMODE(t.path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "value",
    ["pa$$word", "with space", "it's", "quote\"and'single", "hash #x", "back\\slash", "$'mix\"", "multi\nline"],
)
def test_awkward_values_round_trip(tmp_path: Path, value: str) -> None:
    for line in ("K=plain", 'K="dq"', "K='sq'", "export K=x"):
        t = target(tmp_path, f"# c\n{line}\nZ=1\n")
        t.set_env(EnvRef("K"), SecretValue(value))
        assert t.read_value(EnvRef("K")) == SecretValue(value), line
        assert t.read_fingerprint(EnvRef("K"), KEY) == fingerprint(KEY, value)
        text = t.path.read_text()
        assert text.startswith("# c\n") and text.rstrip("\n").endswith("Z=1")
        if line.startswith("export"):
            assert "export K=" in text


def test_dollar_in_value_goes_single_quoted(tmp_path: Path) -> None:
    t = target(tmp_path, 'K="x"\n')
    t.set_env(EnvRef("K"), SecretValue("a$b"))
    assert t.path.read_text() == "K='a$b'\n"


def test_read_fingerprint_absent(tmp_path: Path) -> None:
    assert target(tmp_path).read_fingerprint(EnvRef("NOPE"), KEY) is None
    missing = DotenvTarget("x", DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "none.env")))
    assert missing.read_fingerprint(EnvRef("A"), KEY) is None


def test_component_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="no components"):
        target(tmp_path).set_env(EnvRef("A", component="web"), SecretValue("x"))


def test_restart_command_success_and_failure(tmp_path: Path) -> None:
    ok = target(tmp_path, restart=[sys.executable, "-c", "open('restarted','w').write('1')"])
    dep = ok.redeploy()
    assert dep.state is DeployState.LIVE
    assert (tmp_path / "restarted").read_text() == "1"  # ran in the file's directory
    assert ok.wait(dep, timedelta(seconds=1)) == dep
    bad = target(tmp_path, restart=[sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"])
    failed = bad.redeploy()
    assert failed.state is DeployState.FAILED and "exited 3" in failed.detail and "boom" in failed.detail
    assert target(tmp_path).redeploy().state is DeployState.NONE


def test_restart_timeout_and_missing(tmp_path: Path) -> None:
    slow = target(tmp_path, restart=[sys.executable, "-c", "import time; time.sleep(5)"], restart_timeout="1s")
    with pytest.raises(TargetError, match="did not finish"):
        slow.redeploy()
    with pytest.raises(TargetError, match="not found"):
        target(tmp_path, restart=["/nonexistent/secretops-restart"]).redeploy()


def test_concurrent_writers_do_not_lose_keys(tmp_path: Path) -> None:
    t = target(tmp_path, "")
    threads = [threading.Thread(target=t.set_env, args=(EnvRef(f"K{i}"), SecretValue(f"v{i}"))) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert set(parse_dotenv(t.path.read_text())) == {f"K{i}" for i in range(20)}


def test_build_target(tmp_path: Path) -> None:
    built = build_target("web", DotenvTargetSpec(kind="dotenv", path=".env"), {}, base_dir=tmp_path)
    assert isinstance(built, DotenvTarget) and built.path == tmp_path / ".env"
    with pytest.raises(TargetError, match="environment variable RENDER_API_KEY is not set"):
        build_target("r", RenderTargetSpec(kind="render", service_id="srv-1"), {})


def test_missing_file_is_refused_with_the_nearest_name(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("DATABASE_URL=x\n")
    t = DotenvTarget("web", DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "apps.env")))
    with pytest.raises(TargetError) as info:
        t.set_env(EnvRef("DATABASE_URL"), SecretValue("y"))
    assert info.value.message == (
        f"dotenv:{tmp_path / 'apps.env'}: {tmp_path / 'apps.env'} does not exist (did you mean app.env?); "
        "refusing to create it"
    )
    assert info.value.hint == (
        "fix `path` of target 'web' in the policy (did you mean app.env?), "
        "or set `create: true` on the target if secretops should create the file"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.env"]


def test_missing_directory_is_refused_and_not_created(tmp_path: Path) -> None:
    t = DotenvTarget("web", DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "srv" / "app" / ".env")))
    with pytest.raises(TargetError) as info:
        t.set_env(EnvRef("A"), SecretValue("b"))
    assert info.value.message == (
        f"dotenv:{tmp_path / 'srv' / 'app' / '.env'}: directory {tmp_path / 'srv' / 'app'} does not exist "
        f"(the nearest existing one is {tmp_path}); refusing to create it"
    )
    assert not (tmp_path / "srv").exists()


def test_relative_missing_path_says_how_it_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    t = build_target("web", DotenvTargetSpec(kind="dotenv", path="apps.env"), {})
    assert isinstance(t, DotenvTarget) and t.path == tmp_path / "apps.env"
    with pytest.raises(TargetError, match="a relative path resolves against the working directory"):
        t.set_env(EnvRef("A"), SecretValue("b"))


def test_a_directory_is_not_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / "x.env").mkdir()
    t = DotenvTarget("web", DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "x.env"), create=False))
    with pytest.raises(TargetError, match=r"is a directory, not a \.env file"):
        t.set_env(EnvRef("A"), SecretValue("b"))


def test_read_of_a_missing_file_is_none_and_creates_nothing(tmp_path: Path) -> None:
    t = DotenvTarget("web", DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "d" / ".env")))
    assert t.read_value(EnvRef("A")) is None
    assert not (tmp_path / "d").exists()
