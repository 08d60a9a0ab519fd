"""`VaultStore` specifics against a real OpenBao dev server: auth, namespaces, errors, layout."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import hvac
import pytest

from secretops.errors import ExitCode
from secretops.settings import VaultSettings
from secretops.store import (
    Label,
    StoreAuthError,
    StoreError,
    StoreUnavailableError,
    VaultStore,
)
from secretops.values import SecretValue
from tests.helpers import free_port
from tests.store.conftest import FP_KEY, BaoServer, start_bao

pytestmark = pytest.mark.vault

VALUE = "vault-fake-pw-Hn5$kk2"


def _root(server: BaoServer, namespace: str | None = None) -> hvac.Client:
    return hvac.Client(url=server.addr, token=server.root_token, namespace=namespace)


def _assert_no_value(exc: BaseException) -> None:
    cause: BaseException | None = exc
    while cause is not None:
        assert VALUE not in str(cause) and VALUE not in repr(cause)
        cause = cause.__cause__


def _policy(prefix: str, mount: str = "secret") -> str:
    """The least-privilege policy docs/store.md recommends, for `prefix`."""
    return f"""
path "{mount}/data/{prefix}/*"     {{ capabilities = ["create", "read", "update"] }}
path "{mount}/metadata/{prefix}/*" {{ capabilities = ["read", "update", "list"] }}
path "{mount}/delete/{prefix}/*"   {{ capabilities = ["update"] }}
"""


def test_approle_login_with_the_documented_policy(bao_server: BaoServer) -> None:
    settings = bao_server.settings()
    role = f"role-{uuid.uuid4().hex[:8]}"
    root = _root(bao_server)
    root.sys.create_or_update_policy(name=role, policy=_policy(settings.prefix))
    root.auth.approle.create_or_update_approle(role_name=role, token_policies=[role])
    role_id = root.auth.approle.read_role_id(role_name=role)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(role_name=role)["data"]["secret_id"]
    approle = settings.model_copy(
        update={"auth": "approle", "token": None, "role_id": role_id, "secret_id": SecretValue(secret_id)}
    )
    store = VaultStore(approle, fingerprint_key=FP_KEY)
    n1 = store.put("app/db", SecretValue(VALUE), labels=frozenset({Label.CURRENT})).number
    n2 = store.put("app/db", SecretValue(VALUE + "-2"), run_id="r").number
    store.promote("app/db", n2, expected_current=n1, run_id="r")
    assert store.names() == ["app/db"]
    got = store.get("app/db", Label.PREVIOUS)
    assert got is not None and got.value.reveal() == VALUE
    # Outside its prefix the AppRole token has no access.
    outside = VaultStore(approle.model_copy(update={"prefix": "elsewhere"}), fingerprint_key=FP_KEY)
    with pytest.raises(StoreAuthError):
        outside.put("x", SecretValue(VALUE))


def test_approle_with_a_wrong_secret_id(bao_server: BaoServer) -> None:
    role = f"role-{uuid.uuid4().hex[:8]}"
    root = _root(bao_server)
    root.auth.approle.create_or_update_approle(role_name=role, token_policies=["default"])
    role_id = root.auth.approle.read_role_id(role_name=role)["data"]["role_id"]
    settings = bao_server.settings(
        auth="approle", token=None, role_id=role_id, secret_id=SecretValue("not-the-secret-id")
    )
    with pytest.raises(StoreAuthError) as info:
        VaultStore(settings, fingerprint_key=FP_KEY)
    assert info.value.exit_code == ExitCode.AUTH
    assert "not-the-secret-id" not in info.value.diagnostics()


def test_permission_denied_is_exit_code_3(bao_server: BaoServer) -> None:
    created = bao_server.bao("token", "create", "-policy=default", "-format=json")
    token = json.loads(created.stdout)["auth"]["client_token"]
    store = VaultStore(bao_server.settings(token=SecretValue(token)), fingerprint_key=FP_KEY)
    with pytest.raises(StoreAuthError) as info:
        store.put("app/db", SecretValue(VALUE))
    assert info.value.exit_code == ExitCode.AUTH
    assert "permission denied" in info.value.message
    assert "docs/store.md" in info.value.diagnostics()
    _assert_no_value(info.value)
    with pytest.raises(StoreAuthError):
        store.names()
    with pytest.raises(StoreAuthError):
        store.get("app/db")


def test_invalid_token(bao_server: BaoServer) -> None:
    store = VaultStore(bao_server.settings(token=SecretValue("s.not-a-real-token")), fingerprint_key=FP_KEY)
    with pytest.raises(StoreAuthError) as info:
        store.state("app/db")
    assert "s.not-a-real-token" not in info.value.diagnostics()


def test_missing_mount_says_how_to_enable_it(bao_server: BaoServer) -> None:
    store = VaultStore(bao_server.settings(mount="nosuch"), fingerprint_key=FP_KEY)
    for call in (lambda: store.put("a", SecretValue(VALUE)), lambda: store.get("a"), store.names):
        with pytest.raises(StoreError) as info:
            call()
        assert "no secrets engine mounted at nosuch/" in info.value.message
        assert "bao secrets enable -path=nosuch kv-v2" in info.value.diagnostics()
        _assert_no_value(info.value)


def test_unreachable_is_exit_code_4() -> None:
    settings = VaultSettings(addr=f"http://127.0.0.1:{free_port()}", token=SecretValue("fake-token"), timeout=2)
    store = VaultStore(settings, fingerprint_key=FP_KEY)
    with pytest.raises(StoreUnavailableError) as info:
        store.put("a", SecretValue(VALUE))
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "cannot reach Vault" in info.value.message
    _assert_no_value(info.value)


def test_sealed_is_exit_code_4(tmp_path: Path) -> None:
    server = start_bao(tmp_path)
    try:
        store = VaultStore(server.settings(), fingerprint_key=FP_KEY)
        store.put("a", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
        server.bao("operator", "seal")
        for call in (lambda: store.put("a", SecretValue(VALUE)), lambda: store.get("a")):
            with pytest.raises(StoreUnavailableError) as info:
                call()
            assert info.value.exit_code == ExitCode.UNAVAILABLE
            assert "sealed" in info.value.message
            assert "unseal" in info.value.diagnostics()
            _assert_no_value(info.value)
    finally:
        server.stop()


def test_namespace_isolates_secrets(bao_server: BaoServer) -> None:
    ns = f"ns{uuid.uuid4().hex[:8]}"
    root = _root(bao_server)
    root.sys.create_namespace(path=ns)
    _root(bao_server, namespace=ns).sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    settings = bao_server.settings(namespace=ns)
    store = VaultStore(settings, fingerprint_key=FP_KEY)
    store.put("in-ns", SecretValue(VALUE), labels=frozenset({Label.CURRENT}))
    assert store.names() == ["in-ns"]
    root_ns = VaultStore(settings.model_copy(update={"namespace": None}), fingerprint_key=FP_KEY)
    assert root_ns.names() == []
    got = VaultStore(settings, fingerprint_key=FP_KEY).get("in-ns")
    assert got is not None and got.value.reveal() == VALUE


def test_layout_history_and_custom_metadata_limits(bao_server: BaoServer) -> None:
    settings = bao_server.settings()
    store = VaultStore(settings, fingerprint_key=FP_KEY)
    current = None
    for i in range(45):
        n = store.put("big", SecretValue(f"{VALUE}-{i}"), run_id=f"run-{i}").number
        store.promote("big", n, expected_current=current, run_id=f"run-{i}")
        current = n
    assert current == 45  # store versions are KV versions
    # KV's default keeps 10 versions; the store sets max_versions so history survives.
    assert store.get_version("big", 1).value.reveal() == f"{VALUE}-0"
    state = store.state("big")
    assert state is not None and len(state.versions) == 45

    root = _root(bao_server)
    meta = root.secrets.kv.v2.read_secret_metadata(f"{settings.prefix}/big", mount_point="secret")["data"]
    custom = meta["custom_metadata"]
    assert len(custom) <= 64
    assert all(len(v.encode()) <= 512 for v in custom.values())
    assert custom["secretops.current"] == "45" and custom["secretops.previous"] == "44"
    assert json.loads(custom["v45"])["fp"] == state.versions[-1].fingerprint
    assert "v1" not in custom  # old history pruned from the mirror, kept in the state secret
    assert VALUE not in json.dumps(custom)
    # The state secret holds no value either.
    doc = root.secrets.kv.v2.read_secret_version(
        f"{settings.prefix}/_state/big", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert VALUE not in json.dumps(doc)
    assert doc["labels"] == {"current": 45, "previous": 44}


def test_login_settings_errors_need_no_server(tmp_path: Path) -> None:
    addr = f"http://127.0.0.1:{free_port()}"
    cases = [
        VaultSettings(addr=addr),  # token auth without a token
        VaultSettings(addr=addr, auth="approle", role_id="r"),
        VaultSettings(addr=addr, auth="kubernetes"),
        VaultSettings(addr=addr, auth="kubernetes", k8s_role="app", k8s_jwt_path=tmp_path / "missing"),
    ]
    for settings in cases:
        with pytest.raises(StoreAuthError) as info:
            VaultStore(settings, fingerprint_key=FP_KEY)
        assert info.value.hint


def test_kubernetes_login_reaches_the_auth_mount(tmp_path: Path) -> None:
    jwt = tmp_path / "token"
    jwt.write_text("fake.jwt.token\n")
    settings = VaultSettings(
        addr=f"http://127.0.0.1:{free_port()}", auth="kubernetes", k8s_role="app", k8s_jwt_path=jwt, timeout=2
    )
    with pytest.raises(StoreUnavailableError):  # it read the token and tried to log in
        VaultStore(settings, fingerprint_key=FP_KEY)
