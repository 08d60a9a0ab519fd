"""`secretops store import` and `secretops store list` through `run()`, as a user sees them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from secretops.cli.app import run
from secretops.store import Label, LocalStore
from secretops.values import SecretValue
from tests.store.conftest import FP_KEY, LOCAL_KEY, BaoServer

PW = "cli-fake-pw:Gq7/x@z"
DJ = "django-insecure-cli-fake-key-98765"
STRIPE = "sk_test_FAKEFAKEFAKEcli000000000"

POLICY = """
version: 1
issuers:
  pg: {kind: postgres, admin_dsn_env: PG_ADMIN_DSN}
  django: {kind: app}
  stripe: {kind: manual, instructions: "mint a key in the dashboard"}
targets:
  web: {kind: dotenv, path: .env}
  worker: {kind: dotenv, path: worker.env}
secrets:
  - name: shop/database
    kind: postgres-password
    issuer: pg
    accounts: [shop_a, shop_b]
    strategy: alternate
    consumers:
      - {target: web, env: DATABASE_URL, template: "postgresql://{username}:{password|url}@db.internal:5432/shop"}
      - {target: worker, env: DB_PASSWORD}
      - {target: worker, env: DB_USER, template: "{username}"}
  - name: shop/django-key
    kind: django-secret-key
    issuer: django
    consumers:
      - {target: web, env: DJANGO_SECRET_KEY}
  - name: shop/stripe
    kind: api-key:stripe
    issuer: stripe
    strategy: replace
    accept_downtime: true
    consumers:
      - {target: web, env: STRIPE_API_KEY}
"""


def _env_file(path: Path, *, pw: str = PW, user: str = "shop_a") -> Path:
    path.write_text(
        textwrap.dedent(f"""\
        # deployed values
        export DATABASE_URL="postgresql://{user}:{quote(pw, safe="")}@db.internal:5432/shop"
        DB_PASSWORD='{pw}'
        DB_USER={user}
        DJANGO_SECRET_KEY={DJ}  # web only
        """)
    )
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY.hex())
    monkeypatch.setenv("SECRETOPS_FINGERPRINT_KEY", "07" * 32)  # = FP_KEY
    return tmp_path


def _local(project: Path) -> LocalStore:
    return LocalStore(project / ".secretops", key=LOCAL_KEY, fingerprint_key=FP_KEY)


def _no_values(text: str) -> None:
    for value in (PW, quote(PW, safe=""), DJ, STRIPE):
        assert value not in text


def test_import_from_env_file_then_unchanged(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env_file(project / ".env")
    assert run(["store", "import", "--from-env-file", str(env)]) == 0
    out, err = capsys.readouterr()
    _no_values(out + err)
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith(("imported", "not-found"))}
    assert lines["shop/database"].startswith("imported")
    assert "DATABASE_URL,DB_PASSWORD,DB_USER" in lines["shop/database"]
    assert lines["shop/django-key"].startswith("imported")
    assert lines["shop/stripe"].startswith("not-found")
    assert out.splitlines()[-1] == "2 imported, 1 not-found"

    store = _local(project)
    db = store.get("shop/database")
    assert db is not None and db.value.reveal() == PW and dict(db.version.attributes) == {"username": "shop_a"}

    assert run(["store", "import", "--from-env-file", str(env)]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1] == "2 unchanged, 1 not-found"
    state = store.state("shop/database")
    assert state is not None and len(state.versions) == 1


def test_import_from_environment_json(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE)
    assert run(["store", "import", "--from-environment", "--json"]) == 0
    out, _ = capsys.readouterr()
    _no_values(out)
    doc = json.loads(out)
    by = {r["secret"]: r for r in doc["results"]}
    assert by["shop/stripe"]["status"] == "imported" and by["shop/stripe"]["version"] == 1
    assert by["shop/stripe"]["fingerprint"].startswith("hmac-sha256:")
    assert by["shop/database"]["status"] == "not-found"


def test_dry_run_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env_file(project / ".env")
    assert run(["store", "import", "--from-env-file", str(env), "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    _no_values(out)
    assert "would import" in out and out.rstrip().endswith("(dry run)")
    assert not (project / ".secretops").exists()


def test_conflicts_and_differences_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = project / ".env"
    env.write_text(f"DATABASE_URL=postgresql://shop_a:{quote(PW, safe='')}@db.internal:5432/shop\nDB_PASSWORD=other\n")
    assert run(["store", "import", "--from-env-file", str(env)]) == 1
    out, _ = capsys.readouterr()
    _no_values(out)
    assert "conflicting" in out and "disagree on value" in out
    assert _local(project).names() == []

    _env_file(env)
    assert run(["store", "import", "--from-env-file", str(env)]) == 0
    _env_file(env, pw=PW + "-rotated-by-hand")
    assert run(["store", "import", "--from-env-file", str(env)]) == 1
    out, _ = capsys.readouterr()
    assert "differs" in out and "--overwrite" in out
    assert run(["store", "import", "--from-env-file", str(env), "--overwrite"]) == 0
    current = _local(project).get("shop/database")
    assert current is not None and current.value.reveal() == PW + "-rotated-by-hand"


@pytest.mark.parametrize("args", [[], ["--from-environment", "--from-env-file", ".env"]])
def test_import_needs_exactly_one_source(project: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert run(["store", "import", *args]) == 2
    assert "exactly one of --from-env-file" in capsys.readouterr().err


def test_bad_env_file_is_usage_error_without_the_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = project / ".env"
    env.write_text(f"DB_PASSWORD={PW}\n{DJ}\n")
    assert run(["store", "import", "--from-env-file", str(env)]) == 2
    err = capsys.readouterr().err
    assert f"{env}:2: not a KEY=value line" in err
    _no_values(err)


def test_bad_policy_is_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "policies" / "shop.yaml").write_text("version: 1\nsecrets:\n  - name: x\n")
    env = _env_file(project / ".env")
    assert run(["store", "import", "--from-env-file", str(env)]) == 2
    assert "problem" in capsys.readouterr().err


def test_store_list(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["store", "list"]) == 0
    assert "empty" in capsys.readouterr().out
    store = _local(project)
    n1 = store.put(
        "shop/database", SecretValue(PW), attributes={"username": "shop_a"}, labels=frozenset({Label.CURRENT})
    )
    n2 = store.put("shop/database", SecretValue(PW + "2"), run_id="run-7")
    store.promote("shop/database", n2.number, expected_current=n1.number, run_id="run-7")
    store.mark_revoked("shop/database", n1.number)
    assert run(["store", "list"]) == 0
    out = capsys.readouterr().out
    _no_values(out)
    rows = out.splitlines()
    assert rows[0].split()[:4] == ["NAME", "VERSION", "LABELS", "FINGERPRINT"]
    assert rows[1].split()[:4] == ["shop/database", "1", "previous", n1.fingerprint]
    assert rows[2].split()[:4] == ["shop/database", "2", "current", n2.fingerprint]
    assert rows[1].split()[-1] != "-" and rows[2].split()[-1] == "-"  # revoked column
    assert run(["store", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["name"] == "shop/database" and doc[0]["last_run_id"] == "run-7"
    assert [v["labels"] for v in doc[0]["versions"]] == [["previous"], ["current"]]
    assert doc[0]["versions"][0]["attributes"] == {"username": "shop_a"}


def test_world_readable_key_file_through_cli(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRETOPS_LOCAL_KEY")
    env = _env_file(project / ".env")
    assert run(["store", "import", "--from-env-file", str(env)]) == 0
    key = project / ".secretops" / "local.key"
    key.chmod(0o644)
    assert run(["store", "list"]) == 2
    assert f"chmod 600 {key}" in capsys.readouterr().err


# ---------------------------------------------------------------- against OpenBao


@pytest.mark.vault
def test_import_and_list_against_vault(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, bao_server: BaoServer
) -> None:
    settings = bao_server.settings()
    monkeypatch.setenv("VAULT_ADDR", bao_server.addr)
    monkeypatch.setenv("VAULT_TOKEN", bao_server.root_token)
    monkeypatch.setenv("SECRETOPS_VAULT_PREFIX", settings.prefix)
    env = _env_file(project / ".env")
    assert run(["store", "import", "--from-env-file", str(env)]) == 0
    assert run(["store", "list"]) == 0
    out = capsys.readouterr().out
    _no_values(out)
    assert "shop/database" in out and "shop/django-key" in out
    assert not (project / ".secretops").exists()  # the local store was not used


@pytest.mark.vault
def test_vault_errors_map_to_exit_codes(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, bao_server: BaoServer
) -> None:
    from tests.helpers import free_port

    env = _env_file(project / ".env")
    monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("VAULT_TOKEN", "fake-token")
    assert run(["store", "import", "--from-env-file", str(env)]) == 4
    assert "cannot reach Vault" in capsys.readouterr().err

    created = bao_server.bao("token", "create", "-policy=default", "-format=json")
    token = json.loads(created.stdout)["auth"]["client_token"]
    monkeypatch.setenv("VAULT_ADDR", bao_server.addr)
    monkeypatch.setenv("VAULT_TOKEN", token)
    assert run(["store", "import", "--from-env-file", str(env)]) == 3
    err = capsys.readouterr().err
    assert "permission denied" in err
    _no_values(err)
    assert token not in err
