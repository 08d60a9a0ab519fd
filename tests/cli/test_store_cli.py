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


def _env_file(path: Path, *, pw: str = PW, user: str = "shop_a", stripe: bool = True) -> Path:
    """The web target's file (`.env`): DATABASE_URL, DJANGO_SECRET_KEY and, with `stripe`, STRIPE_API_KEY."""
    path.write_text(
        textwrap.dedent(f"""\
        # deployed values
        export DATABASE_URL="postgresql://{user}:{quote(pw, safe="")}@db.internal:5432/shop"
        DJANGO_SECRET_KEY={DJ}  # web only
        """)
        + (f"STRIPE_API_KEY='{STRIPE}'\n" if stripe else "")
    )
    return path


def _worker_file(path: Path, *, pw: str = PW, user: str = "shop_a") -> Path:
    """The worker target's file (`worker.env`): DB_PASSWORD and DB_USER."""
    path.write_text(f"DB_PASSWORD='{pw}'\nDB_USER={user}\n")
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


def _rows(out: str) -> dict[str, str]:
    return {line.split()[1]: line for line in out.splitlines() if line.split()[:1] and line[0] != " "}


def test_import_reads_every_target_then_unchanged(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _env_file(project / ".env")
    _worker_file(project / "worker.env")
    assert run(["store", "import"]) == 0
    out, err = capsys.readouterr()
    _no_values(out + err)
    rows = _rows(out)
    assert rows["shop/database"].startswith("imported")
    assert "web:DATABASE_URL,worker:DB_PASSWORD,worker:DB_USER" in rows["shop/database"]
    assert rows["shop/django-key"].startswith("imported") and rows["shop/stripe"].startswith("imported")
    assert out.splitlines()[-1] == "3 imported"

    store = _local(project)
    db = store.get("shop/database")
    assert db is not None and db.value.reveal() == PW and dict(db.version.attributes) == {"username": "shop_a"}

    assert run(["store", "import"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1] == "3 unchanged"
    state = store.state("shop/database")
    assert state is not None and len(state.versions) == 1


def test_import_from_env_file_applies_to_its_own_consumers(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env_file(project / ".env")
    _worker_file(project / "worker.env", pw=PW + "-worker-differs")  # not read: its target is not .env
    assert run(["store", "import", "--from-env-file", str(env)]) == 0
    out, _ = capsys.readouterr()
    _no_values(out)
    rows = _rows(out)
    assert rows["shop/database"].startswith("imported") and "web:DATABASE_URL  stored" in rows["shop/database"]
    assert f"not read: worker:DB_PASSWORD, worker:DB_USER: its target is not {env}" in out
    db = _local(project).get("shop/database")
    assert db is not None and db.value.reveal() == PW


def test_a_consumer_key_missing_from_its_target_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _env_file(project / ".env", stripe=False)
    _worker_file(project / "worker.env")
    assert run(["store", "import"]) == 1
    out, _ = capsys.readouterr()
    assert f"missing: web:STRIPE_API_KEY: STRIPE_API_KEY is not in {Path('.env')}" in out
    assert out.splitlines()[-1] == "2 imported, 1 not-found; 1 consumer key(s) missing from the target"
    assert run(["store", "import", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    stripe = next(r for r in doc["results"] if r["secret"] == "shop/stripe")
    assert stripe["missing"] == [{"consumer": "web:STRIPE_API_KEY", "reason": "STRIPE_API_KEY is not in .env"}]


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
    assert by["shop/stripe"]["consumers"] == ["web:STRIPE_API_KEY"]
    assert by["shop/stripe"]["fingerprint"].startswith("hmac-sha256:")
    assert by["shop/database"]["status"] == "not-found"


def test_a_file_that_is_no_target_needs_secret(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = project / "from-the-dashboard.env"
    dump.write_text(f"STRIPE_API_KEY={STRIPE}\nDJANGO_SECRET_KEY={DJ}\n")
    assert run(["store", "import", "--from-env-file", str(dump)]) == 2
    err = capsys.readouterr().err
    assert "is not the file of any dotenv target" in err and "--secret NAME" in err
    assert run(["store", "import", "--from-env-file", str(dump), "--secret", "shop/stripe"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1 imported" and "shop/django-key" not in out
    assert _local(project).names() == ["shop/stripe"]


def test_dry_run_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env_file(project / ".env")
    assert run(["store", "import", "--from-env-file", str(env), "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    _no_values(out)
    assert "would import" in out and out.rstrip().endswith("(dry run)")
    assert not (project / ".secretops").exists()


def test_conflicts_and_differences_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _env_file(project / ".env")
    _worker_file(project / "worker.env", pw="other")
    assert run(["store", "import"]) == 1
    out, _ = capsys.readouterr()
    _no_values(out)
    assert "conflicting" in out and "consumers disagree on value" in out
    assert "web:DATABASE_URL holds hmac-sha256:" in out and "worker:DB_PASSWORD holds hmac-sha256:" in out
    assert _local(project).state("shop/database") is None

    _worker_file(project / "worker.env")
    assert run(["store", "import"]) == 0
    _env_file(project / ".env", pw=PW + "-rotated-by-hand")
    _worker_file(project / "worker.env", pw=PW + "-rotated-by-hand")
    assert run(["store", "import"]) == 1
    out, _ = capsys.readouterr()
    assert "differs" in out and "--overwrite" in out
    assert run(["store", "import", "--overwrite"]) == 0
    current = _local(project).get("shop/database")
    assert current is not None and current.value.reveal() == PW + "-rotated-by-hand"


def test_import_takes_at_most_one_source(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["store", "import", "--from-environment", "--from-env-file", ".env"]) == 2
    assert "at most one of --from-env-file" in capsys.readouterr().err


def test_bad_env_file_is_usage_error_without_the_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = project / ".env"
    env.write_text(f"DB_PASSWORD={PW}\n{DJ}\n")
    assert run(["store", "import", "--from-env-file", str(env)]) == 2
    err = capsys.readouterr().err
    assert f"{env}:2: not a KEY=value line" in err
    _no_values(err)
    assert run(["store", "import"]) == 2  # the same file read as the web target
    err = capsys.readouterr().err
    assert ".env:2: not a KEY=value line" in err
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


# ---------------------------------------------------------------- store show


def _imported(project: Path) -> LocalStore:
    _env_file(project / ".env")
    _worker_file(project / "worker.env")
    assert run(["store", "import"]) == 0
    return _local(project)


def _access_lines(project: Path) -> list[dict[str, object]]:
    path = project / ".secretops" / "journal" / "access.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_show_prints_metadata_never_a_value(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _imported(project)
    capsys.readouterr()
    version = store.get("shop/database")
    assert version is not None
    assert run(["store", "show", "shop/database"]) == 0
    out = capsys.readouterr().out
    _no_values(out)
    assert "secret       shop/database" in out and "last rotated never" in out
    assert f"v1    current   {version.version.fingerprint}" in out
    assert "(adopted or stored by hand)" in out and "username=shop_a" in out
    assert run(["store", "show", "shop/database", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["versions"][0]["fingerprint"] == version.version.fingerprint
    _no_values(json.dumps(doc))
    assert _access_lines(project) == []  # metadata is no access to the value


def test_reveal_refuses_without_a_terminal(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _imported(project)
    capsys.readouterr()
    assert run(["store", "show", "shop/database", "--reveal"]) == 2
    out, err = capsys.readouterr()
    _no_values(out + err)
    assert "stdout is not a terminal" in err and "--reveal --yes" in err
    assert _access_lines(project) == []


def test_reveal_with_yes_prints_the_value_and_records_who(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = _imported(project)
    capsys.readouterr()
    monkeypatch.setenv("LOGNAME", "alice-oncall")
    with caplog.at_level("DEBUG"):
        assert run(["store", "show", "shop/database", "--reveal", "--yes"]) == 0
    out, err = capsys.readouterr()
    assert out == PW + "\n"  # the value alone on stdout
    assert PW not in err and "the access is recorded" in err
    assert PW not in caplog.text and quote(PW, safe="") not in caplog.text
    (entry,) = _access_lines(project)
    current = store.get("shop/database")
    assert current is not None
    assert entry["event"] == "revealed" and entry["secret"] == "shop/database"
    assert entry["user"] == "alice-oncall" and entry["version"] == 1
    assert entry["fingerprint"] == current.version.fingerprint and entry["tty"] is False
    assert str(entry["ts"]).endswith("+00:00")
    _no_values((project / ".secretops" / "journal" / "access.jsonl").read_text())
    assert run(["history"]) == 0  # the access log is not mistaken for a rotation run
    assert "no runs yet" in capsys.readouterr().out


def test_reveal_on_a_terminal_needs_no_yes(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _imported(project)
    capsys.readouterr()
    monkeypatch.setattr("secretops.cli.store._stdout_is_terminal", lambda: True)
    assert run(["store", "show", "shop/django-key", "--reveal"]) == 0
    assert capsys.readouterr().out == DJ + "\n"
    (entry,) = _access_lines(project)
    assert entry["tty"] is True and entry["secret"] == "shop/django-key"


def test_show_usage_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _imported(project)
    capsys.readouterr()
    assert run(["store", "show", "shop/nope"]) == 2
    err = capsys.readouterr().err
    assert "the store has no secret 'shop/nope'" in err and "shop/database" in err
    assert run(["store", "show", "shop/database", "--yes"]) == 2
    assert "--yes only applies to --reveal" in capsys.readouterr().err
    assert run(["store", "show", "shop/database", "--reveal", "--yes", "--json"]) == 2
    assert run(["store", "show"]) == 2
    assert _access_lines(project) == []


def test_reveal_with_no_current_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _local(project).put("shop/database", SecretValue(PW), run_id="r-staged")  # pending only
    assert run(["store", "show", "shop/database", "--reveal", "--yes"]) == 2
    out, err = capsys.readouterr()
    assert "has no current version" in err and PW not in out + err
    assert _access_lines(project) == []


@pytest.mark.vault
def test_show_and_reveal_against_vault(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, bao_server: BaoServer
) -> None:
    settings = bao_server.settings()
    monkeypatch.setenv("VAULT_ADDR", bao_server.addr)
    monkeypatch.setenv("VAULT_TOKEN", bao_server.root_token)
    monkeypatch.setenv("SECRETOPS_VAULT_PREFIX", settings.prefix)
    _env_file(project / ".env")
    _worker_file(project / "worker.env")
    assert run(["store", "import"]) == 0
    capsys.readouterr()
    assert run(["store", "show", "shop/database"]) == 0
    out = capsys.readouterr().out
    _no_values(out)
    assert "v1    current" in out
    assert run(["store", "show", "shop/database", "--reveal", "--yes"]) == 0
    assert capsys.readouterr().out == PW + "\n"
    (entry,) = _access_lines(project)  # recorded in the local state directory, beside the journal
    assert entry["secret"] == "shop/database" and entry["event"] == "revealed"
