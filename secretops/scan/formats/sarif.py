"""SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers.

Validates against the official OASIS schema (tests/assets/sarif-schema-2.1.0.json). Each result
has `ruleId`/`ruleIndex`, one physical location (line and column are 1-based, counted in Unicode
code points), and `partialFingerprints["secretopsLineHash/v1"]`: a sha256 of rule id, path and the
masked line, which is the same on every machine (unlike the HMAC fingerprint, whose key differs
per installation; that one is in `properties.fingerprint`). No raw value is ever written here,
even with `--show-secrets`.
"""

from __future__ import annotations

import json
import os
from typing import Any, Final
from urllib.parse import quote

from secretops.display import json_text, path_bytes, printable
from secretops.scan.formats.interface import Format, RenderOptions, RuleInfo
from secretops.scan.models import Classification, Finding, Severity
from secretops.scan.runner import FAILING_CLASSES, ScanResult

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "SarifFormat", "artifact_uri"]

SARIF_VERSION: Final = "2.1.0"
SARIF_SCHEMA: Final = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY: Final = "secretopsLineHash/v1"

# GitHub reads `security-severity` (0.0-10.0) to sort alerts as critical/high/medium/low.
_SECURITY_SEVERITY: Final = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _level(severity: Severity | str, classification: Classification | None = None) -> str:
    if classification is not None and classification not in FAILING_CLASSES:
        return "note"
    sev = Severity(severity) if str(severity) in Severity.__members__.values() else Severity.HIGH
    if sev.rank >= Severity.HIGH.rank:
        return "error"
    if sev is Severity.MEDIUM:
        return "warning"
    return "note"


def artifact_uri(path: str) -> str:
    """A URI reference for `path`: relative paths stay relative (GitHub resolves them against the
    repository), absolute ones become `file://` URIs.

    Per RFC 3986 every byte of the name's file-system bytes outside the unreserved set and `/` is
    percent-encoded, so a name that is not valid UTF-8 (byte 0xFF: `%FF`) or holds control
    characters still gives a valid URI that decodes back to the exact name.
    """
    raw = path_bytes(path.replace(os.sep, "/"))
    encoded = quote(raw, safe="/-._~!")  # `!` as in `bundle.zip!config/.env` (a sub-delim: allowed)
    if raw.startswith(b"/"):
        return "file://" + encoded
    return encoded


def _rule_descriptor(rule_id: str, info: RuleInfo | None, sample: Finding) -> dict[str, Any]:
    description = (info.description if info else "") or f"{sample.provider} {sample.kind}".strip()
    severity = info.severity if info and info.severity in Severity.__members__.values() else str(sample.severity)
    tags = ["security", "secret", *(info.tags if info else ())]
    provider = (info.provider if info else "") or sample.provider
    kind = (info.kind if info else "") or sample.kind
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {
            "text": f"{description}. Rotate the credential, remove it from the code, and read it from "
            "the environment or a secret store. To accept a finding, add its path or value pattern "
            "to the allowlist in policies/scan.toml.",
        },
        "defaultConfiguration": {"level": _level(severity)},
        "properties": {
            "tags": sorted(set(tags)),
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[Severity(severity)],
            "provider": provider,
            "kind": kind,
        },
    }


def _message(finding: Finding) -> str:
    what = f"{finding.provider} {finding.kind}".strip()
    text = f"{finding.classification}: {what} ({finding.preview})"
    if finding.location.cell is not None:
        text += f" in notebook cell {finding.location.cell}"
    if finding.context:
        text += "; " + ", ".join(f"{k}={v}" for k, v in sorted(finding.context.items()))
    return printable(text)


class SarifFormat(Format):
    """`--format sarif`."""

    id = "sarif"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """A SARIF 2.1.0 log with one run."""
        # URIs are percent-encoded and messages escaped; `json_text` escapes the rest that a
        # terminal could act on (C1 controls, bidi overrides) and drops lone surrogates.
        return json_text(json.dumps(self.document(result, options), indent=2, ensure_ascii=False)) + "\n"

    def document(self, result: ScanResult, options: RenderOptions) -> dict[str, Any]:
        """The SARIF log as a dict (for callers that post-process it)."""
        samples: dict[str, Finding] = {}
        for finding in result.findings:
            samples.setdefault(finding.rule_id, finding)
        rule_ids = sorted(samples)
        index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
        rules = [_rule_descriptor(rid, options.rules.get(rid), samples[rid]) for rid in rule_ids]
        results = [
            self._result(f, line_hash, index[f.rule_id])
            for f, line_hash in zip(result.findings, result.line_hashes, strict=True)
        ]
        notifications = [
            {
                "level": "warning",
                "message": {"text": printable(f"skipped ({skip.reason}): {skip.detail}".rstrip(": "))},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(skip.path)}}}],
            }
            for skip in result.skipped
        ]
        invocation: dict[str, Any] = {"executionSuccessful": True}
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        return {
            "$schema": SARIF_SCHEMA,
            "version": SARIF_VERSION,
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "secretops",
                            "version": options.tool_version,
                            "semanticVersion": options.tool_version,
                            "rules": rules,
                        }
                    },
                    "invocations": [invocation],
                    "columnKind": "unicodeCodePoints",
                    "results": results,
                    "properties": {
                        "stats": {
                            "files": result.stats.files,
                            "bytes": result.stats.bytes,
                            "skipped": dict(sorted(result.stats.skipped.items())),
                            "seconds": round(result.stats.seconds, 3),
                        }
                    },
                }
            ],
        }

    @staticmethod
    def _result(finding: Finding, line_hash: str, rule_index: int) -> dict[str, Any]:
        loc = finding.location
        region: dict[str, Any] = {
            "startLine": max(loc.line, 1),
            "startColumn": max(loc.column, 1),
            "endLine": max(loc.end_line, loc.line, 1),
        }
        if loc.end_column >= 1 and (loc.end_line > loc.line or loc.end_column >= loc.column):
            region["endColumn"] = loc.end_column
        properties: dict[str, Any] = {
            "fingerprint": finding.fingerprint,
            "class": str(finding.classification),
            "severity": str(finding.severity),
            "confidence": finding.confidence,
            "preview": finding.preview,
            "provider": finding.provider,
            "kind": finding.kind,
        }
        if finding.context:
            properties["context"] = dict(finding.context)
        if finding.reasons:
            properties["reasons"] = list(finding.reasons)
        if loc.cell is not None:
            properties["cell"] = loc.cell
        if loc.commit is not None:
            properties["commit"] = loc.commit
        if finding.inventory is not None:
            inv = finding.inventory
            properties["inventory"] = {"secret": inv.secret, "version": inv.version, "state": inv.state}
        if finding.liveness is not None:
            properties["liveness"] = finding.liveness.to_dict()
        return {
            "ruleId": finding.rule_id,
            "ruleIndex": rule_index,
            "kind": "fail",
            "level": _level(finding.severity, finding.classification),
            "message": {"text": _message(finding)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(loc.path)},
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: line_hash},
            "properties": properties,
        }
