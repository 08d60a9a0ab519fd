"""ManualIssuer with a scripted operator, and ConsoleManualInput on stdin, a file and a TTY."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from secretops.errors import ExitCode, IssuerError
from secretops.inventory.models import ManualIssuerSpec, SecretSpec
from secretops.issuers import build_issuer
from secretops.issuers.interface import Credential
from secretops.issuers.manual import ConsoleManualInput, ManualInput, ManualIssuer, ManualStepDeclined
from secretops.values import SecretValue

SPEC = ManualIssuerSpec(
    kind="manual",
    instructions="Roll the secret key in the Stripe dashboard (expire the old one in 24h).",
    revoke_instructions="Expire the old key now.",
    url="https://dashboard.example.test/apikeys",
)
SECRET = SecretSpec(name="shop/stripe", kind="api-key:stripe", issuer="stripe", generator={"kind": "issuer"})


class ScriptedOperator:
    """A `ManualInput` that answers from a script and records what it was shown."""

    def __init__(self, values: list[str], answers: list[bool] | None = None) -> None:
        self.values = values
        self.answers = answers or []
        self.shown: list[str] = []
        self.prompts: list[str] = []

    def instructions(self, text: str) -> None:
        self.shown.append(text)

    def read_value(self, prompt: str) -> SecretValue:
        self.prompts.append(prompt)
        return SecretValue(self.values.pop(0))

    def confirm(self, prompt: str) -> bool:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def test_apply_shows_instructions_and_returns_the_value(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    operator = ScriptedOperator(["sk_test_fake_new_value_123"], [False, True])
    assert isinstance(operator, ManualInput)
    issuer = build_issuer(SPEC, {}, manual_input=operator)
    assert isinstance(issuer, ManualIssuer) and issuer.generates_value and not issuer.verifiable
    old = Credential(SecretValue("sk_test_fake_old_value_999"))
    new = issuer.apply(SECRET, old, SecretValue("ignored"))
    assert new.value == SecretValue("sk_test_fake_new_value_123") and new.attributes == {}
    assert "Stripe dashboard" in operator.shown[0] and str(SPEC.url) in operator.shown[0]
    assert operator.prompts == ["New value for shop/stripe: "]
    assert issuer.check(SECRET, new)  # cannot check: documented True

    with pytest.raises(ManualStepDeclined, match="did not confirm") as declined:
        issuer.revoke(SECRET, old, new)
    assert declined.value.exit_code is ExitCode.FINDINGS
    assert "Expire the old key now." in operator.shown[1]
    issuer.revoke(SECRET, old, new)  # confirmed the second time
    assert "sk_test_fake" not in caplog.text


def test_apply_refuses_the_current_value() -> None:
    operator = ScriptedOperator(["sk_test_same"])
    issuer = build_issuer(SPEC, {}, manual_input=operator)
    with pytest.raises(ManualStepDeclined, match="is the current one") as info:
        issuer.apply(SECRET, Credential(SecretValue("sk_test_same")), None)
    assert "sk_test_same" not in info.value.diagnostics()


def test_console_reads_a_line_from_a_pipe() -> None:
    err = io.StringIO()
    console = ConsoleManualInput(stdin=io.StringIO("sk_test_piped\nyes\n"), stderr=err)
    issuer = build_issuer(SPEC, {}, manual_input=console)
    new = issuer.apply(SECRET, None, None)
    assert new.value == SecretValue("sk_test_piped")
    issuer.revoke(SECRET, Credential(SecretValue("old")), new)
    assert "Go to: https://dashboard.example.test/apikeys" in err.getvalue()
    assert "sk_test_piped" not in err.getvalue()


def test_console_reads_a_value_file(tmp_path: Path) -> None:
    path = tmp_path / "value"
    path.write_text("sk_test_from_file\n")
    console = ConsoleManualInput(value_file=path, stdin=io.StringIO(""), stderr=io.StringIO(), assume_yes=True)
    assert console.read_value("x").reveal() == "sk_test_from_file"
    assert console.confirm("sure?")
    with pytest.raises(ManualStepDeclined, match="cannot read the value file"):
        ConsoleManualInput(value_file=tmp_path / "missing").read_value("x")


def test_console_empty_input_is_declined() -> None:
    console = ConsoleManualInput(stdin=io.StringIO(""), stderr=io.StringIO())
    with pytest.raises(ManualStepDeclined, match="no value was entered"):
        console.read_value("x")
    assert not console.confirm("sure?")


def test_console_uses_getpass_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    seen: list[str] = []

    def fake_getpass(prompt: str, stream: object = None) -> str:
        seen.append(prompt)
        return "sk_test_typed"

    monkeypatch.setattr("secretops.issuers.manual.getpass.getpass", fake_getpass)
    console = ConsoleManualInput(stdin=Tty(), stderr=io.StringIO())
    assert console.read_value("New value: ").reveal() == "sk_test_typed"
    assert seen == ["New value: "]


def test_plan_and_strategies() -> None:
    issuer = build_issuer(SPEC, {}, manual_input=ScriptedOperator([]))
    steps = issuer.plan(SECRET, Credential(SecretValue("old")))
    assert steps[0].action.startswith("pause: operator mints a new value at https://dashboard.example.test")
    assert steps[-1].action == "pause: operator revokes the old value and confirms"
    alternate = SecretSpec(name="x", kind="k", issuer="i", accounts=["a", "b"], strategy="alternate")
    with pytest.raises(IssuerError, match="does not support strategy alternate"):
        issuer.apply(alternate, None, None)
