"""Consumer-side verification: does each consumer's own value authenticate, as its client reads it?

The issuer's `check` proves the new password works. It does not prove that the `DATABASE_URL`
an app reads carries that password: a `/` left unencoded in a URL's password makes libpq read a
different host, and the app is locked out once the old value is revoked. So before promote the
engine takes, for every consumer, the value the consumer will use (read back from the target
where it can be read, else the value rendered in memory), parses it the way the consumer's
client does (`rotate/connstrings.py`), and:

- a connection string: compares what the parse yields (hosts, ports, user, password, database)
  with what the template means (the template rendered with harmless stand-ins, parsed the same
  way); a difference fails the consumer with its cause ("a `/` in the password is not
  URL-encoded: use `{password|url}`"). Then the parsed host must be the issuer's (never another
  host: we do not log in to wherever a broken URL points), and the issuer logs in with exactly
  the parsed host, port, user, password and database (`Issuer.check_endpoint`).
- any other value (an API key, `{value}`): it must equal the template rendered with the new
  credential, and the issuer's own check of the credential (done first by the engine) passed.

`verify_consumer` raises `ConsumerCheckError` naming the env var, the consumer and why; it never
shows a value, nor a piece of one (a host that is really part of the password is not shown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from secretops.errors import RotationError
from secretops.inventory.models import ConsumerSpec, SecretSpec
from secretops.inventory.templates import FILTERS, Template, TemplateError
from secretops.issuers.interface import Credential, Endpoint, Issuer, IssuerError, host_matches
from secretops.rotate.connstrings import ConnStringError, detect, parse
from secretops.targets.interface import EnvRef, Target
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = [
    "FINGERPRINT",
    "READ_BACK",
    "WRITE_ONLY",
    "ConsumerCheckError",
    "Verified",
    "check_consumer",
    "consumer_value",
    "describe",
    "verify_consumer",
]

_PLAIN_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
_CLIENT = {
    "libpq-uri": "libpq",
    "libpq-conninfo": "libpq",
    "sqlalchemy": "SQLAlchemy",
    "redis-py": "redis-py",
    "url": "the URL parser",
}
_KIND = {"libpq-conninfo": "connection string"}


class ConsumerCheckError(RotationError):
    """A consumer's value would not authenticate (or points elsewhere); the message says why."""


@dataclass(frozen=True, slots=True)
class Verified:
    """How one consumer value was verified: `how` for the run output, `logged_in` if a login proved it."""

    how: str
    logged_in: bool


def _stand_ins(fields: Mapping[str, str]) -> dict[str, str]:
    """Harmless values (letters and digits) for every field, so the template's own shape can be parsed."""
    return {k: (f"zq{i}x{k[:3]}" if v else "") for i, (k, v) in enumerate(sorted(fields.items()))}


def _swap(ep: Endpoint, mapping: Mapping[str, str]) -> Endpoint:
    """`ep` with each stand-in replaced by the real value it stands for."""

    def sub(text: str | None) -> str | None:
        if text is None:
            return None
        for stand_in, real in mapping.items():
            if stand_in:
                text = text.replace(stand_in, real)
        return text

    password = sub(ep.password.reveal()) if ep.password is not None else None
    return replace(
        ep,
        hosts=tuple(sub(h) or "" for h in ep.hosts),
        user=sub(ep.user),
        password=SecretValue(password) if password is not None else None,
        database=sub(ep.database),
    )


def _shape(ep: Endpoint) -> tuple[object, ...]:
    return (ep.hosts, ep.ports, ep.user, ep.password.reveal() if ep.password else None, ep.database)


def _char(c: str) -> str:
    return {" ": "a space", "\t": "a tab", "\n": "a newline", "@": "an `@`"}.get(c, f"a `{c}`")


def _name(field: str) -> str:
    return "password" if field in ("value", "password") else field


class _Checker:
    """One consumer value against one template and credential."""

    def __init__(self, secret: SecretSpec, consumer: ConsumerSpec, fields: Mapping[str, str]) -> None:
        self.secret = secret
        self.consumer = consumer
        self.fields = dict(fields)
        self.template = Template(consumer.template)
        self.stand_ins = _stand_ins(self.fields)
        self.dialect = detect(self.template.render(self.stand_ins))
        self.secrets = [v for k, v in self.fields.items() if k in ("value", "previous") and v]

    def label(self) -> str:
        return f"{self.consumer.env} for consumer {self.consumer.target}"

    def fail(self, why: str, hint: str | None = None) -> ConsumerCheckError:
        return ConsumerCheckError(f"{self.label()}: {why}", hint=hint)

    def shown(self, text: str | None) -> str:
        """`text` in backticks, unless it is (part of) a secret value."""
        if not text:
            return "empty"
        for raw in self.secrets:
            if text in raw or any(text[i : i + 3] in raw for i in range(max(len(text) - 2, 0))):
                return "a piece of the password (not shown)"
        return f"`{text}`"

    def expected(self) -> Endpoint:
        ep = parse(self.template.render(self.stand_ins), self.dialect)
        assert ep is not None
        return _swap(ep, {self.stand_ins[k]: v for k, v in self.fields.items()})

    # ------------------------------------------------------------ diagnosis

    def _parses_right(self, source: str, field: str, value: str) -> bool:
        """Does `source` rendered with `field` = `value` (others as stand-ins) parse as intended?"""
        probe = dict(self.stand_ins, **{field: value})
        want = parse(Template(source).render(dict(self.stand_ins, **{field: "zqprobe"})), self.dialect)
        try:
            got = parse(Template(source).render(probe), self.dialect)
        except (ConnStringError, TemplateError):
            return False
        if want is None or got is None:
            return False
        return _shape(_swap(want, {"zqprobe": value})) == _shape(got)

    def cause(self) -> tuple[str, str] | None:
        """Why the value parses wrong: the unescaped characters to blame and the fix, if we find them."""
        source = self.consumer.template
        for m in _PLAIN_FIELD.finditer(source):
            name = m.group(1)
            key = "value" if name == "password" else name
            raw = self.fields.get(key, "")
            if not raw:
                continue
            culprits: list[str] = []
            for c in dict.fromkeys(raw):
                if c.isalnum() and c.isascii():
                    continue
                probe = "".join(ch if ch == c or (ch.isalnum() and ch.isascii()) else "q" for ch in raw)
                if not self._parses_right(source, key, probe):
                    culprits.append(c)
            if not culprits:
                continue
            chars = " and ".join(_char(c) for c in culprits[:3])
            verb = "is" if len(culprits) == 1 else "are"
            start, end = m.start(), m.end()
            if self.dialect == "libpq-conninfo":
                quoted = source[:start].endswith("'") and source[end:].startswith("'")
                why = f"{chars} in the {_name(name)} {verb} not {'escaped' if quoted else 'quoted'}"
                flt = "conninfo"
                if quoted:  # the filter brings its own quotes
                    start, end = start - 1, end + 1
            else:
                why = f"{chars} in the {_name(name)} {verb} not URL-encoded"
                flt = "url"
            fix: str | None = None
            if flt in FILTERS:
                fixed = source[:start] + f"{{{name}|{flt}}}" + source[end:]
                if self._parses_right(fixed, key, raw):
                    fix = f"use `{{{name}|{flt}}}`"
            if fix is None:
                fix = "exclude " + ", ".join(repr(c) for c in culprits) + " from the generator (generator.exclude)"
            return why, fix
        return None

    def explain(self, effect: str) -> ConsumerCheckError:
        found = self.cause()
        if found is None:
            return self.fail(effect, hint="check the consumer's template against what its client expects")
        why, fix = found
        text = f"{effect} ({why}: {fix})"
        return self.fail(text, hint=f"{fix} in the template of {self.consumer.env}" if fix.startswith("use") else fix)

    def effect(self, got: Endpoint, want: Endpoint) -> str:
        what = "connection string" if self.dialect == "libpq-conninfo" else "URL"
        if got.hosts != want.hosts:
            hosts = ",".join(got.hosts)
            return f"the rendered {what}'s host is {self.shown(hosts) if hosts else 'missing'}"
        if got.ports != want.ports:
            return f"the rendered {what}'s port is {got.port}, the template says {want.port}"
        if got.user != want.user:
            return f"the rendered {what}'s user is {self.shown(got.user)}, not {self.shown(want.user)}"
        if (got.password is None) != (want.password is None) or got.password != want.password:
            return f"the rendered {what}'s password is not the new password"
        return f"the rendered {what}'s database is {self.shown(got.database)}, not {self.shown(want.database)}"


def verify_consumer(
    secret: SecretSpec,
    consumer: ConsumerSpec,
    issuer: Issuer,
    credential: Credential,
    fields: Mapping[str, str],
    value: SecretValue,
    *,
    login: bool = True,
) -> Verified:
    """Check `value` (what `consumer` will read) as its client reads it, with the issuer; or raise.

    `fields` are the template fields of the new credential (`Engine._fields`). With `login`
    false (`verify.credential: false`) the parse is checked and nobody logs in. Raises
    `ConsumerCheckError`, or the issuer's auth/unavailable error when it cannot log in at all.
    """
    checker = _Checker(secret, consumer, fields)
    raw = value.reveal()
    if checker.dialect is None:
        if raw != checker.template.render(fields):
            raise checker.fail(
                "the value differs from the template rendered with the new credential",
                hint="something else rewrote it; check the target",
            )
        embeds = "value" in checker.template.fields
        what = (
            "equals the new credential"
            if checker.template.source in ("{value}", "{password}")
            else ("holds the new credential per its template" if embeds else "matches its template")
        )
        return Verified(what, False)
    kind = _KIND.get(checker.dialect, "URL")
    try:
        want = checker.expected()
    except ConnStringError as exc:
        raise checker.fail(
            f"the template itself is not a valid {kind}: {exc}", hint="fix the consumer's template"
        ) from None
    try:
        got = parse(raw, checker.dialect)
    except ConnStringError as exc:
        try:
            loose = parse(raw, checker.dialect, lenient=True)
        except ConnStringError:
            loose = None
        if loose is not None and loose.hosts != want.hosts:
            raise checker.explain(checker.effect(loose, want)) from None
        raise checker.explain(f"{_CLIENT[checker.dialect]} cannot parse the rendered {kind}: {exc}") from None
    if got is None:
        raise checker.explain(f"the rendered value is no longer a {kind}")
    if _shape(got) != _shape(want):
        raise checker.explain(checker.effect(got, want))
    user = credential.attributes.get("username")
    client_user = got.user
    if client_user is None and got.service == "redis":
        client_user = "default"  # redis-py sends AUTH <password>: the default user
    if user and client_user != user:
        raise checker.fail(
            f"the {kind} logs in as {checker.shown(client_user) if client_user else 'no named user'}, "
            f"the new credential is for {user}",
            hint="put `{username}` in the template (strategy alternate switches accounts)",
        )
    allowed = issuer.consumer_hosts()
    aliases = issuer.host_aliases()
    where = got.where()
    elsewhere: str | None = None
    if allowed is not None:
        issuer_at = ", ".join(sorted(allowed)) or "(none configured)"
        if not got.hosts:
            elsewhere = f"the {kind} names no host (its client would use a local socket); the issuer is at {issuer_at}"
        for host in got.hosts:
            if elsewhere is None and not host_matches(host, allowed | aliases):
                elsewhere = f"the {kind} points at host {checker.shown(host)}, the issuer is at {issuer_at}"
        named = [h for h in got.hosts if not host_matches(h, allowed) and host_matches(h, aliases)]
        if named:
            where += f" (alias {', '.join(named)}: checked at the issuer's own address)"
    if elsewhere is not None and login:
        raise checker.fail(
            elsewhere,
            hint="fix the host in the template; or set `host` on the issuer to the host(s) consumers use, or list"
            " a name only consumers can resolve (a compose service) in its `aliases` (secretops logs in only where"
            " the issuer is)",
        )
    if not login:
        # verify.credential: false: nobody logs in, so another host is reported, not refused.
        note = f"; {elsewhere}" if elsewhere else ""
        return Verified(
            f"parses to the new credential at {where} (not logged in: verify.credential is off{note})", False
        )
    if "value" not in checker.template.fields:
        return Verified(f"names user {user or got.user} at {where} (its password comes from elsewhere)", False)
    if not getattr(issuer, "verifiable", True):
        return Verified(f"parses to the new credential (the {issuer.kind} issuer cannot log in)", False)
    try:
        ok = issuer.check_endpoint(secret, got)
    except IssuerError as exc:
        if exc.exit_code != IssuerError.exit_code:
            raise
        raise checker.fail(f"logging in at {where} failed: {exc.message}", hint=exc.hint) from None
    if not ok:
        raise checker.fail(
            f"the {issuer.kind} issuer refuses the login as {got.user or client_user} at {where}",
            hint="the value the app reads does not authenticate; the previous value was left in place",
        )
    return Verified(f"logged in as {got.user or client_user} at {where}", True)


READ_BACK = "read back from target"
FINGERPRINT = "read back from target (fingerprint)"
WRITE_ONLY = "rendered value"


def consumer_value(
    consumer: ConsumerSpec, target: Target, ref: EnvRef, rendered: str, key: FingerprintKey
) -> tuple[SecretValue, str]:
    """The value `consumer` will read at `ref`, and where it came from (`READ_BACK`, ...).

    Read back from the target when it can show values (it must equal `rendered`); a target that
    shows only fingerprints must show `rendered`'s; a write-only target leaves `rendered`.
    """
    label = f"{consumer.env} for consumer {consumer.target}"
    if target.reads_values():
        value = target.read_value(ref)
        if value is None:
            raise ConsumerCheckError(
                f"{label}: {target.describe()} holds no {ref} after the write",
                hint="something removed it; check the target",
            )
        if value.reveal() != rendered:
            raise ConsumerCheckError(
                f"{label}: {target.describe()} reads back {fingerprint(key, value)} for {ref}, not the value written",
                hint="something else rewrote it, or the target cannot hold this value; check the target",
            )
        return value, READ_BACK
    seen = target.read_fingerprint(ref, key)
    if seen is None:
        return SecretValue(rendered), WRITE_ONLY
    if seen != fingerprint(key, rendered):
        raise ConsumerCheckError(
            f"{label}: {target.describe()} reads back {seen} for {ref}, not the value written",
            hint="something else rewrote it; check the target",
        )
    return SecretValue(rendered), FINGERPRINT


def describe(source: str, verified: Verified, consumer: ConsumerSpec) -> str:
    """How a consumer was verified, for the run output: "read back from target and logged in as ..."."""
    if source == WRITE_ONLY:
        text = f"rendered value {verified.how} (write-only target)"
        if consumer.health is not None:
            return f"{text}; health check {consumer.health.url} follows"
        if consumer.verify == "accept-unverified":
            return f"accepted unverified (verify: accept-unverified): {text}"
        return text
    return f"{source} and {verified.how}" if verified.logged_in else f"{source}: {verified.how}"


def check_consumer(
    secret: SecretSpec,
    consumer: ConsumerSpec,
    issuer: Issuer,
    target: Target,
    credential: Credential,
    fields: Mapping[str, str],
    rendered: str,
    refs: list[EnvRef],
    key: FingerprintKey,
    *,
    login: bool = True,
) -> dict[str, str]:
    """Verify every ref of `consumer`; the journal detail (`env`, `how`, `check`) or `ConsumerCheckError`."""
    hows: list[str] = []
    for ref in refs:
        value, source = consumer_value(consumer, target, ref, rendered, key)
        hows.append(
            describe(
                source, verify_consumer(secret, consumer, issuer, credential, fields, value, login=login), consumer
            )
        )
    how = "; ".join(dict.fromkeys(hows))
    return {"env": consumer.env, "how": how, "check": f"{consumer.env} {how}"}
