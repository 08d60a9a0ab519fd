"""A `.env` target whose file does not exist: the rotation fails before anything is revoked.

The mistake from issue 9: the app reads `app.env`, the policy says `apps.env`. The rotation
used to create `apps.env`, verify the new password and revoke the one the real file held.
Now the dotenv target refuses to create the file (no `create: true`), the engine rolls back,
and the old value keeps working everywhere.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from secretops.inventory.models import DotenvTargetSpec, NoIssuerSpec
from secretops.rotate.engine import Engine, Outcome, StaticInventory
from secretops.store.interface import Label
from secretops.targets.dotenv import DotenvTarget
from secretops.values import SecretValue
from tests.rotate.conftest import KEY, OLD, URL, World, secret

APP_ENV = f"# app\nDATABASE_URL=postgresql://app_a:{quote(OLD, safe='')}@db.internal:5432/app\n"


def _engine(world: World, specs: dict[str, DotenvTargetSpec]) -> Engine:
    targets = {name: DotenvTarget(name, spec) for name, spec in specs.items()}
    return Engine(
        StaticInventory(world.secrets, {"iss": NoIssuerSpec(kind="app")}, dict(specs)),
        world.store,
        state_dir=world.tmp / "state",
        key=KEY,
        issuer_factory=lambda _n, _s: world.issuer,
        target_factory=lambda n, _s: targets[n],
        clock=world.clock,
    )


def test_a_typo_in_the_path_revokes_nothing_and_creates_nothing(world: World, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text(APP_ENV)
    (tmp_path / "worker.env").write_text(APP_ENV)
    spec = secret(
        consumers=[
            {"target": "worker", "env": "DATABASE_URL", "template": URL},
            {"target": "web", "env": "DATABASE_URL", "template": URL},
        ]
    )
    world.secrets[spec.name] = spec
    world.store.put(spec.name, SecretValue(OLD), attributes={"username": "app_a"}, labels=frozenset({Label.CURRENT}))
    world.issuer.seed("app_a", OLD)
    engine = _engine(
        world,
        {
            "worker": DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "worker.env")),
            "web": DotenvTargetSpec(kind="dotenv", path=str(tmp_path / "apps.env")),  # the app reads app.env
        },
    )
    result = engine.rotate(spec.name)
    # a clean rollback: the file it never wrote is not "restored" (that would fail the same way)
    assert result.outcome is Outcome.ROLLED_BACK and result.exit_code != 0
    assert result.problems == []
    assert world.issuer.works("app_a", OLD), "the value the real app.env holds still logs in"
    assert "revoke" not in world.issuer.calls
    assert not (tmp_path / "apps.env").exists()
    assert (tmp_path / "app.env").read_text() == APP_ENV
    assert (tmp_path / "worker.env").read_text() == APP_ENV, "the target already written was rolled back"
    assert result.failure is not None
    assert (result.failure.step, result.failure.target) == ("distribute", "web")
    assert result.failure.reason == (
        f"dotenv:{tmp_path / 'apps.env'}: {tmp_path / 'apps.env'} does not exist (did you mean app.env?); "
        "refusing to create it"
    )
    assert result.failure.hint == (
        "fix `path` of target 'web' in the policy (did you mean app.env?), "
        "or set `create: true` on the target if secretops should create the file"
    )
