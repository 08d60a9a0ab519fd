"""Baselines: the findings a team already knows about, so CI fails on new findings only.

A baseline is a JSON file (no values, only fingerprints and masked previews) written by
`secretops scan --write-baseline FILE` and read by `secretops scan --baseline FILE`. A finding
is known when the baseline holds the same rule id, fingerprint and path: the line may move, but
the same value in another file, or a new value on the same line, is new. Fingerprints are keyed
(`FingerprintKey`), so a baseline records a check value of its key and refuses to be used with
another key, rather than silently reporting every finding as new.

```json
{"version": 1, "key_check": "hmac-sha256:...", "findings": [
  {"rule_id": "...", "fingerprint": "hmac-sha256:...", "path": "app/.env", "line": 3,
   "stable_id": "...:1", "class": "leak", "severity": "high", "preview": "npg_********",
   "audit": "unaudited"}]}
```
`path` is written as the JSON report writes it (`secretops.display.json_path`): a name that is
not valid UTF-8 is percent-encoded, and findings are matched on that same form.
`audit` is free for reviewers (`unaudited`, `accepted`, `false-positive`, ...) and is kept when
the baseline is rewritten.

A detect-secrets baseline (`.secrets.baseline`) is read too, for teams moving over
(`load_baseline`): a finding is known when detect-secrets recorded the same file and either the
SHA-1 of the value (its `hashed_secret`) or the same line. Its audit marks carry over when the
baseline is rewritten in secretops' format (`is_secret: false` -> `false-positive`,
`is_secret: true` -> `confirmed-secret`). secretops never writes SHA-1 hashes of values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from secretops.display import json_path, json_text
from secretops.errors import ConfigError
from secretops.fileio import write_atomic
from secretops.scan.models import Finding
from secretops.scan.runner import ScanResult
from secretops.values import FingerprintKey, fingerprint

__all__ = [
    "BASELINE_VERSION",
    "HIDDEN_KEY",
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BaselineKeyError",
    "DetectSecretsBaseline",
    "load_baseline",
    "without_values",
]

BASELINE_VERSION: Final = 1
HIDDEN_KEY: Final = "baselined"  # the `ScanResult.hidden` counter for known findings
_KEY_CHECK_INPUT: Final = "secretops-baseline-key-check"


class BaselineError(ConfigError):
    """A baseline file cannot be read, or was written with another fingerprint key."""


class BaselineKeyError(BaselineError):
    """A baseline was written with another fingerprint key: none of its entries could match."""


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One known finding."""

    rule_id: str
    fingerprint: str
    path: str
    line: int
    stable_id: str
    classification: str
    severity: str
    preview: str
    audit: str = "unaudited"

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a known finding: rule id, fingerprint, path."""
        return (self.rule_id, self.fingerprint, self.path)

    def to_dict(self) -> dict[str, Any]:
        """The entry as written in the file."""
        return {
            "rule_id": self.rule_id,
            "fingerprint": self.fingerprint,
            "path": self.path,
            "line": self.line,
            "stable_id": self.stable_id,
            "class": self.classification,
            "severity": self.severity,
            "preview": self.preview,
            "audit": self.audit,
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """A set of known findings, with the check value of the key their fingerprints used."""

    key_check: str
    entries: tuple[BaselineEntry, ...] = ()

    @staticmethod
    def key_check_for(key: FingerprintKey) -> str:
        """A fingerprint of a fixed string: equal for equal keys, and reveals nothing about the key."""
        return fingerprint(key, _KEY_CHECK_INPUT)

    @classmethod
    def from_result(
        cls, result: ScanResult, key: FingerprintKey, previous: Baseline | DetectSecretsBaseline | None = None
    ) -> Baseline:
        """A baseline of every finding in `result`, keeping audit notes from `previous`.

        With a detect-secrets `previous`, `result` must still hold the values (`keep_secrets`).
        """
        audits: Mapping[tuple[str, str, str], str] = (
            {e.key: e.audit for e in previous.entries} if isinstance(previous, Baseline) else {}
        )
        entries = []
        for finding, stable_id in zip(result.findings, result.line_hashes, strict=True):
            entry = BaselineEntry(
                rule_id=finding.rule_id,
                fingerprint=finding.fingerprint,
                path=_path(finding),
                line=finding.location.line,
                stable_id=stable_id,
                classification=str(finding.classification),
                severity=str(finding.severity),
                preview=finding.preview,
            )
            if isinstance(previous, DetectSecretsBaseline):
                audit = previous.audit_of(finding) or entry.audit
            else:
                audit = audits.get(entry.key, entry.audit)
            entries.append(replace(entry, audit=audit))
        return cls(cls.key_check_for(key), tuple(entries))

    @classmethod
    def load(cls, path: Path, key: FingerprintKey) -> Baseline:
        """Read a baseline; `BaselineError` if it is malformed or made with another key."""
        return cls.from_doc(_read(path), path, key)

    @classmethod
    def from_doc(cls, doc: object, path: Path, key: FingerprintKey) -> Baseline:
        """A baseline from its parsed JSON (`path` is for messages)."""
        if not isinstance(doc, dict) or doc.get("version") != BASELINE_VERSION:
            raise BaselineError(f"baseline {path}: not a secretops baseline version {BASELINE_VERSION}")
        try:
            entries = tuple(
                BaselineEntry(
                    rule_id=str(e["rule_id"]),
                    fingerprint=str(e["fingerprint"]),
                    path=str(e["path"]),
                    line=int(e.get("line", 0)),
                    stable_id=str(e.get("stable_id", "")),
                    classification=str(e.get("class", "leak")),
                    severity=str(e.get("severity", "")),
                    preview=str(e.get("preview", "")),
                    audit=str(e.get("audit", "unaudited")),
                )
                for e in doc.get("findings", [])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"baseline {path}: malformed entry ({exc})", hint="regenerate it") from exc
        baseline = cls(str(doc.get("key_check", "")), entries)
        if baseline.key_check != cls.key_check_for(key):
            raise BaselineKeyError(
                f"baseline {path} was written with another fingerprint key",
                hint="set SECRETOPS_FINGERPRINT_KEY to the key the team shares, or rewrite the baseline",
            )
        return baseline

    def save(self, path: Path) -> None:
        """Write the baseline atomically, entries sorted, so diffs stay small."""
        doc = {
            "version": BASELINE_VERSION,
            "key_check": self.key_check,
            "findings": [e.to_dict() for e in sorted(self.entries, key=lambda e: (e.path, e.line, e.rule_id))],
        }
        write_atomic(Path(path), json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n")

    def filter(self, result: ScanResult) -> ScanResult:
        """`result` without the known findings; they are counted in `hidden["baselined"]`."""
        known = {e.key for e in self.entries}
        return _keep(result, [(f.rule_id, f.fingerprint, _path(f)) not in known for f in result.findings])


def _path(finding: Finding) -> str:
    """A finding's path as baselines hold it (percent-encoded when it is not valid UTF-8)."""
    return json_path(finding.location.path)[0]


_DS_AUDIT: Final = {True: "confirmed-secret", False: "false-positive"}


@dataclass(frozen=True, slots=True)
class DetectSecretsBaseline:
    """A detect-secrets baseline: `(file, SHA-1 of value)` and `(file, line)` pairs, with audit marks.

    Paths are as detect-secrets recorded them (relative to where it ran): scan from the same
    folder so that secretops' paths are the same.
    """

    by_hash: Mapping[tuple[str, str], str]
    by_line: Mapping[tuple[str, int], str]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], path: Path) -> DetectSecretsBaseline:
        """Read the `results` of a detect-secrets baseline; `BaselineError` if malformed."""
        results = doc.get("results")
        if not isinstance(results, dict):
            raise BaselineError(f"baseline {path}: detect-secrets baseline without a 'results' table")
        by_hash: dict[tuple[str, str], str] = {}
        by_line: dict[tuple[str, int], str] = {}
        try:
            for filename, secrets in results.items():
                for item in secrets:
                    audit = _DS_AUDIT.get(item.get("is_secret"), "unaudited")
                    name = str(item.get("filename", filename))
                    by_hash[(name, str(item["hashed_secret"]))] = audit
                    if item.get("line_number"):
                        by_line[(name, int(item["line_number"]))] = audit
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"baseline {path}: malformed detect-secrets entry ({exc})") from exc
        return cls(by_hash, by_line)

    @property
    def needs_values(self) -> bool:
        """Matching by value hash needs the raw values of this scan's findings (kept in memory only)."""
        return bool(self.by_hash)

    def audit_of(self, finding: Finding) -> str | None:
        """The audit mark of `finding` if detect-secrets knew it, else None (a new finding)."""
        path = finding.location.path
        if finding.secret is not None:
            digest = hashlib.sha1(finding.secret.reveal().encode("utf-8"), usedforsecurity=False).hexdigest()
            audit = self.by_hash.get((path, digest))
            if audit is not None:
                return audit
        return self.by_line.get((path, finding.location.line))

    def filter(self, result: ScanResult) -> ScanResult:
        """`result` without the findings detect-secrets knew; counted in `hidden["baselined"]`."""
        keep = [self.audit_of(f) is None for f in result.findings]
        return _keep(result, keep)


def load_baseline(path: Path, key: FingerprintKey) -> Baseline | DetectSecretsBaseline:
    """A secretops baseline, or a detect-secrets one (recognised by its `plugins_used` and `results`)."""
    doc = _read(path)
    if isinstance(doc, dict) and "results" in doc and "plugins_used" in doc:
        return DetectSecretsBaseline.from_doc(doc, path)
    return Baseline.from_doc(doc, path, key)


def without_values(result: ScanResult) -> ScanResult:
    """`result` with the raw values dropped from its findings."""
    findings = [dataclasses.replace(f, secret=None) if f.secret is not None else f for f in result.findings]
    return dataclasses.replace(result, findings=findings)


def _read(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BaselineError(
            f"baseline {path}: no such file", hint=f"create it with: secretops scan --write-baseline {path}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BaselineError(f"baseline {path}: cannot read it as JSON: {exc}") from exc


def _keep(result: ScanResult, keep: list[bool]) -> ScanResult:
    kept = [(f, h) for f, h, k in zip(result.findings, result.line_hashes, keep, strict=True) if k]
    dropped = len(result.findings) - len(kept)
    hidden = dict(result.hidden)
    if dropped:
        hidden[HIDDEN_KEY] = hidden.get(HIDDEN_KEY, 0) + dropped
    return ScanResult(
        findings=[f for f, _ in kept],
        stats=result.stats,
        hidden=hidden,
        skipped=result.skipped,
        line_hashes=[h for _, h in kept],
    )
