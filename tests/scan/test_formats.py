"""Output formats: table, JSON (the documented schema), SARIF (validated against the official schema)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from secretops.scan.formats import FORMATS, FormatError, RenderOptions, RuleInfo, get_format, rule_infos
from secretops.scan.formats.gitlab import GitlabFormat
from secretops.scan.formats.interface import Suppressed
from secretops.scan.formats.json_format import SCHEMA_VERSION, JsonFormat
from secretops.scan.formats.jsonl import JsonLinesFormat
from secretops.scan.formats.sarif import FINGERPRINT_KEY, SarifFormat, artifact_uri
from secretops.scan.formats.table import TableFormat
from secretops.scan.models import Classification, Finding, Location, ScanStats, Severity
from secretops.scan.runner import ScanResult
from secretops.scan.sources.interface import Skipped, SkipReason
from secretops.values import SecretValue

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())
RAW = "npg_Zq8rT2vLm4Xc"  # a fake, generated for this test
RULES = {
    "neon-postgres-password": RuleInfo(
        "neon-postgres-password", "Neon Postgres role password", "high", "neon", "postgres-password"
    )
}


def _finding(
    cls: Classification = Classification.LEAK,
    severity: Severity = Severity.HIGH,
    path: str = "app/.env",
    line: int = 3,
    cell: int | None = None,
    rule_id: str = "neon-postgres-password",
) -> Finding:
    return Finding(
        rule_id=rule_id,
        kind="postgres-password",
        provider="neon",
        classification=cls,
        severity=severity,
        confidence="high",
        location=Location(path, line, 14, line, 30, cell=cell),
        fingerprint="hmac-sha256:" + "ab" * 16,
        preview="npg_********",
        context={"host": "ep-cool-1.neon.tech", "user": "app"},
        reasons=("leak: no placeholder or test marker",),
        secret=SecretValue(RAW),
    )


def _result(*findings: Finding) -> ScanResult:
    stats = ScanStats(files=10, bytes=12345, skipped={"binary": 2, "too-large": 1}, seconds=0.5)
    return ScanResult(
        findings=list(findings),
        stats=stats,
        hidden={"test-credential": 3},
        skipped=[Skipped("locked.txt", SkipReason.UNREADABLE, "Permission denied")],
        line_hashes=[f"{i:032x}:1" for i in range(len(findings))],
    )


MIXED = _result(
    _finding(),
    _finding(Classification.WEAK_DEFAULT, Severity.MEDIUM, path="config/settings.py", line=1),
    _finding(Classification.TEST_CREDENTIAL, path="tests/conftest.py"),
    _finding(Classification.PLACEHOLDER, Severity.LOW, path="docs/setup.md", rule_id="generic-password"),
    _finding(path="nb/demo.ipynb", cell=4, severity=Severity.CRITICAL),
    _finding(path="/abs/path with space/x.env"),
)


def test_every_format_id_maps_to_a_class() -> None:
    assert set(FORMATS) == {"table", "json", "jsonl", "sarif", "gitlab", "html"}
    for name, cls in FORMATS.items():
        assert cls.id == name
        assert isinstance(get_format(name), cls)
    with pytest.raises(FormatError, match="unknown output format 'xml'"):
        get_format("xml")


# --- JSON -----------------------------------------------------------------------------------------

FINDING_KEYS = {
    "rule_id", "kind", "provider", "class", "severity", "confidence", "path", "path_encoding", "line", "column",
    "end_line", "end_column", "cell", "commit", "fingerprint", "stable_id", "preview", "context", "reasons",
}  # fmt: skip


def test_json_schema_fields() -> None:
    doc = json.loads(JsonFormat().render(MIXED, RenderOptions()))
    assert doc["version"] == SCHEMA_VERSION == 1
    assert doc["tool"]["name"] == "secretops"
    assert set(doc) == {"version", "tool", "findings", "stats", "hidden", "skipped_files"}
    assert doc["stats"] == {"files": 10, "bytes": 12345, "skipped": {"binary": 2, "too-large": 1}, "seconds": 0.5}
    assert doc["hidden"] == {"test-credential": 3}
    assert doc["skipped_files"] == [
        {"path": "locked.txt", "path_encoding": "utf-8", "reason": "unreadable", "detail": "Permission denied"}
    ]
    first = doc["findings"][0]
    assert set(first) == FINDING_KEYS
    assert first["class"] == "leak" and first["severity"] == "high"
    assert (first["line"], first["column"], first["end_line"], first["end_column"]) == (3, 14, 3, 30)
    assert first["context"] == {"host": "ep-cool-1.neon.tech", "user": "app"}
    assert first["stable_id"] == "0" * 32 + ":1"
    assert [f["class"] for f in doc["findings"]][:4] == ["leak", "weak-default", "test-credential", "placeholder"]
    assert doc["findings"][4]["cell"] == 4


def test_json_holds_the_value_only_with_show_secrets() -> None:
    hidden = JsonFormat().render(MIXED, RenderOptions())
    assert RAW not in hidden and '"secret"' not in hidden
    shown = json.loads(JsonFormat().render(MIXED, RenderOptions(show_secrets=True)))
    assert shown["findings"][0]["secret"] == RAW


def test_json_empty_result() -> None:
    doc = json.loads(JsonFormat().render(ScanResult(), RenderOptions()))
    assert doc["findings"] == [] and doc["stats"]["files"] == 0


# --- SARIF ----------------------------------------------------------------------------------------


def _sarif(result: ScanResult, **kw: Any) -> dict[str, Any]:
    text = SarifFormat().render(result, RenderOptions(rules=RULES, **kw))
    doc: dict[str, Any] = json.loads(text)
    return doc


@pytest.mark.parametrize("result", [MIXED, ScanResult()], ids=["findings", "empty"])
def test_sarif_validates_against_the_official_schema(result: ScanResult) -> None:
    doc = _sarif(result)
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


def test_sarif_schema_copy_is_the_official_one() -> None:
    assert SARIF_SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SARIF_SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    # A broken log is rejected, so the validation above means something.
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    assert list(validator.iter_errors({"version": "2.1.0", "runs": [{"tool": {}}]}))


def test_sarif_has_what_github_code_scanning_reads() -> None:
    doc = _sarif(MIXED)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "generic-password",
        "neon-postgres-password",
        "neon-postgres-password/critical",
        "neon-postgres-password/info",
        "neon-postgres-password/medium",
    ]
    neon = rules[1]
    assert neon["shortDescription"]["text"] == "Neon Postgres role password"
    assert neon["properties"]["security-severity"] == "8.0"
    assert "security" in neon["properties"]["tags"]
    results = run["results"]
    assert len(results) == 6
    first = results[0]
    assert first["ruleId"] == "neon-postgres-password"
    assert "uriBaseId" in first["locations"][0]["physicalLocation"]["artifactLocation"]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"]
    assert first["level"] == "error"
    assert first["partialFingerprints"] == {FINGERPRINT_KEY: "0" * 32 + ":1"}
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "app/.env"
    assert loc["region"] == {"startLine": 3, "startColumn": 14, "endLine": 3, "endColumn": 30}
    assert first["properties"]["fingerprint"].startswith("hmac-sha256:")
    levels = [r["level"] for r in results]
    assert levels == ["error", "warning", "note", "note", "error", "error"]
    assert results[4]["properties"]["cell"] == 4 and "cell 4" in results[4]["message"]["text"]
    assert results[5]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "file:///abs/path%20with%20space/x.env"
    )
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "skipped (unreadable): Permission denied"


def test_sarif_never_holds_the_value() -> None:
    text = SarifFormat().render(MIXED, RenderOptions(show_secrets=True, rules=RULES))
    assert RAW not in text


def test_artifact_uri_escapes_odd_paths() -> None:
    assert artifact_uri("src/app.py") == "src/app.py"
    assert artifact_uri("<stdin>") == "%3Cstdin%3E"
    assert artifact_uri("dir/a b#c.txt") == "dir/a%20b%23c.txt"


# --- table ----------------------------------------------------------------------------------------


def test_table_shows_previews_never_values() -> None:
    text = TableFormat().render(MIXED, RenderOptions(show_secrets=True))
    assert RAW not in text
    lines = text.splitlines()
    assert lines[0].split() == ["SEVERITY", "CLASS", "RULE", "LOCATION", "PREVIEW"]
    assert lines[1].split() == ["high", "leak", "neon-postgres-password", "app/.env:3:14", "npg_********"]
    assert lines[2].strip() == "host=ep-cool-1.neon.tech user=app"
    assert "nb/demo.ipynb[cell 4]:3:14" in text
    assert "\x1b[" not in text


def test_table_summary_counts_skips_and_hidden() -> None:
    text = TableFormat().render(MIXED, RenderOptions())
    assert "6 findings (3 leak, 1 placeholder, 1 test-credential, 1 weak-default) in 10 files" in text
    assert "skipped 3: 2 binary, 1 too-large" in text
    assert "not shown: 3 test-credential (--include test-credentials)" in text
    assert TableFormat().render(ScanResult(), RenderOptions()).startswith("no findings in 0 files")


def test_table_colour_only_when_asked() -> None:
    coloured = TableFormat().render(MIXED, RenderOptions(color=True))
    assert "\x1b[31mhigh" in coloured and "\x1b[1;31mcritical" in coloured
    assert RAW not in coloured


def test_rule_infos_reads_rule_like_objects() -> None:
    class R:
        id = "x-token"
        description = "X token"
        severity = Severity.CRITICAL
        provider = "x"
        kind = "api-key"
        tags = ("ci",)

    assert rule_infos([R()]) == {"x-token": RuleInfo("x-token", "X token", "critical", "x", "api-key", ("ci",))}


# --- HTML -----------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects tags and text of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self.rows = 0
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows += 1
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def test_html_is_one_escaped_page_without_values() -> None:
    hostile = _finding(path="<script>alert(1)</script>.env")
    result = _result(*MIXED.findings, hostile)
    rules = {**RULES, "generic-password": RuleInfo("generic-password", "<b>bold</b> & more")}
    text = get_format("html").render(result, RenderOptions(show_secrets=True, rules=rules))
    page = _Page()
    page.feed(text)
    assert text.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in text
    assert "script" not in page.tags and "b" not in page.tags, "scan text is escaped, never markup"
    assert page.rows == len(result.findings) + 1  # the header row
    assert "<script>alert(1)</script>.env:3:14" in page.cells  # shown as text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in text
    assert RAW not in text, "not even with --show-secrets"
    assert "nb/demo.ipynb[cell 4]:3:14" in page.cells and "npg_********" in page.cells
    assert "locked.txt" in text and "6 findings" not in text and "7 findings" in text


def test_html_without_findings_says_so() -> None:
    text = get_format("html").render(_result(), RenderOptions())
    assert "<p>No findings.</p>" in text and "<table>" not in text


# --- SARIF: severity agreement, suppressions, base URIs, help links --------------------------------

_SEVERITY_LEVEL = {"9.5": "error", "8.0": "error", "5.5": "warning", "3.0": "note", "1.0": "note"}


def test_sarif_level_and_security_severity_always_agree() -> None:
    doc = _sarif(MIXED)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["defaultConfiguration"]["level"] == result["level"]
        assert rule["properties"]["security-severity"] == result["properties"]["security-severity"]
        assert _SEVERITY_LEVEL[rule["properties"]["security-severity"]] == result["level"]
    weak = run["results"][1]
    assert (weak["ruleId"], weak["level"], weak["properties"]["security-severity"]) == (
        "neon-postgres-password/medium",
        "warning",
        "5.5",
    )


def test_sarif_baselined_findings_are_suppressions_not_dropped() -> None:
    known = _finding(path="app/known.env", line=9)
    options = {"suppressed": (Suppressed(known, "f" * 32 + ":1", "false-positive", "a fixture", "b.json"),)}
    doc = _sarif(_result(_finding()), **options)
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    assert list(validator.iter_errors(doc)) == []
    results = doc["runs"][0]["results"]
    assert len(results) == 2
    assert "suppressions" not in results[0]
    (sup,) = results[1]["suppressions"]
    assert sup["kind"] == "external" and sup["status"] == "accepted"
    assert sup["justification"] == "baseline b.json: false-positive: a fixture"
    assert results[1]["partialFingerprints"] == {FINGERPRINT_KEY: "f" * 32 + ":1"}
    assert RAW not in json.dumps(doc)


def test_sarif_absolute_roots_become_original_uri_base_ids(tmp_path: Path) -> None:
    root = str(tmp_path / "repo")
    result = _result(_finding(path=f"{root}/app/.env"), _finding(path="rel/x.env"), _finding(path="/elsewhere/y"))
    doc = _sarif(result, roots=(root,))
    assert list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(doc)) == []
    run = doc["runs"][0]
    bases = run["originalUriBaseIds"]
    assert bases["SCANROOT1"]["uri"] == artifact_uri(root + "/")
    assert bases["SCANROOT1"]["uri"].startswith("file:///") and bases["SCANROOT1"]["uri"].endswith("/")
    assert bases["SRCROOT"]["uri"].startswith("file:///")
    locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert locs[0] == {"uri": "app/.env", "uriBaseId": "SCANROOT1"}
    assert locs[1] == {"uri": "rel/x.env", "uriBaseId": "SRCROOT"}
    assert locs[2] == {"uri": "file:///elsewhere/y"}


def test_sarif_help_uri_is_the_rules_first_reference() -> None:
    rules = {
        "neon-postgres-password": RuleInfo(
            "neon-postgres-password",
            "Neon Postgres role password",
            references=("https://neon.tech/docs/manage/roles", "https://example.org/second"),
        )
    }
    doc = json.loads(SarifFormat().render(_result(_finding()), RenderOptions(rules=rules)))
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["helpUri"] == "https://neon.tech/docs/manage/roles"
    no_refs = _sarif(_result(_finding()))["runs"][0]["tool"]["driver"]["rules"][0]
    assert "helpUri" not in no_refs


# --- GitLab ---------------------------------------------------------------------------------------

GITLAB_SCHEMA = json.loads(
    (REPO / "tests" / "assets" / "gitlab-secret-detection-report-format-15.0.7.json").read_text()
)


def _gitlab_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(GITLAB_SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("result", [MIXED, ScanResult()], ids=["findings", "empty"])
def test_gitlab_report_validates_against_gitlabs_schema(result: ScanResult) -> None:
    doc = json.loads(GitlabFormat().render(result, RenderOptions(rules=RULES)))
    assert _gitlab_errors(doc) == []
    assert doc["version"] == GITLAB_SCHEMA["self"]["version"] == "15.0.7"


def test_gitlab_schema_copy_rejects_a_broken_report() -> None:
    assert GITLAB_SCHEMA["title"] == "Report format for GitLab Secret Detection"
    doc = json.loads(GitlabFormat().render(MIXED, RenderOptions(rules=RULES)))
    del doc["vulnerabilities"][0]["location"]["commit"]
    doc["scan"]["type"] = "sast"
    assert len(_gitlab_errors(doc)) == 2


def test_gitlab_report_fields() -> None:
    doc = json.loads(GitlabFormat().render(MIXED, RenderOptions(rules=RULES)))
    assert RAW not in json.dumps(doc)
    vulns = doc["vulnerabilities"]
    assert len(vulns) == 6
    first = vulns[0]
    assert first["severity"] == "High" and vulns[4]["severity"] == "Critical" and vulns[1]["severity"] == "Medium"
    assert first["location"] == {"file": "app/.env", "commit": {"sha": "0000000"}, "start_line": 3, "end_line": 3}
    assert first["identifiers"][0]["value"] == "neon-postgres-password"
    assert "npg_********" in first["description"] and "flags" not in first
    assert vulns[2]["flags"][0]["type"] == "flagged-as-likely-false-positive"  # a test credential
    assert len({v["id"] for v in vulns}) == 6
    again = json.loads(GitlabFormat().render(MIXED, RenderOptions(rules=RULES)))
    assert [v["id"] for v in again["vulnerabilities"]] == [v["id"] for v in vulns], "ids are stable"
    assert doc["scan"]["messages"][0]["level"] == "warn"


# --- JSON lines -----------------------------------------------------------------------------------


def test_jsonl_is_one_finding_per_line_with_the_json_fields() -> None:
    text = JsonLinesFormat().render(MIXED, RenderOptions())
    lines = text.splitlines()
    assert len(lines) == 6 and text.endswith("\n")
    full = json.loads(JsonFormat().render(MIXED, RenderOptions()))["findings"]
    assert [json.loads(line) for line in lines] == full
    assert RAW not in text
    shown = JsonLinesFormat().render(MIXED, RenderOptions(show_secrets=True))
    assert json.loads(shown.splitlines()[0])["secret"] == RAW
    assert JsonLinesFormat().render(ScanResult(), RenderOptions()) == ""
