"""The base install's distributions, taken from this environment (no index, no network).

`base_closure()` follows `pyproject.toml`'s base `dependencies` through each installed
distribution's `Requires-Dist`, leaving out what only an extra requires. `repack()` turns an
installed distribution back into a wheel (its files, a fresh RECORD), so that pip can install
the same versions offline from a local wheelhouse (`--no-index --find-links`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
_SKIP_META = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def base_closure() -> dict[str, metadata.Distribution]:
    """The installed distributions the base requirements need, by normalized name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    found: dict[str, metadata.Distribution] = {}
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = norm(req.name)
        if name in found:
            continue
        dist = metadata.distribution(req.name)
        found[name] = dist
        todo.extend(Requirement(r) for r in dist.requires or [])
    return found


def _files(dist: metadata.Distribution) -> list[str]:
    out = []
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or str(file).endswith(".pyc"):
            continue
        if parts[0].endswith(".dist-info") and parts[-1] in _SKIP_META:
            continue
        out.append(str(file))
    return out


def repack(dist: metadata.Distribution, out_dir: Path) -> Path:
    """A wheel of the installed `dist` in `out_dir`."""
    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    files = _files(dist)
    info = next(Path(f).parts[0] for f in files if Path(f).parts[0].endswith(".dist-info"))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    parts = [tag.split("-") for tag in tags] or [["py3", "none", "any"]]
    tag = "-".join(".".join(dict.fromkeys(p[i] for p in parts)) for i in range(3))  # py2.py3-none-any
    wheel = out_dir / f"{name}-{dist.version}-{tag}.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for file in files:
            data = Path(str(dist.locate_file(file))).read_bytes()
            zf.writestr(file, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{file},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def offline_pip(wheels: Path) -> dict[str, str]:
    """Environment variables making pip install from `wheels` only."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
