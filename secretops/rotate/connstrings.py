"""Connection strings parsed the way each consumer's client library parses them.

An app never sees the password secretops generated: it sees what its client library makes of
the `DATABASE_URL` or `REDIS_URL` it was given. A `/` or `@` left unencoded in a password moves
part of it into the host for one library and not for another, so each dialect here follows its
library's own rules, not RFC 3986:

- `libpq-uri` (`postgresql://`, `postgres://`) and `libpq-conninfo` (`host=... password='...'`):
  libpq's `conninfo_uri_parse_options` and `conninfo_parse` (fe-connect.c): the user part ends
  at the first `@` or `/`, `%XX` is decoded everywhere (`%00`, bad escapes and bare inner spaces
  are errors), query
  parameters override, several hosts `h1,h2`, IPv6 `[::1]`; conninfo values end at whitespace
  unless single-quoted, backslash escapes the next character. Used by psycopg, psycopg2 and
  every libpq client.
- `sqlalchemy` (any `dialect+driver://`, e.g. `postgresql+psycopg2://`, `mysql+pymysql://`):
  SQLAlchemy's `make_url` regex (the password ends at the first `@`, `/` is allowed in it),
  percent-decoded; the parts then go to the driver as keyword arguments.
- `redis-py` (`redis://`, `rediss://`, `unix://`): `redis.connection.parse_url`, i.e.
  `urllib.parse.urlparse` (the user part ends at the *last* `@`; `/`, `?` and `#` end the
  authority), `redis://:password@host` for the default user, `/N` or `?db=N` for the database.
- `url` (`mysql://`, `mariadb://`, `amqp://`, `amqps://`): `urllib.parse.urlsplit`, as
  dj-database-url, PyMySQL wrappers and pika read them.

`parse` returns an `Endpoint` (issuers/interface.py) or None for text that is no connection
string; a string the library would reject raises `ConnStringError`, whose message never quotes
the text (it holds a password).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import ParseResult, SplitResult, parse_qs, parse_qsl, unquote, urlparse, urlsplit

from secretops.issuers.interface import Endpoint
from secretops.values import SecretValue

__all__ = ["ConnStringError", "detect", "parse"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_DEFAULT_PORTS = {
    "postgres": 5432,
    "mysql": 3306,
    "redis": 6379,
    "amqp": 5672,
}
# libpq 18's connection keywords (`PQconndefaults`); an unknown one is an error in libpq too.
_LIBPQ_KEYWORDS = frozenset(
    [
        "application_name",
        "channel_binding",
        "client_encoding",
        "connect_timeout",
        "dbname",
        "fallback_application_name",
        "gssdelegation",
        "gssencmode",
        "gsslib",
        "host",
        "hostaddr",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "krbsrvname",
        "load_balance_hosts",
        "max_protocol_version",
        "min_protocol_version",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_issuer",
        "oauth_scope",
        "options",
        "passfile",
        "password",
        "port",
        "replication",
        "require_auth",
        "requirepeer",
        "scram_client_key",
        "scram_server_key",
        "service",
        "ssl_max_protocol_version",
        "ssl_min_protocol_version",
        "sslcert",
        "sslcertmode",
        "sslcompression",
        "sslcrl",
        "sslcrldir",
        "sslkey",
        "sslkeylogfile",
        "sslmode",
        "sslnegotiation",
        "sslpassword",
        "sslrootcert",
        "sslsni",
        "target_session_attrs",
        "tcp_user_timeout",
        "user",
    ]
)
# Query options that change where or how a client connects, kept in `Endpoint.options`.
_KEPT_OPTIONS = frozenset({"sslmode", "target_session_attrs", "ssl", "ssl_mode", "ssl_cert_reqs", "tls"})
_C_SPACE = " \t\n\v\f\r"


class ConnStringError(ValueError):
    """The consumer's client would reject this connection string (the message quotes no value)."""


def detect(text: str) -> str | None:
    """The dialect `text` would be read in: `libpq-uri`, `libpq-conninfo`, `sqlalchemy`, `redis-py`, `url`.

    None when it is no connection string (an API key, a plain password).
    """
    m = _SCHEME.match(text)
    if m is not None:
        scheme = m.group(1)
        if text.startswith(("postgresql://", "postgres://")):
            return "libpq-uri"
        if "+" in scheme:
            return "sqlalchemy"
        if text.startswith(("redis://", "rediss://", "unix://")):
            return "redis-py"
        if scheme.lower() in ("mysql", "mariadb", "amqp", "amqps"):
            return "url"
        return None
    first = re.match(r"^[" + re.escape(_C_SPACE) + r"]*([A-Za-z_]+)[" + re.escape(_C_SPACE) + r"]*=", text)
    if first is not None and first.group(1) in _LIBPQ_KEYWORDS:
        return "libpq-conninfo"
    return None


def parse(text: str, dialect: str | None = None, *, lenient: bool = False) -> Endpoint | None:
    """`text` read as its client library would (in `dialect`, else the one `detect` finds).

    None when `text` is no connection string; `ConnStringError` when the library would refuse it.
    With `lenient`, a port that is no number (libpq only refuses it when connecting) becomes
    None instead of an error, so a caller can still say where the host went.
    """
    dialect = dialect or detect(text)
    if dialect is None:
        return None
    if dialect == "libpq-uri":
        if not text.startswith(("postgresql://", "postgres://")):
            raise ConnStringError("it does not start with postgresql:// any more")
        return _libpq(_libpq_uri(text, lenient=lenient), "libpq-uri", "postgresql", lenient=lenient)
    if dialect == "libpq-conninfo":
        return _libpq(_libpq_conninfo(text), "libpq-conninfo", "conninfo", lenient=lenient)
    if dialect == "sqlalchemy":
        return _sqlalchemy(text)
    if dialect == "redis-py":
        return _redis_py(text, lenient=lenient)
    if dialect == "url":
        return _url(text, lenient=lenient)
    raise ValueError(f"unknown connection string dialect {dialect!r}")


# ---------------------------------------------------------------- libpq


def _hex(ch: str) -> bool:
    return ch in "0123456789abcdefABCDEF"


def _libpq_decode(raw: str, what: str) -> str:
    """libpq's `conninfo_uri_decode`: every `%XX` becomes a byte; a bad escape or `%00` is an error.

    Recent libpq (18, as bundled with psycopg 3.3) also drops spaces around a URI component and
    refuses one inside it ("use percent-encoded spaces (%20) instead"); older versions kept them.
    We follow the strict reading: a value right for it is right for both.
    """
    raw = raw.strip(" ")
    if " " in raw:
        raise ConnStringError(f"libpq rejects the {what}: a space that is not percent-encoded (%20)")
    out = bytearray()
    i = 0
    data = raw.encode("utf-8", "surrogateescape")
    while i < len(data):
        ch = data[i]
        if ch != 0x25:  # %
            out.append(ch)
            i += 1
            continue
        pair = data[i + 1 : i + 3].decode("latin-1")
        if len(pair) < 2 or not (_hex(pair[0]) and _hex(pair[1])):
            raise ConnStringError(f"libpq rejects the {what}: invalid percent-encoded token")
        value = int(pair, 16)
        if value == 0:
            raise ConnStringError(f"libpq rejects the {what}: forbidden value %00 in percent-encoded value")
        out.append(value)
        i += 3
    return out.decode("utf-8", "surrogateescape")


def _libpq_uri(uri: str, *, lenient: bool = False) -> dict[str, str]:
    """The keyword/value pairs libpq's URI parser stores for `uri` (as `conninfo_to_dict` shows them)."""
    opts: dict[str, str] = {}
    start = len("postgresql://") if uri.startswith("postgresql://") else len("postgres://")
    s = uri
    n = len(s)
    p = start
    # Look ahead for a user-credentials designator: the first `@` before any `/`.
    while p < n and s[p] not in "@/":
        p += 1
    if p < n and s[p] == "@":
        q = start
        while s[q] not in ":@":
            q += 1
        user = s[start:q]
        if user:
            opts["user"] = _libpq_decode(user, "user name")
        if s[q] == ":":
            pw_start = q + 1
            q = pw_start
            while s[q] != "@":
                q += 1
            password = s[pw_start:q]
            if password:
                opts["password"] = _libpq_decode(password, "password")
        p = q + 1
    else:
        p = start
    hosts: list[str] = []
    ports: list[str] = []
    prev = ""
    while True:
        if p < n and s[p] == "[":
            p += 1
            h_start = p
            while p < n and s[p] != "]":
                p += 1
            if p >= n:
                raise ConnStringError('libpq rejects it: no matching "]" for an IPv6 host address')
            if p == h_start:
                raise ConnStringError("libpq rejects it: an IPv6 host address may not be empty")
            host = s[h_start:p]
            p += 1
            if p < n and s[p] not in ":/?,":
                raise ConnStringError('libpq rejects it: unexpected character after an IPv6 host (expected ":" or "/")')
        else:
            h_start = p
            while p < n and s[p] not in ":/?,":
                p += 1
            host = s[h_start:p]
        prev = s[p] if p < n else ""
        port = ""
        if prev == ":":
            p += 1
            p_start = p
            while p < n and s[p] not in "/?,":
                p += 1
            port = s[p_start:p]
            prev = s[p] if p < n else ""
        hosts.append(host)
        ports.append(port)
        if prev != ",":
            break
        p += 1
    hostbuf, portbuf = ",".join(hosts), ",".join(ports)
    if hostbuf:
        opts["host"] = _libpq_decode(hostbuf, "host")
    if portbuf:  # several hosts and no ports: libpq keeps the bare commas
        opts["port"] = _libpq_decode(portbuf, "port")
    if prev and prev != "?":
        p += 1
        d_start = p
        while p < n and s[p] != "?":
            p += 1
        dbname = s[d_start:p]
        prev = s[p] if p < n else ""
        if dbname:
            opts["dbname"] = _libpq_decode(dbname, "database name")
    if prev:
        p += 1
        try:
            _libpq_params(s[p:], opts)
        except ConnStringError:
            if not lenient:
                raise
    return opts


def _libpq_params(params: str, opts: dict[str, str]) -> None:
    """libpq's `conninfo_uri_parse_params`: `k=v&k=v`, decoded; later values override."""
    if not params:
        return
    for item in params.split("&"):
        if "=" not in item:
            raise ConnStringError('libpq rejects it: missing key/value separator "=" in a URI query parameter')
        key, _, value = item.partition("=")
        if "=" in value:
            raise ConnStringError('libpq rejects it: extra key/value separator "=" in a URI query parameter')
        key = _libpq_decode(key, "query parameter name")
        value = _libpq_decode(value, f"query parameter {key}")
        if key == "ssl" and value == "true":
            key, value = "sslmode", "require"
        if key not in _LIBPQ_KEYWORDS:
            raise ConnStringError(f"libpq rejects it: invalid URI query parameter {key!r}")
        opts[key] = value


def _libpq_conninfo(text: str) -> dict[str, str]:
    """libpq's `conninfo_parse`: `keyword = value` pairs, single quotes and backslash escapes."""
    opts: dict[str, str] = {}
    s, n, i = text, len(text), 0
    while i < n:
        if s[i] in _C_SPACE:
            i += 1
            continue
        k_start = i
        while i < n and s[i] != "=":
            if s[i] in _C_SPACE:
                while i < n and s[i] in _C_SPACE:
                    i += 1
                if i >= n or s[i] != "=":
                    # libpq names the word; it may be a piece of a password here, so we do not.
                    raise ConnStringError('libpq rejects it: a word with no "=" after it in the connection info string')
                break
            i += 1
        if i >= n:
            raise ConnStringError('libpq rejects it: a word with no "=" after it in the connection info string')
        key = s[k_start:i].rstrip(_C_SPACE)
        i += 1  # past "="
        while i < n and s[i] in _C_SPACE:
            i += 1
        value: list[str] = []
        if i < n and s[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise ConnStringError("libpq rejects it: unterminated quoted string in the connection info string")
                if s[i] == "\\":
                    i += 1
                    if i < n:
                        value.append(s[i])
                        i += 1
                    continue
                if s[i] == "'":
                    i += 1
                    break
                value.append(s[i])
                i += 1
        else:
            while i < n:
                if s[i] in _C_SPACE:
                    i += 1
                    break
                if s[i] == "\\":
                    i += 1
                    if i < n:
                        value.append(s[i])
                        i += 1
                    continue
                value.append(s[i])
                i += 1
        if key not in _LIBPQ_KEYWORDS:
            raise ConnStringError("libpq rejects it: an unknown connection option (not shown: it may hold a value)")
        opts[key] = "".join(value)
    return opts


def _port(raw: str, default: int | None, *, lenient: bool = False) -> int | None:
    raw = raw.strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
        if lenient:
            return None
        raise ConnStringError("what stands in the port's place is not a port number")
    return int(raw)


def _libpq(opts: Mapping[str, str], dialect: str, scheme: str, *, lenient: bool = False) -> Endpoint:
    """An `Endpoint` from libpq keywords; `hostaddr`, when given, is where libpq really connects."""
    host_text = opts.get("hostaddr") or opts.get("host") or ""
    hosts = tuple(host_text.split(",")) if host_text else ()
    port_list = opts.get("port", "").split(",") if opts.get("port") else []
    count = max(len(hosts), 1)
    if len(port_list) == 1:
        port_list = port_list * count
    if port_list and len(port_list) != count:
        raise ConnStringError(f"libpq rejects it: {len(port_list)} port numbers for {count} hosts")
    ports = tuple(_port(p, 5432, lenient=lenient) for p in port_list) if port_list else (5432,) * count
    password = opts.get("password")
    options = {k: v for k, v in opts.items() if k in _KEPT_OPTIONS}
    return Endpoint(
        dialect=dialect,
        scheme=scheme,
        hosts=hosts,
        ports=ports if hosts else ports[:0],
        user=opts.get("user"),
        password=SecretValue(password) if password is not None else None,
        database=opts.get("dbname"),
        options=options,
    )


# ---------------------------------------------------------------- SQLAlchemy

# sqlalchemy/engine/url.py `_parse_url` (1.4 and 2.0); `match`, not `fullmatch`, as there.
_SQLA = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


def _sqlalchemy(text: str) -> Endpoint:
    m = _SQLA.match(text)
    if m is None:
        raise ConnStringError("SQLAlchemy cannot parse it as a URL")
    name = m.group("name")
    backend = name.split("+", 1)[0].lower()
    service = "postgres" if backend in ("postgresql", "postgres") else backend
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(m.group("query") or ""):
        query.setdefault(key, []).append(value)
    user = unquote(m.group("username")) if m.group("username") is not None else None
    password = unquote(m.group("password")) if m.group("password") is not None else None
    host = m.group("ipv4host") or m.group("ipv6host")
    port_text = m.group("port")
    if port_text:
        if not re.fullmatch(r"\s*[+-]?\d+\s*", port_text):
            raise ConnStringError("SQLAlchemy rejects it: the port is not a number")
        port: int | None = int(port_text)
    else:
        port = _DEFAULT_PORTS.get(service)
    hosts: tuple[str, ...] = (host,) if host else ()
    ports: tuple[int | None, ...] = (port,) if host else ()
    if not host and "host" in query:
        # psycopg2/psycopg dialects: `?host=h1:5432&host=h2` (several hosts) or a socket directory.
        pairs = []
        for item in query["host"]:
            h, sep, p = item.rpartition(":") if not item.startswith("/") else (item, "", "")
            pairs.append((h if sep else item, _port(p, _DEFAULT_PORTS.get(service)) if sep else port))
        hosts = tuple(h for h, _ in pairs)
        ports = tuple(p for _, p in pairs)
    options = {k: v[-1] for k, v in query.items() if k in _KEPT_OPTIONS}
    return Endpoint(
        dialect="sqlalchemy",
        scheme=name,
        hosts=hosts,
        ports=ports,
        user=user or None,
        password=SecretValue(password) if password is not None else None,
        database=m.group("database") or None,
        options=options,
    )


# ---------------------------------------------------------------- urllib (redis-py, mysql://, amqp://)


def _urllib_port(url: SplitResult | ParseResult, who: str, *, lenient: bool) -> int | None:
    try:
        return url.port
    except ValueError:
        if lenient:
            return None
        raise ConnStringError(f"{who} rejects it: what stands in the port's place is not a port number") from None


def _redis_py(text: str, *, lenient: bool = False) -> Endpoint:
    """`redis.connection.parse_url` (redis-py 4 to 8)."""
    try:
        url = urlparse(text)
    except ValueError:
        raise ConnStringError("redis-py rejects it: invalid IPv6 URL") from None
    url_port = _urllib_port(url, "redis-py", lenient=lenient)
    kwargs: dict[str, str] = {}
    for name, values in parse_qs(url.query).items():
        if values:
            kwargs[name] = values[0]
    if url.username:
        kwargs["username"] = unquote(url.username)
    if url.password:
        kwargs["password"] = unquote(url.password)
    options = {k: v for k, v in kwargs.items() if k in _KEPT_OPTIONS}
    password = kwargs.get("password")
    db: str | None = kwargs.get("db")
    if db is not None and not re.fullmatch(r"\s*[+-]?\d+\s*", db):
        raise ConnStringError("redis-py rejects it: invalid value for 'db'")
    if url.scheme == "unix":
        return Endpoint(
            dialect="redis-py",
            scheme="unix",
            hosts=(unquote(url.path),) if url.path else (),
            ports=(None,) if url.path else (),
            user=kwargs.get("username"),
            password=SecretValue(password) if password is not None else None,
            database=str(int(db)) if db is not None else None,
            options=options,
        )
    host = unquote(url.hostname) if url.hostname else "localhost"
    if url.path and db is None:
        try:
            db = str(int(unquote(url.path).replace("/", "")))
        except ValueError:
            db = None
    return Endpoint(
        dialect="redis-py",
        scheme=url.scheme,
        hosts=(host,),
        ports=(url_port or 6379,),
        user=kwargs.get("username"),
        password=SecretValue(password) if password is not None else None,
        database=str(int(db)) if db is not None else "0",
        options=options,
    )


def _url(text: str, *, lenient: bool = False) -> Endpoint:
    """`urllib.parse.urlsplit` with percent-decoded user, password and path (`mysql://`, `amqp://`)."""
    try:
        url = urlsplit(text)
    except ValueError:
        raise ConnStringError("the URL parser rejects it: invalid IPv6 URL") from None
    url_port = _urllib_port(url, "the URL parser", lenient=lenient)
    scheme = url.scheme.lower()
    service = "amqp" if scheme.startswith("amqp") else "mysql"
    default = 5671 if scheme == "amqps" else _DEFAULT_PORTS[service]
    path = unquote(url.path[1:]) if url.path.startswith("/") else unquote(url.path)
    if service == "amqp" and not url.path:
        path = "/"  # the default virtual host
    options = {k: v for k, v in parse_qsl(url.query) if k in _KEPT_OPTIONS}
    return Endpoint(
        dialect="url",
        scheme=scheme,
        hosts=(url.hostname,) if url.hostname else (),
        ports=(url_port or default,) if url.hostname else (),
        user=unquote(url.username) if url.username else None,
        password=SecretValue(unquote(url.password)) if url.password is not None else None,
        database=path or None,
        options=options,
    )
