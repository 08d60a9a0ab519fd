"""Optional dependencies: which extra installs which driver, and the error when one is missing.

The base install is the scanner. Issuers, stores and targets need drivers (psycopg, PyMySQL,
redis, boto3, hvac, cryptography, PyNaCl) that live behind extras (`pyproject.toml`):
`rotate` (the engine and the encrypted local store), one per issuer, store or target
(`postgres`, `mysql`, `redis`, `aws`, `vault`, `github`) and `all`. Code that needs a driver
imports it through `import_optional`, or checks with `require` before it starts anything, so
that a missing one is a `MissingExtraError` naming the extra (exit code 2), never a traceback
half-way through a rotation.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from secretops.errors import SecretOpsError

__all__ = ["MODULE_EXTRAS", "MissingExtraError", "import_optional", "install_hint", "missing_extra", "require"]

#: Top-level module -> the extra that installs it.
MODULE_EXTRAS: dict[str, str] = {
    "cryptography": "rotate",
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "pymysql": "mysql",
    "redis": "redis",
    "boto3": "aws",
    "botocore": "aws",
    "hvac": "vault",
    "nacl": "github",
}


class MissingExtraError(SecretOpsError):
    """`what` needs a driver this installation lacks; the message names the extra (exit code 2)."""

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(
            f"{what} needs the {module!r} package, which is not installed (it comes with the [{extra}] extra)",
            hint=install_hint(extra),
        )
        self.module = module
        self.extra = extra


def install_hint(extra: str) -> str:
    """How to add `extra` to this installation, from where it was installed (never the PyPI name:
    `secretops` on PyPI is another project)."""
    source = _install_source()
    if source is not None:
        kind, where = source
        if kind == "editable":
            return f"pip install -e '{where}[{extra}]' (or [all] for every issuer, store and target)"
        if kind == "vcs":
            return f'pip install "secretops[{extra}] @ {where}" (or [all] for every issuer, store and target)'
        return f"pip install '{where}[{extra}]' (or [all] for every issuer, store and target)"
    return (
        f'reinstall from the repository with the extra: pip install "secretops[{extra}] @ '
        f"git+https://<repository>@<tag>\", or pip install '.[{extra}]' in a checkout ([all] installs every one)"
    )


def direct_url() -> dict[str, Any] | None:
    """The installed distribution's PEP 610 `direct_url.json` (None: absent, unreadable or no `url`).

    Its `url` may hold credentials (`https://user:token@host/...`): callers strip them before
    showing anything.
    """
    import json
    from importlib import metadata

    try:
        raw = metadata.distribution("secretops").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        return None
    return info


def _install_source() -> tuple[str, str] | None:
    """('editable' | 'vcs' | 'path', where) from the installed distribution's direct_url.json.

    Credentials in the URL (`https://user:token@host/...`) are dropped: this text is printed.
    """
    from urllib.parse import urlsplit, urlunsplit

    info = direct_url()
    if info is None:
        return None
    url = info["url"]
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.scheme.endswith("ssh") and parts.username and parts.password is None:
        # An ssh login name (`git@github.com`) is no credential, and pip needs it back; an
        # https user name may be a token (`https://ghp_...@github.com`), so that one is dropped.
        netloc = f"{parts.username}@{netloc}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        rev = vcs.get("requested_revision") or vcs.get("commit_id") or ""
        return "vcs", f"{vcs['vcs']}+{clean}" + (f"@{rev}" if isinstance(rev, str) and rev else "")
    if parts.scheme == "file":
        dir_info = info.get("dir_info")
        editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
        return ("editable" if editable else "path"), parts.path
    return None


def missing_extra(exc: ModuleNotFoundError, what: str) -> MissingExtraError | None:
    """The `MissingExtraError` for `exc` when the missing module is an optional driver, else None."""
    top = (exc.name or "").split(".")[0]
    extra = MODULE_EXTRAS.get(top)
    if extra is None:
        return None
    return MissingExtraError(what, top, extra)


def import_optional(module: str, what: str) -> ModuleType:
    """`importlib.import_module(module)`, turning a missing optional driver into `MissingExtraError`."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        error = missing_extra(exc, what)
        if error is None:
            raise
        raise error from exc


def require(modules: Iterable[str], what: str) -> None:
    """Raise `MissingExtraError` unless every (top-level, optional) module in `modules` is importable.

    For code that imports its driver only when an operation runs (boto3 in the AWS IAM issuer):
    checked before anything starts, not half-way through.
    """
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingExtraError(what, module, MODULE_EXTRAS.get(module, "all"))
