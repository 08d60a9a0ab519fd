"""What a value's shape and its surroundings say, independent of the file's path.

`classify` (filters.py) asks two questions here before it looks at any test signal:

* `live_shape`: is this value built like a live credential? A private key block, a provider
  format whose fixed prefix is in the value (`sk_live_`, `ghp_`, `npg_`, `sk-proj-`), a strongly
  random value matched by a provider rule (an AWS secret access key), or a password in a URI to a
  host that is not local. Such a value stays a `leak` wherever the file is: under `tests/`, in a
  recorded HTTP cassette, in a CI `services:` block. Only a vendor test-mode marker
  (`sk_test_`, `rzp_test_`, `access-sandbox-`) makes it a test credential.
* the surroundings: the services a compose file or CI config in the same text declares (their
  names are local hosts), whether a line sits in a Kubernetes Secret's `data:`, whether the
  line speaks of pagination, whether the file is an API example document (botocore's
  `examples-1.json`).

A path is never a reason here; `filters.classify` uses a test path only to lower the severity of
values that have no live shape (see docs/rules.md, "Test credentials: the decision table").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = [
    "LIVE_PREFIXES",
    "LOCAL_HOSTS",
    "api_example_document",
    "declared_services",
    "is_local_host",
    "live_prefix",
    "live_shape",
    "pagination_line",
    "vendor_test_marker",
]

#: Hosts that never leave the machine or the container network, whatever file they are in.
LOCAL_HOSTS: Final = frozenset(
    {
        "localhost",
        "127.0.0.1",
        "::1",
        "[::1]",
        "0.0.0.0",  # noqa: S104 - a host name to recognise, not a bind address
        "host.docker.internal",
        # conventional service-container names (single-label: not resolvable on the internet)
        "db",
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "redis",
        "database",
        "pg",
        "mongo",
        "mongodb",
        "rabbitmq",
    }
)

# Vendor test-mode markers: a word `test`/`sandbox` delimited inside the value's fixed prefix
# (`sk_test_`, `rk_test_`, `pk_test_`, `rzp_test_`, `FLWSECK_TEST-`, `access-sandbox-`,
# `sk_sbox_`, `pdl_sdbx_`). Random bodies of base62 tokens hold no `_` or `-`, so a marker
# cannot appear there by chance.
_TEST_MODE = re.compile(r"(?i)(?<![a-z0-9])(?:test|sandbox|sbox|sdbx)[_-]")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


#: Fixed prefixes of live credentials, recognised whatever rule matched the value (a GitHub token
#: pasted as `POSTGRES_PASSWORD` is still a GitHub token). Case-sensitive, at the value's start.
LIVE_PREFIXES: Final = (
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "sk_live_",
    "rk_live_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxe-",
    "xapp-",
    "npg_",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-ant-",
    "AKIA",
    "ASIA",
    "hf_",
    "npm_",
    "pypi-",
    "dop_v1_",
    "doo_v1_",
    "sbp_",
    "sb_secret_",
    "sntryu_",
    "sntrys_",
    "shpat_",
    "shpss_",
    "rnd_",
    "HRKU-",
    "SG.",
    "whsec_",
    "AIza",
    "glsa_",
    "dapi",
    "sq0atp-",
    "sq0csp-",
    "lin_api_",
    "vercel_",
    "fly_",
    "FlyV1 ",
    "pscale_pw_",
    "pscale_tkn_",
    "dckr_pat_",
    "age-secret-key-",
    "AGE-SECRET-KEY-",
)
_MIN_BODY: Final = 16


def live_prefix(value: str) -> str | None:
    """The well-known live prefix `value` starts with, if a long enough body follows it, or None."""
    for prefix in LIVE_PREFIXES:
        if value.startswith(prefix) and len(value) - len(prefix) >= _MIN_BODY:
            return prefix
    return None


def vendor_test_marker(value: str) -> str | None:
    """The vendor test-mode marker in `value` (`sk_test_` gives `test_`), or None."""
    m = _TEST_MODE.search(value)
    return m.group(0).lower() if m else None


def is_local_host(host: str, services: Iterable[str] = ()) -> bool:
    """True for loopback and container-network hosts, and for services declared in the same file."""
    h = host.lower().strip("[]")
    return h in LOCAL_HOSTS or f"[{h}]" in LOCAL_HOSTS or h in services or h.endswith(".localhost")


def live_shape(
    value: str,
    *,
    generic: bool,
    keywords: Iterable[str] = (),
    context: Mapping[str, str] | None = None,
    trivial: bool = False,
    services: Iterable[str] = (),
    strongly_random: bool = False,
) -> str | None:
    """Why `value` is built like a live credential, or None.

    `generic` is True for catch-all and free-form assignment rules (their values have no
    provider format); `keywords` are the matching rule's prefilter keywords (a keyword inside
    the value is the provider's fixed prefix); `trivial` says the password is a word, short or
    low-entropy; `strongly_random` is the caller's judgement of the value (20+ characters,
    letters and digits, high entropy, not a UUID).
    """
    if _PRIVATE_KEY.search(value):
        return "a private key block"
    # reasons never quote the value, not even its prefix (the masked preview shows that)
    if live_prefix(value) is not None:
        return "a provider format (a well-known live prefix)"
    lowered = value.lower()
    host = (context or {}).get("host", "")
    if not generic:
        prefix = next((k for k in keywords if len(k) >= 3 and k in lowered), None)
        if prefix is not None:
            return "a provider format (the rule's prefix)"
        # a password with a host (a URI, a host/user/password block) is judged by its host below
        if strongly_random and not host and not _UUID.match(value):
            return "a strongly random value in a provider format"
    if host and not trivial and not is_local_host(host, services):
        return "a password to a non-local host"
    return None


# -- surroundings ------------------------------------------------------------------------------

_SERVICES_KEY = re.compile(r"^(?P<indent>[ \t]*)services:[ \t]*(?:#.*)?$")
_CHILD_KEY = re.compile(r"^(?P<indent>[ \t]*)(?:-[ \t]+)?(?:name:[ \t]*)?[\"']?(?P<key>[A-Za-z0-9][A-Za-z0-9_./-]*)")
_ALIAS = re.compile(r"^[ \t]*(?:-[ \t]+)?alias:[ \t]*[\"']?(?P<alias>[A-Za-z0-9][A-Za-z0-9_.-]*)")
_HOSTNAME = re.compile(r"^[ \t]*(?:hostname|container_name):[ \t]*[\"']?(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]*)")

_services_cache: list[tuple[str, frozenset[str]]] = []


def declared_services(text: str) -> frozenset[str]:
    """Names of the services a compose file or CI config in `text` declares (lowercase).

    The children of every `services:` key (compose services, GitHub Actions service
    containers), GitLab `alias:` names, and `hostname:`/`container_name:` values. The result
    for the last two texts is cached (the engine asks once per candidate).
    """
    for cached_text, names in _services_cache:
        if cached_text is text:
            return names
    names = frozenset(_declared(text)) if "services:" in text else frozenset()
    _services_cache.insert(0, (text, names))
    del _services_cache[2:]
    return names


def _declared(text: str) -> set[str]:
    out: set[str] = set()
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _SERVICES_KEY.match(lines[i])
        i += 1
        if not m:
            continue
        base = len(m.group("indent"))
        child_indent: int | None = None
        while i < len(lines):
            line = lines[i]
            if not line.strip() or line.lstrip().startswith("#"):
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            if indent <= base:
                break
            if child_indent is None:
                child_indent = indent
            if indent == child_indent:
                c = _CHILD_KEY.match(line)
                if c:
                    out.add(c.group("key").lower().rsplit("/", 1)[-1])
            a = _ALIAS.match(line) or _HOSTNAME.match(line)
            if a:
                out.add((a.groupdict().get("alias") or a.groupdict().get("host") or "").lower())
            i += 1
    out.discard("")
    return out


_PAGINATION = re.compile(
    r"(?i)paginat|next[ _-]?page|previous[ _-]?page|page[ _-]?token|continuation|cursor|next[ _-]?token"
)


def pagination_line(line: str) -> bool:
    """True when a line speaks of paging (`pagination token`, `next page`, `cursor`)."""
    return bool(_PAGINATION.search(line))


_EXAMPLE_DOC_NAME = re.compile(r"(?:^|/)examples?(?:-\d+)?\.json$", re.IGNORECASE)


def api_example_document(path: str, text: str | None) -> bool:
    """True for an API example document such as botocore's `data/<service>/<version>/examples-1.json`.

    The name must be `examples.json` or `examples-N.json` and the text must have the shape of
    documented requests (`"input"` objects beside `"description"` or `"title"`).
    """
    if not _EXAMPLE_DOC_NAME.search(path.replace("\\", "/")) or text is None:
        return False
    head = text[:200_000]
    return '"input"' in head and ('"description"' in head or '"title"' in head)
