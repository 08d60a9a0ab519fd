"""`compromised --force` advice a person can follow: it names the command that prints the new value."""

from __future__ import annotations

from secretops.rotate.engine import Outcome
from secretops.targets.interface import TargetError
from tests.rotate.conftest import World, secret


def test_force_advice_names_store_show_reveal(world: World) -> None:
    world.add(secret(grace="1h"))
    world.targets["worker"].fail["set DATABASE_URL"] = TargetError("platform said 500")
    result = world.engine().rotate("shop/db", compromised=True, force=True)
    assert result.outcome is Outcome.INCOMPLETE
    assert result.next_step is not None
    assert "switch the targets listed above to the new value by hand" in result.next_step
    assert "`secretops store show shop/db --reveal` prints it" in result.next_step
    assert "secretops store show shop/db --reveal" in result.summary()
    assert world.current() not in result.summary()  # the advice names the command, not the value
