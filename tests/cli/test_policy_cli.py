"""`secretops policy check` and `policy schema`: every broken policy yields its message and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from secretops.cli.app import run
from secretops.cli.policy import RENDERERS, CheckFormat
from secretops.inventory.tables import CHECKS

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "policies"
INVALID = ASSETS / "invalid"
REPO = Path(__file__).resolve().parent.parent.parent

# (asset, file the problem is in, line, field, code, a fragment of the message)
CASES: list[tuple[str, str, int, str, str, str]] = [
    ("yaml-syntax.yaml", "yaml-syntax.yaml", 7, "", "yaml-syntax", "YAML syntax error"),
    ("top-level-list.yaml", "top-level-list.yaml", 1, "", "not-a-mapping", "top level must be a mapping"),
    ("duplicate-key.yaml", "duplicate-key.yaml", 9, "secrets[0].period", "duplicate-key", "duplicate key 'period'"),
    (
        "missing-field.yaml",
        "missing-field.yaml",
        5,
        "secrets[0].issuer",
        "missing-field",
        "missing required field `issuer`",
    ),
    ("missing-kind.yaml", "missing-kind.yaml", 3, "targets.web.kind", "missing-field", "missing `kind`"),
    ("wrong-type.yaml", "wrong-type.yaml", 10, "secrets[0].consumers", "wrong-type", "valid list, got a string"),
    ("secrets-not-a-list.yaml", "secrets-not-a-list.yaml", 4, "secrets", "wrong-type", "expected a list of secrets"),
    ("bad-duration.yaml", "bad-duration.yaml", 8, "secrets[0].period", "bad-duration", "invalid duration '90x'"),
    ("bad-version.yaml", "bad-version.yaml", 1, "version", "invalid-value", "got 2"),
    (
        "bad-secret-name.yaml",
        "bad-secret-name.yaml",
        5,
        "secrets[0].name",
        "invalid-value",
        "'Demo/Key' does not match",
    ),
    (
        "bad-template.yaml",
        "bad-template.yaml",
        11,
        "secrets[0].consumers[0].template",
        "invalid-value",
        "unbalanced brace",
    ),
    (
        "unknown-target-kind.yaml",
        "unknown-target-kind.yaml",
        4,
        "targets.web.kind",
        "unknown-target-kind",
        "unknown target kind 'rendr' (known: dotenv, render, digitalocean",
    ),
    (
        "unknown-issuer-kind.yaml",
        "unknown-issuer-kind.yaml",
        4,
        "issuers.db.kind",
        "unknown-issuer-kind",
        "unknown issuer kind 'postgress' (known: postgres, mysql",
    ),
    ("unknown-field.yaml", "unknown-field.yaml", 8, "secrets[0].perod", "unknown-field", "unknown field `perod`"),
    ("unknown-issuer.yaml", "unknown-issuer.yaml", 7, "secrets[0].issuer", "unknown-issuer", "unknown issuer 'noen'"),
    (
        "unknown-target.yaml",
        "unknown-target.yaml",
        11,
        "secrets[0].consumers[0].target",
        "unknown-target",
        "unknown target 'wbe'",
    ),
    (
        "unknown-component.yaml",
        "unknown-component.yaml",
        16,
        "secrets[0].consumers[0].components[0]",
        "unknown-component",
        "unknown component 'wroker'",
    ),
    (
        "components-not-digitalocean.yaml",
        "components-not-digitalocean.yaml",
        11,
        "secrets[0].consumers[0].components",
        "components-not-digitalocean",
        "only applies to digitalocean targets",
    ),
    (
        "worker-missing-secret.yaml",
        "worker-missing-secret.yaml",
        17,
        "secrets[0].consumers[0].env",
        "worker-missing-secret",
        "worker 'worker' on digitalocean target 'do-app' needs SECRET_KEY",
    ),
    (
        "worker-env-unwritten.yaml",
        "worker-env-unwritten.yaml",
        10,
        "targets.do-app.components[0].env[0]",
        "worker-missing-secret",
        "needs REDIS_URL, but no secret writes it",
    ),
    (
        "grace-not-shorter.yaml",
        "grace-not-shorter.yaml",
        9,
        "secrets[0].grace",
        "grace-not-shorter",
        "grace must be shorter than period (grace 2h, period 1h)",
    ),
    ("duplicate-secret", "b.yaml", 6, "secrets[1].name", "duplicate-secret", "duplicate secret name 'demo/key'"),
    ("duplicate-issuer", "b.yaml", 3, "issuers.app", "duplicate-issuer", "duplicate issuer name 'app'"),
    (
        "duplicate-write.yaml",
        "duplicate-write.yaml",
        16,
        "secrets[1].consumers[0].env",
        "duplicate-write",
        "SECRET_KEY on target 'web' is also written by secret 'demo/key'",
    ),
    (
        "forbidden-env-name.yaml",
        "forbidden-env-name.yaml",
        12,
        "secrets[0].consumers[0].env",
        "forbidden-env-name",
        "'GITHUB_PAT' must not start with GITHUB_ on github",
    ),
    (
        "template-field.yaml",
        "template-field.yaml",
        13,
        "secrets[0].consumers[0].template",
        "template-field",
        "template uses {username}, but an app issuer provides only {previous}, {value}",
    ),
    (
        "unsupported-strategy.yaml",
        "unsupported-strategy.yaml",
        5,
        "secrets[0].strategy",
        "unsupported-strategy",
        "strategy overlap (the default) is not supported by postgres issuers",
    ),
    (
        "alternate-accounts.yaml",
        "alternate-accounts.yaml",
        9,
        "secrets[0].accounts",
        "alternate-accounts",
        "strategy alternate needs exactly two accounts",
    ),
    (
        "accounts-count.yaml",
        "accounts-count.yaml",
        5,
        "secrets[0].accounts",
        "accounts-count",
        "names exactly one ACL user",
    ),
    (
        "alternate-username.yaml",
        "alternate-username.yaml",
        13,
        "secrets[0].consumers[0].template",
        "alternate-username",
        "no consumer on target 'web' gets {username}",
    ),
    (
        "replace-needs-accept.yaml",
        "replace-needs-accept.yaml",
        5,
        "secrets[0].accept_downtime",
        "replace-needs-accept",
        "set accept_downtime: true",
    ),
    (
        "render-service.yaml",
        "render-service.yaml",
        3,
        "targets.web.service_id",
        "render-service",
        "give exactly one of service_id or env_group_id",
    ),
    (
        "duration-without-unit.yaml",
        "duration-without-unit.yaml",
        8,
        "secrets[0].period",
        "duration-without-unit",
        "duration 90 has no unit (a bare number is not read as seconds)",
    ),
    (
        "zero-period.yaml",
        "zero-period.yaml",
        8,
        "secrets[0].period",
        "duration-not-positive",
        "period must be longer than 0s: a period of 0s would make the secret due on every run",
    ),
    (
        "negative-grace.yaml",
        "negative-grace.yaml",
        9,
        "secrets[0].grace",
        "negative-duration",
        "grace cannot be negative, got -1h",
    ),
    (
        "unknown-filter.yaml",
        "unknown-filter.yaml",
        11,
        "secrets[0].consumers[0].template",
        "unknown-filter",
        "unknown filter base64; known: conninfo, url (in {password|base64})",
    ),
    (
        "unescaped-url.yaml",
        "unescaped-url.yaml",
        16,
        "secrets[0].consumers[0].template",
        "unescaped-url",
        "{password} sits in the userinfo of a postgresql:// URL without |url, and generator.symbols may put "
        "`#`, `/`, `?`, `@` there",
    ),
    (
        "unescaped-conninfo.yaml",
        "unescaped-conninfo.yaml",
        14,
        "secrets[0].consumers[0].template",
        "unescaped-conninfo",
        "{password} is the value of `password=` in a conninfo string without |conninfo, and generator.symbols "
        "may put space, `'` there",
    ),
    (
        "write-only-unverified.yaml",
        "write-only-unverified.yaml",
        12,
        "secrets[0].consumers[0].health",
        "write-only-unverified",
        "NPM_TOKEN on target 'ci' cannot be read back: GitHub never returns Actions secret values",
    ),
    (
        "missing-target-directory.yaml",
        "missing-target-directory.yaml",
        7,
        "targets.web.path",
        "missing-target-directory",
        "directory /nonexistent/secretops-demo does not exist",
    ),
    (
        "bad-env-reference.yaml",
        "bad-env-reference.yaml",
        5,
        "issuers.db.admin_dsn_env",
        "bad-env-reference",
        "must name an environment variable",
    ),
]


def _check_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = run(["policy", "check", str(path), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_cases_cover_every_invalid_asset() -> None:
    assets = {p.name for p in INVALID.iterdir()}
    assert assets == {case[0] for case in CASES}
    assert len({case[4] for case in CASES}) >= 15  # at least 15 kinds of mistake


@pytest.mark.parametrize(("asset", "file", "line", "field", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_each_broken_policy_reports_its_problem(
    capsys: pytest.CaptureFixture[str], asset: str, file: str, line: int, field: str, code: str, fragment: str
) -> None:
    exit_code, doc = _check_json(INVALID / asset, capsys)
    assert exit_code == 2
    assert doc["ok"] is False
    problems = doc["problems"]
    assert isinstance(problems, list)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert Path(problem["file"]).name == file
    assert problem["line"] == line
    assert problem["field"] == field
    assert problem["code"] == code and code in CHECKS
    assert fragment in problem["message"]
    assert problem["hint"] or code in ("secrets-not-a-list", "wrong-type", "invalid-value")


def test_text_output_names_file_line_field_and_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["policy", "check", str(INVALID / "worker-missing-secret.yaml")])
    out = capsys.readouterr().out
    assert code == 2
    first, hint = out.splitlines()[:2]
    assert first.startswith(
        f"{INVALID / 'worker-missing-secret.yaml'}:17: secrets[0].consumers[0].env: worker 'worker'"
    )
    assert hint == "    hint: add `components: [worker]` to the consumer"
    assert out.rstrip().endswith("1 problem in " + str(INVALID / "worker-missing-secret.yaml") + " (1 file)")


def test_every_problem_is_reported_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code, doc = _check_json(INVALID, capsys)
    assert exit_code == 2
    problems = doc["problems"]
    assert isinstance(problems, list)
    # one run reports the problems of every file (names clash across these files: more, not fewer)
    assert len(problems) >= len(CASES)
    assert {p["code"] for p in problems} <= set(CHECKS)  # docs/policies.md documents every code
    assert {Path(str(p["file"])).name for p in problems} >= {case[1] for case in CASES}


def test_examples_pass(capsys: pytest.CaptureFixture[str]) -> None:
    # The examples' .env target lives on the app's host (/srv/debt-profile/.env), not here.
    code = run(["policy", "check", "--skip-local-targets", str(REPO / "policies" / "examples")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("ok: 5 files,")


def test_examples_checked_here_name_the_missing_env_file(capsys: pytest.CaptureFixture[str]) -> None:
    if Path("/srv/debt-profile").exists():
        pytest.skip("this machine holds the example's host directory")
    code, doc = _check_json(REPO / "policies" / "examples", capsys)
    assert code == 2
    problems = doc["problems"]
    assert isinstance(problems, list)
    assert [(Path(p["file"]).name, p["line"], p["field"], p["code"]) for p in problems] == [
        ("debt-profile.yaml", 23, "targets.debt-profile-env.path", "missing-target-directory")
    ]


def test_valid_assets_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _check_json(ASSETS / "valid", capsys)
    assert code == 0, doc
    assert doc["problems"] == []


def test_default_directory_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one.yaml").write_text((INVALID / "bad-duration.yaml").read_text())
    (tmp_path / "scan.toml").write_text("this is = not yaml: [")  # only *.yaml/*.yml are read
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path))
    assert run(["policy", "check"]) == 2
    assert "invalid duration '90x'" in capsys.readouterr().out


def test_no_policy_files_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", str(tmp_path)]) == 2
    assert "no policy files" in capsys.readouterr().err
    assert run(["policy", "check", str(tmp_path / "missing")]) == 2
    assert "no policy directory or file" in capsys.readouterr().err


def test_every_check_format_has_a_renderer() -> None:
    assert set(RENDERERS) == set(CheckFormat)


def test_schema_validates_examples_and_rejects_mistakes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for example in sorted((REPO / "policies" / "examples").glob("*.yaml")):
        assert not list(validator.iter_errors(yaml.safe_load(example.read_text()))), example
    for asset in (
        "unknown-target-kind.yaml",
        "bad-duration.yaml",
        "duration-without-unit.yaml",
        "unknown-field.yaml",
        "missing-field.yaml",
    ):
        assert list(validator.iter_errors(yaml.safe_load((INVALID / asset).read_text()))), asset


def test_schema_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "policy.schema.json"
    assert run(["policy", "schema", "--output", str(out)]) == 0
    schema = json.loads(out.read_text())
    assert schema["title"] == "secretops policy file"
    period = schema["$defs"]["SecretSpec"]["properties"]["period"]
    assert period["default"] == "90d"
