"""`rotate`, `resume`, `history`, `compromised` through `secretops.cli.app.run`, on LocalStore + .env files."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretops.cli.app import run
from secretops.rotate.lock import SecretLock
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets.dotenv import parse_dotenv
from secretops.values import FingerprintKey, SecretValue

LOCAL_KEY = "cd" * 32

POLICY = """\
version: 1
issuers:
  django: {kind: app}
  stripe:
    kind: manual
    instructions: Roll the key in the Stripe dashboard.
    url: https://dashboard.stripe.example/apikeys
targets:
  web: {kind: dotenv, path: "%(dir)s/web.env"}
  worker: {kind: dotenv, path: "%(dir)s/worker.env"}
  render-web: {kind: render, service_id: srv-abc}
secrets:
  - name: shop/django
    kind: django-secret-key
    issuer: django
    grace: 0s
    drain: 0s  # .env targets without restart: no drain wait in these tests
    generator: {kind: django-secret-key}
    consumers:
      - {target: web, env: SECRET_KEY}
      - {target: web, env: SECRET_KEY_FALLBACKS, template: "{previous}"}
      - {target: worker, env: SECRET_KEY}
  - name: shop/stripe
    kind: api-key:stripe
    issuer: stripe
    grace: 0s
    drain: 0s  # .env targets without restart: no drain wait in these tests
    generator: {kind: issuer}
    consumers:
      - {target: web, env: STRIPE_KEY}
  - name: shop/on-render
    kind: api-key:other
    issuer: django
    generator: {kind: token}
    consumers:
      - {target: render-web, env: TOKEN}
"""

WEB = "# web settings\nDEBUG=0\nSECRET_KEY='old-django-key'\nSECRET_KEY_FALLBACKS=\nSTRIPE_KEY=sk_test_fakeOLD0000\n"
WORKER = 'export SECRET_KEY="old-django-key"\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(POLICY % {"dir": tmp_path})
    (tmp_path / "web.env").write_text(WEB)
    (tmp_path / "worker.env").write_text(WORKER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY)
    store = _store(tmp_path)
    store.put("shop/django", SecretValue("old-django-key"), labels=frozenset({Label.CURRENT}))
    store.put("shop/stripe", SecretValue("sk_test_fakeOLD0000"), labels=frozenset({Label.CURRENT}))
    return tmp_path


def _store(root: Path) -> LocalStore:
    return LocalStore(
        root / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32))
    )


def env_of(path: Path) -> dict[str, str]:
    return {k: line.value for k, line in parse_dotenv(path.read_text()).items()}


def digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_rotate_app_secret(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rotate", "shop/django"]) == 0
    out = capsys.readouterr().out
    new = _store(project).get("shop/django")
    assert new is not None
    value = new.value.reveal()
    assert len(value) == 50 and value != "old-django-key"
    web = env_of(project / "web.env")
    assert web["SECRET_KEY"] == value and web["SECRET_KEY_FALLBACKS"] == "old-django-key"
    assert env_of(project / "worker.env") == {"SECRET_KEY": value}
    text = (project / "web.env").read_text()
    assert text.startswith("# web settings\nDEBUG=0\nSECRET_KEY=")
    assert (project / "worker.env").read_text().startswith("export SECRET_KEY=")  # quotes kept or made safer
    assert "complete" in out and value not in out
    assert run(["history", "shop/django"]) == 0
    hist = capsys.readouterr().out
    for step in ("generate: done", "distribute web: done", "redeploy worker: done", "promote: done", "complete"):
        assert step in hist
    assert value not in hist and "old-django-key" not in hist
    journal = "".join(p.read_text() for p in (project / ".secretops" / "journal").glob("*.jsonl"))
    assert value not in journal and "old-django-key" not in journal


def test_dry_run_touches_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(project)
    assert run(["rotate", "shop/django", "--dry-run"]) == 0
    assert run(["compromised", "shop/stripe", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert digest(project) == before
    assert "plan for shop/django" in out and "target:web" in out and "set SECRET_KEY" in out
    assert "pause: operator mints a new value" in out
    assert "old-django-key" not in out and "sk_test_fakeOLD0000" not in out


def test_manual_issuer_with_value_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    value_file = project / "new-key.txt"
    value_file.write_text("sk_test_fakeNEW1111\n")
    assert run(["rotate", "shop/stripe", "--value-file", str(value_file), "--yes"]) == 0
    assert env_of(project / "web.env")["STRIPE_KEY"] == "sk_test_fakeNEW1111"
    captured = capsys.readouterr()
    assert "Roll the key in the Stripe dashboard" in captured.err
    assert "cannot prove the previous value dead" in captured.out
    assert "sk_test_fakeNEW1111" not in captured.out + captured.err


def test_compromised_manual_declined_revoke_is_incomplete(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    value_file = project / "new-key.txt"
    value_file.write_text("sk_test_fakeNEW2222\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nobody confirms the revoke
    assert run(["compromised", "shop/stripe", "--value-file", str(value_file)]) == 1
    out = capsys.readouterr().out
    assert "incomplete" in out and "did not confirm" in out and "secretops resume" in out
    assert env_of(project / "web.env")["STRIPE_KEY"] == "sk_test_fakeNEW2222"
    assert run(["resume", "--yes"]) == 0
    assert "complete" in capsys.readouterr().out


def test_usage_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rotate"]) == 2
    assert run(["rotate", "shop/django", "--due"]) == 2
    assert run(["rotate", "nope"]) == 2
    assert "no secret named 'nope'" in capsys.readouterr().err
    assert run(["rotate", "shop/on-render"]) == 2
    assert "environment variable RENDER_API_KEY is not set" in capsys.readouterr().err


def test_lock_gives_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SecretLock(project / ".secretops" / "locks", "shop/django"):
        assert run(["rotate", "shop/django"]) == 1
    assert "being rotated by another run" in capsys.readouterr().err
    assert env_of(project / "worker.env")["SECRET_KEY"] == "old-django-key"


def test_history_empty(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["history"]) == 0
    assert "no runs yet" in capsys.readouterr().out


@pytest.mark.parametrize("step", ["stage", "distribute:worker", "revoke"])
def test_sigkill_then_resume(project: Path, step: str, capsys: pytest.CaptureFixture[str]) -> None:
    env = dict(os.environ, SECRETOPS_TEST_CRASH_AT=step)
    proc = subprocess.run(
        [sys.executable, "-c", "from secretops.cli.app import main; main()", "rotate", "shop/django"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -9, proc.stderr
    assert run(["history"]) == 0
    assert "running" in capsys.readouterr().out
    assert run(["resume"]) == 0
    assert "complete" in capsys.readouterr().out
    value = _store(project).get("shop/django")
    assert value is not None
    assert env_of(project / "worker.env")["SECRET_KEY"] == value.value.reveal()
    assert env_of(project / "web.env")["SECRET_KEY"] == value.value.reveal()
    assert _store(project).get("shop/django", Label.PENDING) is None


def test_rotate_due_and_concurrency(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = project / "policies" / "shop.yaml"
    text = policy.read_text()
    jwt = """\
  - name: shop/jwt
    kind: jwt-hmac
    issuer: django
    grace: 0s
    drain: 0s  # .env targets without restart: no drain wait in these tests
    generator: {kind: jwt-hmac}
    consumers:
      - {target: worker, env: JWT_KEY, new: true}
"""
    # the app secret and a JWT key, both never rotated by us: both due
    policy.write_text(text[: text.index("  - name: shop/stripe")] + jwt)
    assert run(["rotate", "--due", "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert "shop/jwt: run r-" in out and "complete" in out
    assert "shop/django: run r-" in out  # adopted (no rotation yet): never rotated, so due at once
    worker = env_of(project / "worker.env")
    assert len(worker["JWT_KEY"]) == 43 and worker["JWT_KEY"] not in out
    assert run(["rotate", "--due"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_rotate_due_skips_a_secret_another_runner_holds(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = project / "policies" / "shop.yaml"
    text = policy.read_text()
    policy.write_text(text[: text.index("  - name: shop/stripe")])  # shop/django only: due (adopted)
    with SecretLock(project / ".secretops" / "locks", "shop/django"):
        assert run(["rotate", "--due"]) == 0
    out = capsys.readouterr().out
    assert "shop/django: run -: skipped" in out and "another runner is on it" in out
    assert env_of(project / "worker.env")["SECRET_KEY"] == "old-django-key"
    assert run(["audit", "show"]) == 0
    assert "shop/django" not in capsys.readouterr().out, "a skip is not a run: no audit entry"
    assert run(["rotate", "--due"]) == 0  # lock gone: this runner does it
    assert "shop/django: run r-" in capsys.readouterr().out
    assert env_of(project / "worker.env")["SECRET_KEY"] != "old-django-key"


def test_unknown_state_backend_is_exit_2_without_the_password(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SECRETOPS_STATE", "mysql://ops:Sup3r-s3cret-pw@db.internal/state")
    for argv in (["rotate", "shop/django"], ["history"], ["status"], ["audit", "verify"]):
        assert run(argv) == 2, argv
        err = capsys.readouterr().err
        assert "SECRETOPS_STATE" in err and "ops:***@db.internal" in err, err
        assert "Sup3r-s3cret-pw" not in err
    assert env_of(project / "worker.env")["SECRET_KEY"] == "old-django-key"
