"""GitLab's secret-detection report (`gl-secret-detection-report.json`), schema version 15.0.7.

Uploaded as `artifacts: reports: secret_detection:` (docs/ci.md), GitLab shows each finding in
the merge request widget and the vulnerability report. The report is validated in tests against
GitLab's published schema (tests/assets/gitlab-secret-detection-report-format-15.0.7.json). No
raw value is ever written here, even with `--show-secrets`: the description holds the masked
preview only, and `raw_source_code_extract` (an unsanitized excerpt) is never set.

Each vulnerability's `id` is a UUID derived from the rule id and the finding's stable line hash,
so the same finding has the same id on every machine and every run. A finding that secretops
does not count as a leak (a test credential, a placeholder...) carries GitLab's
`flagged-as-likely-false-positive` flag with the reason. A scan of files outside git history
has no commit: GitLab's own analyzer then writes the placeholder sha `0000000`, and so does this.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from secretops.display import json_path, json_text, printable
from secretops.scan.formats.interface import Format, RenderOptions, RuleInfo
from secretops.scan.models import Finding, Severity
from secretops.scan.runner import FAILING_CLASSES, ScanResult

__all__ = ["GITLAB_SCHEMA_VERSION", "GitlabFormat"]

GITLAB_SCHEMA_VERSION: Final = "15.0.7"
GITLAB_SCHEMA: Final = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{GITLAB_SCHEMA_VERSION}/dist/secret-detection-report-format.json"
)
NO_COMMIT: Final = "0000000"
_ID_NAMESPACE: Final = uuid.UUID("6f1c2b1e-4f3a-5d7e-9a0b-5ec7e7095ca1")
_SEVERITY: Final = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
}
_TOOL: Final = {"id": "secretops", "name": "secretops", "vendor": {"name": "secretops"}}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _severity(finding: Finding) -> str:
    try:
        return _SEVERITY[Severity(str(finding.severity))]
    except ValueError:
        return "Unknown"


def _vulnerability(finding: Finding, stable_id: str, info: RuleInfo | None) -> dict[str, Any]:
    loc = finding.location
    path = json_path(loc.path)[0]
    what = (info.description if info else "") or f"{finding.provider} {finding.kind}".strip() or finding.rule_id
    description = printable(f"{finding.classification}: {what} ({finding.preview})")
    if finding.context:
        description += printable("; " + ", ".join(f"{k}={v}" for k, v in sorted(finding.context.items())))
    identifier: dict[str, Any] = {
        "type": "secretops_rule_id",
        "name": f"secretops rule {finding.rule_id}",
        "value": finding.rule_id,
    }
    vuln: dict[str, Any] = {
        "id": str(uuid.uuid5(_ID_NAMESPACE, f"{finding.rule_id}\0{stable_id}")),
        "category": "secret_detection",
        "name": printable(what)[:255],
        "description": description,
        "severity": _severity(finding),
        "confidence": finding.confidence.capitalize(),
        "solution": (
            "Rotate the credential (secretops compromised), remove it from the code, and read it "
            "from the environment or a secret store."
        ),
        "identifiers": [identifier],
        "location": {
            "file": path,
            "commit": {"sha": loc.commit or NO_COMMIT},
            "start_line": max(loc.line, 1),
            "end_line": max(loc.end_line, loc.line, 1),
        },
    }
    if finding.classification not in FAILING_CLASSES:
        reason = "; ".join(finding.reasons) or str(finding.classification)
        vuln["flags"] = [
            {"type": "flagged-as-likely-false-positive", "origin": "secretops", "description": printable(reason)}
        ]
    return vuln


class GitlabFormat(Format):
    """`--format gitlab`."""

    id = "gitlab"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """The report as indented JSON."""
        return json_text(json.dumps(self.document(result, options), indent=2, ensure_ascii=False)) + "\n"

    def document(self, result: ScanResult, options: RenderOptions, *, now: datetime | None = None) -> dict[str, Any]:
        """The report as a dict; `now` is the scan's end time (default: the current time)."""
        end = now or datetime.now(UTC)
        start = end - timedelta(seconds=max(result.stats.seconds, 0.0))
        tool = {**_TOOL, "version": options.tool_version}
        messages = [
            {"level": "warn", "value": printable(f"skipped {json_path(s.path)[0]} ({s.reason}) {s.detail}".rstrip())}
            for s in result.skipped
        ]
        scan: dict[str, Any] = {
            "analyzer": tool,
            "scanner": tool,
            "type": "secret_detection",
            "start_time": _time(start),
            "end_time": _time(end),
            "status": "success",
        }
        if messages:
            scan["messages"] = messages
        return {
            "version": GITLAB_SCHEMA_VERSION,
            "schema": GITLAB_SCHEMA,
            "scan": scan,
            "vulnerabilities": [
                _vulnerability(f, h, options.rules.get(f.rule_id))
                for f, h in zip(result.findings, result.line_hashes, strict=True)
            ],
        }
