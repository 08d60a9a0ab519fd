"""Helpers the source parsers share: YAML nodes with lines, URL hosts, line lookup."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["compose_all", "find_line", "items", "line_of", "mapping", "scalar", "sequence", "url_parts"]

logger = logging.getLogger(__name__)

_ENV_REF = re.compile(r"^\$\{?[A-Za-z_]")


def compose_all(text: str, display: str) -> list[Node]:
    """Every YAML document of `text` as nodes (lines kept); [] when it does not parse."""
    try:
        return [node for node in yaml.compose_all(text, Loader=yaml.SafeLoader) if node is not None]
    except (yaml.YAMLError, RecursionError) as exc:  # RecursionError: nesting deeper than the composer goes
        logger.debug("%s: not YAML (%s)", display, type(exc).__name__)
        return []


def mapping(node: Node | None) -> dict[str, Node]:
    """A mapping node's children by (string) key; {} for anything else."""
    if not isinstance(node, MappingNode):
        return {}
    out: dict[str, Node] = {}
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            out.setdefault(str(key.value), value)
    return out


def items(node: Node | None) -> list[tuple[str, Node, Node]]:
    """A mapping node's (key, key node, value node) triples, in order."""
    if not isinstance(node, MappingNode):
        return []
    return [(str(k.value), k, v) for k, v in node.value if isinstance(k, ScalarNode)]


def sequence(node: Node | None) -> list[Node]:
    """A sequence node's items; [] for anything else."""
    return list(node.value) if isinstance(node, SequenceNode) else []


def scalar(node: Node | None) -> str | None:
    """A scalar node's text; None for anything else."""
    return str(node.value) if isinstance(node, ScalarNode) else None


def line_of(node: Node, offset: int = 0) -> int:
    """The 1-based line of `node` in the file (`offset` lines precede the text)."""
    return int(node.start_mark.line) + 1 + offset


def find_line(text: str, needle: str, offset: int = 0) -> int:
    """The 1-based line where `needle` first occurs in `text` (1 when absent)."""
    at = text.find(needle)
    return (text.count("\n", 0, at) + 1 if at >= 0 else 1) + offset


def url_parts(value: str | None) -> tuple[str | None, str | None]:
    """(scheme, host) of a URL-shaped example value; (None, None) for anything else.

    Only these two parts leave the parser: the rest of a value may hold a credential.
    """
    if not value or "://" not in value or _ENV_REF.match(value):
        return None, None
    text = value.strip().strip("'\"")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        scheme = parts.scheme.lower() or None
    except ValueError:  # a templated host such as db.[PROJECT-REF].supabase.co
        m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://(?:[^@/\s]*@)?([^/:?#\s]+)", text)
        return (m.group(1).lower(), m.group(2).lower()) if m else (None, None)
    return scheme, host or None
