"""How much of each hand-written example policy `secretops discover` proposes from its guide.

For each guide in `docs/examples/guides/` and its policy in `policies/examples/`, the draft is
compared with the policy by what they mean, not by names (the draft's names may differ):

- a **secret** is covered when a draft secret has a consumer on one of its env vars;
- a **target** when the draft has a target of the same kind (matched one to one);
- a **component** (DigitalOcean) when the draft's DigitalOcean target has one with the same name and type;
- a **consumer** when the draft has the same (env var, target kind, component) — one row per
  component it is written at, plus one for app level / the target itself.

`extra` counts draft secrets none of whose env vars the guide names literally (an assumed
conventional name, such as `STRIPE_SECRET_KEY` for "Stripe"): they are listed, not hidden.

Run: `python -m benchmarks.discover.coverage` (prints the markdown table; `--check` exits 1
when any guide is below full coverage).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from secretops.discover.engine import discover

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ROOT / "docs" / "examples" / "guides"
POLICIES = ROOT / "policies" / "examples"


@dataclass(frozen=True)
class Coverage:
    """Covered / total for each part of one policy, and what the draft adds."""

    guide: str
    secrets: tuple[int, int]
    targets: tuple[int, int]
    components: tuple[int, int]
    consumers: tuple[int, int]
    missing: tuple[str, ...]
    assumed: tuple[str, ...]
    placeholders: int
    extra: tuple[str, ...] = ()

    @property
    def full(self) -> bool:
        return all(a == b for a, b in (self.secrets, self.targets, self.components, self.consumers))


def policy_for(guide: Path) -> Path:
    """The example policy a guide was written up as (by the guide's leading words)."""
    stem = guide.stem
    for policy in sorted(POLICIES.glob("*.yaml")):
        if stem.startswith(policy.stem):
            return policy
    raise LookupError(f"no policy in {POLICIES} for {guide.name}")


def _rows(
    data: dict[str, Any],
) -> tuple[list[set[str]], Counter[str], set[tuple[str, str]], set[tuple[str, str, str | None]]]:
    targets = data.get("targets") or {}
    kinds = {name: t.get("kind") for name, t in targets.items()}
    components = {
        (c["name"], c["type"])
        for t in targets.values()
        if t.get("kind") == "digitalocean"
        for c in t.get("components") or []
    }
    secrets: list[set[str]] = []
    consumers: set[tuple[str, str, str | None]] = set()
    for secret in data.get("secrets") or []:
        envs = set()
        for c in secret.get("consumers") or []:
            env, kind = c["env"], kinds.get(c["target"], "?")
            envs.add(env)
            comps = c.get("components") or []
            if c.get("app_level") or not comps:
                consumers.add((env, kind, None))
            consumers.update((env, kind, comp) for comp in comps)
        secrets.append(envs)
    return secrets, Counter(kinds.values()), components, consumers


def measure(guide: Path) -> Coverage:
    """Discover `guide` and compare the draft with its policy."""
    hand = yaml.safe_load(policy_for(guide).read_text(encoding="utf-8"))
    result = discover([guide])
    draft = result.draft.data
    text = guide.read_text(encoding="utf-8")
    h_secrets, h_targets, h_comps, h_cons = _rows(hand)
    d_secrets, d_targets, d_comps, d_cons = _rows(yaml.safe_load(_plain(draft)))
    covered_secrets = [envs for envs in h_secrets if any(envs & d for d in d_secrets)]
    target_hits = sum(min(n, d_targets.get(kind, 0)) for kind, n in h_targets.items())
    missing = [f"secret {sorted(e)}" for e in h_secrets if e not in covered_secrets]
    missing += [f"component {c}" for c in sorted(h_comps - d_comps)]
    missing += [f"consumer {c}" for c in sorted(h_cons - d_cons, key=str)]
    missing += [f"target {k}" for k, n in h_targets.items() if d_targets.get(k, 0) < n]
    assumed = tuple(sorted(e for envs in d_secrets for e in envs if e not in text and not _companion(e)))
    placeholders = _plain(draft).count("<FILL-IN:")
    extra = tuple(sorted(e for envs in d_secrets if not any(envs & h for h in h_secrets) for e in envs))
    return Coverage(
        guide.name,
        (len(covered_secrets), len(h_secrets)),
        (target_hits, sum(h_targets.values())),
        (len(h_comps & d_comps), len(h_comps)),
        (len(h_cons & d_cons), len(h_cons)),
        tuple(missing),
        assumed,
        placeholders,
        extra,
    )


def _companion(env: str) -> bool:
    return env.endswith(("_FALLBACKS", "PREVIOUS_SECRET_KEY", "_PREVIOUS"))


def _plain(data: dict[str, Any]) -> str:
    from secretops.discover.writer import render_yaml

    return render_yaml(data)


def table(rows: list[Coverage]) -> str:
    """The coverage table (markdown)."""

    def cell(pair: tuple[int, int]) -> str:
        return f"{pair[0]}/{pair[1]}" if pair[1] else "-"

    out = [
        "| Guide | Secrets | Targets | Components | Consumers | Placeholders left | Names assumed (not in the guide)"
        " | Drafted beyond the policy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        assumed = ", ".join(f"`{a}`" for a in r.assumed) or "none"
        extra = ", ".join(f"`{a}`" for a in r.extra) or "none"
        out.append(
            f"| {r.guide} | {cell(r.secrets)} | {cell(r.targets)} | {cell(r.components)} | {cell(r.consumers)} |"
            f" {r.placeholders} | {assumed} | {extra} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the table; with `--check`, exit 1 unless every guide is fully covered."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    rows = [measure(g) for g in sorted(GUIDES.glob("*.md"))]
    print(table(rows))
    for r in rows:
        for m in r.missing:
            print(f"missing in {r.guide}: {m}", file=sys.stderr)
    return 1 if args.check and not all(r.full for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
