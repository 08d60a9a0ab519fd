"""SARIF `tool.driver.informationUri`: only where the installation knows it came from, never made up.

Sources, first wins: `SECRETOPS_INFORMATION_URI` (the Action sets it), `[project.urls]` in the
installed metadata, the PEP 610 `direct_url.json` of a VCS or archive install. Credentials in a
URL never reach the report; `file://` installs and unknown origins give no `informationUri`.
"""

from __future__ import annotations

import json
from email.message import Message
from importlib import metadata
from typing import Any

import jsonschema
import pytest

from secretops.scan.formats import FormatError, RenderOptions
from secretops.scan.formats.sarif import SarifFormat
from secretops.scan.formats.tool_uri import INFORMATION_URI_ENV, information_uri
from tests.scan.test_formats import MIXED, RULES, SARIF_SCHEMA

TOKEN = "s3cr3t-deploy-t0ken"  # a made-up credential; it must never appear in a report


class _Dist:
    def __init__(self, direct_url: dict[str, Any] | str | None) -> None:
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        if name != "direct_url.json" or self.direct_url is None:
            return None
        return self.direct_url if isinstance(self.direct_url, str) else json.dumps(self.direct_url)


def _install(
    monkeypatch: pytest.MonkeyPatch,
    *,
    direct_url: dict[str, Any] | str | None = None,
    urls: tuple[str, ...] = (),
    home_page: str | None = None,
    installed: bool = True,
) -> None:
    """Pretend secretops is installed with this metadata and this direct_url.json."""
    meta = Message()
    meta["Name"] = "secretops"
    for entry in urls:
        meta["Project-URL"] = entry
    if home_page is not None:
        meta["Home-page"] = home_page

    def fake_metadata(name: str) -> Message:
        if not installed:
            raise metadata.PackageNotFoundError(name)
        return meta

    def fake_distribution(name: str) -> _Dist:
        if not installed:
            raise metadata.PackageNotFoundError(name)
        return _Dist(direct_url)

    monkeypatch.setattr(metadata, "metadata", fake_metadata)
    monkeypatch.setattr(metadata, "distribution", fake_distribution)


def _driver() -> tuple[dict[str, Any], str]:
    text = SarifFormat().render(MIXED, RenderOptions(rules=RULES))
    doc = json.loads(text)
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    driver: dict[str, Any] = doc["runs"][0]["tool"]["driver"]
    return driver, text


def _vcs(url: str) -> dict[str, Any]:
    return {"url": url, "vcs_info": {"vcs": "git", "commit_id": "c" * 40, "requested_revision": "v0.1.0"}}


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        # pip install "secretops @ git+https://github.com/ORG/secretops@v0.1.0" (pip records the URL without git+)
        (_vcs("https://github.com/ORG/secretops"), "https://github.com/ORG/secretops"),
        (_vcs("https://github.com/ORG/secretops.git"), "https://github.com/ORG/secretops"),
        (_vcs("git+https://github.com/ORG/secretops.git"), "https://github.com/ORG/secretops"),
        # credentials, query and fragment are dropped
        (_vcs(f"https://ci-bot:{TOKEN}@github.com/ORG/secretops.git"), "https://github.com/ORG/secretops"),
        (
            _vcs(f"https://{TOKEN}@git.example.com:8443/team/secretops.git"),
            "https://git.example.com:8443/team/secretops.git",
        ),
        (_vcs("https://gitlab.com/group/sub/secretops.git"), "https://gitlab.com/group/sub/secretops"),
        # ssh: the https page on a public forge, nothing on another host (no web page is promised there)
        (_vcs("ssh://git@github.com/ORG/secretops.git"), "https://github.com/ORG/secretops"),
        (_vcs("git+ssh://git@github.com/ORG/secretops.git"), "https://github.com/ORG/secretops"),
        (_vcs("ssh://git@git.internal.example:2222/team/secretops.git"), None),
        # archives: a forge's download is its repository; elsewhere the URL without its query
        (
            {"url": "https://github.com/ORG/secretops/archive/refs/tags/v0.1.0.tar.gz", "archive_info": {}},
            "https://github.com/ORG/secretops",
        ),
        (
            {
                "url": f"https://files.example.com/secretops-0.1.0.tar.gz?X-Amz-Signature={TOKEN}#sha256=ab",
                "archive_info": {"hashes": {"sha256": "ab"}},
            },
            "https://files.example.com/secretops-0.1.0.tar.gz",
        ),
        # local installs have no public address
        ({"url": "file:///home/dev/secretops", "dir_info": {"editable": True}}, None),
        ({"url": "file:///home/runner/work/_actions/ORG/secretops/v0.1.0", "dir_info": {}}, None),
        ({"url": "git@github.com:ORG/secretops.git", "vcs_info": {"vcs": "git"}}, None),
        ({"url": "https://github.com/", "vcs_info": {"vcs": "git"}}, None),
        ({"url": "https://exa mple.com/x", "archive_info": {}}, None),
        ("{not json", None),
        ({"url": 42}, None),
        (None, None),
    ],
)
def test_direct_url_gives_the_install_origin_without_credentials(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | str | None, expected: str | None
) -> None:
    _install(monkeypatch, direct_url=direct_url)
    driver, text = _driver()
    assert driver.get("informationUri") == expected
    assert TOKEN not in text and "ci-bot" not in text and "@github.com" not in text
    if expected is None:
        assert "informationUri" not in driver  # absent, never empty or a placeholder


def test_project_urls_in_the_metadata_are_used_and_come_before_direct_url(monkeypatch: pytest.MonkeyPatch) -> None:
    fork = _vcs("https://github.com/FORK/secretops")
    _install(
        monkeypatch,
        direct_url=fork,
        urls=("Changelog, https://example.org/changes", "Repository, https://github.com/ORG/secretops"),
    )
    assert _driver()[0]["informationUri"] == "https://github.com/ORG/secretops"
    _install(monkeypatch, direct_url=fork, urls=("Homepage, https://secretops.example.org/#start",))
    assert _driver()[0]["informationUri"] == "https://secretops.example.org/"
    _install(monkeypatch, direct_url=fork, home_page="https://secretops.example.org/docs")
    assert _driver()[0]["informationUri"] == "https://secretops.example.org/docs"
    # a metadata URL with credentials loses them too; one that is not http(s) is skipped
    _install(
        monkeypatch,
        direct_url=fork,
        urls=(f"Source, https://bot:{TOKEN}@git.example.com/secretops", "Homepage, ftp://x.example/"),
    )
    driver, text = _driver()
    assert driver["informationUri"] == "https://git.example.com/secretops" and TOKEN not in text
    # only the labels that name the project's home: not a changelog or an issue tracker
    _install(monkeypatch, direct_url=fork, urls=("Issues, https://github.com/ORG/secretops/issues",))
    assert _driver()[0]["informationUri"] == "https://github.com/FORK/secretops"


def test_the_environment_variable_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(
        monkeypatch, direct_url=_vcs("https://github.com/FORK/secretops"), urls=("Homepage, https://example.org/",)
    )
    monkeypatch.setenv(INFORMATION_URI_ENV, "https://github.example.com/platform/secretops")
    assert _driver()[0]["informationUri"] == "https://github.example.com/platform/secretops"
    monkeypatch.setenv(INFORMATION_URI_ENV, "   ")  # empty: as if unset
    assert _driver()[0]["informationUri"] == "https://example.org/"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (f"https://ci-bot:{TOKEN}@github.com/ORG/secretops", "credentials"),
        (f"https://{TOKEN}@github.com/ORG/secretops", "credentials"),
        ("github.com/ORG/secretops", "absolute http"),
        ("ftp://example.org/secretops", "absolute http"),
        ("file:///home/dev/secretops", "absolute http"),
        ("https:///ORG/secretops", "no host"),
        ("https://example.org/a b", "characters"),
        ("https://example.org:99999/", "not a valid URL"),
    ],
)
def test_a_bad_environment_value_is_refused_without_quoting_it(
    monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    _install(monkeypatch, direct_url=_vcs("https://github.com/ORG/secretops"))
    monkeypatch.setenv(INFORMATION_URI_ENV, value)
    with pytest.raises(FormatError) as caught:
        SarifFormat().render(MIXED, RenderOptions(rules=RULES))
    message = caught.value.diagnostics()
    assert INFORMATION_URI_ENV in message and why in message
    assert TOKEN not in message and value not in message


def test_nothing_known_means_no_information_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, installed=False)
    assert information_uri({}) is None
    driver, text = _driver()
    assert "informationUri" not in driver
    assert "OWNER" not in text
