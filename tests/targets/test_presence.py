"""`missing_keys`: consumer env vars a target does not hold yet (typos, new keys, missing files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.inventory.loader import load_inventory
from secretops.targets.interface import EnvRef
from secretops.targets.presence import MissingKey, missing_keys
from tests.fakes.target import FakeTarget


def _inventory(tmp_path: Path, targets: str, consumers: str) -> Path:
    policy = tmp_path / "policies" / "p.yaml"
    policy.parent.mkdir(exist_ok=True)
    policy.write_text(
        f"""\
issuers: {{app: {{kind: app}}}}
targets:
{targets}
secrets:
  - name: a/key
    kind: k
    issuer: app
    consumers:
{consumers}
"""
    )
    return policy


def test_typo_in_key_new_key_and_present_key(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("# app\nDATABASE_URL=postgresql://u:p@h/d\nREDIS_URL=redis://h\n")
    policy = _inventory(
        tmp_path,
        f"  web: {{kind: dotenv, path: {tmp_path / 'app.env'}}}",
        "      - {target: web, env: DATABASE_URL}\n"
        "      - {target: web, env: REDIS_ULR}\n"
        "      - {target: web, env: SENTRY_DSN, new: true}\n",
    )
    found = missing_keys(load_inventory(policy))
    where = f"dotenv:{tmp_path / 'app.env'}"
    assert found == [
        MissingKey("a/key", 1, "web", "REDIS_ULR", where, "missing-key", False, suggestion="REDIS_URL"),
        MissingKey("a/key", 2, "web", "SENTRY_DSN", where, "missing-key", True),
    ]
    assert (
        str(found[0])
        == f"a/key consumer 1 (REDIS_ULR on target web): REDIS_ULR is not set on {where} (did you mean REDIS_URL?)"
    )
    assert str(found[1]).endswith("(expected: the first rotation adds it)")


def test_missing_file_and_directory_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("A=1\n")
    policy = _inventory(
        tmp_path,
        "  web: {kind: dotenv, path: apps.env}\n"
        "  worker: {kind: dotenv, path: nowhere/worker.env}\n"
        "  fresh: {kind: dotenv, path: fresh/new.env, create: true}",
        "      - {target: web, env: A}\n      - {target: worker, env: A}\n      - {target: fresh, env: A}\n",
    )
    found = missing_keys(load_inventory(policy), base_dir=tmp_path)
    assert [(m.target, m.reason, m.expected, m.suggestion) for m in found] == [
        ("web", "missing-file", False, "app.env"),
        ("worker", "missing-directory", False, None),
        ("fresh", "missing-directory", True, None),
    ]
    assert f"directory {tmp_path / 'nowhere'} does not exist" in found[1].detail


def test_platform_targets_only_when_built_and_readable(tmp_path: Path) -> None:
    policy = _inventory(
        tmp_path,
        "  web: {kind: render, service_id: srv-1}\n  ci: {kind: github, repo: a/b}",
        "      - {target: web, env: DATABASE_URL}\n      - {target: web, env: NEW_ONE, new: true}\n"
        "      - {target: ci, env: DATABASE_URL, verify: accept-unverified}\n",
    )
    inventory = load_inventory(policy)
    assert missing_keys(inventory) == []  # nothing asked without built targets
    web, ci = FakeTarget("web"), FakeTarget("ci", write_only=True)
    web.env[EnvRef("DATABASE_URL")] = "x"
    found = missing_keys(inventory, targets={"web": web, "ci": ci})
    assert [(m.target, m.env, m.expected) for m in found] == [("web", "NEW_ONE", True)]
    assert ci.calls == []  # a write-only target is never asked


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file_holds_no_keys(tmp_path: Path, text: str) -> None:
    (tmp_path / ".env").write_text(text)
    policy = _inventory(
        tmp_path, f"  web: {{kind: dotenv, path: {tmp_path / '.env'}}}", "      - {target: web, env: A}\n"
    )
    assert [m.reason for m in missing_keys(load_inventory(policy))] == ["missing-key"]
