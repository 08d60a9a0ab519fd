"""Session fixtures for real servers: a private PostgreSQL cluster, MariaDB, Redis and moto.

Each fixture skips with a clear reason when its service is absent, or fails under
`SECRETOPS_REQUIRE_SERVICES=1` (see `tests/helpers.py`). The names and the objects they yield
are stable: issuer tests and rotation-engine tests both use them.

- `pg_cluster` -> `PgCluster`: a PostgreSQL cluster of our own, started with
  `initdb --auth=scram-sha-256` on a free port, so a wrong password is really refused (the
  shared server on 5432 trusts everyone).
- `mariadb` -> `MariaDB`: admin access to 127.0.0.1:3306 and a database unique to this session.
- `redis_server` -> `str`: the admin URL of 127.0.0.1:6379. Tests create uniquely named ACL users
  and delete them.
- `moto_server` -> `str`: the endpoint URL of a `moto_server` process on a free port.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import free_port, port_open, service_unavailable

__all__ = ["MariaDB", "PgCluster", "mariadb", "moto_server", "pg_cluster", "redis_server", "silence_botocore_bodies"]


def silence_botocore_bodies() -> None:
    """Keep botocore from logging response bodies at DEBUG for every client in the process.

    A test harness's own boto3 client (creating IAM keys to rotate or revoke) would otherwise log
    `CreateAccessKey` bodies, secret key included, into pytest's DEBUG log. The issuer module
    installs this filter when it is imported; issuers load lazily now, so the AWS fixtures install
    it before any client runs.
    """
    import secretops.issuers.aws_iam  # noqa: F401 - installs the body filter on import


# ---------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PgCluster:
    """A running private PostgreSQL cluster (scram-sha-256 for every connection).

    `admin_dsn` is a superuser URL (user `postgres`); `dsn()` builds one for any role.
    """

    host: str
    port: int
    admin_user: str
    admin_password: str
    datadir: Path

    @property
    def admin_dsn(self) -> str:
        """The superuser connection URL (database `postgres`)."""
        return self.dsn(self.admin_user, self.admin_password)

    @property
    def log_path(self) -> Path:
        """The server log (`pg_ctl -l`), readable by the tests."""
        return self.datadir.parent / "log"

    def dsn(self, user: str, password: str, dbname: str = "postgres") -> str:
        """A connection URL for `user` with `password` (URL-quoted)."""
        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{dbname}"

    @staticmethod
    def logs_in(conninfo: str) -> bool:
        """True when `conninfo` (a URL or a `key=value` string) logs in and runs a query."""
        import psycopg

        try:
            with psycopg.connect(conninfo, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    @contextlib.contextmanager
    def alternate_roles(self, prefix: str, password: str | None = None) -> Iterator[tuple[str, str, str]]:
        """Two uniquely named roles for an `alternate` secret: `a` logs in with `password` (random
        when None), `b` cannot log in yet. Yields `(a, b, password)`; both are dropped afterwards."""
        import psycopg
        from psycopg import sql

        tag = secrets.token_hex(3)
        a, b = f"{prefix}_{tag}_a", f"{prefix}_{tag}_b"
        password = password if password is not None else "old-" + secrets.token_urlsafe(12)
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(a), sql.Literal(password)))
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(b)))
        try:
            yield a, b, password
        finally:
            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                for role in (a, b):
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _pg_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        found = shutil.which("initdb")
        return Path(found).parent if found else None
    preferred = [c for c in candidates if "/15/" in c]
    return Path((preferred or candidates)[0]).parent


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: drop to the `postgres` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A private PostgreSQL cluster with scram-sha-256 auth on 127.0.0.1 and a free port.

    Started once per test session (about 2 s), stopped with `pg_ctl stop -m fast` and removed at
    the end. Its socket directory is inside the temp dir, so it never collides with the shared
    server on 5432.
    """
    bindir = _pg_bindir()
    if bindir is None:
        service_unavailable("PostgreSQL initdb not found (install postgresql-15)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            service_unavailable("running as root but there is no 'postgres' user to run initdb as")
        if shutil.which("runuser") is None:
            service_unavailable("running as root and runuser is missing")
    base = Path(tempfile.mkdtemp(prefix="secretops-pg-"))
    base.chmod(0o700)
    if os.geteuid() == 0:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    password = secrets.token_hex(16)
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    datadir = base / "data"
    port = free_port()
    started = False
    try:
        init = subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "--auth=scram-sha-256",
                    "--username=postgres",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            service_unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base} -c fsync=off"
        start = subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(base / "log"), "-w", "start"]
            ),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if start.returncode != 0:
            log = (base / "log").read_text(errors="replace")[-800:] if (base / "log").exists() else ""
            service_unavailable(f"pg_ctl start failed: {start.stderr.strip()[-300:]} {log}")
        started = True
        yield PgCluster("127.0.0.1", port, "postgres", password, datadir)
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- MariaDB


@dataclass(frozen=True)
class MariaDB:
    """Admin access to the MariaDB/MySQL server and a database unique to this test session."""

    host: str
    port: int
    database: str

    @property
    def admin_dsn(self) -> str:
        """`mysql://root@host:port/database` (root, empty password)."""
        return f"mysql://root@{self.host}:{self.port}/{self.database}"


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    """MariaDB at 127.0.0.1:3306 (root, empty password) with a fresh database, dropped at the end."""
    try:
        import pymysql
    except ImportError:
        service_unavailable("PyMySQL is not installed")
    host, port = "127.0.0.1", 3306
    if not port_open(host, port):
        service_unavailable(f"MariaDB is not listening on {host}:{port}")
    database = f"secretops_test_{secrets.token_hex(4)}"
    try:
        conn = pymysql.connect(host=host, port=port, user="root", password="", autocommit=True, connect_timeout=5)
    except pymysql.MySQLError as exc:
        service_unavailable(f"cannot log in to MariaDB as root: {exc}")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{database}`")
        yield MariaDB(host, port, database)
    finally:
        with contextlib.suppress(pymysql.MySQLError), conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        conn.close()


# ---------------------------------------------------------------- Redis


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The admin URL of Redis 6+ at 127.0.0.1:6379 (`redis://127.0.0.1:6379/0`).

    Tests create uniquely named ACL users (`ACL SETUSER`) and delete them (`ACL DELUSER`).
    """
    try:
        import redis
    except ImportError:
        service_unavailable("redis-py is not installed")
    url = "redis://127.0.0.1:6379/0"
    if not port_open("127.0.0.1", 6379):
        service_unavailable("Redis is not listening on 127.0.0.1:6379")
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        info = client.info("server")
    except redis.RedisError as exc:
        service_unavailable(f"Redis does not answer: {exc}")
    finally:
        client.close()
    major = int(str(info.get("redis_version", "0")).split(".")[0])
    if major < 6:
        service_unavailable(f"Redis {info.get('redis_version')} has no ACL users (needs 6+)")
    return url


# ---------------------------------------------------------------- moto


def _moto_binary() -> str | None:
    for candidate in (Path(sys.executable).parent / "moto_server", Path("/work/venv/bin/moto_server")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("moto_server")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL (`http://127.0.0.1:<port>`) of a `moto_server` started for this session.

    Tests point boto3 at it with `endpoint_url` and dummy `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
    (set with monkeypatch). moto accepts any signature: it cannot prove a secret key is wrong.
    """
    silence_botocore_bodies()
    binary = _moto_binary()
    if binary is None:
        service_unavailable("moto_server not found (pip install 'moto[server]')")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server process
    proc = subprocess.Popen([binary, "-p", str(port), "-H", "127.0.0.1"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                service_unavailable(f"moto_server exited: {log.read().decode(errors='replace')[-500:]}")
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - local http
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    service_unavailable("moto_server did not answer within 30 s")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
