"""`store import` reads each secret's value from that secret's own consumers, not by env var name."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import TypeAdapter

from secretops.errors import ConfigError
from secretops.inventory.models import SecretSpec, TargetSpec
from secretops.store import LocalStore
from secretops.store.importer import EnvFile, Environment, ImportResult, ImportStatus, TargetFiles, import_values
from secretops.values import fingerprint
from tests.store.conftest import FP_KEY, LOCAL_KEY

REDIS = "redis://{username}:{password|url}@127.0.0.1:6379/0"
PG = "postgresql://{username}:{password|url}@db.internal:5432/%s"
# Fake credentials, one per app: the same env var names hold different values.
CREDS = {
    "app1": {"redis": ("app1_cache", "r1-fake/pw@one"), "db": ("app1_a", "d1-fake:pw#one")},
    "app2": {"redis": ("app2_cache", "r2-fake/pw@two"), "db": ("app2_a", "d2-fake:pw#two")},
}


def _secret(app: str, what: str, **extra: Any) -> SecretSpec:
    template = REDIS if what == "redis" else PG % app
    env = "REDIS_URL" if what == "redis" else "DATABASE_URL"
    consumers = [{"target": app, "env": env, "template": template}, *extra.pop("consumers", [])]
    return SecretSpec.model_validate(
        {
            "name": f"{app}/{what}",
            "kind": "redis-password" if what == "redis" else "postgres-password",
            "issuer": "iss",
            "accounts": [CREDS[app][what][0]],
            "consumers": consumers,
            **extra,
        }
    )


def _url(app: str, what: str) -> str:
    user, pw = CREDS[app][what]
    template = REDIS if what == "redis" else PG % app
    return template.replace("{username}", user).replace("{password|url}", quote(pw, safe=""))


def _targets(tmp: Path, **more: dict[str, Any]) -> dict[str, TargetSpec]:
    adapter: TypeAdapter[TargetSpec] = TypeAdapter(TargetSpec)
    specs = {app: {"kind": "dotenv", "path": str(tmp / app / ".env")} for app in CREDS}
    specs.update(more)
    return {name: adapter.validate_python(spec) for name, spec in specs.items()}


def _write_apps(tmp: Path) -> None:
    for app in CREDS:
        (tmp / app).mkdir(exist_ok=True)
        (tmp / app / ".env").write_text(
            f"# {app}\nDATABASE_URL={_url(app, 'db')}\nREDIS_URL='{_url(app, 'redis')}'\nDEBUG=0\n"
        )


SECRETS = {s.name: s for s in (_secret(app, what) for app in CREDS for what in ("redis", "db"))}


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / ".secretops", key=LOCAL_KEY, fingerprint_key=FP_KEY)


def _by(results: list[ImportResult]) -> dict[str, ImportResult]:
    return {r.secret: r for r in results}


def _assert_own_values(store: LocalStore, apps: tuple[str, ...]) -> None:
    for app in apps:
        for what in ("redis", "db"):
            user, pw = CREDS[app][what]
            got = store.get(f"{app}/{what}")
            assert got is not None, f"{app}/{what}"
            assert got.value.reveal() == pw  # the credential itself, not the rendered URL
            assert dict(got.version.attributes) == {"username": user}
            assert got.version.run_id is None  # an adoption, not a rotation


def test_bare_import_reads_each_secrets_own_target(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    results = _by(import_values(SECRETS, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY))
    assert {r.status for r in results.values()} == {ImportStatus.IMPORTED}
    assert results["app2/redis"].consumers == ("app2:REDIS_URL",)
    assert results["app1/db"].fingerprint == fingerprint(FP_KEY, CREDS["app1"]["db"][1])
    _assert_own_values(store, ("app1", "app2"))
    for r in results.values():
        for app in CREDS:
            for _user, pw in CREDS[app].values():
                assert pw not in repr(r) and quote(pw, safe="") not in repr(r)
    # again: nothing changes
    again = import_values(SECRETS, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY)
    assert {r.status for r in again} == {ImportStatus.UNCHANGED}


def test_an_env_file_applies_only_to_the_consumers_whose_target_it_is(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    targets = _targets(tmp_path)
    first = _by(import_values(SECRETS, store, EnvFile(tmp_path / "app1" / ".env", targets), fingerprint_key=FP_KEY))
    assert first["app1/redis"].status is first["app1/db"].status is ImportStatus.IMPORTED
    assert first["app2/redis"].status is ImportStatus.NOT_FOUND
    assert first["app2/redis"].unread == (("app2:REDIS_URL", f"its target is not {tmp_path / 'app1' / '.env'}"),)
    assert store.state("app2/redis") is None  # app 1's REDIS_URL is not app 2's credential
    second = _by(import_values(SECRETS, store, EnvFile(tmp_path / "app2" / ".env", targets), fingerprint_key=FP_KEY))
    assert second["app2/redis"].status is ImportStatus.IMPORTED  # not "differs"
    assert second["app1/redis"].status is ImportStatus.NOT_FOUND
    _assert_own_values(store, ("app1", "app2"))


def test_a_file_that_is_no_target_needs_the_secret_named(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    dump = tmp_path / "heroku-config.env"
    dump.write_text(f"REDIS_URL={_url('app2', 'redis')}\n")
    with pytest.raises(ConfigError) as info:
        import_values(SECRETS, store, EnvFile(dump, _targets(tmp_path)), fingerprint_key=FP_KEY)
    assert "not the file of any dotenv target" in info.value.message and "--secret" in (info.value.hint or "")
    assert store.names() == []
    source = EnvFile(dump, _targets(tmp_path), any_target=True)
    (result,) = import_values(SECRETS, store, source, fingerprint_key=FP_KEY, only="app2/redis")
    assert result.status is ImportStatus.IMPORTED and store.names() == ["app2/redis"]
    with pytest.raises(ConfigError, match="no secret named 'app3/redis'"):
        import_values(SECRETS, store, source, fingerprint_key=FP_KEY, only="app3/redis")


def test_the_environment_is_ambiguous_where_two_secrets_read_one_name(store: LocalStore) -> None:
    environ = {"REDIS_URL": _url("app1", "redis"), "DATABASE_URL": _url("app1", "db")}
    results = _by(import_values(SECRETS, store, Environment(environ), fingerprint_key=FP_KEY))
    assert {r.status for r in results.values()} == {ImportStatus.AMBIGUOUS}
    assert "also read by app2/redis" in results["app1/redis"].detail
    assert "--secret app1/redis" in results["app1/redis"].detail
    assert store.names() == []
    (one,) = import_values(SECRETS, store, Environment(environ), fingerprint_key=FP_KEY, only="app1/redis")
    assert one.status is ImportStatus.IMPORTED
    adopted = store.get("app1/redis")
    assert adopted is not None
    assert adopted.value.reveal() == CREDS["app1"]["redis"][1]


def test_consumers_on_two_targets_that_disagree_adopt_nothing(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    (tmp_path / "worker.env").write_text(f"REDIS_URL={_url('app2', 'redis').replace('app2_cache', 'app1_cache')}\n")
    worker = {"target": "worker", "env": "REDIS_URL", "template": REDIS}
    secrets = {"app1/redis": _secret("app1", "redis", consumers=[worker])}
    targets = _targets(tmp_path, worker={"kind": "dotenv", "path": str(tmp_path / "worker.env")})
    (result,) = import_values(secrets, store, TargetFiles(targets), fingerprint_key=FP_KEY)
    assert result.status is ImportStatus.CONFLICTING and result.needs_attention
    assert "consumers disagree on value" in result.detail
    assert fingerprint(FP_KEY, CREDS["app1"]["redis"][1]) in result.detail  # who holds what, by fingerprint
    assert fingerprint(FP_KEY, CREDS["app2"]["redis"][1]) in result.detail
    assert CREDS["app2"]["redis"][1] not in result.detail and CREDS["app1"]["redis"][1] not in result.detail
    assert store.names() == []


def test_missing_keys_files_and_unreadable_targets_are_reported(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    secrets = {
        "app1/redis": _secret(
            "app1",
            "redis",
            consumers=[
                {"target": "app1", "env": "REDIS_URI", "template": REDIS},  # a typo: the app reads REDIS_URL
                {"target": "app1", "env": "CACHE_URL", "template": REDIS, "new": True},
                {"target": "gone", "env": "REDIS_URL", "template": REDIS},
                {"target": "later", "env": "REDIS_URL", "template": REDIS},
                {"target": "render", "env": "REDIS_URL", "template": REDIS},
            ],
        )
    }
    targets = _targets(
        tmp_path,
        gone={"kind": "dotenv", "path": str(tmp_path / "nowhere" / ".env")},
        later={"kind": "dotenv", "path": str(tmp_path / "later.env"), "create": True},
        render={"kind": "render", "service_id": "srv-fake"},
    )
    (result,) = import_values(secrets, store, TargetFiles(targets), fingerprint_key=FP_KEY)
    assert result.status is ImportStatus.IMPORTED  # the consumers read agree
    assert result.needs_attention  # but two consumers would read nothing
    missing = dict(result.missing)
    assert missing == {
        "app1:REDIS_URI": f"REDIS_URI is not in {tmp_path / 'app1' / '.env'}",
        "gone:REDIS_URL": f"{tmp_path / 'nowhere' / '.env'} does not exist",
    }
    unread = dict(result.unread)
    assert "new: the first rotation adds it" in unread["app1:CACHE_URL"]
    assert "does not exist yet (create: true)" in unread["later:REDIS_URL"]
    assert "a render target cannot be read back" in unread["render:REDIS_URL"]
    assert "--secret app1/redis" in unread["render:REDIS_URL"]


def test_a_value_that_does_not_fit_its_template_is_unparsable(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    (tmp_path / "app1" / ".env").write_text(f"REDIS_URL=rediss://x:{quote('pw', safe='')}@elsewhere:6380/0\n")
    secrets = {"app1/redis": SECRETS["app1/redis"]}
    (result,) = import_values(secrets, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY)
    assert result.status is ImportStatus.UNPARSABLE and "app1:REDIS_URL" in result.detail
    assert store.names() == []


def test_raw_templates_are_reversed_too(tmp_path: Path, store: LocalStore) -> None:
    (tmp_path / "app1").mkdir()
    pw = "raw-fake@pw:with/slash"
    (tmp_path / "app1" / ".env").write_text(f"DB_URL='postgres://app1_a:{pw}@db.internal/app1'\nDB_PW={pw}\n")
    spec = SecretSpec.model_validate(
        {
            "name": "app1/db",
            "kind": "postgres-password",
            "issuer": "iss",
            "consumers": [
                {"target": "app1", "env": "DB_URL", "template": "postgres://{username}:{password}@db.internal/app1"},
                {"target": "app1", "env": "DB_PW"},
            ],
        }
    )
    (result,) = import_values({"app1/db": spec}, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY)
    assert result.status is ImportStatus.IMPORTED, result.detail
    got = store.get("app1/db")
    assert got is not None and got.value.reveal() == pw and got.version.attributes == {"username": "app1_a"}


def test_a_directory_is_no_env_file_and_a_malformed_target_names_its_line(tmp_path: Path, store: LocalStore) -> None:
    _write_apps(tmp_path)
    (tmp_path / "app2" / ".env").unlink()
    (tmp_path / "app2" / ".env").mkdir()
    results = _by(import_values(SECRETS, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY))
    assert results["app1/redis"].status is ImportStatus.IMPORTED
    assert results["app2/redis"].status is ImportStatus.NOT_FOUND and results["app2/redis"].needs_attention
    assert dict(results["app2/redis"].missing) == {
        "app2:REDIS_URL": f"{tmp_path / 'app2' / '.env'} is a directory, not a .env file"
    }
    (tmp_path / "app1" / ".env").write_text("REDIS_URL=x\nnot-an-assignment-fake-XYZ\n")
    with pytest.raises(ConfigError) as info:
        import_values(SECRETS, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY)
    assert f"{tmp_path / 'app1' / '.env'}:2: not a KEY=value line" in info.value.message
    assert "XYZ" not in info.value.diagnostics()


def test_a_conninfo_value_is_unquoted_as_libpq_reads_it(tmp_path: Path, store: LocalStore) -> None:
    (tmp_path / "app1").mkdir()
    pw = "fake pw with 'quote' and \\ slash"
    rendered = "host=db.internal user=app1_a password='" + pw.replace("\\", "\\\\").replace("'", "\\'") + "'"
    (tmp_path / "app1" / ".env").write_text(f'PG_DSN="{rendered.replace(chr(92), chr(92) * 2)}"\n')
    spec = SecretSpec.model_validate(
        {
            "name": "app1/db",
            "kind": "postgres-password",
            "issuer": "iss",
            "consumers": [
                {
                    "target": "app1",
                    "env": "PG_DSN",
                    "template": "host=db.internal user={username} password={password|conninfo}",
                }
            ],
        }
    )
    (result,) = import_values({"app1/db": spec}, store, TargetFiles(_targets(tmp_path)), fingerprint_key=FP_KEY)
    assert result.status is ImportStatus.IMPORTED, result.detail
    got = store.get("app1/db")
    assert got is not None and got.value.reveal() == pw and got.version.attributes == {"username": "app1_a"}
