"""`rotate/connstrings.py` against the real parsers: libpq (through psycopg) and redis-py.

libpq is the oracle for `postgresql://` URIs and conninfo strings (`psycopg.conninfo.conninfo_to_dict`
calls `PQconninfoParse`), redis-py's `parse_url` for `redis://`. SQLAlchemy is not installed
here: its cases follow the `make_url` regex, written out by hand.
"""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict
from redis.connection import parse_url

from secretops.rotate import connstrings
from secretops.rotate.connstrings import ConnStringError, detect, parse

# Fake credentials only (tests/ is allowed by the self-scan).
LIBPQ_URIS = [
    "postgresql://u:p@h:5432/db",
    "postgres://u:p@h/db",
    "postgresql://u:pa/ss@host:5432/db",  # a `/` in the password: libpq sees no credentials
    "postgresql://u:p@ss@host/db",  # an `@`: the password ends at the first one
    "postgresql://u:p?x#y,z@h/db",  # `?`, `#` and `,` are fine before the `@`
    "postgresql://u:p%40s%2Fx@h/db",
    "postgresql://u:%E2%82%AC@h/db",  # UTF-8, percent-encoded
    "postgresql://u:+plus@h/db",  # `+` is no space in libpq
    "postgresql://h1,h2:5433,h3/db?sslmode=require",
    "postgresql://h1:1,h2:2/db",
    "postgresql://[::1]:5432/db",
    "postgresql://u:p@[2001:db8::1]/db",
    "postgresql:///db",
    "postgresql://",
    "postgresql://h,",
    "postgresql://u@h?user=z&password=q",  # query parameters override
    "postgresql://h/db?ssl=true",
    "postgresql://host?user=a@b",  # the credential look-ahead crosses the `?`
    "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
    "postgresql://u:@h/db",
    "postgresql://:pw@h/db",
    "postgresql://u:p@h:notaport/db",
    "postgresql://h/d%20b/x",
]
LIBPQ_BAD_URIS = [
    "postgresql://u:p%zz@h/db",
    "postgresql://u:p%4@h/db",
    "postgresql://u:p%00@h/db",
    "postgresql://[::1/db",
    "postgresql://[]/db",
    "postgresql://[::1]x/db",
    "postgresql://h/db?sslmode",
    "postgresql://h/db?a=b=c",
    "postgresql://h/db?nosuchoption=1",
]
CONNINFOS = [
    "host=h port=5432 dbname=db user=u password=p",
    "host=h password='a b c'",
    "host = h   password = a\\ b",
    "password='it\\'s' user=u",
    "password='back\\\\slash'",
    "password=' lead and trail '",
    "password=",
    "password='' host=h",
    "host=h1,h2 port=1,2 user=u",
    "host=h hostaddr=127.0.0.1 password=x",
    "  host=h\tpassword=p\n",
    "password=p@ss/w?rd#x host=h",
    "host=h password=first password=second",
]
CONNINFO_BAD = [
    "host=h password=a b",
    "host=h password='open",
    "host=h nosuch=1",
    "host",
    "host=h =x",
]


@pytest.mark.parametrize("uri", LIBPQ_URIS)
def test_libpq_uri_matches_libpq(uri: str) -> None:
    assert connstrings._libpq_uri(uri) == conninfo_to_dict(uri)


@pytest.mark.parametrize("uri", LIBPQ_BAD_URIS)
def test_libpq_uri_rejects_what_libpq_rejects(uri: str) -> None:
    with pytest.raises(psycopg.ProgrammingError):
        conninfo_to_dict(uri)
    with pytest.raises(ConnStringError):
        parse(uri)


@pytest.mark.parametrize("text", CONNINFOS)
def test_conninfo_matches_libpq(text: str) -> None:
    assert detect(text) == "libpq-conninfo"
    assert connstrings._libpq_conninfo(text) == conninfo_to_dict(text)


@pytest.mark.parametrize("text", CONNINFO_BAD)
def test_conninfo_rejects_what_libpq_rejects(text: str) -> None:
    with pytest.raises(psycopg.ProgrammingError):
        conninfo_to_dict(text)
    with pytest.raises(ConnStringError):
        connstrings._libpq_conninfo(text)


def test_errors_never_quote_the_value() -> None:
    for text in ("postgresql://u:s3cr%zzet@h/db", "host=h password=s3cr et", "host=h password='s3cret"):
        with pytest.raises(ConnStringError) as info:
            parse(text, "libpq-conninfo" if text.startswith("host") else None)
        assert "s3cr" not in str(info.value) and "et" not in str(info.value).split(":")[-1].split()


def test_libpq_endpoint() -> None:
    ep = parse("postgresql://app:p%2Fw@db.example:6543,db2/shop?sslmode=require&target_session_attrs=read-write")
    assert ep is not None
    assert ep.dialect == "libpq-uri" and ep.service == "postgres"
    assert ep.hosts == ("db.example", "db2") and ep.ports == (6543, 5432)
    assert ep.user == "app" and ep.password is not None and ep.password.reveal() == "p/w"
    assert ep.database == "shop"
    assert ep.options == {"sslmode": "require", "target_session_attrs": "read-write"}
    assert "p/w" not in repr(ep)
    # A `/` in the password: libpq connects to host "app" with port "p" and no password.
    broken = parse("postgresql://app:p/w@db.example:6543/shop", lenient=True)
    assert broken is not None and broken.hosts == ("app",) and broken.password is None
    with pytest.raises(ConnStringError, match="not a port number"):
        parse("postgresql://app:p/w@db.example:6543/shop")


def test_libpq_hostaddr_is_where_it_connects() -> None:
    ep = parse("host=db.example hostaddr=10.1.2.3 user=u password=p")
    assert ep is not None and ep.hosts == ("10.1.2.3",)


def test_libpq_port_count_mismatch() -> None:
    with pytest.raises(ConnStringError, match="2 port numbers for 3 hosts"):
        parse("host=a,b,c port=1,2")


def test_detect() -> None:
    assert detect("postgresql://h/db") == "libpq-uri"
    assert detect("postgresql+psycopg2://h/db") == "sqlalchemy"
    assert detect("mysql+pymysql://h/db") == "sqlalchemy"
    assert detect("redis://h") == detect("rediss://h") == detect("unix:///tmp/r.sock") == "redis-py"
    assert detect("mysql://h/db") == detect("mariadb://h/db") == detect("amqps://h/vh") == "url"
    assert detect("host=h dbname=x") == "libpq-conninfo"
    # Not connection strings: an API key, a base64 value ending in `=`, an unknown scheme.
    assert detect("sk_test_0123456789abcdef") is None
    assert detect("c2VjcmV0dmFsdWU=") is None
    assert detect("https://example.com/x") is None
    assert parse("just-a-password") is None


# ---------------------------------------------------------------- redis-py

REDIS_URLS = [
    "redis://127.0.0.1:6379/0",
    "redis://:only-pw@h:6380/2",
    "redis://user:pw@h",
    "redis://user:p@ss@h:6379/1",  # `@` in the password: urllib splits at the last one
    "redis://user:p%2Fw@h/3",
    "redis://user:p%40ss@H.Example.COM",  # hostnames are lowercased
    "rediss://user:p@ss@h:6390/0",
    "redis://user:pw@h/?db=5",
    "redis://user:pw@[::1]:6379/0",
    "redis://h/notanumber",
    "redis://user@h",
    "redis://user:pw@h?password=query",  # the URL's password wins
    "redis://h?username=u&password=p",
    "unix:///tmp/redis.sock?db=3",
    "unix://:pw@/tmp/redis.sock",
]


@pytest.mark.parametrize("url", REDIS_URLS)
def test_redis_matches_redis_py(url: str) -> None:
    want = parse_url(url)
    ep = parse(url)
    assert ep is not None and ep.dialect == "redis-py" and ep.service == "redis"
    assert ep.user == want.get("username")
    assert (ep.password.reveal() if ep.password else None) == want.get("password")
    if url.startswith("unix:"):
        assert ep.hosts == (want["path"],)
        assert ep.database == (str(want["db"]) if "db" in want else None)
    else:
        assert ep.hosts == (want.get("host", "localhost"),)
        assert ep.port == want.get("port", 6379)
        assert ep.database == str(want.get("db", 0))
    ssl = "connection_class" in want and want["connection_class"].__name__ == "SSLConnection"
    assert (ep.scheme == "rediss") == ssl


@pytest.mark.parametrize("url", ["redis://user:pw@h:port/0", "redis://user:pw@[::1/0", "redis://h?db=x"])
def test_redis_rejects_what_redis_py_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        parse_url(url)
    with pytest.raises(ConnStringError):
        parse(url)


def test_redis_slash_in_password_moves_the_host() -> None:
    url = "redis://app:pa/ss@127.0.0.1:6379/0"
    with pytest.raises(ValueError):
        parse_url(url)  # redis-py: the port is "pa"
    with pytest.raises(ConnStringError, match="not a port number"):
        parse(url)
    ep = parse(url, lenient=True)
    assert ep is not None and ep.hosts == ("app",) and ep.port == 6379
    # A password starting with digits then `/`: redis-py connects to host "app", port 1234.
    moved = parse("redis://app:1234/ss@127.0.0.1/0")
    assert moved is not None and moved.hosts == ("app",) and moved.port == 1234
    assert parse_url("redis://app:1234/ss@127.0.0.1/0")["host"] == "app"


# ---------------------------------------------------------------- SQLAlchemy and urllib dialects


def test_sqlalchemy() -> None:
    ep = parse("postgresql+psycopg2://app:p%40ss/w@db.example:6543/shop?sslmode=require")
    assert ep is not None and ep.dialect == "sqlalchemy" and ep.service == "postgres"
    # SQLAlchemy's password runs to the first `@` and may hold `/`; then it is percent-decoded.
    assert ep.user == "app" and ep.password is not None and ep.password.reveal() == "p@ss/w"
    assert ep.hosts == ("db.example",) and ep.ports == (6543,) and ep.database == "shop"
    assert ep.options == {"sslmode": "require"}
    raw_at = parse("postgresql+psycopg://app:p@ss@db.example/shop")
    assert raw_at is not None and raw_at.hosts == ("ss@db.example",) and raw_at.port == 5432
    v6 = parse("mysql+pymysql://root:pw@[::1]:3307/app")
    assert v6 is not None and v6.service == "mysql" and v6.hosts == ("::1",) and v6.port == 3307
    hosts = parse("postgresql+psycopg2://u:p@/db?host=h1:5433&host=h2:5434")
    assert hosts is not None and hosts.hosts == ("h1", "h2") and hosts.ports == (5433, 5434)
    with pytest.raises(ConnStringError):
        parse("postgresql+psycopg2://u:p@h:port/db")


def test_mysql_and_amqp_urls() -> None:
    ep = parse("mysql://app:p@ss@127.0.0.1/shop")
    assert ep is not None and ep.dialect == "url" and ep.service == "mysql"
    assert ep.hosts == ("127.0.0.1",) and ep.port == 3306 and ep.password is not None
    assert ep.password.reveal() == "p@ss" and ep.database == "shop"
    cut = parse("mysql://app:p#ss@127.0.0.1/shop", lenient=True)
    assert cut is not None and cut.hosts == ("app",)
    amqp = parse("amqps://guest:g%2Fpw@mq.example/%2F")
    assert amqp is not None and amqp.service == "amqp" and amqp.port == 5671 and amqp.database == "/"
    assert amqp.password is not None and amqp.password.reveal() == "g/pw"
    assert (parse("amqp://u:p@mq") or amqp).database == "/"


# ---------------------------------------------------------------- random strings against libpq

_URI_ALPHABET = "ab1:@/?#,[]%&=+ .-"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet=_URI_ALPHABET, max_size=24))
def test_libpq_uri_random_strings(tail: str) -> None:
    """Whatever follows `postgresql://`, we store what libpq stores, or refuse what it refuses."""
    uri = "postgresql://" + tail
    try:
        want: dict[str, str] | None = conninfo_to_dict(uri)
    except psycopg.ProgrammingError:
        want = None
    except UnicodeDecodeError:
        return  # psycopg cannot show a value that is no UTF-8 (`%a1`): no oracle
    if want is None:
        with pytest.raises(ConnStringError):
            connstrings._libpq_uri(uri)
    else:
        assert connstrings._libpq_uri(uri) == want


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["host", "password", "user", "dbname", "port"]),
            st.sampled_from(["=", " = ", "= ", " ="]),
            st.text(alphabet="ab '\\\t=x", max_size=8),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_conninfo_random_strings(pairs: list[tuple[str, str, str]]) -> None:
    text = " ".join(k + eq + v for k, eq, v in pairs)
    try:
        want: dict[str, str] | None = conninfo_to_dict(text)
    except psycopg.ProgrammingError:
        want = None
    if want is None:
        with pytest.raises(ConnStringError):
            connstrings._libpq_conninfo(text)
    else:
        assert connstrings._libpq_conninfo(text) == want


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.sampled_from(["redis://", "rediss://"]), st.text(alphabet="ab1:@/?#,[]%&=+ .-2F", max_size=22))
def test_redis_random_strings(scheme: str, tail: str) -> None:
    url = scheme + tail
    try:
        want = parse_url(url)
    except ValueError:
        with pytest.raises(ConnStringError):
            parse(url)
        return
    ep = parse(url)
    assert ep is not None
    got = (ep.hosts[0], ep.port, ep.user, ep.password.reveal() if ep.password else None, ep.database)
    assert got == (
        want.get("host", "localhost"),
        want.get("port", 6379),
        want.get("username"),
        want.get("password"),
        str(want.get("db", 0)),
    )
