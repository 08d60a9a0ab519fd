"""Escaping checks: a template field placed raw in a URL or a libpq conninfo string.

A problem when the field's generator (or issuer) can emit a character reserved there
(`tables.URL_ALLOWED`, `tables.CONNINFO_KEYWORDS`, `tables.value_characters`): the app's
client would read another host, user, password or a cut value. The fix is `|url` or `|conninfo`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set

from secretops.inventory.models import SecretSpec
from secretops.inventory.problems import Located, Problem
from secretops.inventory.tables import CONNINFO_KEYWORDS, URL_ALLOWED, value_characters
from secretops.inventory.templates import Placeholder, Template

__all__ = ["check_escaping"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_CONNINFO_KEY = re.compile(r"(?:^|[\s'])([A-Za-z_]+)\s*=\s*(')?$")


def _flatten(text: str) -> str:
    """Literal text of a template fragment, each placeholder as one neutral character."""

    def one(m: re.Match[str]) -> str:
        return m.group(0)[0] if m.group(0) in ("{{", "}}") else "x"

    return re.sub(r"\{\{|\}\}|\{[A-Za-z_][A-Za-z0-9_]*(?:\|[A-Za-z0-9_-]+)?\}", one, text)


def _url_part(before: str, after: str) -> tuple[str, str] | None:
    """(scheme, part of the URL) a placeholder sits in, or None when it is not in a URL."""
    found = None
    for m in _SCHEME.finditer(before):
        found = m
    if found is None or re.search(r"\s", before[found.end() :]):
        return None
    scheme = found.group(0)[:-3]
    rest = before[found.end() :]
    if "#" in rest:
        return scheme, "fragment"
    if "?" in rest:
        return scheme, "query"
    if "/" in rest:
        return scheme, "path"
    if "@" in rest:
        return scheme, "host"
    authority_tail = re.split(r"[/?#\s]", after, maxsplit=1)[0]
    return scheme, "userinfo" if "@" in authority_tail else "host"


def _shown(chars: Iterable[str]) -> str:
    names = {" ": "space", "\n": "newline", "\t": "tab"}
    listed = sorted(chars)
    out = ", ".join(names.get(c, f"`{c}`") if c != "`" else "a backquote" for c in listed[:12])
    return out + (f" and {len(listed) - 12} more" if len(listed) > 12 else "")


def _with_filter(template: str, ph: Placeholder, flt: str, *, drop_quotes: bool = False) -> str:
    start, end = ph.start, ph.end
    if drop_quotes and template[start - 1 : start] == "'" and template[end : end + 1] == "'":
        start, end = start - 1, end + 1
    return template[:start] + "{" + ph.name + "|" + flt + "}" + template[end:]


def check_escaping(secret: Located[SecretSpec], issuer_kind: str | None) -> list[Problem]:
    """A field placed raw where its value's characters would change how the string parses."""
    problems: list[Problem] = []
    for ci, consumer in enumerate(secret.spec.consumers):
        source = consumer.template
        for ph in Template(source).placeholders():
            before, after = _flatten(source[: ph.start]), _flatten(source[ph.end :])
            url = _url_part(before, after)
            if url is not None:
                problem = _url_problem(secret, ci, ph, source, url, issuer_kind)
            else:
                problem = _conninfo_problem(secret, ci, ph, source, before, issuer_kind)
            if problem is not None:
                problems.append(problem)
    return problems


def _risky(secret: SecretSpec, issuer_kind: str | None, ph: Placeholder, allowed: Set[str]) -> tuple[str, str] | None:
    """(what may appear, who says so) when `ph`'s value may hold a character outside `allowed`."""
    chars, source = value_characters(secret, issuer_kind, ph.field)
    if chars is None:
        return "any character", source
    bad = chars - allowed
    if not bad:
        return None
    return _shown(bad), source


_MISREAD = {
    "userinfo": "another host, user or password (a raw `@` or `/` moves part of the password into the host)",
    "host": "another host or port",
    "path": "another path (database name)",
    "query": "other parameters",
    "fragment": "a shorter value",
}


def _url_problem(
    secret: Located[SecretSpec],
    ci: int,
    ph: Placeholder,
    source: str,
    url: tuple[str, str],
    issuer_kind: str | None,
) -> Problem | None:
    scheme, part = url
    if ph.filter == "url":
        return None
    sub = ("consumers", ci, "template")
    fixed = _with_filter(source, ph, "url")
    if ph.filter is not None:
        return secret.problem(
            sub,
            f"{ph} sits in the {part} of a {scheme}:// URL, but |{ph.filter} is not URL escaping",
            f"write {{{ph.name}|url}}: {fixed}",
            "unescaped-url",
        )
    chars, _ = value_characters(secret.spec, issuer_kind, ph.field)
    if chars is None and part != "userinfo":
        return None  # an issuer-minted value in a path may be meant as one (a webhook's `T0/B0/x`)
    risky = _risky(secret.spec, issuer_kind, ph, URL_ALLOWED[part])
    if risky is None:
        return None
    what, who = risky
    return secret.problem(
        sub,
        f"{ph} sits in the {part} of a {scheme}:// URL without |url, and {who} may put {what} there: "
        f"the app's client would read {_MISREAD[part]}",
        f"write {{{ph.name}|url}}: {fixed}",
        "unescaped-url",
    )


def _conninfo_problem(
    secret: Located[SecretSpec], ci: int, ph: Placeholder, source: str, before: str, issuer_kind: str | None
) -> Problem | None:
    m = _CONNINFO_KEY.search(before)
    if m is None or m.group(1) not in CONNINFO_KEYWORDS or ph.filter == "conninfo":
        return None
    quoted = m.group(2) is not None
    sub = ("consumers", ci, "template")
    fixed = _with_filter(source, ph, "conninfo", drop_quotes=quoted)
    keyword = f"`{m.group(1)}=`"
    if ph.filter is not None:
        return secret.problem(
            sub,
            f"{ph} is the value of {keyword} in a conninfo string, but |{ph.filter} is not conninfo quoting",
            f"write {m.group(1)}={{{ph.name}|conninfo}} (it adds the quotes): {fixed}",
            "unescaped-conninfo",
        )
    allowed = frozenset(chr(c) for c in range(33, 127)) - frozenset("'\\")
    if quoted:
        allowed |= frozenset(" \t")
    risky = _risky(secret.spec, issuer_kind, ph, allowed)
    if risky is None:
        return None
    what, who = risky
    return secret.problem(
        sub,
        f"{ph} is the value of {keyword} in a conninfo string without |conninfo, and {who} may put {what} there: "
        "libpq would cut or misread the value",
        f"write {m.group(1)}={{{ph.name}|conninfo}} (it adds the quotes): {fixed}",
        "unescaped-conninfo",
    )
