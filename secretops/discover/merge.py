"""`secretops discover --merge FILE`: add what is new to an existing inventory, and say what it lacks.

The user's file is never rewritten: new issuers, targets and secrets are inserted as text at the
end of their section (found from the YAML nodes' positions, indented like the entries already
there), new consumers at the end of their secret's `consumers` list. Everything else the draft
knows and the file does not (a component that should get a secret at component level, a
component the DigitalOcean target does not declare) is listed for the user to add by hand:
changing a line the user wrote could undo a decision discover cannot see.

A draft secret is "already there" when a secret of the file has a consumer on one of its env
vars on a target of the same kind; a draft target is "already there" when the file has a target
of the same kind (and the same `app_id`/`service_id`/`project`/`path` when both say one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretops.discover.interface import DiscoverError
from secretops.discover.writer import Note, render_yaml

__all__ = ["MergeResult", "merge_into"]

_IDS = ("app_id", "service_id", "env_group_id", "project", "repo", "path", "app", "secret")


@dataclass(slots=True)
class MergeResult:
    """The merged text, what was added, and what the file lacks that discover could not add."""

    text: str
    added: list[str] = field(default_factory=list)
    lacking: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    if isinstance(value, Note):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _same_target(draft: Mapping[str, Any], existing: Mapping[str, Any]) -> bool:
    if draft.get("kind") != existing.get("kind"):
        return False
    for key in _IDS:
        a, b = draft.get(key), existing.get(key)
        if isinstance(a, str) and isinstance(b, str) and not a.startswith("<FILL-IN:") and a != b:
            return False
    return True


def merge_into(path: Path, draft: Mapping[str, Any]) -> MergeResult:
    """`path`'s text with the draft's new entries inserted (see the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DiscoverError(
            f"--merge {path}: cannot read ({exc.strerror})", hint="give an existing policy file"
        ) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) or {}
    except (yaml.YAMLError, RecursionError) as exc:
        # the line number only: PyYAML's message quotes the file's text, which is not ours to print
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DiscoverError(
            f"--merge {path}: not valid YAML{where}", hint="run secretops policy check on it first"
        ) from exc
    if not isinstance(data, dict):
        raise DiscoverError(
            f"--merge {path}: the top level is not a mapping",
            hint="give a policy file (version, issuers, targets, secrets)",
        )
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    result = MergeResult("")
    existing_targets: dict[str, Any] = data.get("targets") or {}
    existing_issuers: dict[str, Any] = data.get("issuers") or {}
    existing_secrets: list[dict[str, Any]] = data.get("secrets") or []
    d_targets = _plain(draft.get("targets") or {})
    rename: dict[str, str] = {}
    new_targets: dict[str, Any] = {}
    for name, spec in (draft.get("targets") or {}).items():
        match = next(
            (n for n, t in existing_targets.items() if isinstance(t, dict) and _same_target(d_targets[name], t)), None
        )
        if match is not None:
            rename[name] = match
            _lacking_components(d_targets[name], existing_targets[match], match, result)
        else:
            new_targets[_free(name, existing_targets)] = spec
            rename[name] = _free(name, existing_targets)
    kind_of = {
        **{n: t.get("kind") for n, t in existing_targets.items() if isinstance(t, dict)},
        **{rename[n]: t.get("kind") for n, t in d_targets.items()},
    }
    new_secrets: list[Any] = []
    new_issuers: dict[str, Any] = {}
    consumer_inserts: list[tuple[int, list[Any]]] = []
    for raw in draft.get("secrets") or []:
        secret = _plain(raw)
        consumers = secret.get("consumers") or []
        for c in consumers:
            c["target"] = rename.get(c["target"], c["target"])
        owner = _owner(secret, existing_secrets, kind_of)
        if owner is None:
            issuer = secret["issuer"]
            if issuer not in existing_issuers:
                new_issuers.setdefault(issuer, (draft.get("issuers") or {})[issuer])
            else:
                draft_issuer = _plain((draft.get("issuers") or {})[issuer])
                if draft_issuer != existing_issuers[issuer]:
                    free = _free(issuer, {**existing_issuers, **new_issuers})
                    new_issuers[free] = (draft.get("issuers") or {})[issuer]
                    secret["issuer"] = free
            if any(s.get("name") == secret["name"] for s in existing_secrets):
                secret["name"] = _free(secret["name"], {str(s.get("name")): 1 for s in existing_secrets})
            new_secrets.append(raw if secret == _plain(raw) else secret)
            result.added.append(f"secret {secret['name']} ({', '.join(c['env'] for c in consumers)})")
            continue
        index, have = owner
        missing = []
        for c in consumers:
            same = [
                h
                for h in have.get("consumers") or []
                if h.get("env") == c["env"] and kind_of.get(h.get("target")) == kind_of.get(c["target"])
            ]
            if not same:
                if c.get("template") == "{previous}":  # a companion discover proposes, not one it found
                    result.lacking.append(
                        f"secret {have.get('name')}: no consumer gets the previous value ({c['env']}); add one"
                        " if the app reads it, for an overlap rotation"
                    )
                elif not _block_consumers(root, index):
                    result.lacking.append(
                        f"secret {have.get('name')}: consumer {c['env']} on {c['target']} (its consumers are a flow"
                        " list, which discover does not edit)"
                    )
                else:
                    missing.append(c)
                    result.added.append(f"consumer {c['env']} on {c['target']} of secret {have.get('name')}")
                continue
            want = set(c.get("components") or [])
            got = {comp for h in same for comp in h.get("components") or []}
            for comp in sorted(want - got):
                result.lacking.append(
                    f"secret {have.get('name')}: consumer {c['env']} is not written at component {comp} (add it to"
                    f" `components`: DigitalOcean does not pass app-level secrets to workers and jobs)"
                )
        if missing:
            consumer_inserts.append((index, missing))
    out = _insert(lines, root, data, new_issuers, new_targets, new_secrets, consumer_inserts)
    for name in new_issuers:
        result.added.append(f"issuer {name}")
    for name in new_targets:
        result.added.append(f"target {name}")
    result.text = out
    return result


def _free(name: str, taken: Mapping[str, Any]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}-{n}", n + 1
    return out


def _owner(
    secret: Mapping[str, Any], existing: list[dict[str, Any]], kind_of: Mapping[str, Any]
) -> tuple[int, dict[str, Any]] | None:
    envs = {(c["env"], kind_of.get(c["target"])) for c in secret.get("consumers") or []}
    for i, have in enumerate(existing):
        if not isinstance(have, dict):
            continue
        mine = {
            (c.get("env"), kind_of.get(str(c.get("target"))))
            for c in have.get("consumers") or []
            if isinstance(c, dict)
        }
        if envs & mine:
            return i, have
    return None


def _lacking_components(draft: Mapping[str, Any], have: Mapping[str, Any], name: str, result: MergeResult) -> None:
    if draft.get("kind") != "digitalocean":
        return
    declared = {c.get("name"): c for c in have.get("components") or [] if isinstance(c, dict)}
    for comp in draft.get("components") or []:
        found = declared.get(comp["name"])
        if found is None:
            result.lacking.append(f"target {name}: component {comp['name']} ({comp['type']}) is not declared")
            continue
        for env in sorted(set(comp.get("env") or []) - set(found.get("env") or [])):
            result.lacking.append(f"target {name}: component {comp['name']} reads {env}, not in its `env`")


def _block_consumers(root: Node | None, index: int) -> bool:
    """Whether secret `index` of the file has a non-empty block-style `consumers` list to append to."""
    found = _section(root, "secrets")
    if found is None or not isinstance(found[1], SequenceNode) or index >= len(found[1].value):
        return False
    cons = _section(found[1].value[index], "consumers")
    return cons is not None and isinstance(cons[1], SequenceNode) and bool(cons[1].value) and not cons[1].flow_style


def _section(root: Node | None, key: str) -> tuple[Node, Node] | None:
    if not isinstance(root, MappingNode):
        return None
    for k, v in root.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _block(data: Any, indent: int, *, item: bool) -> list[str]:
    """`data` (a mapping of new keys, or a list of new items) rendered at `indent`."""
    text = render_yaml({"x": data})
    body = text.splitlines()[1:]  # drop `x:`
    base = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
    return [" " * indent + line[base:] + "\n" if line.strip() else "\n" for line in body]


def _end_line(node: Node, lines: list[str]) -> int:
    """The 0-based index of the line after `node`'s last value (a collection's end mark is the
    next token's position, so the last leaf is followed down instead)."""
    leaf = node
    seen: set[int] = set()
    while isinstance(leaf, MappingNode | SequenceNode) and leaf.value and id(leaf) not in seen:
        seen.add(id(leaf))
        last = leaf.value[-1]
        leaf = last[1] if isinstance(leaf, MappingNode) else last
    mark = leaf.end_mark
    end = mark.line if mark.column == 0 else mark.line + 1
    return min(end, len(lines))


def _insert(
    lines: list[str],
    root: Node | None,
    data: dict[str, Any],
    issuers: dict[str, Any],
    targets: dict[str, Any],
    secrets: list[Any],
    consumers: list[tuple[int, list[Any]]],
) -> str:
    inserts: list[tuple[int, list[str]]] = []
    tail: list[str] = []
    for key, new in (("issuers", issuers), ("targets", targets), ("secrets", secrets)):
        if not new:
            continue
        found = _section(root, key)
        if found is None or not data.get(key):
            tail += [f"{key}:\n", *_block(new, 2, item=key == "secrets")]
            continue
        _, node = found
        children = node.value
        first = children[0][0] if isinstance(node, MappingNode) else children[0]
        indent = first.start_mark.column
        if isinstance(node, SequenceNode):
            indent = max(indent - 2, 0)
        inserts.append(
            (
                _end_line(node, lines),
                [" " * indent + "# added by secretops discover --merge\n", *_block(new, indent, item=key == "secrets")],
            )
        )
    found = _section(root, "secrets")
    if found is not None and isinstance(found[1], SequenceNode):
        for index, new_consumers in consumers:
            secret = found[1].value[index]
            cons = _section(secret, "consumers")
            if cons is None or not isinstance(cons[1], SequenceNode) or not cons[1].value or cons[1].flow_style:
                continue  # not reached: `merge_into` lists these under "lacking" instead
            indent = max(cons[1].value[0].start_mark.column - 2, 0)
            inserts.append((_end_line(cons[1], lines), _block(new_consumers, indent, item=True)))
    out = list(lines)
    for at, block in sorted(inserts, key=lambda x: x[0], reverse=True):
        out[at:at] = block
    if tail:
        out += ["\n# added by secretops discover --merge\n", *tail]
    return "".join(out)
