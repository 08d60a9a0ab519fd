"""SARIF's `tool.driver.informationUri`: where this installation of secretops comes from, when known.

The project has no fixed public address (a fork or a private mirror is as valid a home as any),
so the URI is never made up. It comes from, in this order:

1. `SECRETOPS_INFORMATION_URI`: set by the GitHub Action to the action's repository
   (`$GITHUB_SERVER_URL/OWNER/REPO`), or by the user. It must be an absolute `http(s)` URL
   without credentials; anything else is refused (exit 2) without quoting the value.
2. The installed package's metadata: a `Homepage`, `Repository`, `Source` or `Documentation`
   entry of `[project.urls]` (or `Home-page`).
3. PEP 610 `direct_url.json` of the installed distribution: installed from a VCS or archive URL
   (`pip install "secretops @ git+https://host/ORG/secretops@v0.1.0"`), that URL as a web address.
   `git+` and other VCS prefixes are dropped, and so are credentials (`user:token@`), query and
   fragment. `ssh://git@host/...` becomes `https://host/...` only on the public forges where that
   is the repository's page (github.com, gitlab.com, bitbucket.org, codeberg.org), and a forge's
   archive or release download becomes its repository page. `file://` installs (a checkout, an
   editable install, the Action's own checkout) have no public address: nothing.

Otherwise there is no `informationUri` (SARIF allows it to be absent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import metadata
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from secretops.scan.formats.interface import FormatError

__all__ = ["INFORMATION_URI_ENV", "information_uri"]

INFORMATION_URI_ENV: Final = "SECRETOPS_INFORMATION_URI"

# Hosts where `https://HOST/OWNER/REPO` is the repository's page for `ssh://git@HOST/OWNER/REPO.git`.
_FORGES: Final = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})
# A forge's download paths, reduced to the repository page: /O/R/archive/..., /O/R/releases/download/...,
# /O/R/-/archive/... (GitLab), /O/R/get/... (Bitbucket).
_FORGE_DOWNLOAD: Final = re.compile(r"^(/[^/]+/[^/]+?)(?:\.git)?/(?:archive|releases/download|-/archive|get)/.*$")
_GIT_SUFFIX: Final = re.compile(r"(?:\.git)?/*$")
_VCS_PREFIX: Final = re.compile(r"^(?:git|hg|svn|bzr)\+", re.IGNORECASE)
# What a URI may hold (RFC 3986: unreserved, reserved and `%`); anything else is not a URI.
_URI_CHARS: Final = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_METADATA_LABELS: Final = ("homepage", "repository", "source", "documentation")


def information_uri(environ: Mapping[str, str]) -> str | None:
    """The tool's `informationUri`, or None when this installation does not know a true one."""
    explicit = environ.get(INFORMATION_URI_ENV, "").strip()
    if explicit:
        return _explicit(explicit)
    return _from_project_urls() or _from_direct_url()


def _explicit(value: str) -> str:
    """`SECRETOPS_INFORMATION_URI`, checked. The value is never quoted in the error: it may hold a token."""
    problem = _problem(value)
    if problem:
        raise FormatError(
            f"{INFORMATION_URI_ENV} is not usable as SARIF's informationUri: {problem}",
            hint="set it to the project's page, for example https://github.com/OWNER/secretops, or unset it",
        )
    return value


def _problem(value: str) -> str | None:
    if not _URI_CHARS.match(value):
        return "it holds characters a URI cannot (spaces, non-ASCII or control characters)"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme.lower() not in {"https", "http"}:
        return "it must be an absolute http:// or https:// URL"
    if not parts.hostname:
        return "it has no host"
    if "@" in parts.netloc:
        return "it holds credentials (user:password@), which would be published in the report"
    return None


def _from_project_urls() -> str | None:
    """`[project.urls]` (Homepage, Repository, Source, Documentation) or `Home-page` of the installed package."""
    try:
        meta = metadata.metadata("secretops")
    except metadata.PackageNotFoundError:
        return None
    declared: dict[str, str] = {}
    for entry in meta.get_all("Project-URL") or ():
        label, _, url = str(entry).partition(",")
        declared.setdefault(label.strip().lower(), url.strip())
    candidates = [declared.get(label, "") for label in _METADATA_LABELS]
    candidates += [str(home).strip() for home in meta.get_all("Home-page") or ()]
    for url in candidates:
        web = _web_url(url)
        if web:
            return web
    return None


def _from_direct_url() -> str | None:
    """The URL this distribution was installed from (PEP 610), as a web address; None for `file://`."""
    from secretops.extras import direct_url

    info = direct_url()
    return None if info is None else _web_url(info["url"])


def _web_url(url: str) -> str | None:
    """`url` as a browsable http(s) address without credentials, query or fragment; None if it has none."""
    url = _VCS_PREFIX.sub("", url.strip())
    if not url or not _URI_CHARS.match(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        return None  # file:///..., a relative path, scp-like `git@host:path`
    path = parts.path
    if scheme == "ssh":
        if host not in _FORGES:
            return None  # an ssh-only server need not have a web page at that path
        scheme, port = "https", None
    elif scheme not in {"https", "http"}:
        return None
    if host in _FORGES:
        download = _FORGE_DOWNLOAD.match(path)
        path = download.group(1) if download else _GIT_SUFFIX.sub("", path)
        if path.count("/") < 2:
            return None  # not a repository (the forge's front page, one owner)
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((scheme, netloc, path, "", ""))
