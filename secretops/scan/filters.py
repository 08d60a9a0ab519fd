"""Classification of a candidate secret: leak, test-credential, placeholder or weak-default.

The engine calls `classify` for every regex hit, in this order, first answer wins:

1. not a credential at all (generic rules only): numbers, booleans, URLs, paths, prose, type
   names, variable references in code, names that describe metadata (`TOKEN_EXPIRE_MINUTES`).
   These produce no finding.
2. placeholder: templates (`<DB_PASSWORD>`, `${VAR}`, `{{ secrets.X }}`, `%(x)s`,
   `[YOUR-PASSWORD]`), instructions (`your-api-key-here`), masks (`xxxx`, `****`, `...`),
   words (`password`, `secret`), documented example keys, a value equal to its own name,
   repeated characters, textbook URIs (`user:password@host`), `REPLACE_ME`; template defaults
   (`change-me`) when the file is documentation or a template (`.md`, `.env.example`) or where a
   provider issues the value (`SENTRY_AUTH_TOKEN=changeme`, `_issued_slot`); and off-format
   values: one slip off a strict provider format that the key name or the value's own prefix
   presents them as (`off_format_reason`, generic rules; `checksum_off_reason`, any rule).
3. live shape (`shape.live_shape`): a private key block, a provider prefix, a strongly random
   provider value, a password to a non-local host. Such a value is a leak wherever it is (a
   vendor test-mode marker such as `sk_test_` makes it a test credential, a `django-insecure-`
   key a weak default); the path never hides it.
4. test-credential, from the value and its surroundings only: CI service containers, test-ish
   values (`test_pass`, `dummy`, `fake`, `not-for-production`), trivial passwords to a local
   host or a service declared in the same file, a local host with a test database or user.
5. weak-default: template defaults outside docs where the owner picks the value
   (`SECRET_KEY=change-me`, `DB_PASSWORD=changeme`), `django-insecure-`
   keys, well-known default passwords (`admin`, `postgres`).
6. leak: anything else; the engine then applies the rule's entropy floor and checksum.

A test path only lowers a low-entropy leak or weak default with no live shape to severity and
confidence `low` (`Verdict.severity`). The decision table is in docs/rules.md. Each verdict
carries `reasons` in words a user can act on.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from secretops.scan import shape
from secretops.scan.decoders import decode_base64_text, secret_data_lines
from secretops.scan.models import Classification, Severity
from secretops.scan.vocabulary import (
    COMPOUND_ENDS,
    JWT_CLAIMS,
    KEY_QUALIFIERS,
    KNOWN_EXAMPLES,
    NON_VALUES,
    PAGING_WORDS,
    PASSWORD_WORDS,
    PLACEHOLDER_WORDS,
    TAIL_WORDS,
    TEST_DIRS,
    TEXTBOOK_DOMAINS,
    TEXTBOOK_HOSTS,
    TEXTBOOK_USERS,
    TOKEN_META,
    WEAK_WORDS,
)

__all__ = [
    "Verdict",
    "classify",
    "decoded_placeholder_reason",
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
    """A classification with its reasons; `classification` None means: not a credential, drop it.

    `severity` and `confidence`, when set, replace what the engine would derive from the rule
    and the class (a value with no live shape in a test path is lowered to `low`).
    """

    classification: Classification | None
    reasons: tuple[str, ...]
    severity: Severity | None = None
    confidence: str | None = None


def shannon_entropy(value: str) -> float:
    """Shannon entropy of `value` in bits per character (0 for an empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# -- paths ------------------------------------------------------------------------------------------

_TEST_FILE = re.compile(
    r"(^test_.*\.py$|^tests?\.[a-z]+$|_test\.[a-z]+$|\.(?:test|spec)\.[a-z]+$|^conftest\.py$|Test\.java$)"
)
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
    return any(p.lower() in TEST_DIRS for p in parts[:-1]) or bool(_TEST_FILE.search(parts[-1]))


def is_doc_or_template(path: str) -> bool:
    """True for documentation (`.md`, `.rst`, ...) and config templates (`.env.example`, `*.sample`)."""
    parts = _parts(path)
    if not parts:
        return False
    name = parts[-1]
    if name in {"METADATA", "PKG-INFO"} and len(parts) > 1 and parts[-2].endswith((".dist-info", ".egg-info")):
        return True  # a package's README, as shipped in its metadata
    return bool(_DOC_SUFFIX.search(name) or _TEMPLATE.search(name)) or "docs" in (p.lower() for p in parts[:-1])


def _is_code(path: str) -> bool:
    return bool(_CODE_SUFFIX.search(path))


# -- not a credential -------------------------------------------------------------------------------

_META_NAME = re.compile(
    r"(?i)(?:[_.-]|^)(?:id|ids|sid|arn|name|names|file|filename|path|dir|url|uri|link|host|port|user|username|"
    r"type|length|len|min|max|minimum|maximum|expire[a-z_]*|expires|expiry|expiration|ttl|timeout|lifetime|age|"
    r"days|minutes|seconds|hours|field|fields|hash|hashed|header|env|var|count|policy|prompt|label|placeholder|"
    r"hint|help|regex|pattern|required|enabled|endpoint|algorithm|algo|format|encoding|prefix|suffix|mode|"
    r"strength|reset|version|rounds|validators?|type_?hint|input|form|location|store|storage|provider|"
    r"source|backend|class|model|schema|limit|size|param|params|key_id|keyid|usage|used|scope|scopes)$"
)
_BOOL_NAME = re.compile(r"(?i)^(?:is|has|show|use|enable|require|allow|validate|check|should|can|no|min|max)[_-]")
# `hashed_secret` (detect-secrets baselines), `sha256_password`: a digest of a secret, not one.
_DIGEST_NAME = re.compile(r"(?i)^(?:hashed|hash|sha1|sha256|sha512|md5|digest)[_.-]")

# Name analysis. A generic assignment's name must END in a secret word (`DB_PASSWORD`,
# `client_secret`, `apiKey`, `SECRET_KEY_BASE`, `GITHUB_TOKEN_PROD`); a name that merely contains
# one (`secretops`, `tokenizer`, `PasswordPolicy`, `secretArn`, `token_number`) names something else.
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _name_words(name: str) -> list[str]:
    return [w.lower() for w in _NAME_WORD.findall(name)]


def _secret_term(words: list[str]) -> str | None:
    """The secret term a name ends in (`password`, `secret`, `token`, `key`, `dsn`), or None.

    Trailing environment/encoding words are skipped (`DB_PASSWORD_PROD`, `PRIVATE_KEY_B64`).
    """
    i = len(words)
    while i > 1 and (words[i - 1] in TAIL_WORDS or words[i - 1].isdigit()):
        i -= 1
    if i == 0:
        return None
    last = words[i - 1]
    prev = words[i - 2] if i >= 2 else ""
    if last in PASSWORD_WORDS:
        return "password"
    if last == "key":
        return "key" if prev in KEY_QUALIFIERS else None
    if last in {"secret", "dsn"}:
        return last
    if last == "token":
        return None if prev in TOKEN_META or PAGING_WORDS.intersection(words[: i - 1]) else "token"
    for end in COMPOUND_ENDS:
        if last.endswith(end) and len(last) > len(end):
            stem = last[: -len(end)]
            if end == "token" and (any(stem.endswith(m) for m in TOKEN_META) or any(m in stem for m in PAGING_WORDS)):
                return None
            if end in {"password", "passwd", "passphrase", "pwd"}:
                return "password"
            return "token" if end == "token" else "secret" if end == "secret" else "dsn" if end == "dsn" else "key"
    return None


def _last_segment(name: str) -> str:
    """`Token.String` -> `String`, `self.password` -> `password`: a dotted name is judged by its last part."""
    bare = name.strip("\"'`*")
    last = bare.rsplit(".", 1)[-1]
    return last or bare


def _password_name(name: str | None) -> bool:
    """True when an assignment's name ends in a password word (`DB_PASSWORD`, `PGPASSWORD`, `smtp_pass`)."""
    return bool(name) and _password_name_cached(name)


@functools.lru_cache(maxsize=8192)
def _password_name_cached(name: str) -> bool:
    bare = _last_segment(name)
    return "password" in (
        _secret_term(_name_words(bare)),
        _secret_term(re.split(r"[^a-z0-9]+", bare.lower().strip("_.-"))),
    )


def _inner_term(words: list[str]) -> bool:
    """True when a secret word sits one or two words before the end (`PASSWORD_DB`, `TOKEN_GITHUB`).

    Such names are unusual but real; they only count with a strongly random value (see `name_not_secret`).
    """
    for j in range(len(words) - 2, max(-1, len(words) - 4), -1):
        trailing = words[j + 1 :]
        if any(_META_NAME.search(w) or w in TOKEN_META for w in trailing):
            return False
        if _secret_term(words[: j + 1]) is not None:
            return True
    return False


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _strongly_random(value: str) -> bool:
    """A long generated-looking value (not a UUID): 20+ characters, letters and digits, entropy 3.5+."""
    return len(value) >= 20 and not _UUID.match(value) and _looks_random(value) and shannon_entropy(value) >= 3.5


def name_not_secret(name: str | None, value: str | None = None) -> str | None:
    """Why an assignment's `name` describes metadata rather than a secret (`TOKEN_EXPIRE_MINUTES`), or None.

    The name must end in a secret word; pagination and parser tokens (`NextToken`, `input_token`,
    `eos_token`) and names that only contain one (`secretops`, `tokenizer`, `secretArn`) do not.
    A name with the secret word just before its end (`PASSWORD_DB`) passes when `value` is given
    and strongly random.
    """
    if name is None:
        return None
    why, inner = _name_problem(name)
    if why and inner and value is not None and _strongly_random(value):
        return None
    return why


@functools.lru_cache(maxsize=8192)
def _name_problem(name: str) -> tuple[str | None, bool]:
    """`(why the name is no secret's name or None, whether a strong value may still rescue it)`."""
    bare = _last_segment(name)
    if _META_NAME.search(bare) or _BOOL_NAME.match(bare):
        return f"the name {bare!r} describes metadata, not a secret", False
    if _DIGEST_NAME.match(bare):
        return f"the name {bare!r} names a digest of a secret, not the secret", False
    words = _name_words(bare)
    if "public" in words:
        return f"the name {bare!r} names a public value", False
    if (
        words
        and _secret_term(words) is None
        and _secret_term(re.split(r"[^a-z0-9]+", bare.lower().strip("_.-"))) is None
    ):
        return f"the name {bare!r} does not end in a secret word", _inner_term(words)
    return None, False


# Value shapes that are no literal credential.
_URL_NO_AUTH = re.compile(r"^[a-z][a-z0-9+.-]*://[^@\s]*$", re.IGNORECASE)
_PATHLIKE = re.compile(r"^(?:\.{0,2}/|~/|[A-Za-z]:\\)")
_DOTTED_REF = re.compile(r"^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+(?:\(|\[|$)")
_CALL = re.compile(r"^[A-Za-z_$][\w$.]*[(\[]")
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
_PROSE = re.compile(r"^[A-Za-z][A-Za-z,.'!?-]*(?: [A-Za-z][A-Za-z,.'!?-]*){2,}$")
_PHRASE = re.compile(r"^[A-Za-z][A-Za-z,.'!?-]*(?: +[A-Za-z][A-Za-z,.'!?()-]*)+$")
_CLOSERS = ")]}:;,!?"
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z][A-Z0-9]*)+$")
_NUMERIC = re.compile(r"^[0-9][0-9.:_/+-]*$")
_CODE_PUNCT = re.compile(r"^[=~]|=>|->|\]\(")
_HTML_ENTITY = re.compile(r"^&(?:#[xX]?[0-9a-fA-F]{1,6}|[A-Za-z]{2,8});?$")
_SETTING = re.compile(r"^([A-Za-z]{4,40})=[a-z]{2,10}$")  # `DefaultEndpointsProtocol=http` from a connection string
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_BARE_TOKEN = re.compile(r"^[A-Za-z0-9+/=_~-]+$")
_WORD_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_LETTERS_AND_SEPARATORS = re.compile(r"^[A-Za-z]+(?:[ _./:-]+[A-Za-z]+)*$")
_VOWELS: Final = frozenset("aeiouyAEIOUY")


def _wordlike(value: str) -> bool:
    """True for identifiers and phrases made of words (`NextPageToken`, `aws_access_key_id`).

    Random letters fail: their camel-case parts are short and their vowels are few.
    """
    if not _LETTERS_AND_SEPARATORS.match(value):
        return False
    parts = _WORD_PART.findall(value)
    letters = sum(len(p) for p in parts)
    if not parts or letters / len(parts) < 3:
        return False
    if sum(ch in _VOWELS for ch in value) / letters < 0.2:
        return False
    return all(len(p) < 5 or any(ch in _VOWELS for ch in p) for p in parts)


def _looks_random(value: str) -> bool:
    """True for a generated-looking value: letters and digits mixed, 10+ characters, entropy 3+."""
    return (
        len(value) >= 10
        and any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
        and shannon_entropy(value) >= 3.0
        and not _wordlike(value)
        and not _word_identifier(value)
    )


_IDENT_CHARS = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _word_identifier(value: str) -> bool:
    """True for a code identifier made of words and a few digits (`V1LocalObjectReference`, `asn1_NOVALUE`).

    Generated values fail: their case pieces are one or two characters long, or have no vowels,
    or there are many digits.
    """
    if not _IDENT_CHARS.match(value):
        return False
    pieces = _CASE_PIECE.findall(value)
    digits = sum(len(p) for p in pieces if p.isdigit())
    letters = [p for p in pieces if not p.isdigit()]
    total = sum(len(p) for p in letters)
    if not total or digits > 3:
        return False
    words = [p for p in letters if len(p) >= 3 and sum(ch in _VOWELS for ch in p) / len(p) >= 0.2]
    return len(words) >= 2 and sum(len(p) for p in words) >= 0.85 * total


def _code_reference(value: str) -> str | None:
    """Why an unquoted `value` outside code is still code or markup (a call, a reference, a link), or None."""
    core = value.rstrip(_CLOSERS)
    if not core:
        return "punctuation, not a credential"
    if _CODE_PUNCT.search(value):
        return "a code expression or markup link, not a literal"
    if _CALL.match(core) and value.rstrip("};:,!?").endswith((")", "]")):
        return "a call or an index expression, not a literal"
    if _DOTTED_REF.match(core) and not any(_strongly_random(seg) for seg in core.split(".")):
        return "a reference to a variable or attribute, not a literal"
    if core != value and _IDENT.match(core) and not _looks_random(core):
        return "a variable or type name, not a literal"
    return None


def not_a_credential(value: str, *, name: str | None, path: str, quoted: bool, op: str | None) -> str | None:
    """Why `value` (found by a generic assignment rule) is no credential at all, or None."""
    why = name_not_secret(name, value)
    if why:
        return why
    lowered = value.lower()
    if len(value) < 4:
        return "too short to be a credential"
    if lowered.rstrip(_CLOSERS) in NON_VALUES:
        return f"not a credential value ({lowered.rstrip(_CLOSERS)})"
    if value.isdigit():
        return "a number, not a credential"
    if _NUMERIC.match(value) and not value.isdigit():
        return "a number or version, not a credential"
    if _URL_NO_AUTH.match(value) or (_PATHLIKE.match(value) and " " not in value):
        return "a URL or path, not a credential"
    probe = unquote(value) if "%" in value else value
    if _PROSE.match(probe) or _PHRASE.match(probe):
        return "prose, not a credential"
    if value.startswith("arn:") and value.count(":") >= 5:
        return "an AWS ARN, not a credential"
    if name is not None and value.startswith("-----BEGIN"):
        return "a PEM block (judged by the private-key rule, not an assignment rule)"
    if _HTML_ENTITY.match(value):
        return "an HTML entity, not a credential"
    if _EMAIL.match(value):
        return "an email address, not a credential"
    setting = _SETTING.match(value)
    if setting and _wordlike(setting.group(1)):
        return "a setting (Name=word), not a credential"
    if _ENV_NAME.match(value) and sum(ch.isdigit() for ch in value) <= 2:
        return "the name of an environment variable or constant, not a credential"
    if op is not None and not quoted:
        if _is_code(path):
            # a literal in code is quoted; unquoted means a comment or docstring: keep generated-looking ones
            if not (_BARE_TOKEN.match(value) and _looks_random(value)):
                return "not a string literal in code (a variable, type or expression)"
        else:
            why = _code_reference(value) or _constant_reference(value, name)
            if why:
                return why
    elif op is not None and not _strongly_random(value):
        why = _code_reference(value)  # a quoted name or path: "EngineDefaults.Marker", "accounts[0]"
        if why:
            return why
    flag_word = op is None and name is not None and not quoted and value.isalpha() and value.islower()
    if flag_word and (_is_code(path) or is_doc_or_template(path)):
        return "an English word after a command-line flag in prose, not a credential"
    if (
        name is not None
        and not _password_name(name)
        and not _TEMPLATE_DEFAULT.search(value)
        and not _TESTISH.search(value)
    ):
        if _wordlike(value) and (
            _identifier_shaped(value) or _is_code(path) or is_doc_or_template(path) or value.count("-") >= 2
        ):
            return "words or an identifier, not a generated secret"
        if len(value) < 8 and lowered not in WEAK_WORDS:
            return "too short for a generated secret"
    return None


_CAMEL_NAME = re.compile(r"^[a-z]+[A-Z][A-Za-z0-9]*$")


def _constant_reference(value: str, name: str | None) -> str | None:
    """Why an unquoted word identifier (`newPasswd = asn1_NOVALUE`) is a reference, not a literal, or None.

    Only identifiers that look like code: a constant part in capitals (`NOVALUE`), or a
    camelCase name on the left (code, not a config file's `DB_PASSWORD=Summer_Breeze`).
    """
    if not _word_identifier(value) or len(_CASE_PIECE.findall(value)) < 2:
        return None
    camel_name = bool(name) and bool(_CAMEL_NAME.match(_last_segment(name or "")))
    if re.search(r"[A-Z]{4,}", value) or camel_name:
        return "an unquoted identifier (a constant or variable), not a literal"
    return None


def _identifier_shaped(value: str) -> bool:
    """True for `snake_case`, `dotted.names`, `path/like` and `CamelCase` identifiers of 2+ words."""
    camel = len(_WORD_PART.findall(value)) >= 2 and " " not in value and "-" not in value
    return bool(re.search(r"[_./:]", value)) or camel


# -- placeholders -----------------------------------------------------------------------------------

_PLACEHOLDER_PATTERNS: Final = (
    (re.compile(r"(?:<|&lt;|&#x3[cC];|&#60;)[^<>&\n]{1,80}(?:>|&gt;|&#x3[eE];|&#62;)"), "angle-bracket template"),
    (re.compile(r"\$\{\{[^}]*\}\}|\{\{[^}]*\}\}|\{%.*%\}"), "template expression"),
    (re.compile(r"\$\{[^}]*\}|^\$\{|^\$[A-Za-z_][A-Za-z0-9_]*$|\$\(|^%[A-Z_]+%$"), "variable reference"),
    (
        re.compile(
            r"%\([A-Za-z_]+\)[sd]|^%[sd]$|(?<![%\w])%[sd](?!\w)|#\{[^}]*\}|^\{\d*\}$"
            # str.format / f-string fields: {name}, {cfg.pw}, {values[1]}, {pw!r}, {pw:>8}, {{ x | f }}-less
            r"|\{[A-Za-z_][\w.]*(?:\[[^\]{}\n]{1,40}\])*(?:![rsa])?(?::[^{}\n]{0,20})?(?:\|[\w]+)*\}"
        ),
        "format placeholder",
    ),
    (re.compile(r"\[[A-Z0-9][A-Z0-9_ -]{2,}\]|^\{[A-Z][A-Z0-9_ -]{2,}\}$"), "bracketed placeholder"),
    (re.compile(r"(?i)(?:^|[^a-z])your(?:[^a-z]|$)|^your[a-z]"), "instructional placeholder (your-...)"),
    (
        re.compile(
            r"(?i)(?:^|[^a-z])(?:insert|enter|put|add|paste|replace|fill|set|my|some|generate)[-_ ]"
            r"(?:[a-z0-9]+[-_ ]){0,3}(?:password|passwd|pass|pwd|secret|token|key|api[-_]?key|value|here)"
        ),
        "instructional placeholder",
    ),
    (re.compile(r"(?i)[-_ .]here$|goes[-_ ]?here"), "instructional placeholder (...-here)"),
    # `REPLACE_ME`, `replace-me`: a marker for the person filling the file in, in any slot (unlike
    # `changeme`, which products ship as a real default password: see `_issued_slot`)
    (re.compile(r"(?i)(?<![a-z])replace[-_ ]?me(?![a-z])"), "instruction to replace the value"),
    (
        # `replace-with-50-random-characters`, `set-me`, `generate-a-long-random-string`, `fill-me-in`:
        # an instruction for the person filling the file in, made only of words and numbers.
        re.compile(
            r"(?i)^(?!replace[-_ ]me$)(?:replace|set|generate|gen|fill|insert|enter|put|paste|provide|create|add)"
            r"[-_ ](?:me|it|this|with|in|a|an|the|to|using|via|by|random|long|strong|new|own|real|"
            r"actual|secure|generated|your|one|value|later|before|after|prod|production)"
            r"(?:[-_ ][a-z0-9]+)*$"
        ),
        "instruction, not a value",
    ),
    (
        # a run of x at an edge or after a separator (`npg_xxxx`, `xxxx-xxxx`), or a long one; a short
        # run inside random text (`...7xXxX9...`, one real key in 30,000) is no mask
        re.compile(r"(?i)(?<![a-z0-9])x{4,}|x{4,}(?![a-z0-9])|x{8,}|^x{2,}$|\*{3,}|\.\.\.|\u2026|#{4,}"),
        "masked or elided value",
    ),
    (re.compile(r"(?i)example|sample|placeholder|redacted|\bdummy-?value\b"), "documented example value"),
    (re.compile(r"(?i)a1b2c3|1a2b3c"), "example sequence"),
)


def _demo_jwt(value: str) -> bool:
    """True for a JWT whose payload names no subject, issuer, expiry, role or user (`{"some": "payload"}`)."""
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(payload, dict) and not (JWT_CLAIMS & {str(k).lower() for k in payload})


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_DESCRIPTIVE_REASON: Final = "placeholder: a descriptive"
_TRAILING_ESCAPES = re.compile(r"(?:\\+[nrt0])+$")
_WORDS_ONLY = re.compile(r"^[A-Za-z]+(?:[ _-]+[A-Za-z]+)*$")
_DESCRIPTIVE = re.compile(r"(?i)pass(?:wor)?d|passwd|pswd|secret|token|api[-_ ]?key|private[-_ ]?key|credential")
_FILLER_WORDS = re.compile(r"(?:foo|bar|baz|qux|quux|dummy|secret|password|passwd|token|key|api|my|your|some|value)")


def _sequential_runs(text: str) -> list[int]:
    """Lengths of the runs of consecutive characters (`abc`, `xyz`, `12345`) that make up `text`."""
    runs: list[int] = []
    for i, ch in enumerate(text):
        if i and ord(ch) == ord(text[i - 1]) + 1:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


def _mostly_sequential(letters: str) -> bool:
    """True for long letter runs like the alphabet typed with a few slips (`BA1C2defGHijk...`)."""
    if len(letters) < 16:
        return False
    return sum(n for n in _sequential_runs(letters) if n >= 3) >= 0.85 * len(letters)


def _filler(norm: str) -> bool:
    """True for values made only of filler words and sequences: `foobar`, `XYZ12345`, `abcdefg123`."""
    if len(norm) < 4 or norm in WEAK_WORDS or norm.isdigit():
        return False
    rest = _FILLER_WORDS.sub(" ", norm)
    chunks = rest.split()
    if not chunks:
        return True
    return all(all(n >= 3 for n in _sequential_runs(c)) for c in chunks)


_ALNUM_RUN = re.compile(r"[A-Za-z0-9]{12,}")
_CASE_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def _has_random_run(value: str) -> bool:
    """True when `value` holds a generated-looking run (12+ letters/digits, mixed classes, high entropy).

    A token such as `sb_secret_d5qm9Nk...` or `AGE-SECRET-KEY-14SFHH...` carries a descriptive word
    in its fixed prefix; the random run after it is what makes it a real value, so the word and
    phrase heuristics below must not call it a placeholder.
    """
    for run in _ALNUM_RUN.findall(value):
        classes = sum((any(c.islower() for c in run), any(c.isupper() for c in run), any(c.isdigit() for c in run)))
        if classes < 2 or shannon_entropy(run) < 3.3:
            continue
        # CamelCase prose (`PassWordMustBeAtLeast6Chars`) splits into word-length pieces; generated
        # text splits into pieces of one or two characters on average.
        pieces = _CASE_PIECE.findall(run)
        if len(run) / max(len(pieces), 1) < 3.0:
            return True
    return False


def decoded_placeholder_reason(decoded: str) -> str | None:
    """Why a base64-decoded value (Kubernetes Secret `data:`) is a placeholder, or None.

    Placeholders (`<token>`, `your-api-key-here`) and template defaults (`changeme`) both count:
    in a manifest, an encoded `changeme` is the template's stand-in for the real value.
    """
    value = decoded.strip()
    why = placeholder_reason(value)
    if why:
        return why
    m = _TEMPLATE_DEFAULT.search(value)
    if m and _WORDS_ONLY.match(value.replace(" ", "-")):
        return f"placeholder: template default ({m.group(0).lower()})"
    return None


def placeholder_reason(value: str, *, name: str | None = None, context: Mapping[str, str] | None = None) -> str | None:
    """Why `value` is a placeholder rather than a real secret, or None."""
    if value in KNOWN_EXAMPLES:
        return "placeholder: documented example key"
    for pattern, why in _PLACEHOLDER_PATTERNS:
        m = pattern.search(value)
        if m:
            return f"placeholder: {why} {m.group(0)!r}" if len(m.group(0)) <= 40 else f"placeholder: {why}"
    value = _TRAILING_ESCAPES.sub("", value) or value
    norm = _norm(value)
    if value.lower().strip("-_.") in PLACEHOLDER_WORDS or norm in PLACEHOLDER_WORDS:
        return f"placeholder: the word {value.lower()!r}"
    if name and _norm(name) and norm == _norm(name.strip("\"'`*")):
        return "placeholder: the value repeats its own name"
    random_run = _has_random_run(value)
    if _WORDS_ONLY.match(value) and _DESCRIPTIVE.search(value) and not _TESTISH.search(value):
        return f"{_DESCRIPTIVE_REASON} word (password, secret, token, key) rather than a value"
    core = re.sub(r"[0-9]+$", "", value)
    if len(core) >= 16 and core.isalpha() and _DESCRIPTIVE.search(core) and not _TESTISH.search(value):
        return f"{_DESCRIPTIVE_REASON} phrase (password, secret, token...) rather than a value"
    phrase = re.sub(r"[^A-Za-z]+$", "", re.sub(r"[0-9]+", "", value))
    if (
        not random_run
        and _WORDS_ONLY.match(phrase)
        and _DESCRIPTIVE.search(phrase)
        and len(_WORD_PART.findall(phrase)) >= 3
        and not _TESTISH.search(value)
    ):
        return "placeholder: a phrase about the value rather than a value"
    letters = re.sub(r"[0-9]", "", norm)
    if (_filler(norm) or _mostly_sequential(letters)) and not _TESTISH.search(value):
        return "placeholder: filler (foo, bar, abc, xyz, 123...)"
    if len(value) >= 4 and len(set(value.lower())) <= 2:
        return "placeholder: repeated characters"
    ctx = context or {}
    host = ctx.get("host", "").lower()
    user = ctx.get("user", "").lower()
    if host in TEXTBOOK_HOSTS or host.endswith(TEXTBOOK_DOMAINS):
        return f"placeholder: textbook host {host!r}"
    if user in TEXTBOOK_USERS and norm in {"password", "pass", "pwd", "secret"}:
        return "placeholder: textbook user:password"
    if value.count(":") == 1:  # a decoded `user:password` pair (HTTP Basic)
        pair_user, pair_pass = value.strip().split(":")
        if pair_user.lower() in TEXTBOOK_USERS and _norm(pair_pass) in PLACEHOLDER_WORDS | {"s3cr3t", "passw0rd"}:
            return "placeholder: textbook user:password"
    if value.startswith("eyJ") and _demo_jwt(value):
        return "placeholder: a demo JWT whose payload has no real claims"
    return None


# -- test credentials -------------------------------------------------------------------------------

_TESTISH = re.compile(
    r"(?i)(?<![a-z])(?:test|testing|dummy|fake|mock|fixture)|not[-_ ]?for[-_ ]?prod|do[-_ ]?not[-_ ]?use|"
    r"not[-_ ]?(?:a[-_ ]?)?re[a@]l|"
    r"(?<![a-z])(?:local|dev)[-_ ]?(?:only|password|secret)"
)
_TEMPLATE_DEFAULT = re.compile(
    r"(?i)change[-_ ]?(?:me|this|it|in[-_ ]?prod)|please[-_ ]?change|replace[-_ ]?me|update[-_ ]?me|insecure"
)


_CHANGE_ME = re.compile(r"(?i)change[-_ ]?(?:me|this|it|in[-_ ]?prod)|please[-_ ]?change|update[-_ ]?me")
# Qualifiers of a key, token or secret name that say its owner picks the value (a signing or
# session secret, an app's own key): `changeme` there is the real, guessable value.
_OWNER_PICKS: Final = frozenset(
    {
        "webhook",
        "hook",
        "signing",
        "signature",
        "encryption",
        "encrypt",
        "crypt",
        "cipher",
        "aes",
        "hmac",
        "jwt",
        "session",
        "cookie",
        "csrf",
        "salt",
        "pepper",
        "master",
        "admin",
        "root",
        "shared",
    }
)
_OWNER_PICKS_ONLY: Final = _OWNER_PICKS | {
    "app",
    "application",
    "django",
    "flask",
    "rails",
    "laravel",
    "symfony",
    "nextauth",
    "auth",
    "site",
    "server",
    "service",
    "internal",
    "local",
}
# User names that say the password slot holds a provider-issued token (GitHub, GitLab, Bitbucket, OAuth).
_TOKEN_USERS: Final = frozenset({"x-access-token", "x-oauth-basic", "oauth2", "gitlab-ci-token", "x-token-auth"})
_TERM_WORDS: Final = frozenset({"token", "key", "secret", "api", "access", "client", "private", "value"})


@functools.lru_cache(maxsize=4096)
def _issued_slot(name: str) -> bool:
    """True for a token, API key or client secret a provider issues (`SENTRY_AUTH_TOKEN`, `STRIPE_SECRET_KEY`).

    Not for password names, nor for names whose qualifiers say the owner picks the value
    (`SECRET_KEY`, `JWT_SECRET`, `GITHUB_WEBHOOK_SECRET`, `APP_KEY`), nor for bare names
    (`TOKEN`, `API_KEY`) that say neither.
    """
    if _password_name(name):
        return False
    words = _name_words(_last_segment(name))
    while len(words) > 1 and (words[-1] in TAIL_WORDS or words[-1].isdigit()):
        words.pop()
    term = _secret_term(words)
    if term not in ("token", "key", "secret") or not words:
        return False
    last = words[-1]
    stem = next((last[: -len(end)] for end in COMPOUND_ENDS if last.endswith(end) and len(last) > len(end)), None)
    qualifiers = {w for w in [*words[:-1], *([stem] if stem else [])] if w and w not in _TERM_WORDS}
    for end in ("api", "access", "auth", "client", "secret"):  # `sentryauth` from `SentryAuthToken`, lower-cased
        qualifiers = {q[: -len(end)] if q.endswith(end) and len(q) > len(end) else q for q in qualifiers}
    return bool(qualifiers) and not qualifiers & _OWNER_PICKS and not qualifiers <= _OWNER_PICKS_ONLY


def trivial_password(value: str, context: Mapping[str, str] | None = None) -> bool:
    """True for a password anyone could guess: a well-known word, test-ish, short or low-entropy, or the user name."""
    user = (context or {}).get("user", "")
    return (
        value.lower() in WEAK_WORDS
        or bool(_TESTISH.search(value))
        or shannon_entropy(value) < 3.0
        or len(value) < 10
        or (bool(user) and value.lower() == user.lower())
    )


def test_reason(
    value: str,
    *,
    context: Mapping[str, str] | None = None,
    in_ci_service: bool | Callable[[], bool] = False,
    services: frozenset[str] = frozenset(),
) -> str | None:
    """Why `value` (which has no live shape) is a throwaway test credential, or None.

    Only the value and its surroundings count, never the path: a CI service container, a
    test-ish value, a local host (or a service declared in the same file) with a trivial
    password or a test database or user. `in_ci_service` may be a callable, evaluated only
    when needed (it walks the YAML above).
    """
    if in_ci_service() if callable(in_ci_service) else in_ci_service:
        return "test-credential: CI service container"
    m = _TESTISH.search(unquote(value) if "%" in value else value)
    if m:
        return f"test-credential: test-ish value ({m.group(0).lower()})"
    ctx = context or {}
    host = ctx.get("host", "").lower()
    if host and shape.is_local_host(host, services):
        if trivial_password(value, ctx):
            return f"test-credential: weak password for local host {host!r}"
        for part in ("database", "user"):
            if _TESTISH.search(ctx.get(part, "")):
                return f"test-credential: local host {host!r} with a test {part}"
    return None


def weak_default_reason(value: str, *, path: str) -> str | None:
    """Why `value` is a weak default someone may ship, or None (template defaults in docs are placeholders)."""
    if value.startswith("django-insecure-"):
        return "weak-default: Django's generated development key (django-insecure-)"
    m = _TEMPLATE_DEFAULT.search(value)
    if m:
        return f"weak-default: template default ({m.group(0).lower()}) in a real config file"
    if value.lower() in WEAK_WORDS:
        return f"weak-default: well-known default password {value.lower()!r}"
    letters = re.sub(r"[^a-z]", "", value.lower())
    for base in (_human_base(value), letters if len(letters) >= 6 else None):
        if base and len(base) >= 4 and (base in WEAK_WORDS or base in PLACEHOLDER_WORDS):
            return "weak-default: a well-known password with letters swapped for digits or symbols"
    return None


_LEET: Final = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"})


def _human_base(value: str, *, leet: bool = True) -> str | None:
    """The word under a human-made password (`P@55w0rd!` -> `password`, `Summer2024!` -> `summer`), or None.

    Without `leet`, digits are not read as letters, `-_.$@ ` between words are dropped
    (`geheim$parole` -> `geheimparole`) and the letter case is kept.
    """
    core = value.strip("!?.#*_-")
    core = re.sub(r"[0-9!?.#*_-]+$", "", core)
    base = core.lower().translate(_LEET) if leet else re.sub(r"(?<=[A-Za-z])[-_.$@ ](?=[A-Za-z])", "", core)
    return base if base.isalpha() else None


def _human_password(value: str) -> bool:
    """True for a word-based password a person typed (`pasword`, `kmsPswd`, `IAmSensitive`, `geheim$parole`).

    Random letters are not: their case flips often (`rPNKUlCXaye`) or their vowels are few.
    """
    base = _human_base(value, leet=False)
    if base is None or sum(ch.isdigit() for ch in value) > 4 or len(base) > 20:
        return False
    if base.lower() in WEAK_WORDS or _wordlike(base):
        return True
    flips = sum(1 for a, b in itertools.pairwise(base) if a.islower() != b.islower())
    return len(base) <= 10 and flips <= 2


# -- CI service containers --------------------------------------------------------------------------

_CI_PATH = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.gitlab-ci|\.circleci/|bitbucket-pipelines|\.drone|azure-pipelines)"
)
_KEY_LINE = re.compile(r"^(\s*)-?\s*([A-Za-z0-9_.-]+):")


@dataclass(slots=True)
class _ServiceLines:
    """The line starts of one text that sit in a CI `services:` block (computed once per text)."""

    text: str
    path: str
    starts: frozenset[int]


_service_cache: list[_ServiceLines] = []


def _service_line_starts(text: str, path: str) -> frozenset[int]:
    """Start offsets of the lines in a CI job's `services:` block, in one forward pass over `text`.

    Keeps a stack of `(indent, key)` for the open YAML ancestors (reset at markdown fences): a
    line's ancestors are the nearest lines above with smaller indentation. A line is in a service
    block when `services` is among its ancestor keys and the file is a CI config, or `jobs` is an
    ancestor, or a `runs-on:` line sits between its top-level ancestor and the line.
    """
    ci_path = bool(_CI_PATH.search(path))
    out: set[int] = set()
    stack: list[tuple[int, str | None]] = []
    runs_on_at = -1  # line number of the last `runs-on:` in the current top-level block
    top_at = -1  # line number where the current top-level block (indent 0) started
    pos = 0
    n = len(text)
    lineno = 0
    while pos <= n:
        end = text.find("\n", pos)
        if end < 0:
            end = n
        line = text[pos:end]
        stripped = line.strip()
        if stripped.startswith("```"):
            stack.clear()
            top_at = lineno
            runs_on_at = -1
        elif stripped and not stripped.startswith("#"):
            indent = len(line) - len(line.lstrip(" "))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            keys = [k for _, k in stack if k]
            if "services" in keys and (ci_path or "jobs" in keys or runs_on_at > top_at):
                out.add(pos)
            if indent == 0:
                top_at = lineno
                runs_on_at = -1
            if "runs-on:" in line:
                runs_on_at = lineno
            m = _KEY_LINE.match(line)
            stack.append((indent, m.group(2).lower() if m else None))
        pos = end + 1
        lineno += 1
    return frozenset(out)


def in_ci_service_block(text: str, line_start: int, path: str) -> bool:
    """True when the line starting at `line_start` sits in a CI job's `services:` block.

    The line must have a YAML `services:` ancestor (also inside a markdown code block), and the
    file must be a CI config or the chain must reach `jobs:` or a `runs-on:` above. The lines of
    a text are analysed once and cached (the last two texts), so repeated calls are cheap.
    """
    for entry in _service_cache:
        if entry.text is text and entry.path == path:
            return line_start in entry.starts
    entry = _ServiceLines(text, path, _service_line_starts(text, path))
    _service_cache.insert(0, entry)
    del _service_cache[2:]
    return line_start in entry.starts


# -- off-format values under a provider's name ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StrictFormat:
    """A provider token format strict enough that a value failing it cannot authenticate there.

    `valid`: the documented shapes (a value matching one is judged as usual, never off-format).
    `near`: the shapes one slip away (a body a character or two too short or too long, same
    alphabet); a value matching `near` but not `valid` is off-format. `checksum`: the format's
    check, for values of the right length. `prefixes`: the documented fixed prefixes; a value whose
    prefix is one character off one of them (`xoqb-` for `xoxb-`) and that matches `valid` once
    that character is put right is off-format, unless it matches `family` (any prefix the provider
    may use, documented or not: Slack's `xox?-`). `names`: words of a key name that pick the
    provider (`SLACK_BOT_TOKEN`). `value_picks`: the value's own shape is distinctive enough to
    pick the provider without such a name (`sntryu_` + 63 hex under `observabilityToken`);
    `mangled_alone`: the same for a mangled prefix (only with a structured body, such as Slack's).
    """

    provider: str
    names: frozenset[str]
    valid: re.Pattern[str]
    near: re.Pattern[str] | None = None
    checksum: Callable[[str], bool] | None = None
    prefixes: tuple[str, ...] = ()
    family: re.Pattern[str] | None = None
    value_picks: bool = True
    mangled_alone: bool = False
    reference: str = ""


def _crc_ok(value: str) -> bool:
    from secretops.scan.checksums import base62_crc32

    return base62_crc32(value)


#: Formats from the providers' own documentation (`reference`), the same shapes as their rules.
_STRICT_FORMATS: Final = (
    _StrictFormat(
        "slack",
        frozenset({"slack"}),
        re.compile(
            r"xoxb-\d{10,13}-\d{10,13}-[A-Za-z0-9]{24,34}|xoxp-\d{10,13}-\d{10,13}-\d{10,13}-[a-f0-9]{32}"
            r"|xox[ar]-\d{10,13}-\d{10,13}-\d{10,13}-[a-f0-9]{32}"
        ),
        prefixes=("xoxb-", "xoxp-", "xoxa-", "xoxr-"),
        family=re.compile(r"xox[a-z]-|xox[a-z]\.|xapp-"),
        mangled_alone=True,
        reference="https://api.slack.com/authentication/token-types",
    ),
    _StrictFormat(
        "twilio",
        frozenset({"twilio"}),
        re.compile(r"SK[0-9a-f]{32}"),
        near=re.compile(r"SK[0-9a-f]{30,34}"),
        reference="https://www.twilio.com/docs/glossary/what-is-a-sid",
    ),
    _StrictFormat(
        "sentry",
        frozenset({"sentry"}),
        re.compile(r"sntryu_[0-9a-f]{64}"),
        near=re.compile(r"sntryu_[0-9a-f]{62,66}"),
        reference="https://docs.sentry.io/account/auth-tokens/",
    ),
    _StrictFormat(
        "huggingface",
        frozenset({"hf", "huggingface", "hugging"}),
        re.compile(r"hf_[A-Za-z]{34}"),
        near=re.compile(r"hf_[A-Za-z]{32,36}"),
        reference="https://huggingface.co/docs/hub/security-tokens",
    ),
    _StrictFormat(
        "google",
        frozenset({"google", "gcp", "firebase", "gemini", "youtube", "maps"}),
        re.compile(r"AIza[0-9A-Za-z_-]{35}"),
        near=re.compile(r"AIza[0-9A-Za-z_-]{33,37}"),
        reference="https://cloud.google.com/docs/authentication/api-keys",
    ),
    _StrictFormat(
        "sendgrid",
        frozenset({"sendgrid"}),
        re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
        near=re.compile(r"SG\.(?:[A-Za-z0-9_-]{20,24}\.[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{41,45})"),
        reference="https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
    ),
    _StrictFormat(
        "digitalocean",
        frozenset({"digitalocean", "do", "doctl"}),
        re.compile(r"do[por]_v1_[a-f0-9]{64}"),
        near=re.compile(r"do[por]_v1_[a-f0-9]{62,66}"),
        reference="https://docs.digitalocean.com/reference/api/create-personal-access-token/",
    ),
    _StrictFormat(
        "github",
        frozenset({"github", "gh"}),
        re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"),
        checksum=_crc_ok,
        reference="https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/",
    ),
    _StrictFormat(
        "npm",
        frozenset({"npm"}),
        re.compile(r"npm_[A-Za-z0-9]{36}"),
        checksum=_crc_ok,
        reference="https://github.blog/2021-09-23-announcing-npms-new-access-token-format/",
    ),
    _StrictFormat(
        "vault",
        frozenset({"vault", "hashicorp", "bao", "openbao"}),
        re.compile(r"hvs\.[A-Za-z0-9_-]{24,}|hvb\.[A-Za-z0-9_-]{100,}|hvr\.[A-Za-z0-9_-]{24,200}"),
        prefixes=("hvs.", "hvb.", "hvr."),
        family=re.compile(r"hv[a-z]\.|[sbr]\."),
        value_picks=False,
        reference="https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
    ),
    _StrictFormat(
        "stripe",
        frozenset({"stripe"}),
        re.compile(r"[sr]k_live_[A-Za-z0-9]{24,247}"),
        prefixes=("sk_live_", "rk_live_"),
        family=re.compile(r"[a-z]{2,4}_(?:live|test)_"),
        value_picks=False,
        reference="https://docs.stripe.com/keys",
    ),
)
_FORMAT_GATE: Final = re.compile(r"^(?:x[a-z]{3}-|SK[0-9a-f]|sntryu_|hf_|AIza|SG\.|do[por]_v1_|gh[pousr]_|npm_)")


@functools.lru_cache(maxsize=4096)
def _providers_named(name: str) -> frozenset[str]:
    """The providers a key name picks by one of its words (`SLACK_BOT_TOKEN` -> slack)."""
    bare = _last_segment(name)
    words = set(_name_words(bare)) | set(re.split(r"[^a-z0-9]+", bare.lower()))
    lowered = bare.lower()
    return frozenset(
        f.provider for f in _STRICT_FORMATS if words & f.names or any(len(n) >= 5 and n in lowered for n in f.names)
    )


_CRC_TOKEN: Final = re.compile(r"(?:[^:\s]{1,100}:)?((?:gh[pousr]|npm)_[A-Za-z0-9]{36})")


def checksum_off_reason(value: str) -> str | None:
    """Why `value`, a GitHub or npm token (alone or as `user:token`), fails its CRC32 checksum, or None.

    Any rule may meet such a value (a `.netrc` password, a Docker `auth`); GitHub's own documentation
    example token is one. It cannot authenticate: reported as an off-format placeholder.
    """
    if "_" not in value:
        return None
    m = _CRC_TOKEN.fullmatch(value)
    if m is None or _crc_ok(m.group(1)):
        return None
    provider = "npm" if m.group(1).startswith("npm_") else "github"
    return f"placeholder: off-format: a {provider} token whose checksum fails"


def _one_off(prefix: str, head: str) -> bool:
    return len(prefix) == len(head) and sum(a != b for a, b in zip(prefix, head, strict=True)) == 1


def off_format_reason(value: str, name: str | None) -> str | None:
    """Why `value` is one slip off a strict provider format it is presented as, or None.

    The provider is picked by the key name (`TWILIO_API_KEY`) or, where the format is distinctive,
    by the value itself. Off-format means: the right prefix with a body a character or two too
    short or long (`SK` + 31 hex), a failing checksum (`ghp_` with a bad CRC32), or a prefix one
    character off with an otherwise exact body (`xoqb-` for `xoxb-`). A value with no resemblance
    to the format (a random string under `GITHUB_TOKEN`, which may be an older token kind) is not
    off-format. Such a value cannot authenticate at that provider; it is still reported, as a
    placeholder whose reason says so (docs/rules.md).
    """
    why = checksum_off_reason(value)
    if why:
        return why
    named = _providers_named(name) if name else frozenset()
    if not named and not _FORMAT_GATE.match(value):
        return None
    if any(f.valid.fullmatch(value) and (f.checksum is None or f.checksum(value)) for f in _STRICT_FORMATS):
        return None
    for f in _STRICT_FORMATS:
        by_name = f.provider in named
        if by_name or f.value_picks:
            if f.near is not None and f.near.fullmatch(value) and not f.valid.fullmatch(value):
                return f"placeholder: off-format: a {f.provider} format with a body a character or two off its length"
            if f.checksum is not None and f.valid.fullmatch(value) and not f.checksum(value):
                return f"placeholder: off-format: a {f.provider} token whose checksum fails"
        if (by_name or f.mangled_alone) and f.prefixes and not (f.family and f.family.match(value)):
            for prefix in f.prefixes:
                head = value[: len(prefix)]
                if _one_off(prefix, head) and f.valid.fullmatch(prefix + value[len(prefix) :]):
                    return f"placeholder: off-format: a {f.provider} format with its prefix one character off"
    return None


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
    keywords: tuple[str, ...] = (),
    text: str | None = None,
    line_start: int = 0,
) -> Verdict:
    """Classify one candidate secret (see the module docstring for the order of checks).

    `generic` is True for catch-all and free-form assignment rules; `keywords` are the matching
    rule's keywords (a keyword inside the value is a provider prefix); `text` and `line_start`
    locate the value's line in its fragment (the surroundings: declared services, Kubernetes
    Secret data, pagination prose, API example documents).

    Returns `Verdict(None, reasons)` when the value is not a credential at all (generic rules
    only). Entropy floors and checksums are the engine's job, applied to leaks only.
    """
    return _classify(
        value,
        path=path,
        name=name,
        context=context,
        generic=generic,
        quoted=quoted,
        op=op,
        in_ci_service=in_ci_service,
        keywords=keywords,
        text=text,
        line_start=line_start,
    )


def _line(text: str, line_start: int) -> str:
    end = text.find("\n", line_start)
    return text[line_start : end if end >= 0 else len(text)]


def _encoded_secret_data(value: str, text: str | None, line_start: int) -> str | None:
    """Why `value` is a Kubernetes Secret `data:` value that decodes to a placeholder, or None."""
    if text is None or len(value) < 4:
        return None
    if line_start not in secret_data_lines(text):
        return None
    decoded = decode_base64_text(value)
    if decoded is None:
        return None
    why = decoded_placeholder_reason(decoded)
    return f"placeholder: Kubernetes Secret data whose base64 decodes to a placeholder ({why})" if why else None


def _encoded_off_format(value: str, name: str | None, text: str | None, line_start: int) -> str | None:
    """Why `value` is Kubernetes Secret data whose base64 decodes to an off-format value, or None."""
    if text is None or len(value) < 8 or line_start not in secret_data_lines(text):
        return None
    decoded = decode_base64_text(value)
    why = off_format_reason(decoded.strip(), name) if decoded else None
    return f"{why} (in a Kubernetes Secret's base64 data)" if why else None


_PAGING_KEYS: Final = frozenset(
    {"offset", "page", "cursor", "limit", "start", "marker", "next", "position", "skip", "last_key", "lastkey"}
)
_PAGING_EXTRA: Final = frozenset({"per_page", "page_size", "size", "id", "last_id", "sort", "order", "v"})


def _pagination_cursor(value: str) -> bool:
    """True for an opaque paging cursor: base64 of a small JSON object keyed by offset/page/cursor."""
    if len(value) < 8 or len(value) > 512:
        return False
    decoded = decode_base64_text(value)
    if decoded is None or not decoded.lstrip().startswith("{"):
        return False
    try:
        obj = json.loads(decoded)
    except ValueError:
        return False
    if not isinstance(obj, dict) or not obj:
        return False
    keys = {str(k).lower() for k in obj}
    return keys <= _PAGING_KEYS | _PAGING_EXTRA and bool(keys & _PAGING_KEYS)


def _test_path_lowered(verdict: Verdict, path: str, value: str) -> Verdict:
    """A low-entropy leak or weak default with no live shape, in a test path: severity and confidence `low`.

    Low entropy: not strongly random (under 20 characters, or not a random mix of letters and
    digits, or under 3.5 bits per character). The class stays what the value says.
    """
    if (
        verdict.classification not in (Classification.LEAK, Classification.WEAK_DEFAULT)
        or _strongly_random(value)
        or not is_test_path(path)
    ):
        return verdict
    return Verdict(
        verdict.classification,
        (*verdict.reasons, "severity lowered: a low-entropy value with no live shape in a test path"),
        severity=Severity.LOW,
        confidence="low",
    )


def _classify(
    value: str,
    *,
    path: str,
    name: str | None,
    context: Mapping[str, str] | None,
    generic: bool,
    quoted: bool,
    op: str | None,
    in_ci_service: bool | Callable[[], bool],
    keywords: tuple[str, ...],
    text: str | None,
    line_start: int,
) -> Verdict:
    if generic:
        why = name_not_secret(name, value) or ("prose, not a credential" if _PROSE.match(value) else None)
        if why:
            return Verdict(None, (why,))
    why = placeholder_reason(value, name=name, context=context) or _encoded_secret_data(value, text, line_start)
    if why and why.startswith(_DESCRIPTIVE_REASON) and not (is_doc_or_template(path) or _is_code(path)):
        # `JWT_SECRET=mysupersecretkey` in a real config file is a guessable secret someone ships
        descriptive = Verdict(
            Classification.WEAK_DEFAULT, ("weak-default: a guessable descriptive value in a config file",)
        )
        return _test_path_lowered(descriptive, path, value)
    if why:
        return Verdict(Classification.PLACEHOLDER, (why,))
    why = (
        off_format_reason(value, name) or _encoded_off_format(value, name, text, line_start)
        if generic
        else checksum_off_reason(value)
    )
    if why:
        return Verdict(Classification.PLACEHOLDER, (why,))
    services = shape.declared_services(text) if text is not None else frozenset()
    ctx = context or {}
    live = shape.live_shape(
        value,
        generic=generic,
        keywords=keywords,
        context=ctx,
        trivial=bool(ctx.get("host")) and trivial_password(value, ctx),
        services=services,
        strongly_random=_strongly_random(value),
    )
    if generic:
        why = not_a_credential(value, name=name, path=path, quoted=quoted, op=op)
        if not why and live is None and text is not None and _bare_token_name(name):
            if _pagination_cursor(value):
                why = "a pagination cursor (base64 of paging JSON), not a credential"
            elif shape.pagination_line(_line(text, line_start)):
                why = "a pagination token (the line speaks of pages), not a credential"
        if why:
            return Verdict(None, (why,))
    if live is not None:
        return _classify_live(value, live, path=path)
    doc = is_doc_or_template(path)
    if doc and _TEMPLATE_DEFAULT.search(value) and not value.startswith("django-insecure-"):
        return Verdict(Classification.PLACEHOLDER, ("placeholder: template default in a docs or template file",))
    if shape.api_example_document(path, text):
        return Verdict(Classification.PLACEHOLDER, ("placeholder: a documented request in an API example file",))
    human = (_password_name(name) or (name is None and bool(ctx.get("host")))) and _human_password(value)
    why = test_reason(value, context=context, in_ci_service=in_ci_service, services=services)
    if why:
        return Verdict(Classification.TEST_CREDENTIAL, (why,))
    if human and doc:
        return Verdict(Classification.PLACEHOLDER, ("placeholder: a word-based example password in documentation",))
    if _CHANGE_ME.search(value) and (
        (name is not None and _issued_slot(name))
        or ctx.get("user", "").lower() in _TOKEN_USERS
        or value.partition(":")[0].lower() in _TOKEN_USERS
    ):
        return Verdict(
            Classification.PLACEHOLDER,
            ("placeholder: a template default (changeme) where a provider-issued token or key goes",),
        )
    why = weak_default_reason(value, path=path)
    if why:
        return _test_path_lowered(Verdict(Classification.WEAK_DEFAULT, (why,)), path, value)
    if generic and name is not None and not _password_name(name) and _wordlike(value):
        return _test_path_lowered(
            Verdict(Classification.WEAK_DEFAULT, ("weak-default: a word, not a generated secret",)), path, value
        )
    if human and _is_code(path):
        return _test_path_lowered(
            Verdict(
                Classification.WEAK_DEFAULT,
                ("weak-default: a word-based password in source code (an example or a shipped default)",),
            ),
            path,
            value,
        )
    leak = Verdict(Classification.LEAK, ("leak: matched the rule and passed every filter",))
    return _test_path_lowered(leak, path, value)


def _bare_token_name(name: str | None) -> bool:
    """True for a name that is just `token` (or `*_token` with no qualifier that says what it opens)."""
    if not name:
        return False
    words = _name_words(_last_segment(name))
    return bool(words) and words[-1] == "token" and len(words) <= 2 and not ({"access", "auth", "api"} & set(words))


def _classify_live(value: str, live: str, *, path: str) -> Verdict:
    """A value built like a live credential: a leak wherever it is, unless its vendor says test mode."""
    marker = shape.vendor_test_marker(value)
    if marker:
        return Verdict(Classification.TEST_CREDENTIAL, (f"test-credential: vendor test-mode format ({marker})",))
    why = weak_default_reason(value, path=path)
    if why:
        return Verdict(Classification.WEAK_DEFAULT, (why,))
    reason = f"leak: {live}, a live credential's shape"
    if is_test_path(path):
        reason += " (a test path does not make it a test credential)"
    return Verdict(Classification.LEAK, (reason,))
