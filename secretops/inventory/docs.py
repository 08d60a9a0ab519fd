"""Renders the reference part of `docs/policies.md` from the models and the check tables.

The generated block sits between two markers in `docs/policies.md`; the prose around it is
written by hand. Regenerate after changing `models.py` or `tables.py`:

    python -m secretops.inventory.docs docs/policies.md          # rewrite the block
    python -m secretops.inventory.docs --check docs/policies.md  # exit 1 if it is stale

A test runs the check, so the reference cannot drift from the models.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from secretops.inventory.models import (
    AwsIamIssuerSpec,
    ComponentSpec,
    ConsumerSpec,
    DigitalOceanTargetSpec,
    DotenvTargetSpec,
    GeneratorSpec,
    GitHubTargetSpec,
    HealthCheck,
    HerokuTargetSpec,
    KubernetesTargetSpec,
    ManualIssuerSpec,
    MysqlIssuerSpec,
    NoIssuerSpec,
    PolicyFile,
    PostgresIssuerSpec,
    RedisIssuerSpec,
    RenderTargetSpec,
    SecretSpec,
    StateSpec,
    Strategy,
    VercelTargetSpec,
    VerifySpec,
)
from secretops.inventory.tables import (
    CHECKS,
    ENV_NAME_RULES,
    GENERATOR_TEMPLATE_FIELDS,
    STRATEGIES,
    TEMPLATE_FIELDS,
    URL_ALLOWED,
    WRITE_ONLY_TARGETS,
)
from secretops.inventory.templates import FILTERS

__all__ = ["BEGIN", "END", "MODELS", "field_description", "render_reference", "update"]

BEGIN = "<!-- BEGIN GENERATED: python -m secretops.inventory.docs docs/policies.md -->"
END = "<!-- END GENERATED -->"

MODELS: tuple[tuple[str, tuple[type[BaseModel], ...]], ...] = (
    ("File", (PolicyFile, StateSpec)),
    ("Secrets", (SecretSpec, ConsumerSpec, GeneratorSpec, VerifySpec, HealthCheck)),
    (
        "Issuers",
        (PostgresIssuerSpec, MysqlIssuerSpec, RedisIssuerSpec, AwsIamIssuerSpec, ManualIssuerSpec, NoIssuerSpec),
    ),
    (
        "Targets",
        (
            DotenvTargetSpec,
            RenderTargetSpec,
            DigitalOceanTargetSpec,
            ComponentSpec,
            VercelTargetSpec,
            HerokuTargetSpec,
            GitHubTargetSpec,
            KubernetesTargetSpec,
        ),
    ),
)
"""Every model documented, in reading order (a test checks none is missing)."""


# Descriptions for fields whose model gives none; a test checks every field has one or the other.
_SHARED_NOTES: dict[str, str] = {
    "token_env": "env var holding the platform's API token",
    "admin_dsn_env": "env var holding the admin connection string",
    "host": "host consumers connect to (for verification)",
    "port": "port consumers connect to",
    "database": "database the credential check logs in to",
    "sslmode": "libpq sslmode for the credential check (`require` for managed databases)",
}

_NOTES: dict[tuple[str, str], str] = {
    ("PolicyFile", "version"): "policy format version",
    ("PolicyFile", "app"): "the application these secrets belong to (shown in reports)",
    ("PolicyFile", "description"): "free text",
    ("PolicyFile", "issuers"): "issuers by name; names are global across files",
    ("PolicyFile", "targets"): "targets by name; names are global across files",
    ("PolicyFile", "secrets"): "the secrets; names are global across files",
    ("PolicyFile", "state"): "where rotation state lives (`files`, or a [StateSpec](#statespec)); "
    "`SECRETOPS_STATE` wins over it; at most one file may declare it",
    ("StateSpec", "backend"): "`postgresql` (runs, journal, leases and audit in PostgreSQL, shared by runners) "
    "or `files`",
    ("StateSpec", "url"): "a `postgresql://` URL without a password (libpq reads it from `PGPASSWORD` or `~/.pgpass`)",
    ("StateSpec", "url_env"): "instead of `url`: the environment variable holding the whole URL, password included",
    ("StateSpec", "lease"): "how long a runner's lease outlives its last heartbeat (`SECRETOPS_STATE_LEASE` wins)",
    ("SecretSpec", "name"): "unique name, lowercase: letters, digits and `. _ / -` (e.g. `budget-ai/database`)",
    ("SecretSpec", "description"): "free text",
    ("SecretSpec", "strategy"): "how the value is replaced (see Strategies by issuer kind)",
    ("SecretSpec", "period"): "rotate this long after the current value was created",
    ("SecretSpec", "grace"): "how long the previous value keeps working after consumers switch; shorter than period",
    ("SecretSpec", "generator"): "how a new value is made",
    ("SecretSpec", "consumers"): "where the value is used",
    ("SecretSpec", "verify"): "how the new value is proven to work and the old one dead",
    ("SecretSpec", "owner"): "team or person to ask",
    ("ConsumerSpec", "target"): "name of a target declared in `targets`",
    ("ConsumerSpec", "env"): "env var (or Kubernetes Secret key) to write; the platform's naming rules apply",
    ("ConsumerSpec", "template"): "how the value is built, e.g. `postgresql://{username}:{password|url}@host/db`",
    ("ConsumerSpec", "components"): "DigitalOcean: components that get the var at component level (workers, jobs)",
    ("ConsumerSpec", "app_level"): "DigitalOcean: also write the var at app level",
    ("ConsumerSpec", "health"): "a check that this consumer works after the change",
    ("GeneratorSpec", "kind"): "`issuer`: the issuer mints the value (aws-iam, manual)",
    ("GeneratorSpec", "lowercase"): "use a-z",
    ("GeneratorSpec", "uppercase"): "use A-Z",
    ("GeneratorSpec", "digits"): "use 0-9",
    ("VerifySpec", "health"): "HTTP checks run after consumers switch",
    ("HealthCheck", "url"): "http(s) URL to GET",
    ("HealthCheck", "status"): "expected status code",
    ("HealthCheck", "timeout"): "request timeout",
    ("AwsIamIssuerSpec", "region"): "AWS region of the IAM endpoint",
    ("AwsIamIssuerSpec", "profile"): "AWS profile holding the admin credentials",
    ("ManualIssuerSpec", "revoke_instructions"): "what the operator does to revoke the old value",
    ("ManualIssuerSpec", "url"): "where the operator does it",
    ("DotenvTargetSpec", "path"): "the `.env` file",
    ("DotenvTargetSpec", "restart_timeout"): "how long the restart command may take",
    ("RenderTargetSpec", "service_id"): "`srv-...`: a web service, worker or cron job",
    ("RenderTargetSpec", "env_group_id"): "`evg-...`: an env group; every linked service is redeployed",
    ("RenderTargetSpec", "deploy"): "redeploy after a change",
    ("DigitalOceanTargetSpec", "app_id"): "the App Platform app's id",
    ("DigitalOceanTargetSpec", "components"): "the app's components and the env vars each reads",
    ("ComponentSpec", "name"): "component name in the app spec",
    ("ComponentSpec", "type"): "component type; workers and jobs do not see app-level SECRET vars",
    ("VercelTargetSpec", "project"): "project id or name",
    ("VercelTargetSpec", "team_id"): "team id for team projects",
    ("VercelTargetSpec", "environments"): "deployment targets that get the var",
    ("HerokuTargetSpec", "app"): "app name or id (config vars are shared by all dynos)",
    ("GitHubTargetSpec", "repo"): "`owner/name`",
    ("GitHubTargetSpec", "environment"): "a deployment environment's secrets instead of the repository's",
    ("KubernetesTargetSpec", "namespace"): "namespace of the Secret",
    ("KubernetesTargetSpec", "secret"): "name of the Secret",
}


def field_description(model: type[BaseModel], name: str) -> str:
    """A field's description: the model's own, else the notes here ('' if neither)."""
    info = model.model_fields[name]
    if info.description:
        return info.description
    if (model.__name__, name) in _NOTES:
        return _NOTES[(model.__name__, name)]
    if name == "kind" and get_origin(info.annotation) is Literal and len(get_args(info.annotation)) == 1:
        return f"always `{get_args(info.annotation)[0]}`"
    return _SHARED_NOTES.get(name, "")


def _title(model: type[BaseModel]) -> str:
    kind = model.model_fields.get("kind")
    if (
        kind is not None
        and get_origin(kind.annotation) is Literal
        and model.__name__.endswith(("IssuerSpec", "TargetSpec"))
    ):
        what = "issuer" if model.__name__.endswith("IssuerSpec") else "target"
        return f"`{get_args(kind.annotation)[0]}` {what}"
    return model.__name__


def _anchor(model: type[BaseModel]) -> str:
    return "".join(c for c in _title(model).lower().replace(" ", "-") if c.isalnum() or c == "-")


def _type(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Annotated:
        inner = get_args(tp)[0]
        if get_origin(inner) in (Union, types.UnionType) and all(
            isinstance(m, type) and issubclass(m, BaseModel) for m in get_args(inner)
        ):
            name = get_args(inner)[0].__name__
            return "an issuer (by `kind`)" if name.endswith("IssuerSpec") else "a target (by `kind`)"
        return "duration" if inner is timedelta else _type(inner)
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        return " or ".join(_type(m) for m in members)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(tp))
    if origin in (list, tuple):
        return f"list of {_type(get_args(tp)[0])}"
    if origin is dict:
        return f"mapping of name to {_type(get_args(tp)[1])}"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return " \\| ".join(f"`{m.value}`" for m in tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{_title(tp)}](#{_anchor(tp)})"
    if tp is timedelta:
        return "duration"
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(tp, getattr(tp, "__name__", str(tp)))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value is None:
        return "none"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
            if seconds and seconds % size == 0:
                return f"`{seconds // size}{unit}`"
        return f"`{seconds}s`"
    if isinstance(value, BaseModel):
        return "(defaults)"
    if isinstance(value, list | tuple):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, dict):
        return "`{}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def _default(info: Any) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        return _value(info.default_factory())
    if info.default is PydanticUndefined:
        return "**required**"
    return _value(info.default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _model_section(model: type[BaseModel]) -> list[str]:
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    out = [f"### {_title(model)}", "", doc, "", "| field | type | default | description |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        description = field_description(model, name)
        out.append(f"| `{name}` | {_type(info.annotation)} | {_default(info)} | {_cell(description)} |")
    out.append("")
    return out


def render_reference() -> str:
    """The generated reference: every model's fields, and the check tables."""
    out: list[str] = [BEGIN, ""]
    for heading, models in MODELS:
        out += [f"## {heading}", ""]
        for model in models:
            out += _model_section(model)
    out += ["## Strategies by issuer kind", "", "| issuer kind | strategies | template fields |", "|---|---|---|"]
    for kind, strategies in STRATEGIES.items():
        fields = ", ".join(f"`{{{f}}}`" for f in ("value", "password", "previous", *TEMPLATE_FIELDS[kind]))
        out.append(f"| `{kind}` | {', '.join(s.value for s in strategies)} | {fields} |")
    out += [
        "",
        "`password` is another name for `value`; `previous` is the previous value (empty on the first rotation).",
        f"Strategies: {', '.join(f'`{s.value}`' for s in Strategy)}.",
        "Key generators add their own fields, whatever the issuer: "
        + "; ".join(
            f"`{gen}`: " + ", ".join(f"`{{{f}}}`" for f in fields) for gen, fields in GENERATOR_TEMPLATE_FIELDS.items()
        )
        + ".",
        "",
        "## Env var names by target kind",
        "",
        "| target kind | accepted names | refused | source |",
        "|---|---|---|---|",
    ]
    for kind, rule in ENV_NAME_RULES.items():
        refused = [f"`{r}`" for r in sorted(rule.reserved)] + [f"`{p}*`" for p in rule.reserved_prefixes]
        if rule.max_length:
            refused.append(f"longer than {rule.max_length}")
        out.append(f"| `{kind}` | {_cell(rule.described)} | {', '.join(refused) or '-'} | {_cell(rule.source)} |")
    out += _escaping_section()
    out += ["## Write-only targets", "", "| target kind | why its values cannot be read back |", "|---|---|"]
    out += [f"| `{kind}` | {_cell(why)} |" for kind, why in WRITE_ONLY_TARGETS.items()]
    out += [
        "",
        "A consumer on one of these needs its own `health` check (the app that reads it), or "
        "`verify: accept-unverified`. A Vercel target whose `environments` include `development` is readable.",
        "",
        "## Problem codes",
        "",
        "| code | severity | mistake |",
        "|---|---|---|",
    ]
    out += [f"| `{code}` | {severity} | {_cell(what)} |" for code, (severity, what) in CHECKS.items()]
    out += ["", END]
    return "\n".join(out) + "\n"


def _escaping_section() -> list[str]:
    alnum = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    out = ["", "## Template filters", "", "| filter | what it does |", "|---|---|"]
    out += [f"| `\\|{name}` | {_cell(what)} |" for name, what in FILTERS.items()]
    out += [
        "",
        "A field placed in a URL (`scheme://...`) without `|url` may hold only these characters raw, besides "
        "letters and digits; `policy check` compares them with what the generator (or issuer) can emit:",
        "",
        "| part of the URL | allowed raw |",
        "|---|---|",
    ]
    for part, allowed in URL_ALLOWED.items():
        shown = " ".join(f"`{c}`" if c != "|" else "`\\|`" for c in sorted(allowed - alnum))
        out.append(f"| {part} | {shown} |")
    out += [
        "",
        "A field that is the value of a libpq keyword (`password={password}`) without `|conninfo` must not hold "
        "a space, `'` or `\\` (inside `'...'`: no `'` or `\\`).",
        "",
    ]
    return out


def update(text: str) -> str:
    """`text` (a docs/policies.md) with its generated block replaced by `render_reference()`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing")
    return text[:start] + render_reference() + text[end + len(END) + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with `--check`, verify) the generated block of a docs file."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or ["docs/policies.md"]
    path = Path(paths[0])
    text = path.read_text(encoding="utf-8")
    fresh = update(text)
    if check:
        if fresh != text:
            print(f"{path} is stale: run python -m secretops.inventory.docs {path}", file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
