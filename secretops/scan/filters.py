"""Classification of a candidate secret: leak, test-credential, placeholder or weak-default.

The engine calls `classify` for every regex hit, in this order, first answer wins:

1. not a credential at all (generic rules only): numbers, booleans, URLs, paths, prose, type
   names, variable references in code, names that describe metadata (`TOKEN_EXPIRE_MINUTES`).
   These produce no finding.
2. placeholder: templates (`<DB_PASSWORD>`, `${VAR}`, `{{ secrets.X }}`, `%(x)s`,
   `[YOUR-PASSWORD]`), instructions (`your-api-key-here`), masks (`xxxx`, `****`, `...`),
   words (`password`, `secret`), documented example keys, a value equal to its own name,
   repeated characters, textbook URIs (`user:password@host`); and template defaults
   (`change-me`) when the file is documentation or a template (`.md`, `.env.example`).
3. test-credential: files under test paths, CI service containers, test-ish values
   (`test_pass`, `dummy`, `fake`, `not-for-production`), weak passwords to a local host.
4. weak-default: template defaults outside docs (`SECRET_KEY=change-me`), `django-insecure-`
   keys, well-known default passwords (`admin`, `postgres`).
5. leak: anything else; the engine then applies the rule's entropy floor and checksum.

Each verdict carries `reasons` in words a user can act on.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from secretops.scan.models import Classification

__all__ = [
    "Verdict",
    "classify",
    "in_ci_service_block",
    "is_doc_or_template",
    "is_test_path",
    "name_not_secret",
    "not_a_credential",
    "placeholder_reason",
    "shannon_entropy",
    "test_reason",
    "weak_default_reason",
]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classification with its reasons; `classification` None means: not a credential, drop it."""

    classification: Classification | None
    reasons: tuple[str, ...]


def shannon_entropy(value: str) -> float:
    """Shannon entropy of `value` in bits per character (0 for an empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# -- paths ------------------------------------------------------------------------------------------

_TEST_DIRS: Final = frozenset(
    {
        "test",
        "tests",
        "spec",
        "specs",
        "fixtures",
        "fixture",
        "testdata",
        "test-data",
        "test_data",
        "__tests__",
        "__fixtures__",
        "__mocks__",
        "mocks",
        "testing",
    }
)
_TEST_FILE = re.compile(r"(^test_.*\.py$|_test\.[a-z]+$|\.(?:test|spec)\.[a-z]+$|^conftest\.py$|Test\.java$)")
_DOC_SUFFIX = re.compile(r"\.(?:md|markdown|mdx|rst|txt|adoc|asciidoc|org|textile|ipynb)$", re.IGNORECASE)
_TEMPLATE = re.compile(
    r"(?:\.(?:example|sample|template|tmpl|tpl|dist|default|defaults)(?:\.[a-z0-9]+)?$|^readme|(?:^|[._-])example)",
    re.IGNORECASE,
)
_CODE_SUFFIX = re.compile(
    r"\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|go|rb|java|kt|kts|scala|cs|php|rs|swift|c|cc|cpp|h|hpp|m|dart|lua|ex|exs|erl|clj|groovy)$",
    re.IGNORECASE,
)


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p]


def is_test_path(path: str) -> bool:
    """True for files under a test folder (`tests/`, `spec/`, `fixtures/`, ...) or named like tests."""
    parts = _parts(path)
    if not parts:
        return False
    return any(p.lower() in _TEST_DIRS for p in parts[:-1]) or bool(_TEST_FILE.search(parts[-1]))


def is_doc_or_template(path: str) -> bool:
    """True for documentation (`.md`, `.rst`, ...) and config templates (`.env.example`, `*.sample`)."""
    parts = _parts(path)
    if not parts:
        return False
    name = parts[-1]
    return bool(_DOC_SUFFIX.search(name) or _TEMPLATE.search(name)) or "docs" in (p.lower() for p in parts[:-1])


def _is_code(path: str) -> bool:
    return bool(_CODE_SUFFIX.search(path))


# -- not a credential -------------------------------------------------------------------------------

_NON_VALUES: Final = frozenset(
    {
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "none",
        "null",
        "nil",
        "undefined",
        "required",
        "optional",
        "enabled",
        "disabled",
        "str",
        "string",
        "bytes",
        "int",
        "bool",
        "secretstr",
        "text",
        "varchar",
        "char",
        "object",
        "any",
        "default",
        "auto",
        "n/a",
        "na",
    }
)
_META_NAME = re.compile(
    r"(?i)(?:[_.-]|^)(?:id|ids|sid|arn|name|names|file|filename|path|dir|url|uri|link|host|port|user|username|"
    r"type|length|len|min|max|minimum|maximum|expire[a-z_]*|expires|expiry|expiration|ttl|timeout|lifetime|age|"
    r"days|minutes|seconds|hours|field|fields|hash|hashed|header|env|var|count|policy|prompt|label|placeholder|"
    r"hint|help|regex|pattern|required|enabled|endpoint|algorithm|algo|format|encoding|prefix|suffix|mode|"
    r"strength|reset|version|rounds|validators?|type_?hint|input|form|location|store|storage|provider|"
    r"source|backend|class|model|schema|limit|size|param|params|key_id|keyid|usage|used|scope|scopes)$"
)
_BOOL_NAME = re.compile(r"(?i)^(?:is|has|show|use|enable|require|allow|validate|check|should|can|no|min|max)[_-]")
_URL_NO_AUTH = re.compile(r"^[a-z][a-z0-9+.-]*://[^@\s]*$", re.IGNORECASE)
_PATHLIKE = re.compile(r"^(?:\.{0,2}/|~/|[A-Za-z]:\\)")
_DOTTED_REF = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\(|\[|$)")
_CALL = re.compile(r"^[A-Za-z_$][\w$.]*[(\[]")
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
_PROSE = re.compile(r"^[A-Za-z][A-Za-z,.'!?-]*(?: [A-Za-z][A-Za-z,.'!?-]*){2,}$")


def name_not_secret(name: str | None) -> str | None:
    """Why an assignment's `name` describes metadata rather than a secret (`TOKEN_EXPIRE_MINUTES`), or None."""
    if name is None:
        return None
    bare = name.strip("\"'`*")
    if _META_NAME.search(bare) or _BOOL_NAME.match(bare):
        return f"the name {bare!r} describes metadata, not a secret"
    return None


def not_a_credential(value: str, *, name: str | None, path: str, quoted: bool, op: str | None) -> str | None:
    """Why `value` (found by a generic assignment rule) is no credential at all, or None."""
    why = name_not_secret(name)
    if why:
        return why
    lowered = value.lower()
    if len(value) < 4:
        return "too short to be a credential"
    if lowered in _NON_VALUES:
        return f"not a credential value ({lowered})"
    if value.isdigit():
        return "a number, not a credential"
    if _URL_NO_AUTH.match(value) or (_PATHLIKE.match(value) and " " not in value):
        return "a URL or path, not a credential"
    if _PROSE.match(value):
        return "prose, not a credential"
    if not quoted:
        if _DOTTED_REF.match(value) or _CALL.match(value):
            return "a reference to a variable or a call, not a literal"
        if _is_code(path) and _IDENT.match(value) and (op is None or op.strip() != ":"):
            return "a variable name in code, not a literal"
    return None


# -- placeholders -----------------------------------------------------------------------------------

_PLACEHOLDER_PATTERNS: Final = (
    (re.compile(r"<[^<>\n]{1,80}>"), "angle-bracket template"),
    (re.compile(r"\$\{\{[^}]*\}\}|\{\{[^}]*\}\}|\{%.*%\}"), "template expression"),
    (re.compile(r"\$\{[^}]*\}|^\$[A-Za-z_][A-Za-z0-9_]*$|\$\(|^%[A-Z_]+%$"), "variable reference"),
    (re.compile(r"%\([A-Za-z_]+\)[sd]|^%s$|^\{[A-Za-z_]*\}$|#\{[^}]*\}"), "format placeholder"),
    (re.compile(r"\[[A-Z0-9][A-Z0-9_ -]{2,}\]"), "bracketed placeholder"),
    (re.compile(r"(?i)(?:^|[^a-z])your(?:[^a-z]|$)|^your[a-z]"), "instructional placeholder (your-...)"),
    (
        re.compile(
            r"(?i)(?:^|[^a-z])(?:insert|enter|put|add|paste|replace|fill|set|my|some|generate)[-_ ]"
            r"(?:[a-z0-9]+[-_ ]){0,3}(?:password|passwd|pass|pwd|secret|token|key|api[-_]?key|value|here)"
        ),
        "instructional placeholder",
    ),
    (re.compile(r"(?i)[-_ .]here$|goes[-_ ]?here"), "instructional placeholder (...-here)"),
    (re.compile(r"(?i)x{4,}|^x{2,}$|\*{3,}|\.\.\.|\u2026|#{4,}"), "masked or elided value"),
    (re.compile(r"(?i)example|sample|placeholder|redacted|\bdummy-?value\b"), "documented example value"),
)
_PLACEHOLDER_WORDS: Final = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "apikey",
        "api_key",
        "api-key",
        "value",
        "redacted",
        "removed",
        "hidden",
        "placeholder",
        "todo",
        "tbd",
        "fixme",
        "foo",
        "bar",
        "baz",
        "foobar",
        "xyz",
        "abc",
        "secretkey",
        "secret_key",
        "secret-key",
        "mysecret",
        "mypassword",
        "mytoken",
        "s3cr3t",
        "accesstoken",
        "access_token",
        "authtoken",
        "auth_token",
        "privatekey",
        "private_key",
        "credentials",
        "username",
        "user",
        "empty",
        "blank",
        "unset",
        "dbpassword",
        "db_password",
    }
)
_KNOWN_EXAMPLES: Final = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)
_TEXTBOOK_HOSTS: Final = frozenset(
    {
        "host",
        "hostname",
        "server",
        "servername",
        "domain",
        "your-host",
        "db-host",
        "dbhost",
        "<host>",
        "myhost",
        "remotehost",
        "host.com",
        "domain.com",
    }
)
_TEXTBOOK_USERS: Final = frozenset({"user", "username", "usr", "myuser", "dbuser", "db_user", "your-user", "name"})


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def placeholder_reason(value: str, *, name: str | None = None, context: Mapping[str, str] | None = None) -> str | None:
    """Why `value` is a placeholder rather than a real secret, or None."""
    if value in _KNOWN_EXAMPLES:
        return "placeholder: documented example key"
    for pattern, why in _PLACEHOLDER_PATTERNS:
        m = pattern.search(value)
        if m:
            return f"placeholder: {why} {m.group(0)!r}" if len(m.group(0)) <= 40 else f"placeholder: {why}"
    norm = _norm(value)
    if value.lower().strip("-_.") in _PLACEHOLDER_WORDS or norm in _PLACEHOLDER_WORDS:
        return f"placeholder: the word {value.lower()!r}"
    if name and _norm(name) and norm == _norm(name.strip("\"'`*")):
        return "placeholder: the value repeats its own name"
    if len(value) >= 4 and len(set(value.lower())) <= 2:
        return "placeholder: repeated characters"
    ctx = context or {}
    host = ctx.get("host", "").lower()
    user = ctx.get("user", "").lower()
    if host in _TEXTBOOK_HOSTS or host.endswith((".example.com", "example.com", ".example.org", ".example")):
        return f"placeholder: textbook host {host!r}"
    if user in _TEXTBOOK_USERS and norm in {"password", "pass", "pwd", "secret"}:
        return "placeholder: textbook user:password"
    return None


# -- test credentials -------------------------------------------------------------------------------

_TESTISH = re.compile(
    r"(?i)(?<![a-z])(?:test|testing|dummy|fake|mock|fixture)|not[-_ ]?for[-_ ]?prod|do[-_ ]?not[-_ ]?use|"
    r"(?<![a-z])(?:local|dev)[-_ ]?(?:only|password|secret)"
)
_LOCAL_HOSTS: Final = frozenset(
    {
        "localhost",
        "127.0.0.1",
        "::1",
        "[::1]",
        "0.0.0.0",  # noqa: S104 - a host name to recognise, not a bind address
        "db",
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "redis",
        "database",
        "host.docker.internal",
        "pg",
        "mongo",
        "mongodb",
        "rabbitmq",
    }
)
_WEAK_WORDS: Final = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "toor",
        "123456",
        "1234",
        "12345",
        "12345678",
        "123456789",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "qwerty",
        "letmein",
        "welcome",
        "default",
        "postgres",
        "mysql",
        "redis",
        "guest",
        "changeit",
        "secret123",
        "admin123",
        "pass123",
        "abc123",
        "master",
        "superuser",
        "oracle",
        "sa",
        "pass1234",
        "password!",
        "hunter2",
        "trustno1",
        "iloveyou",
        "pa55word",
        "rabbitmq",
        "mongodb",
        "example",
        "demo",
        "sonar",
        "jenkins",
        "airflow",
        "keycloak",
        "minioadmin",
    }
)
_TEMPLATE_DEFAULT = re.compile(
    r"(?i)change[-_ ]?(?:me|this|it|in[-_ ]?prod)|please[-_ ]?change|replace[-_ ]?me|update[-_ ]?me|insecure"
)


def test_reason(
    value: str,
    *,
    path: str,
    context: Mapping[str, str] | None = None,
    in_ci_service: bool | Callable[[], bool] = False,
) -> str | None:
    """Why `value` is a throwaway test credential, or None.

    `in_ci_service` may be a callable, evaluated only when needed (it walks the YAML above).
    """
    if is_test_path(path):
        return "test-credential: in a test path"
    if in_ci_service() if callable(in_ci_service) else in_ci_service:
        return "test-credential: CI service container"
    m = _TESTISH.search(value)
    if m:
        return f"test-credential: test-ish value ({m.group(0).lower()})"
    host = (context or {}).get("host", "").lower()
    if host in _LOCAL_HOSTS and (value.lower() in _WEAK_WORDS or shannon_entropy(value) < 3.0 or len(value) < 10):
        return f"test-credential: weak password for local host {host!r}"
    return None


def weak_default_reason(value: str, *, path: str) -> str | None:
    """Why `value` is a weak default someone may ship, or None (template defaults in docs are placeholders)."""
    if value.startswith("django-insecure-"):
        return "weak-default: Django's generated development key (django-insecure-)"
    m = _TEMPLATE_DEFAULT.search(value)
    if m:
        return f"weak-default: template default ({m.group(0).lower()}) in a real config file"
    if value.lower() in _WEAK_WORDS:
        return f"weak-default: well-known default password {value.lower()!r}"
    return None


# -- CI service containers --------------------------------------------------------------------------

_CI_PATH = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.gitlab-ci|\.circleci/|bitbucket-pipelines|\.drone|azure-pipelines)"
)
_KEY_LINE = re.compile(r"^(\s*)-?\s*([A-Za-z0-9_.-]+):")


def in_ci_service_block(text: str, line_start: int, path: str, *, max_lines: int = 60) -> bool:
    """True when the line starting at `line_start` sits in a CI job's `services:` block.

    Walks up the YAML indentation chain (also inside a markdown code block): the line must have
    a `services:` ancestor, and the file must be a CI config or the chain must reach `jobs:` or
    a `runs-on:` nearby.
    """
    end = text.find("\n", line_start)
    line = text[line_start : end if end >= 0 else len(text)]
    indent = len(line) - len(line.lstrip(" "))
    chain: list[str] = []
    runs_on = False
    pos = line_start
    for _ in range(max_lines):
        if pos <= 0:
            break
        prev_end = pos - 1
        prev_start = text.rfind("\n", 0, prev_end) + 1
        prev = text[prev_start:prev_end]
        pos = prev_start
        stripped = prev.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("```"):
            break
        if "runs-on:" in prev:
            runs_on = True
        this_indent = len(prev) - len(prev.lstrip(" "))
        if this_indent < indent:
            m = _KEY_LINE.match(prev)
            if m:
                chain.append(m.group(2).lower())
            indent = this_indent
            if indent == 0:
                break
    if "services" not in chain:
        return False
    return bool(_CI_PATH.search(path)) or "jobs" in chain or runs_on


# -- the decision -----------------------------------------------------------------------------------


def classify(
    value: str,
    *,
    path: str,
    name: str | None = None,
    context: Mapping[str, str] | None = None,
    generic: bool = False,
    quoted: bool = True,
    op: str | None = None,
    in_ci_service: bool | Callable[[], bool] = False,
) -> Verdict:
    """Classify one candidate secret (see the module docstring for the order of checks).

    Returns `Verdict(None, reasons)` when the value is not a credential at all (generic rules
    only). Entropy floors and checksums are the engine's job, applied to leaks only.
    """
    if generic:
        why = name_not_secret(name) or ("prose, not a credential" if _PROSE.match(value) else None)
        if why:
            return Verdict(None, (why,))
    why = placeholder_reason(value, name=name, context=context)
    if why:
        return Verdict(Classification.PLACEHOLDER, (why,))
    if generic:
        why = not_a_credential(value, name=name, path=path, quoted=quoted, op=op)
        if why:
            return Verdict(None, (why,))
    doc = is_doc_or_template(path)
    if doc and _TEMPLATE_DEFAULT.search(value) and not value.startswith("django-insecure-"):
        return Verdict(Classification.PLACEHOLDER, ("placeholder: template default in a docs or template file",))
    why = test_reason(value, path=path, context=context, in_ci_service=in_ci_service)
    if why:
        return Verdict(Classification.TEST_CREDENTIAL, (why,))
    why = weak_default_reason(value, path=path)
    if why:
        return Verdict(Classification.WEAK_DEFAULT, (why,))
    return Verdict(Classification.LEAK, ("leak: matched the rule and passed every filter",))
