"""`scan --inventory`: a leaked value is named as the inventory secret (and version) it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretops.cli.app import run
from secretops.scan.inventory_match import fingerprint_index
from secretops.settings import Settings
from secretops.store.interface import Label
from secretops.store.local import LocalStore
from secretops.values import SecretValue

# Assembled at run time so this file holds no credential-shaped literal.
V1 = "Zq8" + "vN3xLp2Wm7Rt4Kd"
V2 = "Hy4" + "kT9wQm2Lx8Vb5Nc"
V3 = "Rf7" + "jD2sPz9Ke4Wq6Tm"
STRANGER = "Wm5" + "pL8cQ3vTz6Nk2Rx"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    """shop/db with v1 revoked, v2 previous and v3 current, as three rotations leave it."""
    state = tmp_path / "state"
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(state))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", "cd" * 32)
    local = LocalStore(state, fingerprint_key=Settings.from_env().fingerprint_key())
    local.put("shop/db", SecretValue(V1), labels=frozenset({Label.CURRENT}))
    v2 = local.put("shop/db", SecretValue(V2))
    local.promote("shop/db", v2.number, expected_current=1)
    local.mark_revoked("shop/db", 1)
    v3 = local.put("shop/db", SecretValue(V3))
    local.promote("shop/db", v3.number, expected_current=v2.number)
    return local


def test_index_names_each_version_and_its_standing(store: LocalStore) -> None:
    states = sorted((m.version, m.state) for m in fingerprint_index(store).values())
    assert states == [(1, "revoked"), (2, "previous"), (3, "current")]


def test_scan_names_the_inventory_secret(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "prod.env").write_text(f"DB_PASSWORD={V3}\n")
    (app / "old.env").write_text(f"DB_PASSWORD={V1}\n")
    (app / "other.env").write_text(f"DB_PASSWORD={STRANGER}\n")
    monkeypatch.chdir(tmp_path)

    assert run(["scan", "app", "--inventory", "-f", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    matches = {Path(f["path"]).name: f.get("inventory") for f in report["findings"]}
    assert matches == {
        "prod.env": {"secret": "shop/db", "version": 3, "state": "current"},
        "old.env": {"secret": "shop/db", "version": 1, "state": "revoked"},
        "other.env": None,
    }

    assert run(["scan", "app", "--inventory", "--no-progress"]) == 1
    out = capsys.readouterr().out
    current = "inventory: shop/db version 3 (current): the value may still work; run `secretops compromised shop/db`"
    assert current in out
    assert "inventory: shop/db version 1 (revoked): revoked at the issuer, no longer works" in out
    for raw in (V1, V3, STRANGER):
        assert raw not in out

    assert run(["scan", "app", "--no-progress", "-f", "json"]) == 1  # without the flag: no store opened
    assert all("inventory" not in f for f in json.loads(capsys.readouterr().out)["findings"])


def test_an_unlabelled_copy_of_a_revoked_value_is_revoked(tmp_path: Path) -> None:
    """Stores written before one version per rotation hold a username-less copy of each staged value."""
    local = LocalStore(tmp_path / "legacy", key=b"k" * 32, fingerprint_key=Settings.from_env().fingerprint_key())
    local.put("shop/redis", SecretValue(V1), labels=frozenset({Label.CURRENT}), attributes={"username": "u"})
    local.put("shop/redis", SecretValue(V2), run_id="r1")  # staged without the username...
    copy = local.put("shop/redis", SecretValue(V2), attributes={"username": "u"}, run_id="r1")  # ...then again
    local.promote("shop/redis", copy.number, expected_current=1, run_id="r1")
    local.mark_revoked("shop/redis", 1)
    final = local.put("shop/redis", SecretValue(V3), attributes={"username": "u"}, run_id="r2")
    local.promote("shop/redis", final.number, expected_current=copy.number, run_id="r2")
    local.mark_revoked("shop/redis", copy.number)
    by_version = {m.version: m.state for m in fingerprint_index(local).values()}
    assert by_version == {1: "revoked", copy.number: "revoked", final.number: "current"}
    # across secrets the most alarming standing still wins: a retired copy elsewhere is not "revoked"
    local.put("other/secret", SecretValue(V2), labels=frozenset({Label.CURRENT}))
    local.put("other/secret", SecretValue(STRANGER), labels=frozenset({Label.CURRENT}))
    match = fingerprint_index(local)[copy.fingerprint]
    assert (match.secret, match.state) == ("other/secret", "retired")
