"""Dashboard-only credentials (Stripe, OpenAI user keys): a person mints and revokes the value.

The run pauses: `apply` shows the policy's instructions (and URL) and reads the new value
through a `ManualInput`; `revoke` shows `revoke_instructions` and waits for confirmation. The
default `ConsoleManualInput` reads the value from a file (`--value-file`), else from the
terminal without echo (`getpass`), else one line of standard input.

A manual issuer cannot check a credential: `check` returns True and `verifiable` is False,
so the engine relies on the consumers' health checks instead (and cannot prove the old value
dead).
"""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Protocol, TextIO, runtime_checkable

from secretops.errors import ExitCode, IssuerError
from secretops.inventory.models import ManualIssuerSpec, SecretSpec, Strategy
from secretops.issuers._common import require_strategy
from secretops.issuers.interface import Credential, Issuer, PlanStep
from secretops.values import SecretValue

__all__ = ["ConsoleManualInput", "ManualInput", "ManualIssuer", "ManualStepDeclined"]

log = logging.getLogger(__name__)


class ManualStepDeclined(IssuerError):
    """The operator did not give a value or did not confirm a step: the rotation stays incomplete."""

    exit_code = ExitCode.FINDINGS


@runtime_checkable
class ManualInput(Protocol):
    """How a manual step talks to the operator (the CLI's console, or a test double)."""

    def instructions(self, text: str) -> None:
        """Show `text` (what to do, where) to the operator."""

    def read_value(self, prompt: str) -> SecretValue:
        """Read the new secret value; raise `ManualStepDeclined` when none is given."""

    def confirm(self, prompt: str) -> bool:
        """Ask a yes/no question; True when the operator confirms."""


class ConsoleManualInput:
    """`ManualInput` on the console: instructions to stderr, the value from a file, getpass or stdin.

    `value_file` (the CLI's `--value-file`) wins; otherwise a TTY is read with `getpass` (no
    echo) and a pipe gives one line. `assume_yes` answers confirmations without asking (the
    CLI's `--yes`), since a pipe cannot be asked.
    """

    def __init__(
        self,
        *,
        value_file: Path | None = None,
        stdin: TextIO | None = None,
        stderr: TextIO | None = None,
        assume_yes: bool = False,
    ) -> None:
        self.value_file = value_file
        self._in = stdin if stdin is not None else sys.stdin
        self._err = stderr if stderr is not None else sys.stderr
        self.assume_yes = assume_yes

    def instructions(self, text: str) -> None:
        """Print `text` to stderr (stdout may be piped into a report)."""
        print(text, file=self._err, flush=True)

    def read_value(self, prompt: str) -> SecretValue:
        """The value from `value_file`, else the terminal (no echo), else a line of stdin."""
        if self.value_file is not None:
            try:
                raw = self.value_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ManualStepDeclined(
                    f"cannot read the value file {self.value_file}: {exc.strerror}", hint="check the path"
                ) from None
            value = raw.rstrip("\r\n")
        elif self._in.isatty():
            value = getpass.getpass(prompt, stream=self._err)
        else:
            print(prompt, file=self._err, flush=True)
            value = self._in.readline().rstrip("\r\n")
        if not value.strip():
            raise ManualStepDeclined("no value was entered", hint="paste the new value, or pass --value-file PATH")
        return SecretValue(value)

    def confirm(self, prompt: str) -> bool:
        """True with `assume_yes`; else ask and accept `y`/`yes` (a pipe gives one line)."""
        if self.assume_yes:
            return True
        print(f"{prompt} [y/N] ", end="", file=self._err, flush=True)
        answer = self._in.readline()
        return answer.strip().lower() in {"y", "yes"}


class ManualIssuer(Issuer):
    """A credential minted and revoked by a person in a vendor dashboard."""

    kind: ClassVar[str] = "manual"
    strategies: ClassVar[frozenset[Strategy]] = frozenset({Strategy.OVERLAP, Strategy.REPLACE})
    generates_value: ClassVar[bool] = True
    verifiable: ClassVar[bool] = False

    def __init__(
        self, spec: ManualIssuerSpec, env: Mapping[str, str], *, manual_input: ManualInput | None = None
    ) -> None:
        self.spec = spec
        self._env = env
        self.input: ManualInput = manual_input if manual_input is not None else ConsoleManualInput()

    def _text(self, secret: SecretSpec, body: str) -> str:
        lines = [f"Manual step for secret {secret.name}:", body.strip()]
        if self.spec.url:
            lines.append(f"Go to: {self.spec.url}")
        return "\n".join(lines)

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """Pause for the operator to mint the value, and later to revoke the old one."""
        require_strategy(self.kind, secret, self.strategies)
        actor = f"issuer:{self.kind}"
        where = f" at {self.spec.url}" if self.spec.url else ""
        steps = [PlanStep(actor, f"pause: operator mints a new value{where}", "value read from stdin or --value-file")]
        if secret.strategy is Strategy.REPLACE:
            steps.insert(0, PlanStep(actor, "warning", "consumers fail until redeployed"))
        steps.append(PlanStep(actor, "no credential check possible", "relies on the consumers' health checks"))
        if current is not None:
            steps.append(PlanStep(actor, "pause: operator revokes the old value and confirms", "after the grace"))
        return steps

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """Show the instructions and read the value the operator minted (`proposed` is ignored)."""
        require_strategy(self.kind, secret, self.strategies)
        self.input.instructions(self._text(secret, self.spec.instructions))
        value = self.input.read_value(f"New value for {secret.name}: ")
        if current is not None and value == current.value:
            raise ManualStepDeclined(
                f"{secret.name}: the value entered is the current one",
                hint="mint a new value in the dashboard, then enter that one",
            )
        log.info("manual: operator entered a new value for %s", secret.name)
        return Credential(value)

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """Always True: a manual issuer has no way to log in. See `verifiable`."""
        return True

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """Show the revoke instructions and wait for the operator's confirmation.

        Raises `ManualStepDeclined` when the operator does not confirm, so the run stays
        incomplete and a later resume asks again.
        """
        require_strategy(self.kind, secret, self.strategies)
        body = self.spec.revoke_instructions or "Revoke (or roll) the old value in the vendor dashboard."
        self.input.instructions(self._text(secret, body))
        if not self.input.confirm(f"Has the old value of {secret.name} been revoked?"):
            raise ManualStepDeclined(
                f"{secret.name}: the operator did not confirm that the old value is revoked",
                hint="revoke it in the dashboard, then run `secretops resume`",
            )
        log.info("manual: operator confirmed the old value of %s is revoked", secret.name)
