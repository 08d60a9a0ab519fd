"""End to end: the rotation engine distributing an app-held secret through real platform targets.

A DigitalOcean app (web service + worker, on the App Platform fake) and a Render service (on the
Render fake) both consume the secret. The engine builds the targets with `build_target`-like
construction over `httpx.MockTransport`, writes the web and worker components, redeploys, waits
for the deploys, and only then promotes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from secretops.inventory.models import (
    ComponentSpec,
    DigitalOceanTargetSpec,
    IssuerSpec,
    RenderTargetSpec,
    SecretSpec,
    TargetSpec,
)
from secretops.issuers import build_issuer
from secretops.rotate.engine import Engine, Outcome, StaticInventory
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets.digitalocean import DigitalOceanTarget
from secretops.targets.interface import Target
from secretops.targets.render import RenderTarget
from secretops.values import FingerprintKey, SecretValue
from tests.fakes.platforms.digitalocean import FakeDigitalOcean
from tests.fakes.platforms.render import FakeRender

KEY = FingerprintKey(b"e" * 32)
OLD = "old-signing-key-0123456789abcdef"

DO_SPEC: dict[str, Any] = {
    "name": "shop",
    "domains": [{"domain": "shop.example.com"}],
    "services": [{"name": "web", "envs": [{"key": "SIGNING_KEY", "value": OLD, "type": "SECRET"}]}],
    "workers": [
        {
            "name": "worker",
            "envs": [
                {"key": "SIGNING_KEY", "value": OLD, "type": "SECRET"},
                {"key": "QUEUE_PASSWORD", "value": "queue-pass-untouched", "type": "SECRET"},
            ],
        }
    ],
}


def test_engine_rotates_into_digitalocean_web_worker_and_render(tmp_path: Path) -> None:
    do = FakeDigitalOcean()
    do.add_app("app-1", DO_SPEC)
    render = FakeRender()
    render.add_service("srv-api", {"SIGNING_KEY": OLD, "OTHER": "kept"})

    secret = SecretSpec.model_validate(
        {
            "name": "shop/signing-key",
            "kind": "jwt-hmac",
            "issuer": "app",
            "strategy": "overlap",
            "grace": "0s",
            "generator": {"kind": "token", "length": 48},
            "consumers": [
                {"target": "do", "env": "SIGNING_KEY", "components": ["web", "worker"]},
                {"target": "api", "env": "SIGNING_KEY"},
            ],
        }
    )
    targets: dict[str, TargetSpec] = {
        "do": DigitalOceanTargetSpec(
            kind="digitalocean",
            app_id="app-1",
            components=[
                ComponentSpec(name="web", type="service", env=["SIGNING_KEY"]),
                ComponentSpec(name="worker", type="worker", env=["SIGNING_KEY"]),
            ],
        ),
        "api": RenderTargetSpec(kind="render", service_id="srv-api"),
    }
    issuer = TypeAdapter(IssuerSpec).validate_python({"kind": "app"})
    store = LocalStore(tmp_path / "state", key=b"k" * 32, fingerprint_key=KEY)
    store.put(secret.name, SecretValue(OLD), attributes={}, labels=frozenset({Label.CURRENT}))
    built: dict[str, Target] = {}

    def target_factory(name: str, spec: TargetSpec) -> Target:
        def no_wait(_s: float) -> None:
            return None

        target: Target
        if isinstance(spec, DigitalOceanTargetSpec):
            client = httpx.Client(transport=httpx.MockTransport(do.handle))
            target = DigitalOceanTarget(name, spec, SecretValue(do.token), client=client, sleep=no_wait)
        else:
            assert isinstance(spec, RenderTargetSpec)
            client = httpx.Client(transport=httpx.MockTransport(render.handle))
            target = RenderTarget(name, spec, SecretValue(render.token), client=client, sleep=no_wait)
        built[name] = target
        return target

    engine = Engine(
        StaticInventory({secret.name: secret}, {"app": issuer}, targets),
        store,
        state_dir=tmp_path / "state",
        key=KEY,
        issuer_factory=lambda _n, spec: build_issuer(spec, {}),
        target_factory=target_factory,
    )
    result = engine.rotate(secret.name)
    assert result.outcome is Outcome.COMPLETE, result

    current = store.get(secret.name)
    assert current is not None
    new = current.value.reveal()
    assert new != OLD and len(new) == 48

    # Both DigitalOcean components got the new value at component level, and run it.
    assert do.plaintext("app-1", "web", "SIGNING_KEY") == new
    assert do.plaintext("app-1", "worker", "SIGNING_KEY") == new
    assert do.runtime_env("app-1", "web")["SIGNING_KEY"] == new
    assert do.runtime_env("app-1", "worker")["SIGNING_KEY"] == new
    assert do.runtime_env("app-1", "worker")["QUEUE_PASSWORD"] == "queue-pass-untouched"
    assert do.stored_spec("app-1")["domains"] == DO_SPEC["domains"]
    # The deploy the engine awaited went ACTIVE (it polled until then).
    awaited = [d for d in do.deployments.values() if d["phase"] == "ACTIVE"]
    assert awaited and do.apps["app-1"]["active_deployment"] == awaited[-1]["id"]
    assert any(p.startswith("/v2/apps/app-1/deployments/") for _, p in do.calls)

    # Render: per-key write, deploy created and polled until live.
    assert render.services["srv-api"] == {"SIGNING_KEY": new, "OTHER": "kept"}
    assert render.count("PUT", "/v1/services/srv-api/env-vars") == 0
    assert render.deploys["srv-api"][0]["status"] == "live"
    assert render.runtime_env("srv-api")["SIGNING_KEY"] == new

    # No value in the journal.
    journal = "".join(p.read_text() for p in (tmp_path / "state" / "journal").glob("*.jsonl"))
    assert journal and new not in journal and OLD not in journal
