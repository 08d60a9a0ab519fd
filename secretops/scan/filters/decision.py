"""The decision order of `classify` (documented in `secretops.scan.filters`): the checks, first answer wins."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Final

from secretops.scan import shape
from secretops.scan.decoders import decode_base64_text, secret_data_lines
from secretops.scan.filters.interface import Verdict
from secretops.scan.filters.names import last_segment, name_not_secret, name_words, password_name
from secretops.scan.filters.not_credential import PROSE, not_a_credential
from secretops.scan.filters.off_format import checksum_off_reason, off_format_reason
from secretops.scan.filters.paths import is_code, is_doc_or_template, is_test_path
from secretops.scan.filters.placeholders import DESCRIPTIVE_REASON, decoded_placeholder_reason, placeholder_reason
from secretops.scan.filters.randomness import strongly_random, wordlike
from secretops.scan.filters.testcreds import test_reason, trivial_password
from secretops.scan.filters.weak_defaults import (
    CHANGE_ME,
    TEMPLATE_DEFAULT,
    TOKEN_USERS,
    human_password,
    issued_slot,
    weak_default_reason,
)
from secretops.scan.models import Classification, Severity


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
    """Classify one candidate secret (see `secretops.scan.filters` for the order of checks).

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
        or strongly_random(value)
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
        why = name_not_secret(name, value) or ("prose, not a credential" if PROSE.match(value) else None)
        if why:
            return Verdict(None, (why,))
    why = placeholder_reason(value, name=name, context=context) or _encoded_secret_data(value, text, line_start)
    if why and why.startswith(DESCRIPTIVE_REASON) and not (is_doc_or_template(path) or is_code(path)):
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
        strongly_random=strongly_random(value),
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
    if doc and TEMPLATE_DEFAULT.search(value) and not value.startswith("django-insecure-"):
        return Verdict(Classification.PLACEHOLDER, ("placeholder: template default in a docs or template file",))
    if shape.api_example_document(path, text):
        return Verdict(Classification.PLACEHOLDER, ("placeholder: a documented request in an API example file",))
    human = (password_name(name) or (name is None and bool(ctx.get("host")))) and human_password(value)
    why = test_reason(value, context=context, in_ci_service=in_ci_service, services=services)
    if why:
        return Verdict(Classification.TEST_CREDENTIAL, (why,))
    if human and doc:
        return Verdict(Classification.PLACEHOLDER, ("placeholder: a word-based example password in documentation",))
    if CHANGE_ME.search(value) and (
        (name is not None and issued_slot(name))
        or ctx.get("user", "").lower() in TOKEN_USERS
        or value.partition(":")[0].lower() in TOKEN_USERS
    ):
        return Verdict(
            Classification.PLACEHOLDER,
            ("placeholder: a template default (changeme) where a provider-issued token or key goes",),
        )
    why = weak_default_reason(value, path=path)
    if why:
        return _test_path_lowered(Verdict(Classification.WEAK_DEFAULT, (why,)), path, value)
    if generic and name is not None and not password_name(name) and wordlike(value):
        return _test_path_lowered(
            Verdict(Classification.WEAK_DEFAULT, ("weak-default: a word, not a generated secret",)), path, value
        )
    if human and is_code(path):
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
    words = name_words(last_segment(name))
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
