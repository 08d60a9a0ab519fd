"""`PostgresStore` specifics: what the tables hold, associated data, keys, transit, races, masking."""

from __future__ import annotations

import base64
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import psycopg
import pytest

from secretops.errors import ConfigError, ExitCode
from secretops.settings import Settings
from secretops.store import (
    Label,
    PostgresStore,
    StoreAuthError,
    StoreConflictError,
    StoreError,
    StoreUnavailableError,
    open_store,
)
from secretops.store.postgres import KEY_ENV, SCHEMA_VERSION, TABLES, decode_store_key, mask_url
from secretops.values import SecretValue
from tests.helpers import free_port
from tests.services import PgCluster
from tests.store.conftest import FP_KEY, PG_KEY, BaoServer, PgStoreDatabase
from tests.store.pg_race import race_promote

pytestmark = pytest.mark.postgres

VALUE = "pg-store-fake-pw-Qe7$v81"
OTHER = "pg-store-fake-pw-Zz3#k02"
PG_KEY_HEX = PG_KEY.hex()


_OPENED: list[PostgresStore] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def _open(url: str, **kwargs: Any) -> PostgresStore:
    """A PostgresStore closed at the end of the test."""
    kwargs.setdefault("fingerprint_key", FP_KEY)
    store = PostgresStore(url, **kwargs)
    _OPENED.append(store)
    return store


def _store(url: str, **kwargs: Any) -> PostgresStore:
    kwargs.setdefault("key", PG_KEY)
    return _open(url, **kwargs)


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def _execute(url: str, query: str, params: tuple[Any, ...] = ()) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(query, params)  # type: ignore[arg-type]


def _chain(exc: BaseException) -> str:
    shown: list[str] = []
    cause: BaseException | None = exc
    while cause is not None:
        shown += [str(cause), repr(cause)]
        if isinstance(cause, StoreError | ConfigError):
            shown.append(cause.diagnostics())
        cause = cause.__cause__ or cause.__context__
    return "\n".join(shown)


# ---------------------------------------------------------------- what is in the tables


def test_tables_hold_ciphertext_and_metadata_never_the_value(store_pg: str) -> None:
    store = _store(store_pg)
    n1 = store.put("app/db", SecretValue(VALUE), labels=frozenset({Label.CURRENT}), attributes={"username": "app_a"})
    n2 = store.put("app/db", SecretValue(OTHER), run_id="run-7").number
    store.promote("app/db", n2, expected_current=n1.number, run_id="run-7")
    store.mark_revoked("app/db", n1.number)

    assert sorted(
        r[0]
        for r in _rows(
            store_pg,
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'secretops%'",
        )
    ) == (sorted(TABLES))
    rows = _rows(
        store_pg,
        "SELECT number, fingerprint, attributes, run_id, revoked_at IS NOT NULL, nonce, ciphertext "
        "FROM secretops_store_versions ORDER BY number",
    )
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [(1, {"username": "app_a"}, None, True), (2, {}, "run-7", False)]
    nonces = set()
    for (number, fp, _attrs, _run, _revoked, nonce, ciphertext), plain in zip(rows, (VALUE, OTHER), strict=True):
        assert fp == n1.fingerprint if number == 1 else fp != n1.fingerprint
        assert len(bytes(nonce)) == 12
        nonces.add(bytes(nonce))
        blob = bytes(ciphertext)
        assert len(blob) == len(plain.encode()) + 16  # AES-GCM: same length plus a 16-byte tag
        for encoded in (plain.encode(), plain.encode().hex().encode(), base64.b64encode(plain.encode())):
            assert encoded not in blob
    assert len(nonces) == 2
    assert _rows(store_pg, "SELECT current_version, previous_version, pending_version, last_run_id FROM "
                 "secretops_store_secrets") == [(2, 1, None, "run-7")]  # fmt: skip
    # Nothing in any column of any table, rendered as text, holds a value or the key.
    dump = "\n".join(str(r) for t in TABLES for r in _rows(store_pg, f"SELECT t::text FROM {t} t"))
    for secret in (VALUE, OTHER, PG_KEY_HEX, VALUE.encode().hex()):
        assert secret not in dump
    meta = dict(_rows(store_pg, "SELECT key, value FROM secretops_store_meta"))  # type: ignore[arg-type]
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["key_mode"] == "key"
    assert "wrapped_key" not in meta


def test_a_ciphertext_moved_to_another_version_or_secret_does_not_open(store_pg: str) -> None:
    store = _store(store_pg)
    store.put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    store.put("svc", SecretValue(OTHER), run_id="r")
    store.put("other", SecretValue(OTHER), labels=frozenset({Label.CURRENT}))
    # Version 1's nonce and ciphertext copied onto version 2 (same secret), and onto `other`.
    copy = (
        "UPDATE secretops_store_versions dst SET nonce = src.nonce, ciphertext = src.ciphertext "
        "FROM secretops_store_versions src WHERE src.name = 'svc' AND src.number = 1 "
        "AND dst.name = %s AND dst.number = %s"
    )
    _execute(store_pg, copy, ("svc", 2))
    _execute(store_pg, copy, ("other", 1))
    for provoke in (lambda: store.get("svc", Label.PENDING), lambda: store.get_version("other", 1)):
        with pytest.raises(StoreError, match="failed authentication") as info:
            provoke()
        assert not isinstance(info.value, StoreAuthError)  # the key is right; the row is not
        assert "copied from another secret or version" in info.value.diagnostics()
        assert VALUE not in _chain(info.value) and OTHER not in _chain(info.value)
    current = store.get("svc")
    assert current is not None and current.value.reveal() == VALUE  # the original row still opens


# ---------------------------------------------------------------- keys


def test_a_wrong_key_fails_at_open_with_an_auth_error(store_pg: str) -> None:
    _store(store_pg).put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    wrong = bytes(32)
    with pytest.raises(StoreAuthError, match="does not open the store") as info:
        _store(store_pg, key=wrong)
    assert info.value.exit_code == ExitCode.AUTH
    text = _chain(info.value)
    assert VALUE not in text and wrong.hex() not in text and PG_KEY_HEX not in text
    assert "postgres@127.0.0.1" in text  # says which store
    # The same through the environment variable, in base64.
    with pytest.raises(StoreAuthError):
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={KEY_ENV: base64.b64encode(wrong).decode()})
    # The right key from the environment, as hex, opens it.
    right = _open(store_pg, environ={KEY_ENV: PG_KEY_HEX})
    got = right.get("svc")
    assert got is not None and got.value.reveal() == VALUE


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (bytes(range(16)).hex(), "is 32 hex characters"),
        ("ab" * 31 + "c", "is 63 hex characters"),  # not valid base64 either
        (base64.b64encode(bytes(range(48))).decode(), "decodes to 48 bytes"),
        ("not a key at all!" * 3, "neither 64 hex characters nor base64"),
    ],
)
def test_a_bad_key_is_a_config_error_that_never_echoes_it(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        decode_store_key(text)
    shown = info.value.diagnostics()
    assert KEY_ENV in shown and text not in shown and says in shown
    assert "token_hex(32)" in shown  # how to make a good one


def test_key_formats() -> None:
    assert decode_store_key(PG_KEY_HEX) == PG_KEY
    assert decode_store_key(base64.b64encode(PG_KEY).decode()) == PG_KEY
    assert decode_store_key(base64.urlsafe_b64encode(PG_KEY).decode().rstrip("=")) == PG_KEY


def test_a_bad_key_in_the_environment_is_refused_before_connecting() -> None:
    with pytest.raises(ConfigError, match="is 62 hex characters") as info:
        PostgresStore(
            f"postgresql://nobody@127.0.0.1:{free_port()}/x", fingerprint_key=FP_KEY, environ={KEY_ENV: "ab" * 31}
        )
    assert "ab" * 31 not in info.value.diagnostics()


def test_a_new_store_needs_a_key_and_an_old_one_needs_its_key(store_pg: str) -> None:
    with pytest.raises(ConfigError, match=f"is new and {KEY_ENV} is not set"):
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={})
    _store(store_pg).put("svc", SecretValue(VALUE))
    with pytest.raises(ConfigError, match=f"was created with {KEY_ENV}, which is not set"):
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={})


def test_a_newer_schema_is_refused(store_pg: str) -> None:
    _store(store_pg).put("svc", SecretValue(VALUE))
    _execute(store_pg, "UPDATE secretops_store_meta SET value = %s WHERE key = 'schema_version'", (str(99),))
    with pytest.raises(StoreError, match="schema version 99; this secretops knows up to 1"):
        _store(store_pg)


def test_concurrent_first_opens_create_the_tables_once(store_pg: str) -> None:
    barrier = threading.Barrier(4)
    opened: list[PostgresStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            opened.append(_store(store_pg))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(opened) == 4
    assert _rows(store_pg, "SELECT count(*) FROM secretops_store_meta WHERE key = 'key_check'") == [(1,)]
    opened[0].put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    got = opened[3].get("svc")
    assert got is not None and got.value.reveal() == VALUE


# ---------------------------------------------------------------- promote across processes


ROUNDS = 8


def test_processes_racing_promote_exactly_one_wins(store_pg: str) -> None:
    setup = _store(store_pg)
    rounds = []
    for r in range(ROUNDS):
        n1 = setup.put(f"race-{r}", SecretValue(VALUE), labels=frozenset({Label.CURRENT})).number
        rounds.append((setup.put(f"race-{r}", SecretValue(OTHER), run_id="stage").number, n1))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    fp = b"\x07" * 32  # FP_KEY's bytes (a FingerprintKey does not pickle its key)
    procs = [
        ctx.Process(target=race_promote, args=(store_pg, PG_KEY, fp, rounds, i, barrier, results)) for i in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    outcomes: dict[int, dict[int, str]] = {}
    for _ in range(ROUNDS * len(procs)):
        r, i, outcome = results.get(timeout=5)
        outcomes.setdefault(r, {})[i] = outcome
    for r, (n2, n1) in enumerate(rounds):
        assert sorted(outcomes[r].values()) == ["conflict"] * 3 + ["won"], f"round {r}: {outcomes[r]}"
        winner = next(i for i, outcome in outcomes[r].items() if outcome == "won")
        state = setup.state(f"race-{r}")
        assert state is not None and state.last_run_id == f"proc-{winner}"
        assert {label: v.number for v in state.versions for label in v.labels} == {
            Label.CURRENT: n2,
            Label.PREVIOUS: n1,
        }


# ---------------------------------------------------------------- settings, masking, connection errors


def test_open_store_picks_postgres_from_secretops_store(
    store_pg: str, monkeypatch: pytest.MonkeyPatch, bao_addr_unset: None
) -> None:
    monkeypatch.setenv(KEY_ENV, PG_KEY_HEX)
    settings = Settings.from_env({"SECRETOPS_STORE": store_pg, "SECRETOPS_FINGERPRINT_KEY": "ab" * 32})
    assert store_pg not in repr(settings)  # a SecretValue: the URL may hold a password
    store = open_store(settings)
    try:
        assert isinstance(store, PostgresStore) and store.id == "postgres"
        store.put("svc", SecretValue(VALUE))
        assert store.names() == ["svc"]
    finally:
        store.close()


@pytest.fixture
def bao_addr_unset(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("VAULT_ADDR", "BAO_ADDR"):
        monkeypatch.delenv(name, raising=False)
    yield


def test_an_unknown_secretops_store_is_refused_without_echoing_it() -> None:
    settings = Settings(store="hunter2-not-a-url", fingerprint_key_path=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as info:
        open_store(settings)
    assert "hunter2" not in info.value.diagnostics()
    assert "SECRETOPS_STORE" in info.value.diagnostics()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cr%40t@db:5432/app", "postgresql://app:***@db:5432/app"),
        (
            "postgresql://app@db/app?password=s3cr%40t&sslmode=require",
            "postgresql://app@db/app?password=***&sslmode=require",
        ),
        ("host=db user=app password='s3cr@t x' dbname=app", "host=db user=app password=*** dbname=app"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_wrong_password_is_an_auth_error_with_the_password_masked(pg_cluster: PgCluster) -> None:
    password = "wrong-" + uuid.uuid4().hex
    url = pg_cluster.dsn(pg_cluster.admin_user, password)
    with pytest.raises(StoreAuthError, match="refused the login") as info:
        _store(url)
    text = _chain(info.value)
    assert password not in text and ":***@" in text
    # The right password works, and repr shows it masked.
    store = _store(pg_cluster.admin_dsn)
    try:
        assert pg_cluster.admin_password not in repr(store) and ":***@" in repr(store)
        store.put("svc", SecretValue(VALUE))
        with pytest.raises(StoreConflictError) as conflict:
            store.put("svc", SecretValue(OTHER), run_id="other-run")
        assert pg_cluster.admin_password not in _chain(conflict.value)
    finally:
        store.close()


def test_an_unreachable_server_is_unavailable() -> None:
    with pytest.raises(StoreUnavailableError, match="cannot reach PostgreSQL") as info:
        _store(f"postgresql://postgres:pw-not-shown@127.0.0.1:{free_port()}/x", connect_timeout=2)
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "pw-not-shown" not in _chain(info.value)


# ---------------------------------------------------------------- Vault transit


@pytest.fixture
def transit(bao_server: BaoServer) -> Iterator[tuple[BaoServer, str, str]]:
    """A transit engine on a fresh mount with one key: (server, mount, key name)."""
    mount = f"transit-{uuid.uuid4().hex[:8]}"
    bao_server.bao("secrets", "enable", f"-path={mount}", "transit")
    bao_server.bao("write", "-f", f"{mount}/keys/secretops-store")
    try:
        yield bao_server, mount, "secretops-store"
    finally:
        bao_server.bao("secrets", "disable", mount, check=False)


@pytest.mark.vault
def test_transit_wrapped_data_key(store_pg: str, transit: tuple[BaoServer, str, str]) -> None:
    server, mount, name = transit
    vault = server.settings()
    store = _open(store_pg, environ={}, vault=vault, transit_key=name, transit_mount=mount)
    n = store.put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT})).number
    store.close()
    meta = dict(_rows(store_pg, "SELECT key, value FROM secretops_store_meta"))  # type: ignore[arg-type]
    assert meta["key_mode"] == "transit" and meta["transit_key"] == f"{mount}/{name}"
    assert meta["wrapped_key"].startswith("vault:v1:")

    # Reopened from the environment alone: the wrapped key is unwrapped by transit decrypt.
    env = {"SECRETOPS_STORE_TRANSIT_KEY": name, "SECRETOPS_STORE_TRANSIT_MOUNT": mount}
    again = _open(store_pg, environ=env, vault=vault)
    assert again.get_version("svc", n).value.reveal() == VALUE
    again.close()

    # Without Vault, with a raw key instead, or with another transit key: clear errors.
    with pytest.raises(ConfigError, match="no Vault is configured"):
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={})
    with pytest.raises(ConfigError, match="wrapped by Vault transit"):
        PostgresStore(store_pg, key=PG_KEY, fingerprint_key=FP_KEY, environ={}, vault=vault)
    with pytest.raises(ConfigError, match=f"wrapped by transit key {mount}/{name}"):
        PostgresStore(
            store_pg, fingerprint_key=FP_KEY, environ={}, vault=vault, transit_key="other", transit_mount=mount
        )
    with pytest.raises(ConfigError, match="both"):
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={KEY_ENV: PG_KEY_HEX, **env}, vault=vault)

    # A wrapped key replaced by one wrapped for another data key fails the key check.
    other = server.bao("write", "-field=ciphertext", f"{mount}/datakey/plaintext/{name}", "bits=256").stdout.strip()
    _execute(store_pg, "UPDATE secretops_store_meta SET value = %s WHERE key = 'wrapped_key'", (other,))
    with pytest.raises(StoreAuthError, match="unwrapped transit data key does not open"):
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={}, vault=vault)


@pytest.mark.vault
def test_transit_refusal_is_an_auth_error(store_pg: str, transit: tuple[BaoServer, str, str]) -> None:
    server, mount, name = transit
    token = server.bao("token", "create", "-policy=default", "-field=token").stdout.strip()
    vault = server.settings(token=SecretValue(token))
    with pytest.raises(StoreAuthError, match="permission denied") as info:
        PostgresStore(store_pg, fingerprint_key=FP_KEY, environ={}, vault=vault, transit_key=name, transit_mount=mount)
    assert token not in _chain(info.value)
    # Nothing was half-created: the first open's transaction (tables, key mode) was rolled back.
    assert _rows(store_pg, "SELECT to_regclass('secretops_store_meta')") == [(None,)]


@pytest.mark.vault
def test_transit_with_the_documented_policy(store_pg: str, transit: tuple[BaoServer, str, str]) -> None:
    server, mount, name = transit
    policy = f"""
path "{mount}/datakey/plaintext/{name}" {{ capabilities = ["update"] }}
path "{mount}/decrypt/{name}"           {{ capabilities = ["update"] }}
"""
    policy_name = f"store-{uuid.uuid4().hex[:8]}"
    hvac.Client(url=server.addr, token=server.root_token).sys.create_or_update_policy(name=policy_name, policy=policy)
    token = server.bao("token", "create", f"-policy={policy_name}", "-field=token").stdout.strip()
    vault = server.settings(token=SecretValue(token))
    store = _open(store_pg, environ={}, vault=vault, transit_key=name, transit_mount=mount)
    n = store.put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT})).number
    again = _open(store_pg, environ={}, vault=vault)  # decrypt only
    assert again.get_version("svc", n).value.reveal() == VALUE


@pytest.fixture
def limited_role(store_pg_database: PgStoreDatabase) -> Iterator[str]:
    """A login role with no privileges (trust auth on 127.0.0.1:5432), dropped afterwards."""
    role = f"store_limited_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(store_pg_database.url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")  # type: ignore[arg-type]
    try:
        yield role
    finally:
        with psycopg.connect(store_pg_database.url(), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]


def test_the_documented_privileges(store_pg_database: PgStoreDatabase, limited_role: str) -> None:
    schema = store_pg_database.new_schema()
    as_owner = store_pg_database.url(schema)
    as_role = store_pg_database.url(schema, user=limited_role)
    _execute(as_owner, f"GRANT USAGE ON SCHEMA {schema} TO {limited_role}")
    with pytest.raises(StoreAuthError, match="permission denied") as info:
        _store(as_role)  # the first open creates tables: needs CREATE on the schema
    assert info.value.exit_code == ExitCode.AUTH
    _store(as_owner).put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    doc = (Path(__file__).resolve().parents[2] / "docs" / "store.md").read_text()
    block = doc.split("<!-- store-privileges:begin -->")[1].split("<!-- store-privileges:end -->")[0]
    grants = [line for line in block.splitlines() if line.startswith("GRANT ")]
    assert len(grants) == 3
    for grant in grants:
        _execute(as_owner, grant.replace("secretops_runner", limited_role).replace("SCHEMA public", f"SCHEMA {schema}"))
    store = _store(as_role)
    n1 = store.get("svc")
    assert n1 is not None and n1.value.reveal() == VALUE
    n2 = store.put("svc", SecretValue(OTHER), run_id="r").number
    store.promote("svc", n2, expected_current=n1.version.number, run_id="r")
    store.mark_revoked("svc", n1.version.number)
    store.discard_pending("svc", store.put("svc", SecretValue(VALUE), run_id="r2").number)
    assert store.names() == ["svc"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # no more than the grants say
        _execute(as_role, "DELETE FROM secretops_store_versions")


POLICY = """\
version: 1
issuers:
  django: {kind: app}
targets:
  web: {kind: dotenv, path: "%(dir)s/web.env"}
secrets:
  - name: shop/django
    kind: django-secret-key
    issuer: django
    grace: 0s
    drain: 0s
    generator: {kind: django-secret-key}
    consumers:
      - {target: web, env: SECRET_KEY}
"""


def test_the_cli_rotates_with_values_in_the_postgres_store(
    store_pg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secretops.cli.app import run
    from secretops.targets.dotenv import parse_dotenv

    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(POLICY % {"dir": tmp_path})
    (tmp_path / "web.env").write_text(f"SECRET_KEY='{VALUE}'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_STORE", store_pg)
    monkeypatch.setenv(KEY_ENV, PG_KEY_HEX)
    assert run(["store", "import"]) == 0
    store = _store(store_pg, fingerprint_key=Settings.from_env().fingerprint_key())
    first = store.get("shop/django")
    assert first is not None and first.value.reveal() == VALUE

    assert run(["rotate", "shop/django"]) == 0
    assert run(["compromised", "shop/django", "--yes"]) == 0
    state = store.state("shop/django")
    assert state is not None and len(state.versions) == 3
    current = store.get("shop/django")
    assert current is not None and current.value.reveal() != VALUE
    written = parse_dotenv((tmp_path / "web.env").read_text())
    assert written["SECRET_KEY"].value == current.value.reveal()
    assert not (tmp_path / ".secretops" / "store.json").exists()  # values went to PostgreSQL only
    out = capsys.readouterr()
    assert VALUE not in out.out + out.err and current.value.reveal() not in out.out + out.err


def _backends(url: str) -> list[int]:
    return [
        int(r[0])
        for r in _rows(
            url,
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'secretops-store' "
            "AND datname = current_database() AND pid <> pg_backend_pid()",
        )
    ]


def test_a_connection_dropped_while_idle_is_replaced(store_pg: str) -> None:
    store = _store(store_pg)
    store.put("svc", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    before = _backends(store_pg)
    assert len(before) == 1
    _execute(store_pg, "SELECT pg_terminate_backend(%s)", (before[0],))
    got = store.get("svc")  # BEGIN fails on the dead connection; a new one serves the read
    assert got is not None and got.value.reveal() == VALUE
    n = store.put("svc", SecretValue(OTHER), run_id="r").number
    _execute(store_pg, "SELECT pg_terminate_backend(%s)", (_backends(store_pg)[0],))
    store.promote("svc", n, expected_current=got.version.number, run_id="r")  # a change, the same way
    after = _backends(store_pg)
    assert len(after) == 1 and after[0] not in before
    current = store.get("svc")
    assert current is not None and current.value.reveal() == OTHER
