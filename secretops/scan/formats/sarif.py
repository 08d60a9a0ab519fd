"""SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers.

Validates against the official OASIS schema (tests/assets/sarif-schema-2.1.0.json). Each result
has `ruleId`/`ruleIndex`, one physical location (line and column are 1-based, counted in Unicode
code points), and `partialFingerprints["secretopsLineHash/v1"]`: a sha256 of rule id, path and the
masked line, which is the same on every machine (unlike the HMAC fingerprint, whose key differs
per installation; that one is in `properties.fingerprint`). No raw value is ever written here,
even with `--show-secrets`.

Severity: a result's `level` and the `security-severity` GitHub sorts by always agree. Both come
from the result's effective severity: the finding's severity, or `info` for a finding that does
not count as a leak (a test credential, a placeholder: level `note`). A rule whose results have
another effective severity than its default gets one descriptor per severity present: the
default keeps the rule id, the others are `RULE/SEVERITY` (for example
`generic-secret-assignment/medium` for weak default passwords, `warning`, 5.5). Each result also
carries its own `properties.security-severity`.

Baselined findings are not dropped: they are results with `suppressions`
(`kind: external`, `status: accepted`, the audit mark and note as `justification`), so code
scanning shows them as dismissed rather than losing them. Paths under an absolute scan root
are written relative to it, with `uriBaseId` naming the root in `run.originalUriBaseIds`
(`SRCROOT` for the current folder, `SCANROOT1`... for other roots).

`tool.driver.informationUri` is where this installation comes from, only when that is known
(`SECRETOPS_INFORMATION_URI`, the package's `[project.urls]`, or the VCS/archive URL it was
installed from, without credentials; see `tool_uri`); never a placeholder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote

from secretops.display import json_text, path_bytes, printable
from secretops.scan.formats.interface import Format, RenderOptions, RuleInfo, Suppressed
from secretops.scan.formats.tool_uri import information_uri as tool_information_uri
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


def _effective(finding: Finding) -> Severity:
    """The severity a result is reported at: `info` for a class that does not fail a scan."""
    if finding.classification not in FAILING_CLASSES:
        return Severity.INFO
    return Severity(finding.severity) if str(finding.severity) in Severity.__members__.values() else Severity.HIGH


def _default_severity(rule_id: str, info: RuleInfo | None, sample: Finding) -> Severity:
    if info and info.severity in Severity.__members__.values():
        return Severity(info.severity)
    return _effective(sample)


class _Roots:
    """`originalUriBaseIds`: the current folder (`SRCROOT`) and absolute scan roots (`SCANROOT<n>`)."""

    def __init__(self, roots: Iterable[str]) -> None:
        self.cwd = os.getcwd()
        self.bases: dict[str, str] = {}
        extra = sorted({os.path.abspath(r) for r in roots if os.path.isabs(r)}, key=len, reverse=True)
        self.extra = [(r, f"SCANROOT{i}") for i, r in enumerate(extra, start=1)]

    def location(self, path: str) -> dict[str, Any]:
        """An `artifactLocation` for `path`."""
        if not os.path.isabs(path):
            self.bases["SRCROOT"] = self.cwd
            return {"uri": artifact_uri(path), "uriBaseId": "SRCROOT"}
        for root, name in self.extra:
            prefix = root.rstrip(os.sep) + os.sep
            if path.startswith(prefix):
                self.bases[name] = root
                return {"uri": artifact_uri(path[len(prefix) :]), "uriBaseId": name}
        return {"uri": artifact_uri(path)}

    def document(self) -> dict[str, Any]:
        """The `originalUriBaseIds` object (folder URIs end with `/`)."""
        return {
            name: {"uri": artifact_uri(root.rstrip(os.sep) + os.sep)} for name, root in sorted(self.bases.items())
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


def _rule_descriptor(rule_id: str, info: RuleInfo | None, sample: Finding, severity: Severity) -> dict[str, Any]:
    description = (info.description if info else "") or f"{sample.provider} {sample.kind}".strip()
    tags = ["security", "secret", *(info.tags if info else ())]
    provider = (info.provider if info else "") or sample.provider
    kind = (info.kind if info else "") or sample.kind
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.replace("/", "-").split("-")),
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
    if info and info.references:
        descriptor["helpUri"] = info.references[0]
    return descriptor


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
        pairs = [*zip(result.findings, result.line_hashes, strict=True)]
        pairs += [(s.finding, s.stable_id) for s in options.suppressed]
        samples: dict[str, tuple[str, Severity, Finding]] = {}
        result_ids: list[str] = []
        for finding, _ in pairs:
            info = options.rules.get(finding.rule_id)
            default = _default_severity(finding.rule_id, info, finding)
            effective = _effective(finding)
            descriptor_id = finding.rule_id if effective is default else f"{finding.rule_id}/{effective}"
            samples.setdefault(descriptor_id, (finding.rule_id, effective, finding))
            result_ids.append(descriptor_id)
        descriptor_ids = sorted(samples)
        index = {descriptor_id: i for i, descriptor_id in enumerate(descriptor_ids)}
        rules = [
            _rule_descriptor(did, options.rules.get(samples[did][0]), samples[did][2], samples[did][1])
            for did in descriptor_ids
        ]
        roots = _Roots(options.roots)
        suppressions: list[Suppressed | None] = [None] * len(result.findings) + list(options.suppressed)
        results = [
            self._result(f, line_hash, did, index[did], roots, sup)
            for (f, line_hash), did, sup in zip(pairs, result_ids, suppressions, strict=True)
        ]
        notifications = [
            {
                "level": "warning",
                "message": {"text": printable(f"skipped ({skip.reason}): {skip.detail}".rstrip(": "))},
                "locations": [{"physicalLocation": {"artifactLocation": roots.location(skip.path)}}],
            }
            for skip in result.skipped
        ]
        invocation: dict[str, Any] = {"executionSuccessful": True}
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        driver: dict[str, Any] = {
            "name": "secretops",
            "version": options.tool_version,
            "semanticVersion": options.tool_version,
            "rules": rules,
        }
        information_uri = tool_information_uri(os.environ)
        if information_uri:
            driver["informationUri"] = information_uri
        run: dict[str, Any] = {}
        bases = roots.document()
        if bases:
            run["originalUriBaseIds"] = bases
        return {
            "$schema": SARIF_SCHEMA,
            "version": SARIF_VERSION,
            "runs": [
                {
                    "tool": {"driver": driver},
                    **run,
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
    def _result(
        finding: Finding,
        line_hash: str,
        rule_id: str,
        rule_index: int,
        roots: _Roots,
        suppressed: Suppressed | None = None,
    ) -> dict[str, Any]:
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
            "security-severity": _SECURITY_SEVERITY[_effective(finding)],
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
        out: dict[str, Any] = {
            "ruleId": rule_id,
            "ruleIndex": rule_index,
            "kind": "fail",
            "level": _level(_effective(finding)),
            "message": {"text": _message(finding)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": roots.location(loc.path),
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: line_hash},
            "properties": properties,
        }
        if suppressed is not None:
            where = f"baseline {suppressed.source}" if suppressed.source else "baseline"
            justification = f"{where}: {suppressed.state}"
            if suppressed.justification:
                justification += f": {suppressed.justification}"
            out["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": printable(justification),
                    "properties": {"audit": suppressed.state},
                }
            ]
        return out
