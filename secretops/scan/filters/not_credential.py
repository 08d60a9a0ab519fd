"""Step 1 of `classify` (generic rules only): values that are no credential at all (numbers, URLs, prose, code)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from secretops.scan.filters.names import last_segment, name_not_secret, password_name
from secretops.scan.filters.paths import is_code, is_doc_or_template
from secretops.scan.filters.randomness import (
    CASE_PIECE,
    WORD_PART,
    looks_random,
    strongly_random,
    word_identifier,
    wordlike,
)
from secretops.scan.filters.testcreds import TESTISH
from secretops.scan.filters.weak_defaults import TEMPLATE_DEFAULT
from secretops.scan.vocabulary import NON_VALUES, WEAK_WORDS

# Value shapes that are no literal credential.
_URL_NO_AUTH = re.compile(r"^[a-z][a-z0-9+.-]*://[^@\s]*$", re.IGNORECASE)
_PATHLIKE = re.compile(r"^(?:\.{0,2}/|~/|[A-Za-z]:\\)")
_DOTTED_REF = re.compile(r"^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+(?:\(|\[|$)")
_CALL = re.compile(r"^[A-Za-z_$][\w$.]*[(\[]")
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
PROSE = re.compile(r"^[A-Za-z][A-Za-z,.'!?-]*(?: [A-Za-z][A-Za-z,.'!?-]*){2,}$")
_PHRASE = re.compile(r"^[A-Za-z][A-Za-z,.'!?-]*(?: +[A-Za-z][A-Za-z,.'!?()-]*)+$")
_CLOSERS = ")]}:;,!?"
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z][A-Z0-9]*)+$")
_NUMERIC = re.compile(r"^[0-9][0-9.:_/+-]*$")
_CODE_PUNCT = re.compile(r"^[=~]|=>|->|\]\(")
_HTML_ENTITY = re.compile(r"^&(?:#[xX]?[0-9a-fA-F]{1,6}|[A-Za-z]{2,8});?$")
_SETTING = re.compile(r"^([A-Za-z]{4,40})=[a-z]{2,10}$")  # `DefaultEndpointsProtocol=http` from a connection string
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_BARE_TOKEN = re.compile(r"^[A-Za-z0-9+/=_~-]+$")


def _code_reference(value: str) -> str | None:
    """Why an unquoted `value` outside code is still code or markup (a call, a reference, a link), or None."""
    core = value.rstrip(_CLOSERS)
    if not core:
        return "punctuation, not a credential"
    if _CODE_PUNCT.search(value):
        return "a code expression or markup link, not a literal"
    if _CALL.match(core) and value.rstrip("};:,!?").endswith((")", "]")):
        return "a call or an index expression, not a literal"
    if _DOTTED_REF.match(core) and not any(strongly_random(seg) for seg in core.split(".")):
        return "a reference to a variable or attribute, not a literal"
    if core != value and _IDENT.match(core) and not looks_random(core):
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
    if PROSE.match(probe) or _PHRASE.match(probe):
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
    if setting and wordlike(setting.group(1)):
        return "a setting (Name=word), not a credential"
    if _ENV_NAME.match(value) and sum(ch.isdigit() for ch in value) <= 2:
        return "the name of an environment variable or constant, not a credential"
    if op is not None and not quoted:
        if is_code(path):
            # a literal in code is quoted; unquoted means a comment or docstring: keep generated-looking ones
            if not (_BARE_TOKEN.match(value) and looks_random(value)):
                return "not a string literal in code (a variable, type or expression)"
        else:
            why = _code_reference(value) or _constant_reference(value, name)
            if why:
                return why
    elif op is not None and not strongly_random(value):
        why = _code_reference(value)  # a quoted name or path: "EngineDefaults.Marker", "accounts[0]"
        if why:
            return why
    flag_word = op is None and name is not None and not quoted and value.isalpha() and value.islower()
    if flag_word and (is_code(path) or is_doc_or_template(path)):
        return "an English word after a command-line flag in prose, not a credential"
    if (
        name is not None
        and not password_name(name)
        and not TEMPLATE_DEFAULT.search(value)
        and not TESTISH.search(value)
    ):
        if wordlike(value) and (
            _identifier_shaped(value) or is_code(path) or is_doc_or_template(path) or value.count("-") >= 2
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
    if not word_identifier(value) or len(CASE_PIECE.findall(value)) < 2:
        return None
    camel_name = bool(name) and bool(_CAMEL_NAME.match(last_segment(name or "")))
    if re.search(r"[A-Z]{4,}", value) or camel_name:
        return "an unquoted identifier (a constant or variable), not a literal"
    return None


def _identifier_shaped(value: str) -> bool:
    """True for `snake_case`, `dotted.names`, `path/like` and `CamelCase` identifiers of 2+ words."""
    camel = len(WORD_PART.findall(value)) >= 2 and " " not in value and "-" not in value
    return bool(re.search(r"[_./:]", value)) or camel
