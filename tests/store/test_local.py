"""`LocalStore` specifics: keys, permissions, encryption at rest, cross-process check-and-set."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from secretops.errors import ExitCode
from secretops.settings import Settings, VaultSettings
from secretops.store import Label, LocalStore, StoreConflictError, StoreError, VaultStore, open_store
from secretops.store.local import KEY_ENV, load_local_key
from secretops.values import SecretValue
from tests.store.conftest import FP_KEY, LOCAL_KEY

VALUE = "local-fake-pw-Qw3rty!9"


def _store(state: Path, **kw: object) -> LocalStore:
    return LocalStore(state, fingerprint_key=FP_KEY, environ=kw.pop("environ", {}), **kw)  # type: ignore[arg-type]


def test_key_file_is_created_0600_on_first_write_only(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    store = _store(state)
    assert not (state / "local.key").exists()  # opening creates nothing
    assert store.names() == []
    store.put("a", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    key_file = state / "local.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "store.json").stat().st_mode) == 0o600
    # A second instance finds the same key and reads the value back.
    got = _store(state).get("a")
    assert got is not None and got.value.reveal() == VALUE


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_refuses_a_key_file_others_can_read(tmp_path: Path, mode: int) -> None:
    state = tmp_path / ".secretops"
    _store(state).put("a", SecretValue(VALUE))
    key_file = state / "local.key"
    os.chmod(key_file, mode)
    with pytest.raises(StoreError) as info:
        _store(state)
    assert f"chmod 600 {key_file}" in info.value.diagnostics()
    assert info.value.exit_code == ExitCode.USAGE


def test_key_from_environment_hex_or_base64(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    hex_env = {KEY_ENV: LOCAL_KEY.hex()}
    b64_env = {KEY_ENV: base64.b64encode(LOCAL_KEY).decode()}
    url_env = {KEY_ENV: base64.urlsafe_b64encode(LOCAL_KEY).decode().rstrip("=")}
    assert load_local_key(state, hex_env) == load_local_key(state, b64_env) == load_local_key(state, url_env)
    _store(state, environ=hex_env).put("a", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    assert not (state / "local.key").exists()  # the env key is used; no key file made
    got = _store(state, environ=b64_env).get("a")
    assert got is not None and got.value.reveal() == VALUE
    got = LocalStore(state, key=LOCAL_KEY, fingerprint_key=FP_KEY, environ={}).get("a")
    assert got is not None and got.value.reveal() == VALUE


@pytest.mark.parametrize("bad", ["abc", "zz" * 32, base64.b64encode(b"short").decode()])
def test_bad_key_in_environment(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StoreError) as info:
        _store(tmp_path, environ={KEY_ENV: bad})
    assert KEY_ENV in info.value.message
    assert "token_hex" in info.value.diagnostics()


def test_wrong_key_is_a_clear_error_and_nothing_is_overwritten(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    LocalStore(state, key=LOCAL_KEY, fingerprint_key=FP_KEY).put("a", SecretValue(VALUE))
    before = (state / "store.json").read_bytes()
    with pytest.raises(StoreError) as info:
        LocalStore(state, key=b"\x01" * 32, fingerprint_key=FP_KEY)
    assert "does not open" in info.value.message
    with pytest.raises(StoreError):
        _store(state, environ={KEY_ENV: "11" * 32})
    assert (state / "store.json").read_bytes() == before
    assert VALUE not in info.value.diagnostics()


def test_missing_key_for_an_existing_store(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    _store(state).put("a", SecretValue(VALUE))
    (state / "local.key").unlink()
    with pytest.raises(StoreError) as info:
        _store(state)
    assert "key is missing" in info.value.message
    assert not (state / "local.key").exists()  # no fresh key was made over old values


def test_values_are_encrypted_at_rest_and_bound_to_name_and_version(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    store = LocalStore(state, key=LOCAL_KEY, fingerprint_key=FP_KEY)
    n1 = store.put("a", SecretValue(VALUE), labels=frozenset({Label.CURRENT})).number
    n2 = store.put("a", SecretValue("other-fake-value-123"), run_id="r").number
    raw = (state / "store.json").read_text()
    assert VALUE not in raw and "other-fake-value-123" not in raw
    assert base64.b64encode(VALUE.encode()).decode()[:12] not in raw
    doc = json.loads(raw)
    assert doc["secrets"]["a"]["record"]["labels"] == {"current": n1, "pending": n2}  # metadata in clear
    # Swap the two ciphertexts: associated data (name + version) makes both fail to open.
    sealed = doc["secrets"]["a"]["sealed"]
    sealed[str(n1)], sealed[str(n2)] = sealed[str(n2)], sealed[str(n1)]
    (state / "store.json").write_text(json.dumps(doc))
    with pytest.raises(StoreError) as info:
        store.get("a")
    assert "failed authentication" in info.value.message


def test_corrupt_store_file(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    state.mkdir()
    (state / "store.json").write_text("{not json")
    with pytest.raises(StoreError) as info:
        LocalStore(state, key=LOCAL_KEY, fingerprint_key=FP_KEY)
    assert "not valid JSON" in info.value.message


def _promote_in_child(state: str, number: int, expected: int, run_id: str, start: object, out: object) -> None:
    store = LocalStore(Path(state), key=LOCAL_KEY, fingerprint_key=FP_KEY, environ={})
    start.wait()  # type: ignore[attr-defined]
    try:
        store.promote("race", number, expected_current=expected, run_id=run_id)
        out.put("won")  # type: ignore[attr-defined]
    except StoreConflictError:
        out.put("conflict")  # type: ignore[attr-defined]


def test_promote_race_between_processes(tmp_path: Path) -> None:
    state = tmp_path / ".secretops"
    store = LocalStore(state, key=LOCAL_KEY, fingerprint_key=FP_KEY)
    n1 = store.put("race", SecretValue(VALUE), labels=frozenset({Label.CURRENT})).number
    n2 = store.put("race", SecretValue("next-fake-value-456"), run_id="stage").number
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_promote_in_child, args=(str(state), n2, n1, f"proc-{i}", start, out)) for i in range(2)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    results = sorted(out.get(timeout=5) for _ in procs)
    assert results == ["conflict", "won"]
    current = store.get("race")
    assert current is not None and current.version.number == n2
    assert store.get("race", Label.PREVIOUS) is not None


def test_open_store_picks_the_implementation(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state", fingerprint_key_path=tmp_path / "fp.key")
    store = open_store(settings)
    assert isinstance(store, LocalStore) and store.path == tmp_path / "state"
    vault = Settings(
        state_dir=tmp_path / "state",
        vault=VaultSettings(addr="http://127.0.0.1:9", token=SecretValue("fake-token-for-test")),
    )
    assert isinstance(open_store(vault), VaultStore)
