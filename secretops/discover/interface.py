"""What every `secretops discover` source parser exchanges: evidence, never values.

A parser reads one kind of file (a Render blueprint, a DigitalOcean app spec, a markdown ops
guide, ...) and returns a `Discovery`: the env vars it saw (`EnvUse`), the components that run
(`ComponentUse`), the deploy targets it could name (`TargetUse`) and loose facts (`Fact`: the
framework, a health URL, a vendor whose key the guide rotates). Every item carries `Evidence`
(file, line, what was seen) so the draft can say where each line came from.

An example value seen next to a variable (`DATABASE_URL=postgresql://...@x.neon.tech/db`) is
kept as `EnvUse.host`, the host only: parsers never keep a value. Credentials are the scanner's
business (`secretops.discover.engine` runs it on the same files).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from secretops.errors import SecretOpsError

__all__ = [
    "ComponentType",
    "ComponentUse",
    "DiscoverError",
    "Discovery",
    "EnvUse",
    "Evidence",
    "Fact",
    "Level",
    "SourceParser",
    "TargetUse",
]

Level = Literal["app", "component"]
ComponentType = Literal["service", "worker", "job", "static_site", "function", "cron"]


class DiscoverError(SecretOpsError):
    """A discover input cannot be read or written (the seam's base error)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where something was seen: `path:line`, and what it was."""

    path: str
    line: int
    note: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.note}"


@dataclass(frozen=True, slots=True)
class EnvUse:
    """One env var a source names.

    `platform` is the target kind the source configures (`render`, `digitalocean`, `vercel`,
    `dotenv`, `github`, `heroku`, `kubernetes`; None when the source does not say), `target`
    the platform object it belongs to (a Render service name, a compose env file, a k8s Secret),
    `component` the component reading it and `level` whether the source sets it app-wide or on
    that component. `secret` is what the source declares (`type: SECRET`, `sync: false`,
    `${{ secrets.X }}`, a table's "Secret" column): True, False (plain), or None (not said).
    `host` is the host of an example URL value, the only part of a value ever kept.
    """

    name: str
    evidence: Evidence
    platform: str | None = None
    target: str | None = None
    component: str | None = None
    level: Level | None = None
    secret: bool | None = None
    host: str | None = None
    scheme: str | None = None
    generated: bool = False


@dataclass(frozen=True, slots=True)
class ComponentUse:
    """A component (web service, worker, job, cron) that runs on `platform`."""

    name: str
    type: ComponentType
    evidence: Evidence
    platform: str | None = None
    target: str | None = None


@dataclass(frozen=True, slots=True)
class TargetUse:
    """A deploy target a source names, with the identifiers it gives (`app_id`, `project`, ...)."""

    platform: str
    evidence: Evidence
    name: str | None = None
    ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Fact:
    """A loose fact: `framework` (django, flask, fastapi), `health` (URL), `health-contains`,
    `vendor` (a vendor whose key the text rotates), `database` (postgres, mysql), `db-host`,
    `db-name`, `db-user`, `api-password` (a partner API's account password), `compose-command`,
    `component-reads` (value `component:ENV`), `app` (the app's name)."""

    key: str
    value: str
    evidence: Evidence


@dataclass(slots=True)
class Discovery:
    """Everything one or more sources said."""

    envs: list[EnvUse] = field(default_factory=list)
    components: list[ComponentUse] = field(default_factory=list)
    targets: list[TargetUse] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def extend(self, other: Discovery) -> None:
        """Add what `other` found."""
        self.envs.extend(other.envs)
        self.components.extend(other.components)
        self.targets.extend(other.targets)
        self.facts.extend(other.facts)
        self.sources.extend(s for s in other.sources if s not in self.sources)

    def facts_of(self, key: str) -> list[Fact]:
        """The facts with `key`, in the order they were found."""
        return [f for f in self.facts if f.key == key]


class SourceParser(ABC):
    """Reads one kind of file into a `Discovery`."""

    id: ClassVar[str]

    @abstractmethod
    def matches(self, path: Path) -> bool:
        """Whether `path` is a file this parser reads (by name and location)."""

    @abstractmethod
    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        """What `text` (the file `display`, starting after `line_offset` lines) declares.

        A file that does not parse gives an empty `Discovery` (and a debug log), never an
        exception: discover reads whatever it is given.
        """
