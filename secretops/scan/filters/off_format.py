"""Step 2 of `classify`, off-format values: one slip off a strict provider format (`_STRICT_FORMATS`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from secretops.scan.filters.names import last_segment, name_words


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
    bare = last_segment(name)
    words = set(name_words(bare)) | set(re.split(r"[^a-z0-9]+", bare.lower()))
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
