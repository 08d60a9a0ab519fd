"""A small world for engine tests: fake issuer and targets, an in-memory store, a movable clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from secretops.inventory.models import DotenvTargetSpec, NoIssuerSpec, SecretSpec
from secretops.rotate.engine import Engine, StaticInventory, StepHook
from secretops.store.interface import Label
from secretops.values import FingerprintKey, SecretValue
from tests.fakes.issuer import FakeIssuer
from tests.fakes.memstore import MemStore
from tests.fakes.target import FakeTarget

KEY = FingerprintKey(b"t" * 32)
OLD = "old-Passw0rd-xyz"
URL = "postgresql://{username}:{password|url}@db.internal:5432/app"


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def secret(**kw: Any) -> SecretSpec:
    """A secret consumed by `web` (DATABASE_URL) and `worker` (DATABASE_URL and DB_PASSWORD)."""
    base: dict[str, Any] = {
        "name": "shop/db",
        "kind": "postgres-password",
        "issuer": "iss",
        "accounts": ["app_a"],
        "strategy": "overlap",
        "grace": "0s",
        "consumers": [
            {"target": "web", "env": "DATABASE_URL", "template": URL},
            {"target": "worker", "env": "DATABASE_URL", "template": URL},
            {"target": "worker", "env": "DB_PASSWORD"},
        ],
    }
    base.update(kw)
    return SecretSpec.model_validate(base)


class Timer:
    """A monotonic clock that only `sleep` moves (health-check retries without waiting)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.slept += seconds


@dataclass
class World:
    """Everything an engine test touches."""

    tmp: Path
    issuer: FakeIssuer = field(default_factory=FakeIssuer)
    store: MemStore = field(default_factory=lambda: MemStore(KEY))
    clock: Clock = field(default_factory=Clock)
    targets: dict[str, FakeTarget] = field(
        default_factory=lambda: {"web": FakeTarget("web"), "worker": FakeTarget("worker")}
    )
    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    http: httpx.Client | None = None
    timer: Timer = field(default_factory=lambda: Timer())

    def add(self, spec: SecretSpec, *, seed: bool = True, account: str | None = None) -> SecretSpec:
        """Declare `spec`; with `seed`, the old value is current in the store, valid and deployed."""
        self.secrets[spec.name] = spec
        if seed:
            user = account or (spec.accounts[0] if spec.accounts else "app")
            self.store.put(
                spec.name, SecretValue(OLD), attributes={"username": user}, labels=frozenset({Label.CURRENT})
            )
            self.issuer.seed(user, OLD)
            fields = {"username": user, "value": OLD, "previous": ""}
            from secretops.inventory.templates import Template

            for c in spec.consumers:
                self.targets[c.target].seed(c.env, Template(c.template).render(fields))
        return spec

    def engine(self, hook: StepHook | None = None, **kw: Any) -> Engine:
        """A fresh engine over this world (a new process after a crash, in effect)."""
        inventory = StaticInventory(
            self.secrets,
            {"iss": NoIssuerSpec(kind="app")},
            {n: DotenvTargetSpec(kind="dotenv", path=f"/nonexistent/{n}") for n in self.targets},
        )
        return Engine(
            inventory,
            self.store,
            state_dir=self.tmp / "state",
            key=KEY,
            issuer_factory=lambda _n, _s: self.issuer,
            target_factory=lambda n, _s: self.targets[n],
            clock=self.clock,
            hook=hook,
            http=self.http,
            health_sleep=self.timer.sleep,
            health_monotonic=self.timer.monotonic,
            **kw,
        )

    def env(self, target: str, key: str = "DATABASE_URL") -> str:
        """What a target holds for `key`."""
        from secretops.targets.interface import EnvRef

        return self.targets[target].env[EnvRef(key)]

    def current(self, name: str = "shop/db") -> str:
        """The store's current value."""
        got = self.store.get(name)
        assert got is not None
        return got.value.reveal()

    def journal_text(self) -> str:
        """Every journal line of every run."""
        return "".join(p.read_text() for p in sorted((self.tmp / "state" / "journal").glob("*.jsonl")))


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A fresh world."""
    return World(tmp_path)


Factory = Callable[..., SecretSpec]
