"""The inventory's data model: what `policies/*.yaml` declare (design.md vocabulary).

A policy file declares issuers (where credentials are minted, checked and revoked), targets
(where copies are held) and secrets (what is rotated, how, how often, and who consumes it):

```yaml
version: 1
issuers:
  neon: {kind: postgres, admin_dsn_env: NEON_ADMIN_DSN}
targets:
  web: {kind: render, service_id: srv-abc123}
secrets:
  - name: budget-ai/database
    kind: postgres-password
    issuer: neon
    accounts: [app_a, app_b]          # alternate: two login roles taking turns
    strategy: alternate
    period: 90d
    grace: 1h
    generator: {kind: password, length: 32}
    consumers:
      - {target: web, env: DATABASE_URL, template: "postgresql://{username}:{password|url}@host/db"}
```

Every model is frozen with `extra="forbid"`, so a misspelt field is an error naming it. Checks
that need the whole inventory (references, duplicates, worker scoping) live in
`inventory/check.py`; these models only validate what one object can know about itself.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from secretops.inventory.templates import Template, TemplateError

__all__ = [
    "AwsIamIssuerSpec",
    "ComponentSpec",
    "ConsumerSpec",
    "DigitalOceanTargetSpec",
    "DotenvTargetSpec",
    "Duration",
    "GeneratorSpec",
    "GitHubTargetSpec",
    "HealthCheck",
    "HerokuTargetSpec",
    "IssuerSpec",
    "KubernetesTargetSpec",
    "ManualIssuerSpec",
    "MysqlIssuerSpec",
    "NoIssuerSpec",
    "PolicyFile",
    "PositiveDuration",
    "PostgresIssuerSpec",
    "RedisIssuerSpec",
    "RenderTargetSpec",
    "SecretSpec",
    "StateSpec",
    "Strategy",
    "TargetSpec",
    "VercelTargetSpec",
    "VerifySpec",
    "parse_duration",
]

_DURATION = re.compile(r"^\s*(-?)\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The messages below are matched by the loader (`inventory/loader.py`) to name the problem.
DURATION_FORMAT = "a duration is a whole number and a unit: 45s, 30m, 12h, 90d, 2w"
DURATION_NO_UNIT = "a duration needs a unit"
DURATION_NEGATIVE = "a duration cannot be negative"
DURATION_ZERO = "must be longer than 0s"


def parse_duration(value: Any) -> timedelta:
    """`90d`, `12h`, `30m`, `45s`, `2w` as a `timedelta` (a `timedelta` passes through).

    A bare number is refused: YAML's `period: 90` does not say whether it means 90 seconds or
    90 days, and guessing seconds once turned a quarterly rotation into one every 90 seconds.
    A negative duration is refused too. Programmatic callers pass a `timedelta`.
    """
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(DURATION_NEGATIVE)
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"{DURATION_NO_UNIT} ({value:g} is not seconds, nor days)")
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            if m.group(1) and int(m.group(2)):
                raise ValueError(DURATION_NEGATIVE)
            return timedelta(**{_UNITS[m.group(3)]: int(m.group(2))})
        if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
            raise ValueError(f"{DURATION_NO_UNIT} ({value.strip()} is not seconds, nor days)")
    raise ValueError(DURATION_FORMAT)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(DURATION_ZERO)
    return value


def _format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_format_duration, return_type=str, when_used="json"),
]
"""A duration of zero or more (`grace: 0s` is allowed; `policy check` warns what it risks)."""

PositiveDuration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    AfterValidator(_positive),
    PlainSerializer(_format_duration, return_type=str, when_used="json"),
]
"""A duration longer than zero (periods, timeouts)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Strategy(StrEnum):
    """How a credential is replaced (design.md, "Rotation strategies")."""

    OVERLAP = "overlap"  # the issuer holds two valid values at once
    ALTERNATE = "alternate"  # two accounts take turns
    REPLACE = "replace"  # one value; consumers break until redeployed (must be accepted)


# ---------------------------------------------------------------- generators


class GeneratorSpec(_Model):
    """How a new value is made. `issuer` means the issuer mints it (AWS keys, manual entry)."""

    kind: Literal["password", "token", "django-secret-key", "jwt-hmac", "ed25519", "rsa", "issuer"] = "password"
    length: int | None = Field(default=None, ge=8, le=4096, description="characters (password, token)")
    lowercase: bool = True
    uppercase: bool = True
    digits: bool = True
    symbols: str = Field(default="", description="symbol characters allowed, e.g. '-_.~'; empty for none")
    exclude: str = Field(default="", description="characters never to use (e.g. ambiguous ones)")
    min_each: int = Field(default=1, ge=0, le=8, description="at least this many of each enabled class")
    bits: int | None = Field(default=None, description="key size in bits (rsa: 2048..8192; jwt-hmac: 256..1024)")

    @model_validator(mode="after")
    def _classes(self) -> GeneratorSpec:
        if self.kind == "password" and not (self.lowercase or self.uppercase or self.digits or self.symbols):
            raise ValueError("a password generator needs at least one character class")
        if self.kind == "rsa" and self.bits is not None and not 2048 <= self.bits <= 8192:
            raise ValueError("rsa bits must be between 2048 and 8192")
        return self


# ---------------------------------------------------------------- issuers


class PostgresIssuerSpec(_Model):
    """A PostgreSQL server (self-hosted, Neon, Supabase, DO managed) reached with an admin DSN."""

    kind: Literal["postgres"]
    admin_dsn_env: str = Field(description="env var holding the admin connection string")
    host: str | None = Field(default=None, description="host consumers connect to (for verification)")
    port: int | None = None
    database: str | None = None
    sslmode: str | None = None
    aliases: list[str] = Field(
        default_factory=list,
        description="other names consumers use for this server that secretops cannot reach (a docker compose"
        " service name such as `db`): a consumer value naming one is checked at the issuer's own address",
    )
    retire: Literal["nologin", "scramble"] = Field(
        default="nologin", description="alternate: how the retired role is locked"
    )
    terminate_sessions: bool = Field(default=False, description="kill the retired role's sessions on revoke")


class MysqlIssuerSpec(_Model):
    """A MySQL 8 or MariaDB server reached with an admin DSN (`mysql://root:...@host:3306`)."""

    kind: Literal["mysql"]
    admin_dsn_env: str
    host: str | None = None
    port: int | None = None
    database: str | None = None
    aliases: list[str] = Field(
        default_factory=list,
        description="other names consumers use for this server that secretops cannot reach (a docker compose"
        " service name such as `db`): a consumer value naming one is checked at the issuer's own address",
    )
    retire: Literal["lock", "scramble"] = Field(
        default="lock", description="alternate: how the retired user is locked (ACCOUNT LOCK or a random password)"
    )


class RedisIssuerSpec(_Model):
    """A Redis 6+ or Valkey server with ACL users (`overlap`: two passwords at once)."""

    kind: Literal["redis"]
    admin_url_env: str = Field(description="env var holding an admin redis:// or rediss:// URL")
    acl_save: bool = Field(default=False, description="run ACL SAVE after changes (ACL file setups)")
    kill_clients: bool = Field(default=False, description="CLIENT KILL USER on revoke")
    aliases: list[str] = Field(
        default_factory=list,
        description="other names consumers use for this server that secretops cannot reach (a docker compose"
        " service name such as `db`): a consumer value naming one is checked at the issuer's own address",
    )


class AwsIamIssuerSpec(_Model):
    """AWS IAM access keys for an IAM user (`overlap`: the second key slot)."""

    kind: Literal["aws-iam"]
    region: str = "us-east-1"
    endpoint_url: str | None = Field(default=None, description="for moto or a VPC endpoint")
    profile: str | None = None
    delete_after_revoke: bool = Field(default=False, description="delete the old key instead of deactivating")


class ManualIssuerSpec(_Model):
    """A dashboard-only credential (Stripe, OpenAI user keys): a person mints and revokes it."""

    kind: Literal["manual"]
    instructions: str = Field(description="what the operator does to mint the new value")
    revoke_instructions: str | None = None
    url: str | None = None


class NoIssuerSpec(_Model):
    """An app-held secret with no issuer (Django `SECRET_KEY`, JWT HMAC keys): we mint it."""

    kind: Literal["app"]


IssuerSpec = Annotated[
    PostgresIssuerSpec | MysqlIssuerSpec | RedisIssuerSpec | AwsIamIssuerSpec | ManualIssuerSpec | NoIssuerSpec,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- targets


class DotenvTargetSpec(_Model):
    """A `.env` file on a docker-compose host, optionally followed by a restart command."""

    kind: Literal["dotenv"]
    path: str
    create: bool = Field(
        default=False,
        description="create the file (and its directory) if it does not exist; otherwise a missing file is an error",
    )
    restart: list[str] | None = Field(default=None, description="argv run after writing, e.g. docker compose up -d")
    restart_timeout: PositiveDuration = timedelta(minutes=5)


class RenderTargetSpec(_Model):
    """A Render service (web or worker: each its own service) or an env group."""

    kind: Literal["render"]
    service_id: str | None = None
    env_group_id: str | None = None
    token_env: str = "RENDER_API_KEY"
    deploy: bool = True

    @model_validator(mode="after")
    def _one(self) -> RenderTargetSpec:
        if (self.service_id is None) == (self.env_group_id is None):
            raise ValueError("give exactly one of service_id or env_group_id")
        return self


class ComponentSpec(_Model):
    """One DigitalOcean App Platform component and the env vars its code reads."""

    name: str
    type: Literal["service", "worker", "job", "static_site", "function"]
    env: list[str] = Field(default_factory=list, description="env var names this component needs")


class DigitalOceanTargetSpec(_Model):
    """A DigitalOcean App Platform app. App-level SECRET vars do not reach workers or jobs."""

    kind: Literal["digitalocean"]
    app_id: str
    token_env: str = "DIGITALOCEAN_TOKEN"
    components: list[ComponentSpec] = Field(default_factory=list)


VercelEnvironment = Literal["production", "preview", "development"]


class VercelTargetSpec(_Model):
    """A Vercel project's env vars for some deployment targets."""

    kind: Literal["vercel"]
    project: str
    team_id: str | None = None
    environments: tuple[VercelEnvironment, ...] = ("production",)
    token_env: str = "VERCEL_TOKEN"


class HerokuTargetSpec(_Model):
    """A Heroku app's config vars (shared by web and worker dynos)."""

    kind: Literal["heroku"]
    app: str
    token_env: str = "HEROKU_API_KEY"


class GitHubTargetSpec(_Model):
    """GitHub Actions secrets of a repository (or one of its environments)."""

    kind: Literal["github"]
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    environment: str | None = None
    token_env: str = "GITHUB_TOKEN"


class KubernetesTargetSpec(_Model):
    """A Kubernetes Secret, with the workloads to roll after a change."""

    kind: Literal["kubernetes"]
    namespace: str = "default"
    secret: str
    rollout: list[str] = Field(default_factory=list, description="deployments to restart, e.g. deployment/web")


TargetSpec = Annotated[
    DotenvTargetSpec
    | RenderTargetSpec
    | DigitalOceanTargetSpec
    | VercelTargetSpec
    | HerokuTargetSpec
    | GitHubTargetSpec
    | KubernetesTargetSpec,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- secrets


class HealthCheck(_Model):
    """An HTTP check that a consumer still works after a change."""

    url: str = Field(pattern=r"^https?://")
    status: int = Field(default=200, ge=100, le=599)
    contains: str | None = Field(default=None, description="text the body must contain")
    timeout: PositiveDuration = timedelta(seconds=10)


class ConsumerSpec(_Model):
    """One place a secret is consumed: an env var on a target, built from a template.

    `components` (DigitalOcean) lists the components that get the var at component level;
    `app_level` also writes it at app level.
    """

    target: str
    env: str
    template: str = "{value}"
    components: list[str] = Field(default_factory=list)
    app_level: bool = False
    health: HealthCheck | None = None
    new: bool = Field(
        default=False,
        description="the target does not hold this env var yet and the first rotation creates it;"
        " otherwise a key the target lacks is an error (a typo would leave the app on the old variable)",
    )
    verify: Literal["check", "accept-unverified"] = Field(
        default="check",
        description="accept-unverified: on a write-only target with no health check, accept that the value the"
        " app reads cannot be verified before the old one is revoked",
    )

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            Template(value)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return value

    def rendered(self) -> Template:
        """The parsed template."""
        return Template(self.template)


class VerifySpec(_Model):
    """How a new value is proven to work, and an old one proven dead."""

    credential: bool = Field(default=True, description="log in at the issuer with the new value")
    prove_dead: bool = Field(default=True, description="after revoke, check the old value is refused")
    health: list[HealthCheck] = Field(default_factory=list)


class SecretSpec(_Model):
    """One secret in the inventory."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._/-]*$", max_length=200)
    description: str | None = None
    kind: str = Field(description="postgres-password, redis-password, aws-iam-key, api-key:stripe, ...")
    issuer: str = Field(description="name of an issuer declared in `issuers`")
    accounts: list[str] = Field(
        default_factory=list,
        description="issuer accounts: two roles for alternate, one user otherwise (IAM user, ACL user)",
    )
    strategy: Strategy = Strategy.OVERLAP
    accept_downtime: bool = Field(default=False, description="required with strategy replace")
    period: PositiveDuration = timedelta(days=90)
    grace: Duration = timedelta(hours=1)
    drain: Duration = Field(
        default=timedelta(seconds=10),
        description="after every consumer is switched, how long to wait before revoking when a consumer cannot"
        " be restarted (a .env with no restart command): readers that cached the old value re-read it",
    )
    generator: GeneratorSpec = Field(default_factory=GeneratorSpec)
    consumers: list[ConsumerSpec] = Field(default_factory=list)
    verify: VerifySpec = Field(default_factory=VerifySpec)
    owner: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> SecretSpec:
        if self.grace >= self.period:
            raise ValueError("grace must be shorter than period")
        if self.strategy is Strategy.ALTERNATE and len(self.accounts) != 2:
            raise ValueError("strategy alternate needs exactly two accounts")
        if self.strategy is Strategy.REPLACE and not self.accept_downtime:
            raise ValueError("strategy replace breaks consumers until redeployed: set accept_downtime: true")
        return self


class StateSpec(_Model):
    """Where rotation state lives (`state:` in a policy; `SECRETOPS_STATE` wins over it).

    `backend: files` keeps it under `SECRETOPS_STATE_DIR`. `backend: postgresql` needs the
    database: `url_env`, the name of an environment variable holding the URL (its password
    too), or `url`, a `postgresql://` URL without a password (libpq reads it from `PGPASSWORD`
    or `~/.pgpass`): a policy is committed, so a password in it is refused.
    """

    backend: Literal["files", "postgresql"] = "postgresql"
    url: str | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    lease: PositiveDuration | None = None

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.lower().startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql://")
        userinfo = url.split("://", 1)[1].split("@", 1)[0] if "@" in url else ""
        if ":" in userinfo or "password=" in url.lower():
            raise ValueError(
                "holds a password, and a policy file is committed: put the URL in an environment "
                "variable named by url_env, or the password in PGPASSWORD or ~/.pgpass"
            )
        return url

    @model_validator(mode="after")
    def _where(self) -> StateSpec:
        if self.backend == "files":
            if self.url or self.url_env:
                raise ValueError("backend files takes no url or url_env")
            return self
        if (self.url is None) == (self.url_env is None):
            raise ValueError("backend postgresql needs exactly one of url_env (an environment variable) or url")
        return self


class PolicyFile(_Model):
    """One `policies/*.yaml` file."""

    version: Literal[1] = 1
    app: str | None = None
    description: str | None = None
    state: StateSpec | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _files_shorthand(cls, value: object) -> object:
        """`state: files` is `state: {backend: files}`."""
        return {"backend": "files"} if value == "files" else value
    issuers: dict[str, IssuerSpec] = Field(default_factory=dict)
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    secrets: list[SecretSpec] = Field(default_factory=list)
