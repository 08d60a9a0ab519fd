"""`secretops discover`: from a repository and its ops docs to a draft inventory.

`discover(paths)` reads every file a parser in `PARSERS` understands (Render blueprints,
DigitalOcean app specs, `vercel.json`, compose files, `.env.example`, `Procfile`, `fly.toml`,
GitHub workflows, Kubernetes manifests, markdown ops guides), scans them for credentials, and
builds a `Draft` (`secretops.discover.draft`), which `secretops.discover.writer` renders as YAML
with comments and `<FILL-IN: ...>` placeholders. See docs/discover.md.
"""

from __future__ import annotations

from secretops.discover.engine import PARSERS, DiscoverResult, discover
from secretops.discover.interface import DiscoverError, Discovery, SourceParser

__all__ = ["PARSERS", "DiscoverError", "DiscoverResult", "Discovery", "SourceParser", "discover"]
