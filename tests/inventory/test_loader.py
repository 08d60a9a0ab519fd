"""`load_inventory`/`collect`: YAML to models, with the file and line of every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.errors import PolicyError
from secretops.inventory.loader import PolicyProblems, collect, load_inventory, policy_files
from secretops.inventory.models import DigitalOceanTargetSpec, PostgresIssuerSpec, Strategy

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "policies"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_loads_valid_directory_with_names_global_across_files() -> None:
    inventory = load_inventory(ASSETS / "valid")
    assert [f.name for f in inventory.files] == ["basic.yaml", "digitalocean.yaml", "every-kind.yaml"]
    assert set(inventory.issuers) >= {"neon", "do-valkey", "shop-mysql"}
    assert isinstance(inventory.issuers["neon"], PostgresIssuerSpec)
    assert isinstance(inventory.targets["do-staging"], DigitalOceanTargetSpec)
    secret = inventory.secrets["budget-ai/database"]
    assert secret.strategy is Strategy.ALTERNATE
    assert secret.accounts == ["app_a", "app_b"]
    assert inventory.issuer_of("budget-ai/database").kind == "postgres"


def test_where_points_at_the_declaring_line() -> None:
    inventory = load_inventory(ASSETS / "valid")
    file, line = inventory.where("shop/redis")
    assert file.name == "every-kind.yaml"
    assert file.read_text().splitlines()[line - 1].strip() == "- name: shop/redis"
    tfile, tline = inventory.where_target("shop-k8s")
    assert tfile.read_text().splitlines()[tline - 1].lstrip().startswith("shop-k8s:")
    ifile, iline = inventory.where_issuer("neon")
    assert ifile.name == "basic.yaml" and iline == 4
    with pytest.raises(KeyError):
        inventory.where("no/such")


def test_one_file_can_be_loaded_alone() -> None:
    inventory = load_inventory(ASSETS / "valid" / "basic.yaml")
    assert list(inventory.secrets) == ["budget-ai/database"]


def test_load_raises_policy_problems_with_every_problem(tmp_path: Path) -> None:
    _write(
        tmp_path / "app.yaml",
        """\
version: 1
issuers:
  db: {kind: postgress, admin_dsn_env: DB}
  app: {kind: app}
targets:
  web: {kind: rendr, service_id: srv-x}
secrets:
  - name: a/one
    kind: k
    issuer: app
    period: 90x
  - name: a/two
    kind: k
    issuer: ap
    perod: 1d
  - name: a/three
    kind: k
    issuer: app
    consumers:
      - {target: web, env: X}
""",
    )
    with pytest.raises(PolicyProblems) as info:
        load_inventory(tmp_path)
    err = info.value
    assert isinstance(err, PolicyError)
    assert err.exit_code == 2
    found = [(p.line, p.field, p.code) for p in err.problems]
    assert found == [
        (3, "issuers.db.kind", "unknown-issuer-kind"),
        (6, "targets.web.kind", "unknown-target-kind"),
        (11, "secrets[0].period", "bad-duration"),
        (15, "secrets[1].perod", "unknown-field"),
    ]
    # a/three's target 'web' is declared but broken: not reported again as unknown
    assert "app.yaml:6: targets.web.kind: unknown target kind 'rendr'" in err.diagnostics()
    assert "hint:" in err.diagnostics()


def test_valid_neighbours_survive_a_broken_entry(tmp_path: Path) -> None:
    _write(
        tmp_path / "p.yaml",
        "issuers:\n  app: {kind: app}\nsecrets:\n"
        "  - {name: ok/one, kind: k, issuer: app}\n  - {name: BAD, kind: k, issuer: app}\n",
    )
    inventory, problems = collect(tmp_path)
    assert list(inventory.secrets) == ["ok/one"]
    assert [(p.line, p.field) for p in problems] == [(5, "secrets[1].name")]


def test_unknown_issuer_is_not_reported_when_the_issuer_is_broken(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "issuers:\n  db: {kind: postgres}\n")
    _write(
        tmp_path / "b.yaml",
        "secrets:\n  - {name: x/db, kind: k, issuer: db, strategy: alternate, accounts: [a, b]}\n",
    )
    _, problems = collect(tmp_path)
    assert [(p.file.name, p.field, p.code) for p in problems] == [
        ("a.yaml", "issuers.db.admin_dsn_env", "missing-field")
    ]


def test_problems_are_sorted_by_file_then_line(tmp_path: Path) -> None:
    _write(tmp_path / "b.yaml", "version: 3\nissuers: {x: {kind: nope}}\n")
    _write(tmp_path / "a.yaml", "issuers: {y: {kind: nope}}\nversion: 3\n")
    _, problems = collect(tmp_path)
    assert [(p.file.name, p.line) for p in problems] == [("a.yaml", 1), ("a.yaml", 2), ("b.yaml", 1), ("b.yaml", 2)]


def test_empty_files_and_empty_sections_are_fine(tmp_path: Path) -> None:
    _write(tmp_path / "empty.yaml", "")
    _write(tmp_path / "comments.yml", "# nothing yet\n")
    _write(tmp_path / "sections.yaml", "version: 1\nissuers:\ntargets:\nsecrets:\n")
    inventory, problems = collect(tmp_path)
    assert problems == []
    assert len(inventory.files) == 3
    assert inventory.secrets == {}


def test_only_yaml_files_are_read_and_hidden_ones_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "scan.toml", "[rules]\n")
    _write(tmp_path / "README.md", "# policies\n")
    _write(tmp_path / ".hidden.yaml", "- broken\n")
    _write(tmp_path / ".git" / "x.yaml", "- broken\n")
    _write(tmp_path / "apps" / "one.yml", "version: 1\n")
    assert [p.relative_to(tmp_path).as_posix() for p in policy_files(tmp_path)] == ["apps/one.yml"]


def test_missing_path_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no policy directory or file"):
        collect(tmp_path / "nope")


def test_non_mapping_sections_and_names(tmp_path: Path) -> None:
    _write(tmp_path / "p.yaml", "issuers: [a, b]\ntargets:\n  7: {kind: heroku, app: x}\n")
    _, problems = collect(tmp_path)
    assert [(p.line, p.field, p.code) for p in problems] == [
        (1, "issuers", "wrong-type"),
        (3, "targets[7]", "wrong-type"),
    ]


def test_values_never_echoed_for_type_errors(tmp_path: Path) -> None:
    _write(
        tmp_path / "p.yaml",
        "targets:\n  web: {kind: render, service_id: [npg_Hclv1yP9IEeL]}\n"
        "issuers:\n  db: {kind: postgres, admin_dsn_env: 'postgresql://u:npg_Hclv1yP9IEeL@h/d'}\n",
    )
    _, problems = collect(tmp_path)
    assert len(problems) == 2
    text = "\n".join(str(p) for p in problems)
    assert "npg_Hclv1yP9IEeL" not in text


def test_invalid_utf8_and_recursive_alias(tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(b"version: 1\nname: \xff\xfe\n")
    _write(tmp_path / "alias.yaml", "anchors: &a [*a]\n")
    _, problems = collect(tmp_path)
    codes = {(p.file.name, p.code) for p in problems}
    assert ("bin.yaml", "yaml-syntax") in codes
    assert ("alias.yaml", "unknown-field") in codes


def test_merge_keys_do_not_count_as_duplicates(tmp_path: Path) -> None:
    _write(
        tmp_path / "p.yaml",
        """\
x-defaults: &render {kind: render, token_env: RENDER_API_KEY}
""",
    )
    _write(
        tmp_path / "q.yaml",
        """\
targets:
  web:
    <<: {kind: render, token_env: RENDER_API_KEY}
    service_id: srv-web
""",
    )
    inventory, problems = collect(tmp_path)
    assert [(p.file.name, p.code) for p in problems] == [("p.yaml", "unknown-field")]
    assert inventory.targets["web"].kind == "render"
