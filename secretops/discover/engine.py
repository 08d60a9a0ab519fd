"""`discover(paths)`: read a repository and its docs, scan them, and build the draft inventory.

Files are matched to parsers by name (`PARSERS`, in order; the first that matches reads the
file). Every file read is also scanned with the scanner's rules (`secretops.scan.engine`), so
a credential printed in a guide or committed in a config is reported as a finding with its
fingerprint, and the draft names the secret it belongs to. Values never leave the scanner:
parsers keep names, hosts and structure only.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from secretops.discover.compose import ComposeParser
from secretops.discover.digitalocean import DigitalOceanParser
from secretops.discover.dotenv_example import DotenvExampleParser
from secretops.discover.draft import Draft, build_draft
from secretops.discover.fly import FlyParser
from secretops.discover.github_actions import GitHubActionsParser
from secretops.discover.interface import DiscoverError, Discovery, Evidence, SourceParser, TargetUse
from secretops.discover.kubernetes import KubernetesParser
from secretops.discover.markdown import MarkdownParser, framework_facts
from secretops.discover.procfile import ProcfileParser
from secretops.discover.render import RenderParser
from secretops.discover.vercel import VercelParser
from secretops.scan.models import Finding, Fragment

__all__ = ["PARSERS", "DiscoverResult", "discover", "scan_texts"]

logger = logging.getLogger(__name__)

PARSERS: dict[str, SourceParser] = {
    p.id: p
    for p in (
        RenderParser(),
        DigitalOceanParser(),
        VercelParser(),
        ComposeParser(),
        DotenvExampleParser(),
        ProcfileParser(),
        FlyParser(),
        GitHubActionsParser(),
        KubernetesParser(),
        MarkdownParser(),
    )
}
"""Every source parser by id, in matching order."""

_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build", ".secretops"})
_MAX_BYTES = 2 * 1024 * 1024
_REMOTE = re.compile(r"url\s*=\s*(?:https://github\.com/|git@github\.com:)([\w.-]+/[\w.-]+?)(?:\.git)?\s*$", re.M)


@dataclass(slots=True)
class DiscoverResult:
    """The draft, the files read (by parser), and every finding the scanner made in them."""

    draft: Draft
    files: list[tuple[str, str]]
    findings: list[Finding]


def _files(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if not path.exists():
            raise DiscoverError(f"{path}: no such file or directory", hint="give a repository folder or a file")
        if path.is_file():
            out.append(path)
            continue
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in _SKIP_DIRS and not (d.startswith(".") and d not in (".do", ".github", ".vercel"))
            )
            if Path(root).name == ".github":
                dirs[:] = [d for d in dirs if d == "workflows"]
            out.extend(Path(root) / n for n in sorted(names))
    return out


def _parser_for(path: Path) -> SourceParser | None:
    for parser in PARSERS.values():
        if parser.matches(path):
            return parser
    return None


def scan_texts(texts: Sequence[tuple[str, str]]) -> list[Finding]:
    """Scanner findings in `(display, text)` pairs (the default rules, the installation's key)."""
    from secretops.scan.config import ScanPolicy
    from secretops.scan.engine import Scanner
    from secretops.scan.rules.loader import load_rules
    from secretops.settings import Settings

    key = Settings.from_env().fingerprint_key(allow_ephemeral=True)
    scanner = Scanner(load_rules(), key, ScanPolicy.default())
    findings: list[Finding] = []
    for display, text in texts:
        findings.extend(scanner.scan(Fragment(text, display)))
    return findings


def discover(paths: Sequence[Path], *, app: str | None = None, scan: bool = True) -> DiscoverResult:
    """Read `paths` (folders are walked), scan what was read, and build the draft."""
    found = Discovery()
    files: list[tuple[str, str]] = []
    texts: list[tuple[str, str]] = []
    for path in _files(paths):
        parser = _parser_for(path)
        if parser is None:
            continue
        try:
            if path.stat().st_size > _MAX_BYTES:
                logger.debug("%s: larger than %d bytes, skipped", path, _MAX_BYTES)
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise DiscoverError(f"{path}: cannot read ({exc.strerror})") from exc
        display = str(path)
        found.extend(parser.parse(text, display))
        if parser.id != "markdown":
            found.extend(framework_facts(text, display))
        files.append((display, parser.id))
        texts.append((display, text))
    for path in paths:
        config = path / ".git" / "config" if path.is_dir() else None
        if config is not None and config.is_file():
            m = _REMOTE.search(config.read_text(encoding="utf-8", errors="replace"))
            if m:
                found.targets.append(
                    TargetUse(
                        "github",
                        Evidence(str(config), 1, f"origin is github.com/{m.group(1)}"),
                        name="actions",
                        ids=(("repo", m.group(1)),),
                    )
                )
    if app is None:
        for path in paths:
            if path.is_dir() and not found.facts_of("app"):
                app = path.resolve().name
    findings = scan_texts(texts) if scan else []
    return DiscoverResult(build_draft(found, findings, app=app), files, findings)
