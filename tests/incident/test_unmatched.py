"""`compromised --from-scan` for leaks no inventory secret holds: revoke at the provider, or say how.

The value is recovered in memory from the finding's location (a file, or the blob at a
git-history finding's commit), revoked through the provider's documented endpoint (GitHub,
Slack and GitLab fakes in `tests/fakes/revocation.py`) only after a confirmation, then proven
dead by the liveness verifier. Providers without a revocation API get their manual steps.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from secretops.cli.app import run
from tests.fakes.revocation import RevocationInternet
from tests.liveness.conftest import crc_token, random_text

POLICY = "version: 1\nissuers: {}\ntargets: {}\nsecrets: []\n"


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> RevocationInternet:
    internet = RevocationInternet()

    def client(timeout: float) -> httpx.Client:
        return internet.client()

    monkeypatch.setattr("secretops.incident.run.make_client", client)
    return internet


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "none.yaml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETOPS_STATE_DIR", str(tmp_path / ".secretops"))
    monkeypatch.setenv("SECRETOPS_POLICIES", str(tmp_path / "policies"))
    monkeypatch.setenv("SECRETOPS_LOCAL_KEY", "3a" * 32)
    return tmp_path


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> Path:
    capsys.readouterr()
    run(["scan", "--jobs", "1", "--no-progress", "--format", "json", "-o", "report.json", *args])
    capsys.readouterr()
    return Path("report.json")


def _slack() -> str:
    digits = "0123456789"
    return (
        "xoxb-"
        + "".join(secrets.choice(digits) for _ in range(12))
        + "-"
        + "".join(secrets.choice(digits) for _ in range(12))
        + "-"
        + random_text(24)
    )


def _audit(project: Path) -> list[dict[str, object]]:
    path = project / ".secretops" / "journal" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_github_and_slack_tokens_are_revoked_after_yes_and_proven_dead(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    github, slack = crc_token("ghp_"), _slack()
    net["api.github.com"].add(github, login="octocat")
    net["slack.com"].add(slack, user="bot", team="Acme")
    (project / "deploy.env").write_text(
        f"GITHUB_API_URL=https://ghe.attacker.invalid\nGITHUB_TOKEN={github}\nSLACK_BOT_TOKEN={slack}\n"
    )
    report = _report(capsys, "deploy.env")
    assert github not in report.read_text()

    code = run(["compromised", "--from-scan", str(report), "--yes", "--report", "incident.json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert sorted(net.revocations) == sorted([("github", github), ("slack", slack)])
    assert not net.stray and not any("attacker" in h for h in net.hosts)
    assert set(net.hosts) == {"api.github.com", "slack.com"}
    doc = json.loads((project / "incident.json").read_text())
    assert doc["closed"] is True
    assert {f["state"] for f in doc["findings"]} == {"dead"}
    events = [e["event"] for e in doc["timeline"]]
    assert events.count("revoked") == 2 and events.count("proven-dead") == 2 and "found" in events
    assert any("access logs" in t for t in doc["still_to_do"])
    text = (
        (project / "incident.json").read_text() + out + (project / ".secretops" / "journal" / "audit.jsonl").read_text()
    )
    assert github not in text and slack not in text
    assert [e["action"] for e in _audit(project)] == ["compromise", "revoke", "revoke"]
    assert run(["audit", "verify"]) == 0


def test_no_confirmation_no_revocation_and_manual_steps(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    github = crc_token("ghp_")
    net["api.github.com"].add(github, login="octocat")
    (project / "ci.env").write_text(f"GITHUB_TOKEN={github}\n")
    report = _report(capsys, "ci.env")
    code = run(["compromised", "--from-scan", str(report)])  # stdin is not a terminal here
    out = capsys.readouterr().out
    assert code == 1
    assert net.revocations == [] and "api.github.com" not in net.hosts
    assert "not revoked: confirm at a terminal or pass --yes" in out
    assert "https://github.com/settings/tokens" in out
    assert "OPEN: not every value is proven dead" in out


def test_provider_without_revocation_api_prints_its_manual_steps(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    stripe = "sk_live_" + random_text(24)
    (project / "pay.env").write_text(f"STRIPE_SECRET_KEY={stripe}\n")
    report = _report(capsys, "pay.env")
    code = run(["compromised", "--from-scan", str(report), "--yes", "--report", "incident.md"])
    out = capsys.readouterr().out
    assert code == 1
    assert "has no revocation API we use" in out and "https://docs.stripe.com/keys#rolling-keys" in out
    assert net.revocations == []
    md = (project / "incident.md").read_text()
    assert "OPEN" in md and "revoke the stripe credential" in md and stripe not in md


def test_async_github_revocation_is_not_proven_dead(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    github = crc_token("ghp_")
    net["api.github.com"].add(github, login="octocat")
    net.async_github = True  # 202, but the token keeps working for now
    (project / "ci.env").write_text(f"GITHUB_TOKEN={github}\n")
    code = run(["compromised", "--from-scan", str(_report(capsys, "ci.env")), "--yes"])
    out = capsys.readouterr().out
    assert code == 1 and net.revocations == [("github", github)]
    assert ": live (github" in out and "still works: revoke it at github by hand now" in out
    assert out.splitlines()[-1] == "OPEN: not every value is proven dead"


def test_a_value_changed_since_the_scan_is_not_guessed(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = crc_token("ghp_"), crc_token("ghp_")
    (project / "ci.env").write_text(f"GITHUB_TOKEN={first}\n")
    report = _report(capsys, "ci.env")
    (project / "ci.env").write_text(f"GITHUB_TOKEN={second}\n")  # edited after the scan
    code = run(["compromised", "--from-scan", str(report), "--yes"])
    out = capsys.readouterr().out
    assert code == 1 and net.revocations == []
    assert "could not be recovered from its location" in out


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.mark.git
def test_git_history_finding_is_read_from_its_commit_and_named_with_purge_steps(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project / "repo"
    repo.mkdir()
    github = crc_token("ghp_")
    net["api.github.com"].add(github, login="octocat")
    _git(repo, "init", "-q")
    (repo / "setup.md").write_text(f"export GITHUB_TOKEN={github}\n")
    _git(repo, "add", "setup.md")
    _git(repo, "commit", "-q", "-m", "add setup")
    leaked_in = _git(repo, "rev-parse", "HEAD")
    (repo / "setup.md").write_text("export GITHUB_TOKEN=<your token>\n")
    _git(repo, "commit", "-q", "-am", "remove token")
    report = _report(capsys, "--git-history", "repo")
    [finding] = json.loads(report.read_text())["findings"]
    assert finding["commit"] == leaked_in

    code = run(["compromised", "--from-scan", str(report), "--yes", "--report", "incident.md"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert net.revocations == [("github", github)]
    md = (project / "incident.md").read_text()
    assert leaked_in[:12] in md and "git filter-repo" in md and "does not make it safe again" in md
    assert "purge setup.md from git history" in md
    assert github not in md and github not in out


def test_finding_fingerprint_alone_that_matches_nothing_asks_for_the_report(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["compromised", "--finding", "hmac-sha256:" + "0" * 32])
    out = capsys.readouterr().out
    assert code == 1 and "give --from-scan REPORT.json" in out


def test_the_same_value_found_twice_is_revoked_once(
    project: Path, net: RevocationInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    github = crc_token("ghp_")
    net["api.github.com"].add(github, login="octocat")
    (project / "a.env").write_text(f"GITHUB_TOKEN={github}\n")
    (project / "b.env").write_text(f"GH_TOKEN={github}\n")
    report = _report(capsys, "a.env", "b.env")
    assert len(json.loads(report.read_text())["findings"]) == 2
    code = run(["compromised", "--from-scan", str(report), "--yes"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert net.revocations == [("github", github)]
    assert [e["action"] for e in _audit(project)] == ["compromise", "revoke"]
