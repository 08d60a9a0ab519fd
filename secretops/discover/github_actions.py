"""GitHub Actions workflows (`.github/workflows/*.yml`): `${{ secrets.X }}` per job.

Each secret a job reads is a consumer on a `github` target (the repository's Actions secrets,
or an environment's when the job names `environment:`). `GITHUB_TOKEN` is minted by GitHub
for each run and is not drafted.
https://docs.github.com/en/actions/security-guides/using-secrets-in-github-actions
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretops.discover._common import compose_all, items, line_of, mapping, scalar
from secretops.discover.interface import ComponentUse, Discovery, EnvUse, Evidence, SourceParser, TargetUse

__all__ = ["SECRET_REF", "GitHubActionsParser", "looks_like_workflow"]

SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_MINTED = frozenset({"GITHUB_TOKEN"})


def looks_like_workflow(keys: set[str]) -> bool:
    """A YAML mapping shaped like a workflow (`jobs` with `on`; YAML 1.1 may read `on` as True)."""
    return "jobs" in keys and ("on" in keys or "True" in keys or "true" in keys)


class GitHubActionsParser(SourceParser):
    """Reads a workflow file (also one pasted in a guide's code block)."""

    id: ClassVar[str] = "github-actions"

    def matches(self, path: Path) -> bool:
        return (
            path.suffix in (".yml", ".yaml")
            and path.parent.name == "workflows"
            and path.parent.parent.name == ".github"
        )

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        for doc in compose_all(text, display):
            root = mapping(doc)
            if not looks_like_workflow(set(root)):
                continue
            name = scalar(root.get("name")) or Path(display).stem
            ev = Evidence(display, line_of(doc, line_offset), f"workflow {name}")
            found.targets.append(TargetUse("github", ev, name="actions"))
            for job, key_node, body in items(root.get("jobs")):
                environment = scalar(mapping(body).get("environment")) or scalar(
                    mapping(mapping(body).get("environment")).get("name")
                )
                target = f"environment:{environment}" if environment else "actions"
                jev = Evidence(display, line_of(key_node, line_offset), f"workflow {name}, job {job}")
                found.components.append(ComponentUse(job, "job", jev, "github", target))
                if environment:
                    found.targets.append(TargetUse("github", jev, name=target, ids=(("environment", environment),)))
                for secret, line in _secret_refs(body, line_offset):
                    if secret in _MINTED:
                        continue
                    found.envs.append(
                        EnvUse(
                            secret,
                            Evidence(display, line, f"job {job} reads secrets.{secret}"),
                            platform="github",
                            target=target,
                            component=job,
                            level="component",
                            secret=True,
                        )
                    )
        return found


def _secret_refs(node: Node, offset: int) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    stack = [node]
    seen: set[int] = set()  # a recursive alias (`&a [*a]`) is one node met again: walk it once
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, ScalarNode):
            for m in SECRET_REF.finditer(str(cur.value)):
                extra = str(cur.value)[: m.start()].count("\n") if cur.style in ("|", ">") else 0
                out.append((m.group(1), line_of(cur, offset) + extra + (1 if cur.style in ("|", ">") else 0)))
        elif isinstance(cur, MappingNode):
            for k, v in reversed(cur.value):
                stack.extend((v, k))
        elif isinstance(cur, SequenceNode):
            stack.extend(reversed(cur.value))
    return out
