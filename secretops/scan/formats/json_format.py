"""The JSON output: a documented, stable schema (docs/json-schema.md), version 1.

Fields are only ever added within a version; renaming or removing one bumps `version`. The raw
value appears, as `secret`, only with `RenderOptions.show_secrets`. A path that is not valid
UTF-8 is percent-encoded and flagged (`path_encoding`, see `secretops.display.json_path`), so
the report is always valid UTF-8.
"""

from __future__ import annotations

import json
from typing import Any, Final

from secretops.display import json_path, json_text
from secretops.scan.formats.interface import Format, RenderOptions
from secretops.scan.models import Finding, ScanStats
from secretops.scan.runner import ScanResult

__all__ = ["SCHEMA_VERSION", "JsonFormat", "finding_to_dict", "stats_to_dict"]

SCHEMA_VERSION: Final = 1


def finding_to_dict(finding: Finding, stable_id: str, *, show_secrets: bool = False) -> dict[str, Any]:
    """One finding as the JSON schema has it."""
    loc = finding.location
    path, path_encoding = json_path(loc.path)
    out: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "kind": finding.kind,
        "provider": finding.provider,
        "class": str(finding.classification),
        "severity": str(finding.severity),
        "confidence": finding.confidence,
        "path": path,
        "path_encoding": path_encoding,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "cell": loc.cell,
        "commit": loc.commit,
        "fingerprint": finding.fingerprint,
        "stable_id": stable_id,
        "preview": finding.preview,
        "context": dict(finding.context),
        "reasons": list(finding.reasons),
    }
    if finding.inventory is not None:
        inv = finding.inventory
        out["inventory"] = {"secret": inv.secret, "version": inv.version, "state": inv.state}
    if finding.liveness is not None:
        out["liveness"] = finding.liveness.to_dict()
    if show_secrets and finding.secret is not None:
        out["secret"] = finding.secret.reveal()
    return out


def stats_to_dict(stats: ScanStats) -> dict[str, Any]:
    """The `stats` object: files and bytes scanned, skips by reason, wall-clock seconds."""
    return {
        "files": stats.files,
        "bytes": stats.bytes,
        "skipped": dict(sorted(stats.skipped.items())),
        "seconds": round(stats.seconds, 3),
    }


class JsonFormat(Format):
    """`--format json`."""

    id = "json"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """The whole report as indented JSON."""
        doc = {
            "version": SCHEMA_VERSION,
            "tool": {"name": "secretops", "version": options.tool_version},
            "findings": [
                finding_to_dict(f, h, show_secrets=options.show_secrets)
                for f, h in zip(result.findings, result.line_hashes, strict=True)
            ],
            "stats": stats_to_dict(result.stats),
            "hidden": dict(sorted(result.hidden.items())),
            "skipped_files": [_skipped(s.path, s.reason, s.detail) for s in result.skipped],
        }
        # Paths are percent-encoded above; `json_text` escapes what a terminal could act on.
        return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def _skipped(raw_path: str, reason: str, detail: str) -> dict[str, Any]:
    path, path_encoding = json_path(raw_path)
    return {"path": path, "path_encoding": path_encoding, "reason": reason, "detail": detail}
