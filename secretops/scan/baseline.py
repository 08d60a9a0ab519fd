"""Baselines: the findings a team already knows about, so CI fails on new findings only.

A baseline is a JSON file committed next to the code, written by `secretops baseline create`
(or `secretops scan --write-baseline FILE`) and read by `secretops scan --baseline FILE`. It holds
no value: each entry has a salted, deliberately slow hash of the value (scrypt, with one random
salt and the cost parameters stored in the baseline), so the file works on every machine that
clones the repository, with no shared key, while a guess at a value costs one scrypt per guess
(threat model: docs/scanning.md). A finding is known when the baseline holds the same rule id,
value hash and path: the line may move, but the same value in another file, or a new value on
the same line, is new.

```json
{"version": 2, "salt": "<base64, 16 bytes>",
 "kdf": {"name": "scrypt", "n": 8192, "r": 8, "p": 1, "dklen": 16},
 "findings": [
  {"rule_id": "...", "hash": "scrypt:<32 hex>", "path": "app/.env", "line": 3,
   "stable_id": "...:1", "class": "leak", "severity": "high", "preview": "npg_********",
   "audit": "unaudited", "note": ""}],
 "external": [{"tool": "detect-secrets", "path": "app/.env", "line": 7, "type": "GitHub Token",
   "audit": "false-positive", "note": ""}]}
```
`path` is written as the JSON report writes it (`secretops.display.json_path`): a name that is
not valid UTF-8 is percent-encoded, and findings are matched on that same form.
`audit` is free for reviewers (`unaudited`, `false-positive`, `confirmed-secret`, `accepted`...)
and, with its `note`, is kept when the baseline is rewritten. `external` holds audit marks of
another tool (detect-secrets) for values secretops does not report, so they are carried over
(and said) rather than dropped.

Format 1 baselines (HMAC fingerprints under the installation's key, with a `key_check`) are still
read: they match only with the key they were written with, and are refused with a clear message
otherwise; `secretops baseline update` rewrites one in format 2, keeping its audit marks.

A detect-secrets baseline (`.secrets.baseline`) is read too, for teams moving over
(`load_baseline`): a finding is known when detect-secrets recorded the same file and either the
SHA-1 of the value (its `hashed_secret`) or the same line. Its audit marks carry over when the
baseline is rewritten in secretops' format (`is_secret: false` -> `false-positive`,
`is_secret: true` -> `confirmed-secret`). secretops never writes SHA-1 hashes of values in its own
format (`secretops baseline export --to detect-secrets` writes detect-secrets' format on request).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from secretops.display import json_path, json_text
from secretops.errors import ConfigError
from secretops.fileio import write_atomic
from secretops.scan.formats.interface import Suppressed
from secretops.scan.models import Finding
from secretops.scan.runner import ScanResult
from secretops.values import FingerprintKey, fingerprint

__all__ = [
    "BASELINE_VERSION",
    "DEFAULT_KDF",
    "HIDDEN_KEY",
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BaselineKeyError",
    "DetectSecretsBaseline",
    "ExternalAudit",
    "KdfParams",
    "ValueHasher",
    "entries_by_id",
    "load_baseline",
    "read_any",
    "with_marks",
    "without_values",
]

BASELINE_VERSION: Final = 2
LEGACY_VERSION: Final = 1
HIDDEN_KEY: Final = "baselined"  # the `ScanResult.hidden` counter for known findings
_KEY_CHECK_INPUT: Final = "secretops-baseline-key-check"
_LEGACY_HINT: Final = (
    "rewrite it once in format 2, which works on every machine with no shared key: "
    "secretops baseline update {path} (audit marks are kept); or set SECRETOPS_FINGERPRINT_KEY "
    "to the key it was written with"
)
_SALT_BYTES: Final = 16
# Bounds on what a baseline may ask for: a hostile baseline must not make a scan allocate
# gigabytes or run for hours, and a weak one must not pass as protection.
_MIN_N: Final = 2**12
_MAX_N: Final = 2**20
_MAX_MEM: Final = 256 * 1024 * 1024


class BaselineError(ConfigError):
    """A baseline file cannot be read, or was written with another fingerprint key."""


class BaselineKeyError(BaselineError):
    """A format-1 baseline was written with another fingerprint key: none of its entries could match."""


@dataclass(frozen=True, slots=True)
class KdfParams:
    """scrypt cost parameters: `n` (CPU/memory cost, a power of 2), `r`, `p`, output length.

    The default (n=2**13, r=8, p=1: 8 MiB, about 20-60 ms per hash) is what one guess at a value
    costs an attacker holding the baseline, and what matching costs per distinct value found.
    """

    n: int = 2**13
    r: int = 8
    p: int = 1
    dklen: int = 16

    def to_dict(self) -> dict[str, Any]:
        """As written in the baseline."""
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "dklen": self.dklen}

    @classmethod
    def from_doc(cls, doc: object, path: Path) -> KdfParams:
        """Parse and bound-check the `kdf` object."""
        if not isinstance(doc, dict) or doc.get("name") != "scrypt":
            raise BaselineError(f"baseline {path}: 'kdf' must be an object with name 'scrypt'", hint="regenerate it")
        try:
            params = cls(n=int(doc["n"]), r=int(doc["r"]), p=int(doc["p"]), dklen=int(doc.get("dklen", 16)))
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"baseline {path}: malformed 'kdf' ({exc})", hint="regenerate it") from exc
        if (
            params.n < _MIN_N
            or params.n > _MAX_N
            or params.n & (params.n - 1)
            or not 1 <= params.r <= 32
            or not 1 <= params.p <= 4
            or not 16 <= params.dklen <= 64
            or 128 * params.r * params.n * params.p > _MAX_MEM
        ):
            raise BaselineError(
                f"baseline {path}: scrypt parameters out of bounds (n={params.n}, r={params.r}, p={params.p})",
                hint=f"n must be a power of 2 between {_MIN_N} and {_MAX_N}; regenerate the baseline",
            )
        return params


DEFAULT_KDF: Final = KdfParams()


class ValueHasher:
    """Salted scrypt of values, each distinct value hashed once (cached by its fingerprint).

    The cache is keyed by the installation fingerprint of the value and holds only hashes.
    """

    __slots__ = ("_cache", "kdf", "salt")

    def __init__(self, salt: bytes, kdf: KdfParams = DEFAULT_KDF) -> None:
        self.salt = salt
        self.kdf = kdf
        self._cache: dict[str, str] = {}

    def hash_value(self, raw: str) -> str:
        """`scrypt:<hex>` of `raw` under this salt."""
        digest = hashlib.scrypt(
            raw.encode("utf-8", "surrogatepass"),
            salt=self.salt,
            n=self.kdf.n,
            r=self.kdf.r,
            p=self.kdf.p,
            dklen=self.kdf.dklen,
            maxmem=_MAX_MEM + 1024 * 1024,
        )
        return "scrypt:" + digest.hex()

    def of(self, finding: Finding) -> str:
        """The hash of a finding's value, or "" when the finding holds no value (see `keep_secrets`)."""
        if finding.secret is None:
            return ""
        cached = self._cache.get(finding.fingerprint)
        if cached is None:
            cached = self.hash_value(finding.secret.reveal())
            self._cache[finding.fingerprint] = cached
        return cached


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One known finding: `value_hash` (format 2) or `fingerprint` (format 1) identifies the value."""

    rule_id: str
    path: str
    line: int
    stable_id: str
    classification: str
    severity: str
    preview: str
    value_hash: str = ""
    fingerprint: str = ""
    audit: str = "unaudited"
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a known finding: rule id, value hash (or fingerprint), path."""
        return (self.rule_id, self.value_hash or self.fingerprint, self.path)

    @property
    def id(self) -> str:
        """A short id for `baseline audit --mark ID=...`: 12 hex digits of the value hash."""
        ident = (self.value_hash or self.fingerprint).rpartition(":")[2]
        return ident[:12] or self.stable_id.rpartition(":")[0][:12]

    def to_dict(self) -> dict[str, Any]:
        """The entry as written in the file (format 2)."""
        return {
            "rule_id": self.rule_id,
            "hash": self.value_hash,
            "path": self.path,
            "line": self.line,
            "stable_id": self.stable_id,
            "class": self.classification,
            "severity": self.severity,
            "preview": self.preview,
            "audit": self.audit,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class ExternalAudit:
    """Another tool's audit mark for a value secretops does not report (kept, and said, on rewrite)."""

    tool: str
    path: str
    line: int
    type: str
    audit: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """As written in the file."""
        return {
            "tool": self.tool,
            "path": self.path,
            "line": self.line,
            "type": self.type,
            "audit": self.audit,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """A set of known findings.

    Format 2 (`salt` set): values hashed with salted scrypt, usable on any machine. Format 1
    (`key_check` set, read only): HMAC fingerprints under one installation key.
    """

    entries: tuple[BaselineEntry, ...] = ()
    salt: bytes = b""
    kdf: KdfParams = DEFAULT_KDF
    key_check: str = ""
    external: tuple[ExternalAudit, ...] = ()

    @property
    def version(self) -> int:
        """2 for a salted baseline, 1 for a legacy fingerprint-keyed one."""
        return BASELINE_VERSION if self.salt else LEGACY_VERSION

    @property
    def needs_values(self) -> bool:
        """Matching a format-2 baseline hashes the values found (kept in memory only)."""
        return self.version == BASELINE_VERSION

    @staticmethod
    def key_check_for(key: FingerprintKey) -> str:
        """A fingerprint of a fixed string: equal for equal keys, and reveals nothing about the key."""
        return fingerprint(key, _KEY_CHECK_INPUT)

    def hasher(self) -> ValueHasher:
        """The hasher of this baseline's salt and cost."""
        return ValueHasher(self.salt, self.kdf)

    @classmethod
    def from_result(
        cls,
        result: ScanResult,
        previous: Baseline | DetectSecretsBaseline | None = None,
        *,
        salt: bytes | None = None,
        kdf: KdfParams | None = None,
    ) -> Baseline:
        """A format-2 baseline of every finding in `result`, keeping audit marks from `previous`.

        `result` must hold the values (`keep_secrets`); a finding without one is recorded with an
        empty hash and matched by its stable line id instead. The salt of a format-2 `previous`
        is kept, so rewriting a baseline changes only the entries that changed.
        """
        if salt is None:
            salt = previous.salt if isinstance(previous, Baseline) and previous.salt else os.urandom(_SALT_BYTES)
        if kdf is None:
            kdf = previous.kdf if isinstance(previous, Baseline) and previous.salt else DEFAULT_KDF
        hasher = ValueHasher(salt, kdf)
        marks = _Marks(previous, hasher)
        entries = []
        for finding, stable_id in zip(result.findings, result.line_hashes, strict=True):
            entry = BaselineEntry(
                rule_id=finding.rule_id,
                path=_path(finding),
                line=finding.location.line,
                stable_id=stable_id,
                classification=str(finding.classification),
                severity=str(finding.severity),
                preview=finding.preview,
                value_hash=hasher.of(finding),
            )
            audit, note = marks.of(finding, entry)
            entries.append(replace(entry, audit=audit, note=note))
        return cls(tuple(entries), salt, kdf, external=marks.unmatched_external())

    @classmethod
    def load(cls, path: Path, key: FingerprintKey | None = None) -> Baseline:
        """Read a baseline; `BaselineError` if it is malformed (or format 1 under another key)."""
        return cls.from_doc(_read(path), path, key)

    @classmethod
    def from_doc(
        cls, doc: object, path: Path, key: FingerprintKey | None = None, *, check_key: bool = True
    ) -> Baseline:
        """A baseline from its parsed JSON (`path` is for messages).

        A format-1 baseline is checked against `key` unless `check_key` is False (for rewriting
        it: its audit marks then carry over by stable line id).
        """
        if not isinstance(doc, dict) or doc.get("version") not in (LEGACY_VERSION, BASELINE_VERSION):
            raise BaselineError(
                f"baseline {path}: not a secretops baseline (version {LEGACY_VERSION} or {BASELINE_VERSION})"
            )
        version = doc["version"]
        try:
            entries = tuple(_entry(e, version) for e in doc.get("findings", []))
            external = tuple(
                ExternalAudit(
                    tool=str(e["tool"]),
                    path=str(e["path"]),
                    line=int(e.get("line", 0)),
                    type=str(e.get("type", "")),
                    audit=str(e.get("audit", "unaudited")),
                    note=str(e.get("note", "")),
                )
                for e in doc.get("external", [])
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"baseline {path}: malformed entry ({exc})", hint="regenerate it") from exc
        if version == BASELINE_VERSION:
            try:
                salt = base64.b64decode(str(doc["salt"]), validate=True)
            except (KeyError, binascii.Error, ValueError) as exc:
                raise BaselineError(f"baseline {path}: missing or malformed 'salt'", hint="regenerate it") from exc
            if len(salt) < _SALT_BYTES:
                raise BaselineError(f"baseline {path}: salt shorter than {_SALT_BYTES} bytes", hint="regenerate it")
            return cls(entries, salt, KdfParams.from_doc(doc.get("kdf"), path), external=external)
        baseline = cls(entries, key_check=str(doc.get("key_check", "")), external=external)
        if check_key and (key is None or baseline.key_check != cls.key_check_for(key)):
            raise BaselineKeyError(
                f"baseline {path} is a format-1 baseline, written with another installation's fingerprint key",
                hint=_LEGACY_HINT.format(path=path),
            )
        return baseline

    def to_doc(self) -> dict[str, Any]:
        """The baseline as written (always format 2)."""
        if not self.salt:
            raise BaselineError("a format-1 baseline cannot be written", hint="rebuild it with Baseline.from_result")
        doc: dict[str, Any] = {
            "version": BASELINE_VERSION,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "kdf": self.kdf.to_dict(),
            "findings": [e.to_dict() for e in sorted(self.entries, key=lambda e: (e.path, e.line, e.rule_id))],
        }
        if self.external:
            doc["external"] = [e.to_dict() for e in sorted(self.external, key=lambda e: (e.path, e.line))]
        return doc

    def save(self, path: Path) -> None:
        """Write the baseline atomically, entries sorted, so diffs stay small."""
        write_atomic(Path(path), json_text(json.dumps(self.to_doc(), indent=2, ensure_ascii=False)) + "\n")

    def match(self, result: ScanResult) -> list[BaselineEntry | None]:
        """For each finding of `result`, the baseline entry it is, or None (a new finding)."""
        by_key = {e.key: e for e in self.entries}
        by_line = {(e.rule_id, e.path, e.stable_id): e for e in self.entries if not (e.value_hash or e.fingerprint)}
        hasher = self.hasher() if self.salt else None
        out: list[BaselineEntry | None] = []
        for finding, stable_id in zip(result.findings, result.line_hashes, strict=True):
            path = _path(finding)
            ident = finding.fingerprint if hasher is None else hasher.of(finding)
            entry = by_key.get((finding.rule_id, ident, path)) if ident else None
            if entry is None:
                entry = by_line.get((finding.rule_id, path, stable_id))
            out.append(entry)
        return out

    def split(self, result: ScanResult, source: str = "") -> tuple[ScanResult, tuple[Suppressed, ...]]:
        """`result` without the known findings, and those findings as `Suppressed` (with audit marks)."""
        matches = self.match(result)
        suppressed = tuple(
            Suppressed(f, h, e.audit, e.note, source)
            for f, h, e in zip(result.findings, result.line_hashes, matches, strict=True)
            if e is not None
        )
        return _keep(result, [m is None for m in matches]), suppressed

    def filter(self, result: ScanResult) -> ScanResult:
        """`result` without the known findings; they are counted in `hidden["baselined"]`."""
        return self.split(result)[0]


def _entry(e: Mapping[str, Any], version: int) -> BaselineEntry:
    value_hash = fingerprint_ = ""
    if version == BASELINE_VERSION:
        value_hash = str(e["hash"])
        if value_hash and not value_hash.startswith("scrypt:"):
            raise ValueError(f"hash {value_hash[:12]!r}... is not a scrypt hash")
    else:
        fingerprint_ = str(e["fingerprint"])
    return BaselineEntry(
        rule_id=str(e["rule_id"]),
        path=str(e["path"]),
        line=int(e.get("line", 0)),
        stable_id=str(e.get("stable_id", "")),
        classification=str(e.get("class", "leak")),
        severity=str(e.get("severity", "")),
        preview=str(e.get("preview", "")),
        value_hash=value_hash,
        fingerprint=fingerprint_,
        audit=str(e.get("audit", "unaudited")),
        note=str(e.get("note", "")),
    )


class _Marks:
    """Audit marks of a previous baseline, looked up for each new entry."""

    def __init__(self, previous: Baseline | DetectSecretsBaseline | None, hasher: ValueHasher) -> None:
        self.previous = previous
        self.hasher = hasher
        self.used_ds_lines: set[tuple[str, int]] = set()
        self.by_key: dict[tuple[str, str, str], BaselineEntry] = {}
        self.by_line: dict[tuple[str, str, str], BaselineEntry] = {}
        self.old_hasher: ValueHasher | None = None
        if isinstance(previous, Baseline):
            self.by_key = {e.key: e for e in previous.entries}
            self.by_line = {(e.rule_id, e.path, e.stable_id): e for e in previous.entries}
            if previous.salt and previous.salt != hasher.salt:
                self.old_hasher = previous.hasher()

    def of(self, finding: Finding, entry: BaselineEntry) -> tuple[str, str]:
        previous = self.previous
        if isinstance(previous, DetectSecretsBaseline):
            hit = previous.item_of(finding)
            if hit is None:
                return entry.audit, entry.note
            self.used_ds_lines.add((hit.path, hit.line))
            return hit.audit, entry.note
        if isinstance(previous, Baseline):
            if previous.salt:
                ident = entry.value_hash if self.old_hasher is None else self.old_hasher.of(finding)
            else:
                ident = finding.fingerprint
            old = self.by_key.get((entry.rule_id, ident, entry.path)) if ident else None
            if old is None:  # format 1 under another key, or no value: the same masked line
                old = self.by_line.get((entry.rule_id, entry.path, entry.stable_id))
            if old is not None:
                return old.audit, old.note
        return entry.audit, entry.note

    def unmatched_external(self) -> tuple[ExternalAudit, ...]:
        previous = self.previous
        if isinstance(previous, Baseline):
            return previous.external
        if isinstance(previous, DetectSecretsBaseline):
            return tuple(
                ExternalAudit("detect-secrets", item.path, item.line, item.type, item.audit)
                for item in previous.items
                if item.audit != "unaudited" and (item.path, item.line) not in self.used_ds_lines
            )
        return ()


def _path(finding: Finding) -> str:
    """A finding's path as baselines hold it (percent-encoded when it is not valid UTF-8).

    An absolute path inside the current folder is made relative to it, so `scan /abs/repo` and
    `scan .` from the repository match the same baseline entries.
    """
    raw = finding.location.path
    if os.path.isabs(raw):
        try:
            rel = os.path.relpath(raw)
        except ValueError:  # another drive (Windows)
            rel = raw
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            raw = rel
    return json_path(raw)[0]


_DS_AUDIT: Final = {True: "confirmed-secret", False: "false-positive"}


@dataclass(frozen=True, slots=True)
class DetectSecretsItem:
    """One detect-secrets result."""

    path: str
    line: int
    type: str
    hashed_secret: str
    audit: str


@dataclass(frozen=True, slots=True)
class DetectSecretsBaseline:
    """A detect-secrets baseline: `(file, SHA-1 of value)` and `(file, line)` pairs, with audit marks.

    Paths are as detect-secrets recorded them (relative to where it ran): scan from the same
    folder so that secretops' paths are the same.
    """

    by_hash: Mapping[tuple[str, str], str]
    by_line: Mapping[tuple[str, int], str]
    items: tuple[DetectSecretsItem, ...] = ()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], path: Path) -> DetectSecretsBaseline:
        """Read the `results` of a detect-secrets baseline; `BaselineError` if malformed."""
        results = doc.get("results")
        if not isinstance(results, dict):
            raise BaselineError(f"baseline {path}: detect-secrets baseline without a 'results' table")
        by_hash: dict[tuple[str, str], str] = {}
        by_line: dict[tuple[str, int], str] = {}
        items: list[DetectSecretsItem] = []
        try:
            for filename, secrets in results.items():
                for item in secrets:
                    audit = _DS_AUDIT.get(item.get("is_secret"), "unaudited")
                    name = str(item.get("filename", filename))
                    by_hash[(name, str(item["hashed_secret"]))] = audit
                    line = int(item.get("line_number") or 0)
                    if line:
                        by_line[(name, line)] = audit
                    kind = str(item.get("type", ""))
                    items.append(DetectSecretsItem(name, line, kind, str(item["hashed_secret"]), audit))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"baseline {path}: malformed detect-secrets entry ({exc})") from exc
        return cls(by_hash, by_line, tuple(items))

    @property
    def needs_values(self) -> bool:
        """Matching by value hash needs the raw values of this scan's findings (kept in memory only)."""
        return bool(self.by_hash)

    def item_of(self, finding: Finding) -> DetectSecretsItem | None:
        """The detect-secrets result `finding` is (same file and value hash, else same line)."""
        path = finding.location.path
        digest = _sha1(finding) if finding.secret is not None else None
        for item in self.items:
            if item.path == path and digest is not None and item.hashed_secret == digest:
                return item
        for item in self.items:
            if item.path == path and item.line and item.line == finding.location.line:
                return item
        return None

    def audit_of(self, finding: Finding) -> str | None:
        """The audit mark of `finding` if detect-secrets knew it, else None (a new finding)."""
        path = finding.location.path
        if finding.secret is not None:
            audit = self.by_hash.get((path, _sha1(finding)))
            if audit is not None:
                return audit
        return self.by_line.get((path, finding.location.line))

    def split(self, result: ScanResult, source: str = "") -> tuple[ScanResult, tuple[Suppressed, ...]]:
        """`result` without the findings detect-secrets knew, and those as `Suppressed`."""
        audits = [self.audit_of(f) for f in result.findings]
        suppressed = tuple(
            Suppressed(f, h, a, "", source)
            for f, h, a in zip(result.findings, result.line_hashes, audits, strict=True)
            if a is not None
        )
        return _keep(result, [a is None for a in audits]), suppressed

    def filter(self, result: ScanResult) -> ScanResult:
        """`result` without the findings detect-secrets knew; counted in `hidden["baselined"]`."""
        return self.split(result)[0]


def _sha1(finding: Finding) -> str:
    assert finding.secret is not None
    return hashlib.sha1(finding.secret.reveal().encode("utf-8"), usedforsecurity=False).hexdigest()


def load_baseline(path: Path, key: FingerprintKey | None = None) -> Baseline | DetectSecretsBaseline:
    """A secretops baseline, or a detect-secrets one (recognised by its `plugins_used` and `results`)."""
    doc = _read(path)
    if isinstance(doc, dict) and "results" in doc and "plugins_used" in doc:
        return DetectSecretsBaseline.from_doc(doc, path)
    return Baseline.from_doc(doc, path, key)


def read_any(path: Path) -> Baseline | DetectSecretsBaseline:
    """Like `load_baseline`, but a format-1 baseline is read whatever its key (for rewriting it)."""
    doc = _read(path)
    if isinstance(doc, dict) and "results" in doc and "plugins_used" in doc:
        return DetectSecretsBaseline.from_doc(doc, path)
    return Baseline.from_doc(doc, path, None, check_key=False)


def without_values(result: ScanResult) -> ScanResult:
    """`result` with the raw values dropped from its findings."""
    findings = [dataclasses.replace(f, secret=None) if f.secret is not None else f for f in result.findings]
    return dataclasses.replace(result, findings=findings)


def entries_by_id(baseline: Baseline, ident: str) -> list[BaselineEntry]:
    """Entries whose short id, value hash or stable id starts with `ident`."""
    ident = ident.strip()
    return [
        e
        for e in baseline.entries
        if ident
        and (e.id.startswith(ident) or e.value_hash.rpartition(":")[2].startswith(ident) or e.stable_id == ident)
    ]


def with_marks(baseline: Baseline, marks: Iterable[tuple[BaselineEntry, str, str]]) -> Baseline:
    """`baseline` with the given entries' audit mark and note replaced."""
    changes = {id(entry): (audit, note) for entry, audit, note in marks}
    entries = tuple(
        replace(e, audit=changes[id(e)][0], note=changes[id(e)][1]) if id(e) in changes else e
        for e in baseline.entries
    )
    return replace(baseline, entries=entries)


def _read(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BaselineError(
            f"baseline {path}: no such file", hint=f"create it with: secretops baseline create --output {path}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BaselineError(f"baseline {path}: cannot read it as JSON: {exc}") from exc


def _keep(result: ScanResult, keep: list[bool]) -> ScanResult:
    kept = [(f, h) for f, h, k in zip(result.findings, result.line_hashes, keep, strict=True) if k]
    dropped = len(result.findings) - len(kept)
    hidden = dict(result.hidden)
    if dropped:
        hidden[HIDDEN_KEY] = hidden.get(HIDDEN_KEY, 0) + dropped
    return dataclasses.replace(
        result,
        findings=[f for f, _ in kept],
        hidden=hidden,
        line_hashes=[h for _, h in kept],
    )
