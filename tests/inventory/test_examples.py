"""`policies/examples/` describes the five guide apps, and passes `policy check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.inventory.loader import Inventory, collect
from secretops.inventory.models import (
    DigitalOceanTargetSpec,
    DotenvTargetSpec,
    RenderTargetSpec,
    Strategy,
    VercelTargetSpec,
)

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "policies" / "examples"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    inventory, problems = collect(EXAMPLES)
    assert problems == []
    return inventory


def test_one_file_per_guide_app(inventory: Inventory) -> None:
    guides = {
        p.name.split("-operations")[0].split("-maintenance")[0].split("-deployment")[0]
        for p in (REPO / "docs" / "examples" / "guides").glob("*.md")
    }
    assert (
        {f.stem for f in inventory.files}
        == guides
        == {"budget-ai", "benefits-navigator", "malar-market", "debt-profile", "pimpmycase"}
    )


def test_each_file_passes_alone() -> None:
    for file in sorted(EXAMPLES.glob("*.yaml")):
        assert collect(file)[1] == [], file


def test_benefits_navigator_worker_gets_its_secrets_at_worker_level(inventory: Inventory) -> None:
    target = inventory.targets["benefits-nav-staging"]
    assert isinstance(target, DigitalOceanTargetSpec)
    worker = next(c for c in target.components if c.type == "worker")
    assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "OPENAI_API_KEY"} <= set(worker.env)
    written = {
        c.env
        for s in inventory.secrets.values()
        for c in s.consumers
        if c.target == "benefits-nav-staging" and worker.name in c.components
    }
    assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "OPENAI_API_KEY"} <= written
    migrate = next(c for c in target.components if c.type == "job")
    assert "DATABASE_URL" in migrate.env


def test_guides_shape_is_kept(inventory: Inventory) -> None:
    assert isinstance(inventory.targets["budget-ai-web"], RenderTargetSpec)
    assert inventory.issuers["budget-ai-plaid"].kind == "manual"
    assert inventory.issuers["budget-ai-flask"].kind == "app"
    assert inventory.issuers["budget-ai-neon"].kind == "postgres"
    assert isinstance(inventory.targets["malar-frontend"], VercelTargetSpec)
    assert isinstance(inventory.targets["malar-api"], RenderTargetSpec)
    env = inventory.targets["debt-profile-env"]
    assert isinstance(env, DotenvTargetSpec) and env.restart
    assert inventory.secrets["pimpmycase/jwt-secret"].period.days == 90  # "Quarterly"
    databases = [s for s in inventory.secrets.values() if s.kind == "postgres-password"]
    assert len(databases) == 5
    assert all(s.strategy is Strategy.ALTERNATE and len(s.accounts) == 2 for s in databases)


def test_no_example_holds_a_credential(inventory: Inventory) -> None:
    text = "\n".join(p.read_text() for p in EXAMPLES.glob("*.yaml"))
    assert "npg_" not in text  # the Neon password printed in the Budget AI guide
    assert "sk_live" not in text
