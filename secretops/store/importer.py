"""`secretops store import`: adopt the values already deployed, without rotating first.

Each secret's value is read from that secret's own consumers, never matched by env var name
alone (two apps whose `.env` files both hold `REDIS_URL` hold two different credentials). A
`ValueSource` says what one consumer holds:

- `TargetFiles` (a bare `store import`) reads every readable target itself: a `dotenv`
  target's file. Platform targets cannot be read back (their APIs are write-only for secrets,
  or need a token the import does not use) and are listed as not read.
- `EnvFile` (`--from-env-file FILE`) applies only to the consumers whose target is that file,
  or, with `--secret NAME`, to every consumer of that one secret.
- `Environment` (`--from-environment`) matches by env var name, so an env var that consumers of
  two secrets read is ambiguous unless `--secret NAME` says whose it is.

The rendered value is parsed with the consumer's template (`Template.parse`), which reverses
it into the credential itself (`{password}`/`{value}`) and attributes such as `username`: the
store keeps the credential, not the URL. When every consumer read agrees, the value is stored
as a version labelled `current`. That is an adoption: `rotated_at` stays unset and the version
has no run id, so `status` shows the secret as never rotated, and `rotate --due` picks it up.
Nothing is stored when consumers disagree, when a value does not fit its template, when the
source is ambiguous, or when the store already holds a different current value (unless
`overwrite`). A consumer key that its target does not hold (and the policy does not mark as
`new`) is reported as missing. Running it twice changes nothing. Results carry fingerprints,
never values.
"""

from __future__ import annotations

import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from secretops.errors import ConfigError
from secretops.inventory.models import ConsumerSpec, DotenvTargetSpec, SecretSpec, TargetSpec
from secretops.inventory.templates import Template
from secretops.store.interface import Label, Store
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = [
    "EnvFile",
    "Environment",
    "ImportResult",
    "ImportStatus",
    "Reading",
    "TargetFiles",
    "ValueSource",
    "consumer_label",
    "import_values",
    "parse_dotenv",
    "read_dotenv",
]

log = logging.getLogger(__name__)

# Fields a template may carry that are not attributes of this version.
_NOT_ATTRIBUTES = frozenset({"value", "previous"})
# Attributes that are names, not secrets: a disagreement on one shows both texts.
_SHOWN_ATTRIBUTES = frozenset({"username", "user", "access_key_id", "kid"})


class ImportStatus(StrEnum):
    """What `import_values` did (or, with `dry_run`, would do) with one secret."""

    IMPORTED = "imported"  # stored as the current version
    UNCHANGED = "unchanged"  # the current version already holds this value
    NOT_FOUND = "not-found"  # no consumer's value could be read from the source
    CONFLICTING = "conflicting"  # consumers hold different values
    UNPARSABLE = "unparsable"  # a value does not fit its consumer's template
    AMBIGUOUS = "ambiguous"  # an env var of the source is read by consumers of several secrets
    DIFFERS = "differs"  # the store's current value is different; left alone without `overwrite`

    @property
    def ok(self) -> bool:
        """True for outcomes that need no attention."""
        return self in (ImportStatus.IMPORTED, ImportStatus.UNCHANGED, ImportStatus.NOT_FOUND)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """One secret's outcome: consumers read, the fingerprint, the stored version (never a value).

    `consumers` names the consumers whose value was used (`target:ENV`); `missing` those whose
    target does not hold their key, and `unread` those the source could not read, each as
    `(consumer, why)`.
    """

    secret: str
    status: ImportStatus
    consumers: tuple[str, ...] = ()
    fingerprint: str | None = None
    version: int | None = None
    detail: str = ""
    dry_run: bool = False
    missing: tuple[tuple[str, str], ...] = ()
    unread: tuple[tuple[str, str], ...] = ()

    @property
    def envs(self) -> tuple[str, ...]:
        """The env var names of `consumers` (without their target)."""
        return tuple(dict.fromkeys(c.partition(":")[2] for c in self.consumers))

    @property
    def needs_attention(self) -> bool:
        """True when the outcome or a missing consumer key needs a person (exit code 1)."""
        return not self.status.ok or bool(self.missing)


def consumer_label(consumer: ConsumerSpec) -> str:
    """`target:ENV`, how results name a consumer."""
    return f"{consumer.target}:{consumer.env}"


# ---------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Reading:
    """What a source says one consumer's env var holds.

    `kind` is `value` (`text` holds the rendered value, to be parsed, never shown), `missing`
    (the consumer's own target is readable and lacks the key), or `unread` (this source does not
    cover the consumer, or cannot read it; `reason` says which).
    """

    kind: Literal["value", "missing", "unread"]
    text: str = ""
    reason: str = ""

    def __repr__(self) -> str:
        return f"Reading(kind={self.kind!r}, reason={self.reason!r})"


class ValueSource(ABC):
    """Where `import_values` reads deployed values from, one consumer at a time."""

    #: True when values are matched by env var name only (no target), so that an env var read
    #: by consumers of two secrets is ambiguous.
    by_name: bool = False

    @abstractmethod
    def read(self, secret: SecretSpec, consumer: ConsumerSpec) -> Reading:
        """What `consumer` (of `secret`) holds according to this source."""

    def check(self, secrets: Sequence[SecretSpec]) -> None:  # noqa: B027 - optional hook
        """Raise `ConfigError` when the source applies to none of `secrets` (a usage mistake)."""


def _dotenv_path(spec: DotenvTargetSpec, base_dir: Path | None) -> Path:
    # Resolved exactly as `DotenvTarget` resolves it, so import reads the file rotation writes.
    path = Path(spec.path).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _from_file(values: Mapping[str, str], consumer: ConsumerSpec, where: Path) -> Reading:
    """The reading of `consumer` from a file that is its own target."""
    if consumer.env not in values:
        if consumer.new:
            return Reading("unread", reason=f"not in {where} yet (new: the first rotation adds it)")
        return Reading("missing", reason=f"{consumer.env} is not in {where}")
    if not values[consumer.env]:
        return Reading("unread", reason=f"empty in {where}")
    return Reading("value", values[consumer.env])


class TargetFiles(ValueSource):
    """Each consumer's own target: a `dotenv` target's file; other kinds cannot be read back.

    `base_dir` resolves relative `.env` paths like `secretops.targets.build_target` does (default:
    the working directory). Each file is read once.
    """

    def __init__(self, targets: Mapping[str, TargetSpec], *, base_dir: Path | None = None) -> None:
        self.targets = targets
        self.base_dir = base_dir
        self._files: dict[Path, dict[str, str] | Reading] = {}

    def _values(self, path: Path, create: bool) -> dict[str, str] | Reading:
        """The file's assignments, or the `Reading` every consumer of it gets (no such file...)."""
        if path not in self._files:
            self._files[path] = self._load(path, create)
        return self._files[path]

    @staticmethod
    def _load(path: Path, create: bool) -> dict[str, str] | Reading:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if create:
                return Reading("unread", reason=f"{path} does not exist yet (create: true)")
            return Reading("missing", reason=f"{path} does not exist")
        except IsADirectoryError:
            return Reading("missing", reason=f"{path} is a directory, not a .env file")
        except (OSError, UnicodeDecodeError) as exc:
            return Reading(
                "unread", reason=f"cannot read {path}: {getattr(exc, 'strerror', None) or type(exc).__name__}"
            )
        return parse_dotenv(text, origin=str(path))

    def read(self, secret: SecretSpec, consumer: ConsumerSpec) -> Reading:
        """Read `consumer.env` from its target's file."""
        spec = self.targets.get(consumer.target)
        if spec is None:
            return Reading("unread", reason=f"target {consumer.target} is not declared")
        if not isinstance(spec, DotenvTargetSpec):
            return Reading(
                "unread",
                reason=f"a {spec.kind} target cannot be read back "
                f"(import its values with --from-env-file FILE --secret {secret.name})",
            )
        path = _dotenv_path(spec, self.base_dir)
        values = self._values(path, spec.create)
        if isinstance(values, Reading):
            return values
        return _from_file(values, consumer, path)


class EnvFile(ValueSource):
    """A `.env` file given by hand (`--from-env-file`).

    It applies to the consumers whose `dotenv` target is this very file; with `any_target` (the
    CLI sets it with `--secret NAME`) to every consumer of the secrets imported, whatever their
    target: the operator says whose values the file holds.
    """

    def __init__(
        self,
        path: Path,
        targets: Mapping[str, TargetSpec],
        *,
        any_target: bool = False,
        base_dir: Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.targets = targets
        self.any_target = any_target
        self.base_dir = base_dir
        self.values = read_dotenv(self.path)

    def _is_target(self, consumer: ConsumerSpec) -> bool:
        spec = self.targets.get(consumer.target)
        return isinstance(spec, DotenvTargetSpec) and _same_file(_dotenv_path(spec, self.base_dir), self.path)

    def read(self, secret: SecretSpec, consumer: ConsumerSpec) -> Reading:
        """The file's value for `consumer`, if the file is its target (or `any_target`)."""
        if self._is_target(consumer):
            return _from_file(self.values, consumer, self.path)
        if not self.any_target:
            return Reading("unread", reason=f"its target is not {self.path}")
        if not self.values.get(consumer.env):
            return Reading("unread", reason=f"not set in {self.path}")
        return Reading("value", self.values[consumer.env])

    def check(self, secrets: Sequence[SecretSpec]) -> None:
        """Refuse a file that is no consumer's target when no secret was named."""
        if self.any_target:
            return
        if any(self._is_target(c) for s in secrets for c in s.consumers):
            return
        raise ConfigError(
            f"{self.path} is not the file of any dotenv target in the policies, "
            "so it is not known whose values it holds",
            hint="name the secret it belongs to: --from-env-file FILE --secret NAME "
            "(or run `secretops store import` with no source to read every target)",
        )


class Environment(ValueSource):
    """Env vars by name (`--from-environment`, or any mapping): ambiguous across secrets."""

    by_name = True

    def __init__(self, environ: Mapping[str, str], *, origin: str = "the environment") -> None:
        self.environ = environ
        self.origin = origin

    def read(self, secret: SecretSpec, consumer: ConsumerSpec) -> Reading:
        """`environ[consumer.env]`, when set and not empty."""
        if not self.environ.get(consumer.env):
            return Reading("unread", reason=f"not set in {self.origin}")
        return Reading("value", self.environ[consumer.env])


# ---------------------------------------------------------------- import


def import_values(
    secrets: Mapping[str, SecretSpec],
    store: Store,
    source: ValueSource | Mapping[str, str],
    *,
    fingerprint_key: FingerprintKey,
    only: str | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
) -> list[ImportResult]:
    """Adopt what `source` says each consumer holds, secret by secret (`only`: just that one).

    A plain mapping is read as an `Environment`. `fingerprint_key` must be the store's (both
    come from `Settings.fingerprint_key()`), so an unchanged value is recognised. With `dry_run`
    the store is only read. `ConfigError` when `only` is not declared or the source applies to
    nothing (`ValueSource.check`).
    """
    src = source if isinstance(source, ValueSource) else Environment(source)
    if only is not None and only not in secrets:
        known = ", ".join(sorted(secrets)) or "none"
        raise ConfigError(f"no secret named {only!r} in the policies", hint=f"known secrets: {known}")
    chosen = [spec for name, spec in sorted(secrets.items()) if only is None or name == only]
    src.check(chosen)
    readings = {spec.name: [(c, src.read(spec, c)) for c in spec.consumers] for spec in chosen}
    shared = _shared_envs(readings) if src.by_name and only is None else {}
    results = []
    for spec in chosen:
        clash = sorted({c.env for c, r in readings[spec.name] if r.kind == "value" and c.env in shared})
        if clash:
            env = clash[0]
            others = ", ".join(n for n in shared[env] if n != spec.name)
            results.append(
                ImportResult(
                    spec.name,
                    ImportStatus.AMBIGUOUS,
                    detail=f"{env} is also read by {others}: it is not known whose value it is; "
                    f"import it with --secret {spec.name}",
                )
            )
            continue
        results.append(
            _import_one(spec, store, readings[spec.name], fingerprint_key, dry_run=dry_run, overwrite=overwrite)
        )
    for r in results:
        log.debug("store import: %s %s %s", r.secret, r.status.value, r.fingerprint or "")
    return results


def _shared_envs(readings: Mapping[str, list[tuple[ConsumerSpec, Reading]]]) -> dict[str, list[str]]:
    """Env vars with a value that consumers of more than one secret read, with those secrets."""
    by_env: dict[str, list[str]] = {}
    for name, pairs in readings.items():
        for consumer, reading in pairs:
            if reading.kind == "value" and name not in by_env.setdefault(consumer.env, []):
                by_env[consumer.env].append(name)
    return {env: names for env, names in by_env.items() if len(names) > 1}


def _import_one(
    spec: SecretSpec,
    store: Store,
    readings: Sequence[tuple[ConsumerSpec, Reading]],
    key: FingerprintKey,
    *,
    dry_run: bool,
    overwrite: bool,
) -> ImportResult:
    name = spec.name
    parsed: list[tuple[str, dict[str, str]]] = []
    unfit: list[str] = []
    missing = tuple((consumer_label(c), r.reason) for c, r in readings if r.kind == "missing")
    unread = tuple((consumer_label(c), r.reason) for c, r in readings if r.kind == "unread")
    for consumer, reading in readings:
        if reading.kind != "value":
            continue
        fields = Template(consumer.template).parse(reading.text)
        if fields is None:
            unfit.append(consumer_label(consumer))
        else:
            parsed.append((consumer_label(consumer), fields))
    used = tuple(label for label, _ in parsed) + tuple(unfit)

    def result(status: ImportStatus, detail: str, fp: str | None = None, version: int | None = None) -> ImportResult:
        return ImportResult(name, status, used, fp, version, detail, missing=missing, unread=unread)

    if unfit:
        return result(
            ImportStatus.UNPARSABLE,
            f"{', '.join(unfit)} does not fit its consumer template; fix the value or the policy",
        )
    if not parsed:
        wanted = ", ".join(consumer_label(c) for c in spec.consumers) or "no consumers"
        return result(ImportStatus.NOT_FOUND, f"no value read for {wanted}")

    merged: dict[str, str] = {}
    holders: dict[str, dict[str, list[str]]] = {}
    for label, fields in parsed:
        for field, text in fields.items():
            if field == "previous":
                continue
            merged.setdefault(field, text)
            holders.setdefault(field, {}).setdefault(text, []).append(label)
    differing = sorted(f for f, by_text in holders.items() if len(by_text) > 1)
    if differing:
        detail = _disagreement(differing, holders, key) + "; make them agree, then import"
        return result(ImportStatus.CONFLICTING, detail)
    if "value" not in merged:
        return result(ImportStatus.NOT_FOUND, "no consumer template carries the value itself ({value})")

    value = SecretValue(merged["value"])
    attributes = {k: v for k, v in merged.items() if k not in _NOT_ATTRIBUTES}
    fp = fingerprint(key, value)
    state = store.state(name)
    current = state.labelled(Label.CURRENT) if state else None
    if current is not None and current.fingerprint == fp and dict(current.attributes) == attributes:
        return result(ImportStatus.UNCHANGED, "already current", current.fingerprint, current.number)
    if current is not None and not overwrite:
        return result(
            ImportStatus.DIFFERS,
            f"the store's current version {current.number} ({current.fingerprint}) differs; "
            "pass --overwrite to adopt the deployed value",
            fp,
            current.number,
        )
    if dry_run:
        return ImportResult(
            name,
            ImportStatus.IMPORTED,
            used,
            fp,
            None,
            "would be stored as current",
            dry_run=True,
            missing=missing,
            unread=unread,
        )
    version = store.put(name, value, attributes=attributes, labels=frozenset({Label.CURRENT}))
    return result(ImportStatus.IMPORTED, "stored as current", version.fingerprint, version.number)


def _disagreement(fields: Sequence[str], holders: Mapping[str, Mapping[str, list[str]]], key: FingerprintKey) -> str:
    """`value: web:URL holds hmac-…; worker:URL holds hmac-…` (fingerprints; attributes as text)."""
    parts = []
    for field in fields:
        groups = []
        for text, labels in holders[field].items():
            shown = repr(text) if field in _SHOWN_ATTRIBUTES else fingerprint(key, SecretValue(text))
            groups.append(f"{', '.join(labels)} {'hold' if len(labels) > 1 else 'holds'} {shown}")
        parts.append(f"consumers disagree on {field}: " + "; ".join(groups))
    return "; ".join(parts)


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
