"""`secretops store import`: adopt the values already deployed, without rotating first.

For each secret in the inventory, each consumer whose env var is present in the source (a
`.env` file or the environment) is parsed with its template (`Template.parse`), which yields
the value and attributes such as `username`. When every consumer agrees, the value is stored as
a version labelled `current` (an adoption: `rotated_at` is left unset, so the secret is due).
Nothing is stored when consumers disagree, when an env var does not fit its template, or when
the store already holds a different current value (unless `overwrite`). Running it twice
changes nothing: a current version with the same fingerprint and attributes is left alone.
Results carry fingerprints, never values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from secretops.errors import ConfigError
from secretops.inventory.models import SecretSpec
from secretops.inventory.templates import Template
from secretops.store.interface import Label, Store
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["ImportResult", "ImportStatus", "import_values", "parse_dotenv", "read_dotenv"]

log = logging.getLogger(__name__)

# Fields a template may carry that are not attributes of this version.
_NOT_ATTRIBUTES = frozenset({"value", "previous"})


class ImportStatus(StrEnum):
    """What `import_values` did (or, with `dry_run`, would do) with one secret."""

    IMPORTED = "imported"  # stored as the current version
    UNCHANGED = "unchanged"  # the current version already holds this value
    NOT_FOUND = "not-found"  # no consumer's env var is in the source
    CONFLICTING = "conflicting"  # consumers hold different values
    UNPARSABLE = "unparsable"  # an env var does not fit its consumer's template
    DIFFERS = "differs"  # the store's current value is different; left alone without `overwrite`

    @property
    def ok(self) -> bool:
        """True for outcomes that need no attention."""
        return self in (ImportStatus.IMPORTED, ImportStatus.UNCHANGED, ImportStatus.NOT_FOUND)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """One secret's outcome: env vars used, the fingerprint, and the stored version (no value)."""

    secret: str
    status: ImportStatus
    envs: tuple[str, ...] = ()
    fingerprint: str | None = None
    version: int | None = None
    detail: str = ""
    dry_run: bool = False


def import_values(
    secrets: Mapping[str, SecretSpec],
    store: Store,
    source: Mapping[str, str],
    *,
    fingerprint_key: FingerprintKey,
    dry_run: bool = False,
    overwrite: bool = False,
) -> list[ImportResult]:
    """Adopt the values in `source` (env var name -> text) for `secrets`, by secret name.

    `fingerprint_key` must be the store's (both come from `Settings.fingerprint_key()`), so an
    unchanged value is recognised. With `dry_run` the store is only read.
    """
    results = [
        _import_one(spec, store, source, fingerprint_key, dry_run=dry_run, overwrite=overwrite)
        for _, spec in sorted(secrets.items())
    ]
    for r in results:
        log.debug("store import: %s %s %s", r.secret, r.status.value, r.fingerprint or "")
    return results


def _import_one(
    spec: SecretSpec,
    store: Store,
    source: Mapping[str, str],
    key: FingerprintKey,
    *,
    dry_run: bool,
    overwrite: bool,
) -> ImportResult:
    name = spec.name
    parsed: list[tuple[str, dict[str, str]]] = []
    unfit: list[str] = []
    for consumer in spec.consumers:
        env = consumer.env
        if env in unfit or any(env == e for e, _ in parsed) or not source.get(env):
            continue
        fields = Template(consumer.template).parse(source[env])
        if fields is None:
            unfit.append(env)
        else:
            parsed.append((env, fields))
    envs = tuple(e for e, _ in parsed) + tuple(unfit)
    if unfit:
        return ImportResult(
            name,
            ImportStatus.UNPARSABLE,
            envs,
            detail=f"{', '.join(unfit)} does not fit its consumer template; fix the value or the policy",
        )
    if not parsed:
        wanted = sorted({c.env for c in spec.consumers})
        return ImportResult(name, ImportStatus.NOT_FOUND, detail=f"none of {', '.join(wanted) or 'no consumers'} set")

    merged: dict[str, str] = {}
    differing: set[str] = set()
    for _, fields in parsed:
        for field, text in fields.items():
            if field == "previous":
                continue
            if field in merged and merged[field] != text:
                differing.add(field)
            merged.setdefault(field, text)
    if differing:
        return ImportResult(
            name,
            ImportStatus.CONFLICTING,
            envs,
            detail=f"{', '.join(envs)} disagree on {', '.join(sorted(differing))}; make them agree, then import",
        )
    if "value" not in merged:
        return ImportResult(
            name, ImportStatus.NOT_FOUND, envs, detail="no consumer template carries the value itself ({value})"
        )

    value = SecretValue(merged["value"])
    attributes = {k: v for k, v in merged.items() if k not in _NOT_ATTRIBUTES}
    fp = fingerprint(key, value)
    state = store.state(name)
    current = state.labelled(Label.CURRENT) if state else None
    if current is not None and current.fingerprint == fp and dict(current.attributes) == attributes:
        return ImportResult(name, ImportStatus.UNCHANGED, envs, fp, current.number, "already current")
    if current is not None and not overwrite:
        return ImportResult(
            name,
            ImportStatus.DIFFERS,
            envs,
            fp,
            current.number,
            f"the store's current version {current.number} ({current.fingerprint}) differs; "
            "pass --overwrite to adopt the deployed value",
        )
    if dry_run:
        return ImportResult(name, ImportStatus.IMPORTED, envs, fp, None, "would be stored as current", dry_run=True)
    version = store.put(name, value, attributes=attributes, labels=frozenset({Label.CURRENT}))
    return ImportResult(name, ImportStatus.IMPORTED, envs, version.fingerprint, version.number, "stored as current")


# ---------------------------------------------------------------- .env files

_ASSIGN = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def parse_dotenv(text: str, *, origin: str = ".env") -> dict[str, str]:
    """The assignments in a `.env` text: `KEY=value`, `export KEY=value`, quotes, comments.

    Single quotes are literal; double quotes understand `\\n`, `\\t`, `\\"`, `\\\\`; both may
    span lines. An unquoted value ends at the line end or at ` #`. `${VAR}` is not expanded.
    A malformed line is a `ConfigError` naming `origin` and the line, never its text.
    """
    out: dict[str, str] = {}
    pos = 0
    n = len(text)
    while pos < n:
        line_end = text.find("\n", pos)
        line_end = n if line_end < 0 else line_end
        stripped = text[pos:line_end].strip()
        if not stripped or stripped.startswith("#"):
            pos = line_end + 1
            continue
        lineno = text.count("\n", 0, pos) + 1
        m = _ASSIGN.match(text, pos, line_end)
        if m is None:
            raise ConfigError(f"{origin}:{lineno}: not a KEY=value line", hint="fix or comment out that line")
        key, pos = m.group(1), m.end()
        quote = text[pos] if pos < n else ""
        if quote in ("'", '"'):
            value, pos = _quoted(text, pos + 1, quote, origin, lineno)
            rest_end = text.find("\n", pos)
            rest_end = n if rest_end < 0 else rest_end
            rest = text[pos:rest_end].strip()
            if rest and not rest.startswith("#"):
                raise ConfigError(f"{origin}:{lineno}: text after the closing quote", hint="quote the whole value")
            pos = rest_end + 1
        else:
            raw = text[pos:line_end]
            comment = re.search(r"[ \t]#", raw)
            value = (raw[: comment.start()] if comment else raw).strip()
            pos = line_end + 1
        out[key] = value
    return out


def _quoted(text: str, pos: int, quote: str, origin: str, lineno: int) -> tuple[str, int]:
    chars: list[str] = []
    while pos < len(text):
        ch = text[pos]
        if ch == quote:
            return "".join(chars), pos + 1
        if ch == "\\" and quote == '"' and pos + 1 < len(text):
            nxt = text[pos + 1]
            chars.append(_ESCAPES.get(nxt, "\\" + nxt))
            pos += 2
            continue
        chars.append(ch)
        pos += 1
    raise ConfigError(f"{origin}:{lineno}: unterminated {quote} quote", hint="close the quote")


def read_dotenv(path: Path) -> dict[str, str]:
    """`parse_dotenv` of the file at `path` (`ConfigError` if it cannot be read)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {type(exc).__name__}", hint="check the --from-env-file path") from exc
    return parse_dotenv(text, origin=str(path))
