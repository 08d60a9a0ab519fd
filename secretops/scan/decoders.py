"""Extra fragments decoded from a fragment's text, so rules see values that are stored encoded.

Today this covers Kubernetes `Secret` manifests: every value under `data:` is base64, so a
password committed in a manifest never matches a rule as written. `expand` decodes each value and
returns one `Fragment` per value whose text is `<key>: <decoded value>` (the key keeps the
assignment context that rules such as a generic `password: ...` rule need) and whose
`line_offset` makes line 1 of the decoded text report at the encoded line. The runner scans these
fragments in addition to the original one.

A decoded value that is a placeholder or template default (`Y2hhbmdlbWU=` is `changeme`) yields
no fragment: `secret_data_lines` tells `filters.classify` which lines hold Secret data, and the
encoded value is reported there as the placeholder it is.

The parser is line-based on purpose: manifests in repositories are often Helm or Kustomize
templates that a YAML parser rejects, and a line-based reader keeps exact line numbers.
JSON manifests (`"kind": "Secret"`) are read with `json` and located by searching for the value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from secretops.scan.models import Fragment

__all__ = ["MAX_DECODED", "decode_base64_text", "expand", "secret_data_lines"]

#: Decoded values longer than this are skipped (certificates bundles, binary blobs).
MAX_DECODED: Final = 64 * 1024

_YAML_SECRET = re.compile(r"""^\s*kind:\s*["']?Secret["']?\s*(?:#.*)?$""", re.MULTILINE)
_JSON_SECRET = re.compile(r""""kind"\s*:\s*"Secret\"""")
_DOC_SEPARATOR = re.compile(r"^---")
_DATA_KEY = re.compile(r"""^(?P<indent>\s*)(?P<name>data|binaryData):\s*(?:#.*)?$""")
_ENTRY = re.compile(
    r"""^(?P<indent>\s*)(?P<key>["']?[-._A-Za-z0-9]+["']?)\s*:\s*(?P<value>"[^"]*"|'[^']*'|[^\s#]+)?\s*(?:#.*)?$"""
)
_B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def expand(fragment: Fragment) -> list[Fragment]:
    """Fragments decoded from `fragment` (empty when it holds nothing encoded).

    Each returned fragment carries the origin of `fragment` (path, cell, commit, author, date);
    its `line_offset` points at the line holding the encoded value.
    """
    text = fragment.text
    # Cheap gates first: almost no file is a Secret manifest, and a regex anchored on `^\s*` would
    # try every line of every file, so look for the literal `kind` with `str.find` (C speed).
    if "Secret" not in text or "kind" not in text:
        return []
    out: list[Fragment] = []
    if _has_yaml_secret_kind(text):
        out.extend(_yaml_secrets(fragment))
    if not out and '"kind"' in text and _JSON_SECRET.search(text):
        out.extend(_json_secrets(fragment))
    return out


def _has_yaml_secret_kind(text: str) -> bool:
    """True when some line of `text` is `kind: Secret` (leading spaces allowed)."""
    at = text.find("kind:")
    while at >= 0:
        line_start = text.rfind("\n", 0, at) + 1
        line_end = text.find("\n", at)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if _YAML_SECRET.match(line):
            return True
        at = text.find("kind:", at + 5)
    return False


def decode_base64_text(value: str) -> str | None:
    """`value` decoded from base64 (standard or URL-safe, padding optional) if it is UTF-8 text.

    Returns None for anything that is not valid base64, decodes to binary, or is too long.
    """
    value = value.strip()
    if len(value) < 4 or len(value) > MAX_DECODED * 4 // 3 + 4:
        return None
    if _B64.match(value):
        altchars = None
    elif _B64URL.match(value):
        altchars = b"-_"
    else:
        return None
    padded = value.rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        raw = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded or not all(ch.isprintable() or ch in "\n\r\t" for ch in decoded):
        return None
    return decoded


def _is_placeholder(decoded: str) -> bool:
    """True when a decoded value is a placeholder or template default (`changeme`, `<token>`).

    Such a value yields no decoded fragment: the encoded value is then reported as the
    placeholder it is (`filters.classify` decodes Secret data itself), and a template default
    is not reported a second time as a weak default.
    """
    from secretops.scan.filters.placeholders import decoded_placeholder_reason  # filters imports this module

    return decoded_placeholder_reason(decoded) is not None


def secret_data_lines(text: str) -> frozenset[int]:
    """Start offsets of the lines of `text` that hold a value under a Kubernetes Secret's `data:`.

    Offsets index `text` (the engine's `line_start`), so a lookup costs nothing per candidate.
    Empty for texts that are no YAML Secret manifest. Cached for the last two texts.
    """
    for cached_text, starts in _data_lines_cache:
        if cached_text is text:
            return starts
    found: set[int] = set()
    if "Secret" in text and "kind" in text and _has_yaml_secret_kind(text):
        lines = text.split("\n")
        offsets = [0]
        for line in lines[:-1]:
            offsets.append(offsets[-1] + len(line) + 1)
        for first, doc in _documents(lines):
            if any(_YAML_SECRET.match(line) for line in doc):
                found.update(offsets[first + i] for i in _yaml_data_indexes(doc))
    result = frozenset(found)
    _data_lines_cache.insert(0, (text, result))
    del _data_lines_cache[2:]
    return result


_data_lines_cache: list[tuple[str, frozenset[int]]] = []


def _yaml_data_indexes(doc: list[str]) -> Iterator[int]:
    """Indexes into `doc` of the single-line entries under `data:`/`binaryData:`."""
    i = 0
    while i < len(doc):
        header = _DATA_KEY.match(doc[i])
        i += 1
        if not header:
            continue
        indent = len(header.group("indent"))
        while i < len(doc):
            line = doc[i]
            if line.strip() and not line.lstrip().startswith("#"):
                entry = _ENTRY.match(line)
                if entry is None or len(entry.group("indent")) <= indent:
                    break
                yield i
            i += 1


def _derived(fragment: Fragment, line: int, key: str, decoded: str) -> Fragment:
    """A fragment for one decoded value found on 1-based `line` of `fragment.text`."""
    return replace(fragment, text=f"{key}: {decoded}\n", line_offset=fragment.line_offset + line - 1)


def _documents(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """YAML documents as (index of first line, lines), split on `---`."""
    start = 0
    for i, line in enumerate(lines):
        if _DOC_SEPARATOR.match(line):
            if i > start:
                yield start, lines[start:i]
            start = i + 1
    if start < len(lines):
        yield start, lines[start:]


def _yaml_secrets(fragment: Fragment) -> Iterator[Fragment]:
    lines = fragment.text.splitlines()
    for first, doc in _documents(lines):
        if not any(_YAML_SECRET.match(line) for line in doc):
            continue
        yield from _yaml_data_values(fragment, first, doc)


def _yaml_data_values(fragment: Fragment, first: int, doc: list[str]) -> Iterator[Fragment]:
    i = 0
    while i < len(doc):
        header = _DATA_KEY.match(doc[i])
        i += 1
        if not header:
            continue
        indent = len(header.group("indent"))
        while i < len(doc):
            line = doc[i]
            if not line.strip() or line.lstrip().startswith("#"):
                i += 1
                continue
            entry = _ENTRY.match(line)
            if entry is None or len(entry.group("indent")) <= indent:
                break
            key = entry.group("key").strip("\"'")
            value = (entry.group("value") or "").strip("\"'")
            if value in ("|", ">", "|-", ">-"):
                # A block scalar: the base64 text is on the following, more indented lines.
                block, j = _block(doc, i + 1, len(entry.group("indent")))
                decoded = decode_base64_text("".join(block))
                if decoded is not None and not _is_placeholder(decoded):
                    yield _derived(fragment, first + i + 2, key, decoded)
                i = j
                continue
            decoded = decode_base64_text(value) if value else None
            if decoded is not None and not _is_placeholder(decoded):
                yield _derived(fragment, first + i + 1, key, decoded)
            i += 1


def _block(doc: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The stripped lines of a block scalar starting at `start`, and the index after it."""
    out: list[str] = []
    i = start
    while i < len(doc):
        line = doc[i]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        out.append(line.strip())
        i += 1
    return out, i


def _json_secrets(fragment: Fragment) -> Iterator[Fragment]:
    try:
        doc = json.loads(fragment.text)
    except ValueError:
        return
    objects = doc.get("items", [doc]) if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    text = fragment.text
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("kind") != "Secret":
            continue
        data = obj.get("data")
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                continue
            decoded = decode_base64_text(value)
            if decoded is None or _is_placeholder(decoded):
                continue
            at = text.find(f'"{value}"')
            line = text.count("\n", 0, at) + 1 if at >= 0 else 1
            yield _derived(fragment, line, key, decoded)
