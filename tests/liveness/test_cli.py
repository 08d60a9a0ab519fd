"""`secretops scan --verify` end to end: every output format, exit codes, no value anywhere.

The HTTP client the verifiers share is swapped for one on the fake internet
(`tests/fakes/providers.py`), so these tests never leave the machine.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
from pathlib import Path

import httpx
import pytest

from secretops.cli.app import run
from secretops.liveness import check
from tests.fakes.providers import FakeInternet
from tests.liveness.conftest import crc_token, random_text

DIGITS = string.digits


@pytest.fixture
def internet(monkeypatch: pytest.MonkeyPatch) -> FakeInternet:
    net = FakeInternet()

    def client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
        return net.client()

    monkeypatch.setattr(check, "build_client", client)
    return net


@pytest.fixture
def tokens() -> dict[str, str]:
    slack = "xoxb-" + "".join(secrets.choice(DIGITS) for _ in range(12)) + "-"
    slack += "".join(secrets.choice(DIGITS) for _ in range(12)) + "-" + random_text(24)
    return {"github": crc_token("ghp_"), "stripe": "sk_live_" + random_text(24), "slack": slack}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str]) -> Path:
    """A repository whose config names hosts of its own next to each token: none may be asked."""
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    (root / "deploy.env").write_text(
        "GITHUB_API_URL=https://ghe.attacker.invalid/api/v3\n"
        f"GITHUB_TOKEN={tokens['github']}\n"
        "\n"
        "STRIPE_API_BASE=https://stripe.attacker.invalid\n"
        f"STRIPE_SECRET_KEY={tokens['stripe']}\n"
        "\n"
        f"SLACK_BOT_TOKEN={tokens['slack']}  # slack.attacker.invalid\n"
    )
    return root


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["scan", "--jobs", "1", "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _by_rule(out: str) -> dict[str, dict[str, object]]:
    return {f["rule_id"]: f for f in json.loads(out)["findings"]}


def test_verify_reports_live_dead_unknown_and_asks_only_official_hosts(
    project: Path, internet: FakeInternet, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    internet["api.github.com"].add(tokens["github"], login="octocat")
    internet["api.stripe.com"].revoke(tokens["stripe"])
    internet["slack.com"].outage = 503
    code, out, _ = _scan(capsys, "--verify", "--format", "json", ".")
    found = _by_rule(out)
    assert set(found) == {"github-personal-access-token", "stripe-secret-key", "slack-bot-token"}
    github = found["github-personal-access-token"]["liveness"]
    assert isinstance(github, dict)
    assert github["state"] == "live" and github["identity"] == "octocat" and github["verifier"] == "github"
    assert str(github["checked_at"]).endswith("Z")
    assert found["stripe-secret-key"]["liveness"]["state"] == "dead"  # type: ignore[index]
    assert found["slack-bot-token"]["liveness"]["state"] == "unknown"  # type: ignore[index]
    assert code == 1  # without --fail-on-live, leaks fail the scan as always
    assert sorted(set(internet.hosts)) == ["api.github.com", "api.stripe.com", "slack.com"]
    assert not internet.stray and not any("attacker" in h for h in internet.hosts)
    for token in tokens.values():
        assert token not in out


def test_fail_on_live_exits_1_only_for_a_live_leak(
    project: Path, internet: FakeInternet, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _scan(capsys, "--verify", "--fail-on-live", "--format", "json", ".")
    assert code == 0, "findings, but none verified live"
    assert {f["liveness"]["state"] for f in json.loads(out)["findings"]} == {"dead"}
    internet["slack.com"].add(tokens["slack"], user="bot", team="Acme")
    code, _, _ = _scan(capsys, "--verify", "--fail-on-live", ".")
    assert code == 1
    # --fail-on-live ignores --fail-on: a live leak fails whatever its severity threshold.
    code, _, _ = _scan(capsys, "--verify", "--fail-on-live", "--fail-on", "never", ".")
    assert code == 1


def test_unknown_is_not_an_all_clear_but_does_not_fail_on_live(
    project: Path, internet: FakeInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    for host in ("api.github.com", "api.stripe.com", "slack.com"):
        internet[host].outage = 500
    code, out, _ = _scan(capsys, "--verify", "--fail-on-live", "--format", "json", ".")
    assert {f["liveness"]["state"] for f in json.loads(out)["findings"]} == {"unknown"}
    assert code == 0
    code, _, _ = _scan(capsys, "--verify", ".")
    assert code == 1


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html"])
def test_every_format_shows_liveness_and_no_value(
    fmt: str,
    project: Path,
    internet: FakeInternet,
    tokens: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    internet["api.github.com"].add(tokens["github"], login="octocat")
    code, out, err = _scan(capsys, "--verify", "--format", fmt, ".")
    assert code == 1
    for token in tokens.values():
        assert token not in out and token not in err and token not in caplog.text
    if fmt == "table":
        assert "LIVE" in out.splitlines()[0]
        assert "live: octocat (github): accepted" in out
        assert "dead: (stripe)" in out
        assert "verified: 1 live, 2 dead, 0 unknown" in out
    elif fmt == "json":
        assert _by_rule(out)["github-personal-access-token"]["liveness"]["identity"] == "octocat"  # type: ignore[index]
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        live = {r["ruleId"]: r["properties"]["liveness"]["state"] for r in results}
        assert live == {"github-personal-access-token": "live", "stripe-secret-key": "dead", "slack-bot-token": "dead"}
    else:
        assert "<th>Live</th>" in out and '<span class="live">live</span>' in out and "octocat" in out


def test_without_verify_nothing_is_asked_and_no_liveness_is_shown(
    project: Path, internet: FakeInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _scan(capsys, "--format", "json", ".")
    assert code == 1 and internet.hosts == []
    assert all("liveness" not in f for f in json.loads(out)["findings"])
    _, table, _ = _scan(capsys, ".")
    assert "LIVE" not in table.splitlines()[0]


def test_show_secrets_still_prints_values_with_verify(
    project: Path, internet: FakeInternet, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _scan(capsys, "--verify", "--show-secrets", "--format", "json", ".")
    assert tokens["github"] in {f.get("secret") for f in json.loads(out)["findings"]}


def test_identical_leaks_are_checked_once(
    project: Path, internet: FakeInternet, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "copy.env").write_text(f"GITHUB_TOKEN={tokens['github']}\n")
    internet["api.github.com"].add(tokens["github"], login="octocat")
    _, out, _ = _scan(capsys, "--verify", "--format", "json", ".")
    states = [f["liveness"]["state"] for f in json.loads(out)["findings"] if f["rule_id"].startswith("github")]
    assert states == ["live", "live"]
    assert internet["api.github.com"].calls == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-on-live"],
        ["--verify-databases"],
        ["--verify", "--verify-timeout", "0"],
        ["--verify", "--verify-timeout", "1000"],
        ["--verify", "--verify-concurrency", "0"],
        ["--verify", "--verify-concurrency", "1000"],
    ],
)
def test_bad_verify_options_are_usage_errors(
    args: list[str], project: Path, internet: FakeInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _scan(capsys, *args, ".")
    assert code == 2 and "--" in err
    assert internet.hosts == []


def test_databases_are_not_contacted_without_their_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internet: FakeInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    password = random_text(20)
    (tmp_path / "README.md").write_text(f"DATABASE_URL=postgresql://app:{password}@127.0.0.1:{port}/app\n")
    try:
        code, out, _ = _scan(capsys, "--verify", "--fail-on-live", "--format", "json", ".")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    finally:
        listener.close()
    (finding,) = json.loads(out)["findings"]
    assert finding["liveness"]["state"] == "unknown"
    assert "--verify-databases" in finding["liveness"]["detail"]
    assert code == 0 and internet.hosts == []
    assert password not in out


def test_twilio_tokens_are_checked_with_the_account_sid_found_next_to_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internet: FakeInternet, capsys: pytest.CaptureFixture[str]
) -> None:
    hexchars = "0123456789abcdef"
    sid_env, sid_pair = ("AC" + "".join(secrets.choice(hexchars) for _ in range(32)) for _ in range(2))
    token_env, token_pair = ("".join(secrets.choice(hexchars) for _ in range(32)) for _ in range(2))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.env").write_text(f"TWILIO_ACCOUNT_SID={sid_env}\nTWILIO_AUTH_TOKEN={token_env}\n")
    (tmp_path / "sms.py").write_text(f'client = Client("{sid_pair}", "{token_pair}")\n')
    twilio = internet["api.twilio.com"]
    twilio.add(f"{sid_env}:{token_env}", account=sid_env, name="Env account")
    twilio.add(f"{sid_pair}:{token_pair}", account=sid_pair, name="Pair account")
    _, out, _ = _scan(capsys, "--verify", "--format", "json", ".")
    got = {f["rule_id"]: f["liveness"]["identity"] for f in json.loads(out)["findings"]}
    assert got == {
        "twilio-auth-token": f"Env account ({sid_env})",
        "twilio-auth-token-pair": f"Pair account ({sid_pair})",
    }
    assert {r.url.path for r in twilio.requests} == {f"/2010-04-01/Accounts/{sid}.json" for sid in (sid_env, sid_pair)}
