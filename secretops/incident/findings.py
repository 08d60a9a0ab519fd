"""Leaked findings for `compromised`: read from a scan's JSON report, values recovered in memory.

A scan report never holds a value (only fingerprints and masked previews), yet revoking a value
at its provider needs it. `recover` re-scans the finding's own location, in memory: the file
on disk, or for a git-history finding the blob at its commit (`git show COMMIT:PATH`), and
keeps the value only if its keyed fingerprint equals the report's. A file that changed since,
an archive member or a custom rule set can leave a value unrecoverable: then it is reported as
such, never guessed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from secretops.errors import ConfigError
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.sources.interface import Skipped, Source, decode_bytes
from secretops.values import FingerprintKey, SecretValue

__all__ = ["LeakedFinding", "git_repo_of", "load_report", "recover"]

_KILLABLE = frozenset({"leak", "weak-default", "test-credential"})


@dataclass(frozen=True, slots=True)
class LeakedFinding:
    """One finding to act on: where it is, its fingerprint, and (in memory only) its value."""

    rule_id: str
    kind: str
    provider: str
    path: str
    line: int
    column: int
    fingerprint: str
    preview: str
    commit: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    liveness: str | None = None
    value: SecretValue | None = field(default=None, repr=False, compare=False)

    @property
    def where(self) -> str:
        """`path:line:column`, with `@commit` for a git-history finding."""
        at = f"@{self.commit[:12]}" if self.commit else ""
        return f"{self.path}:{self.line}:{self.column}{at}"

    @classmethod
    def from_finding(cls, f: Finding) -> LeakedFinding:
        """From a live scan finding (keeps its in-memory value)."""
        return cls(
            f.rule_id,
            f.kind,
            f.provider,
            f.location.path,
            f.location.line,
            f.location.column,
            f.fingerprint,
            f.preview,
            f.location.commit,
            dict(f.context),
            str(f.liveness.state) if f.liveness else None,
            f.secret,
        )


def load_report(path: Path) -> list[LeakedFinding]:
    """The leak findings of a `scan --format json` report (placeholders are left out)."""
    try:
        doc: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"--from-scan {path}: no such file", hint="secretops scan --format json -o REPORT.json"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--from-scan {path}: not a JSON scan report", hint="use scan --format json") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise ConfigError(f"--from-scan {path}: not a secretops JSON scan report (no findings list)")
    out = []
    for raw in doc["findings"]:
        if not isinstance(raw, dict) or raw.get("class") not in _KILLABLE:
            continue
        try:
            live = raw.get("liveness") or {}
            out.append(
                LeakedFinding(
                    rule_id=str(raw["rule_id"]),
                    kind=str(raw.get("kind", "")),
                    provider=str(raw.get("provider", "")),
                    path=str(raw["path"]),
                    line=int(raw["line"]),
                    column=int(raw.get("column", 1)),
                    fingerprint=str(raw["fingerprint"]),
                    preview=str(raw.get("preview", "")),
                    commit=raw.get("commit") or None,
                    context={str(k): str(v) for k, v in (raw.get("context") or {}).items()},
                    liveness=str(live.get("state")) if isinstance(live, dict) and live.get("state") else None,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"--from-scan {path}: a finding lacks {exc}", hint="regenerate the report") from exc
    return out


class _BlobSource(Source):
    """One in-memory text, as a git source would hand it over (path and commit kept)."""

    def __init__(self, text: str, path: str, commit: str) -> None:
        self.text, self.path, self.commit = text, path, commit

    def fragments(self) -> Iterator[Fragment | Skipped]:
        yield Fragment(text=self.text, path=self.path, commit=self.commit)


def git_repo_of(path: str) -> tuple[Path, str] | None:
    """The repository holding `path` (as reported: repository folder + path inside), split."""
    git = shutil.which("git")
    if git is None:
        return None
    parts = Path(path).parts
    for cut in range(len(parts) - 1, -1, -1):
        repo = Path(*parts[:cut]) if cut else Path(".")
        if (repo / ".git").exists():
            return repo, "/".join(parts[cut:])
    return None


def _blob(repo: Path, commit: str, inner: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", str(repo), "show", f"{commit}:{inner}"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return decode_bytes(done.stdout) if done.returncode == 0 else None


def recover(findings: list[LeakedFinding], key: FingerprintKey) -> list[LeakedFinding]:
    """`findings` with `value` set where a re-scan of the location finds the same fingerprint."""
    from secretops.scan.config import ScanPolicy
    from secretops.scan.engine import Scanner
    from secretops.scan.rules.loader import load_rules
    from secretops.scan.runner import ScanOptions, scan_paths

    scanner = Scanner(load_rules(), key, ScanPolicy.default())
    options = ScanOptions(
        jobs=1,
        keep_secrets=True,
        respect_gitignore=False,
        include=frozenset(Classification),
    )
    values: dict[str, SecretValue] = {}
    files = sorted({f.path for f in findings if f.commit is None and "!" not in f.path and Path(f.path).is_file()})
    sources: list[Source] = []
    for f in findings:
        if f.commit is not None:
            split = git_repo_of(f.path)
            text = _blob(split[0], f.commit, split[1]) if split else None
            if text is None and Path(f.path).is_file():  # a --staged finding has no commit blob: try the file
                files.append(f.path)
            elif text is not None:
                sources.append(_BlobSource(text, f.path, f.commit))
    if files or sources:
        result = scan_paths(files, lambda: scanner, options=options, sources=sources)
        for found in result.findings:
            if found.secret is not None:
                values.setdefault(found.fingerprint, found.secret)
    return [replace(f, value=values.get(f.fingerprint)) if f.value is None else f for f in findings]
