"""`compromised --from-scan --finding FP` on an inventory secret: rotate, and the truth about consumers.

The leaked value is the current version of `ci/token` (matched by fingerprint, never by value),
consumed by a `.env` and by a Render service whose token is missing, so that target cannot be
switched. Without `--force` nothing is revoked; with it the old value is revoked and the output
and the report name the app left broken.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from secretops.cli.app import run
from secretops.inventory.models import RenderTargetSpec, TargetSpec
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets import Target
from secretops.targets import build_target as real_build_target
from secretops.targets.render import RenderTarget
from secretops.values import FingerprintKey, SecretValue, fingerprint
from tests.fakes.platforms.render import FakeRender
from tests.fakes.revocation import RevocationInternet
from tests.liveness.conftest import crc_token

LOCAL_KEY = "7b" * 32
POLICY = """\
version: 1
issuers:
  app: {kind: app}
targets:
  web: {kind: dotenv, path: "%(dir)s/web.env"}
  render-web: {kind: render, service_id: srv-abc}
secrets:
  - name: ci/token
    kind: api-key:other
    issuer: app
    grace: 1h
    drain: 0s
    generator: {kind: token}
    consumers:
      - {target: web, env: TOKEN}
      - {target: render-web, env: TOKEN}
"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, RevocationInternet]:
    token = crc_token("ghp_")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "ci.yaml").write_text(POLICY % {"dir": tmp_path})
    (tmp_path / "web.env").write_text(f"TOKEN={token}\n")
    (tmp_path / "notes.md").write_text(f"token for the bot: {token}\nanother: {crc_token('ghp_')}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", LOCAL_KEY)
    store = LocalStore(
        tmp_path / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32))
    )
    store.put("ci/token", SecretValue(token), labels=frozenset({Label.CURRENT}))
    store.close()
    net = RevocationInternet()

    def client(timeout: float) -> httpx.Client:
        return net.client()

    monkeypatch.setattr("secretops.incident.run.make_client", client)
    return tmp_path, token, net


def _fake_render(token: str, monkeypatch: pytest.MonkeyPatch) -> FakeRender:
    """A fake Render holding `token` on srv-abc, which the CLI's Render target talks to."""
    render = FakeRender()
    render.add_service("srv-abc", {"TOKEN": token})

    def build_target(name: str, spec: TargetSpec, env: Any, *, base_dir: Path | None = None) -> Target:
        if isinstance(spec, RenderTargetSpec):
            client = httpx.Client(transport=httpx.MockTransport(render.handle))
            return RenderTarget(name, spec, SecretValue(render.token), client=client, sleep=lambda _s: None)
        return real_build_target(name, spec, env, base_dir=base_dir)

    monkeypatch.setattr("secretops.cli.rotate.build_target", build_target)
    return render


def _fingerprint(report: Path, value: str) -> str:
    fp = fingerprint(FingerprintKey(bytes.fromhex("ab" * 32)), value)
    assert fp in {f["fingerprint"] for f in json.loads(report.read_text())["findings"]}
    return fp


def test_force_revokes_and_names_the_app_that_breaks(
    world: tuple[Path, str, RevocationInternet], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, token, net = world
    run(["scan", "--jobs", "1", "--no-progress", "--format", "json", "-o", "report.json", "notes.md"])
    capsys.readouterr()
    fp = _fingerprint(root / "report.json", token)
    args = ["compromised", "--from-scan", "report.json", "--finding", fp, "--report", "incident.md"]

    code = run(args)  # render-web cannot be switched: refuse to revoke
    out, err = capsys.readouterr()
    assert code == 2 and "ci/token (version 1, current)" in out and "issuer app" in out
    assert "RENDER_API_KEY is not set" in err
    assert "web:TOKEN, render-web:TOKEN" in out
    assert net.revocations == []  # matched: the other (unmatched) finding was not acted on
    assert token not in out
    report = (root / "incident.md").read_text()
    assert "OPEN" in report and token not in report

    render = FakeRender()
    render.add_service("srv-abc", {"TOKEN": token})
    real_handle = render.handle

    def refuse_writes(request: httpx.Request) -> httpx.Response:
        if request.method in ("PUT", "POST", "PATCH") and "/env-vars" in request.url.path:
            return httpx.Response(400, json={"message": "env vars are locked"})
        return real_handle(request)

    def build_target(name: str, spec: TargetSpec, env: Any, *, base_dir: Path | None = None) -> Target:
        if isinstance(spec, RenderTargetSpec):
            client = httpx.Client(transport=httpx.MockTransport(refuse_writes))
            return RenderTarget(name, spec, SecretValue(render.token), client=client, sleep=lambda _s: None)
        return real_build_target(name, spec, env, base_dir=base_dir)

    monkeypatch.setattr("secretops.cli.rotate.build_target", build_target)
    code = run([*args, "--force"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "NOT switched: target render-web" in out
    report = (root / "incident.md").read_text()
    assert "| ci/token | render-web | TOKEN | NOT switched: still holds the revoked value (this app breaks) |" in report
    assert "switch target render-web of ci/token by hand" in report
    assert token not in (root / "web.env").read_text()  # the .env was switched
    assert token not in report


def test_finding_fingerprint_alone_rotates_the_inventory_secret_it_matches(
    world: tuple[Path, str, RevocationInternet], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, token, net = world
    render = _fake_render(token, monkeypatch)
    fp = fingerprint(FingerprintKey(bytes.fromhex("ab" * 32)), token)
    code = run(["compromised", "--finding", fp, "--report", "incident.json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert render.services["srv-abc"]["TOKEN"] != token and token not in (root / "web.env").read_text()
    doc = json.loads((root / "incident.json").read_text())
    assert doc["closed"] is True and doc["findings"][0]["secret"] == "ci/token"
    assert {c["target"] for c in doc["consumers"]} == {"web", "render-web"}
    assert net.revocations == [] and token not in (root / "incident.json").read_text()


def test_a_leaked_previous_value_in_its_grace_is_revoked_now(
    world: tuple[Path, str, RevocationInternet], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduled rotation promoted a new value and keeps the old one valid for its 1 h grace;
    the old value then leaks: compromised must revoke it at once, not say "finish the run"."""
    root, token, _net = world
    render = _fake_render(token, monkeypatch)
    assert run(["rotate", "ci/token"]) == 0
    assert "awaiting-revoke" in capsys.readouterr().out
    fp = fingerprint(FingerprintKey(bytes.fromhex("ab" * 32)), token)
    code = run(["compromised", "--finding", fp, "--report", "incident.json"])
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads((root / "incident.json").read_text())
    assert doc["closed"] is True, doc
    assert doc["findings"][0]["secret"] == "ci/token" and doc["findings"][0]["state"] == "dead"
    store = LocalStore(
        root / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex("ab" * 32))
    )
    try:
        state = store.state("ci/token")
        assert state is not None
        (old,) = [v for v in state.versions if v.fingerprint == fp]
        assert old.revoked_at is not None  # revoked now, not after the grace
    finally:
        store.close()
    assert token not in (root / "web.env").read_text() and render.services["srv-abc"]["TOKEN"] != token
