"""Databases: log in to the server the scanned text names, with the user and password found.

These verifiers connect to the host in the finding's context (a URI's host, or the `host` line
grouped with a password), which is the scanned text's choice, not ours: they run only behind
`--verify-databases` (`network = "scanned-host"`), with short connect timeouts, and only read
(a login and, for Redis, `PING`). A server that refuses the password is dead; one that cannot be
reached, or refuses for another reason (no `pg_hba.conf` entry, TLS required), is unknown.

- PostgreSQL (psycopg): `password authentication failed` or an unknown role is dead; a
  database that does not exist is reported only after the login succeeded, so live.
- MySQL/MariaDB (PyMySQL): error 1045 (access denied) is dead. No database is named, so a
  missing database cannot blur the answer.
- Redis (redis-py): `WRONGPASS` / `invalid password` is dead; a server that needs no password
  is unknown (the value proves nothing: the server is open). A plain connection that the server
  drops is retried once over TLS (`rediss://` is not told apart in the finding's context); a
  refused or silent one is not.
"""

from __future__ import annotations

import logging

from secretops.liveness.interface import Leak, LivenessResult, Verifier

__all__ = ["MysqlVerifier", "PostgresVerifier", "RedisVerifier"]

log = logging.getLogger(__name__)


def _port(leak: Leak, default: int) -> int | None:
    raw = leak.context.get("port") or ""
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def _where(user: str, host: str, port: int) -> str:
    return f"{user}@{host}:{port}" if user else f"{host}:{port}"


class _DatabaseVerifier(Verifier):
    network = "scanned-host"
    default_port: int = 0

    def target(self, leak: Leak) -> tuple[str, int, str] | LivenessResult:
        host = leak.context.get("host", "")
        if not host or any(c in host for c in "/\\ \t\n"):
            return LivenessResult.unknown(self.id, "no host named next to the password")
        port = _port(leak, self.default_port)
        if port is None:
            return LivenessResult.unknown(self.id, "the port named next to the password is not a port")
        return host, port, leak.context.get("user", "")


class PostgresVerifier(_DatabaseVerifier):
    """PostgreSQL (and wire-compatible: Neon, Supabase, CockroachDB) by logging in."""

    id = "postgres"
    default_port = 5432

    def verify(self, leak: Leak) -> LivenessResult:
        """`psycopg.connect` with a short timeout; the message decides, never quoted."""
        import psycopg

        target = self.target(leak)
        if isinstance(target, LivenessResult):
            return target
        host, port, user = target
        if not user:
            return LivenessResult.unknown(self.id, "no user named next to the password")
        database = leak.context.get("database") or "postgres"
        timeout = max(1, round(self.ctx.timeout))
        try:
            conn = psycopg.connect(
                host=host,
                port=port,
                user=user,
                password=leak.value.reveal(),
                dbname=database,
                connect_timeout=timeout,
                application_name="secretops-verify",
            )
        except psycopg.OperationalError as exc:
            text = str(exc).lower()
            if "password authentication failed" in text or ("role" in text and "does not exist" in text):
                return LivenessResult.dead(self.id, f"{_where(user, host, port)} refused the password")
            if "database" in text and "does not exist" in text:
                return LivenessResult.live_as(self.id, _where(user, host, port), "logged in (database not found)")
            if "timeout" in text or "timed out" in text:
                return LivenessResult.unknown(self.id, f"no answer from {host}:{port} within {timeout} s")
            if "pg_hba.conf" in text:
                return LivenessResult.unknown(self.id, f"{host}:{port} does not accept logins from here")
            return LivenessResult.unknown(self.id, f"cannot log in to {host}:{port} (connection failed)")
        except psycopg.Error as exc:
            return LivenessResult.unknown(self.id, f"cannot log in to {host}:{port} ({type(exc).__name__})")
        try:
            conn.execute("SELECT 1")
            asked = conn.pgconn.used_password  # libpq: did the server ask for the password at all?
        finally:
            conn.close()
        if not asked:
            return LivenessResult.unknown(
                self.id, f"{host}:{port} let {user} in without asking for a password; the value proves nothing"
            )
        return LivenessResult.live_as(self.id, _where(user, host, port) + f"/{database}", "logged in")


class MysqlVerifier(_DatabaseVerifier):
    """MySQL and MariaDB (and PlanetScale) by logging in."""

    id = "mysql"
    default_port = 3306

    def verify(self, leak: Leak) -> LivenessResult:
        """`pymysql.connect` without a database; error 1045 is dead."""
        import pymysql

        target = self.target(leak)
        if isinstance(target, LivenessResult):
            return target
        host, port, user = target
        if not user:
            return LivenessResult.unknown(self.id, "no user named next to the password")
        timeout = max(1, round(self.ctx.timeout))
        try:
            conn = pymysql.connect(
                host=host,
                port=port,
                user=user,
                password=leak.value.reveal(),
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
            )
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code == 1045:
                return LivenessResult.dead(self.id, f"{_where(user, host, port)} refused the password (1045)")
            if code in (2003, 2013):
                return LivenessResult.unknown(self.id, f"cannot reach {host}:{port} ({code})")
            return LivenessResult.unknown(self.id, f"cannot log in to {host}:{port} (error {code})")
        except pymysql.MySQLError as exc:
            return LivenessResult.unknown(self.id, f"cannot log in to {host}:{port} ({type(exc).__name__})")
        except OSError as exc:
            return LivenessResult.unknown(self.id, f"cannot reach {host}:{port} ({type(exc).__name__})")
        conn.close()
        return LivenessResult.live_as(self.id, _where(user, host, port), "logged in")


class RedisVerifier(_DatabaseVerifier):
    """Redis and Valkey by `AUTH` (with the ACL user when one is named) and `PING`."""

    id = "redis"
    default_port = 6379

    def verify(self, leak: Leak) -> LivenessResult:
        """`AUTH` then `PING`; plain first, then TLS when the plain connection fails."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        target = self.target(leak)
        if isinstance(target, LivenessResult):
            return target
        host, port, user = target
        timeout = self.ctx.timeout
        last = "connection failed"
        for tls in (False, True):
            client = redis.Redis(
                host=host,
                port=port,
                username=user or None,
                password=leak.value.reveal(),
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                ssl=tls,
                retry=Retry(NoBackoff(), 0),
            )
            try:
                client.ping()
            except redis.AuthenticationError as exc:
                text = str(exc).lower()
                if "without any password configured" in text or "no password is set" in text:
                    return LivenessResult.unknown(
                        self.id, f"{host}:{port} needs no password at all (open to anyone); the value proves nothing"
                    )
                return LivenessResult.dead(self.id, f"{_where(user, host, port)} refused the password")
            except redis.ResponseError as exc:
                text = str(exc).lower()
                if "wrongpass" in text or "invalid password" in text or "invalid username-password" in text:
                    return LivenessResult.dead(self.id, f"{_where(user, host, port)} refused the password")
                if "without any password configured" in text:
                    return LivenessResult.unknown(
                        self.id, f"{host}:{port} needs no password at all (open to anyone); the value proves nothing"
                    )
                return LivenessResult.unknown(self.id, f"{host}:{port} answered an error")
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                last = type(exc).__name__
                if isinstance(exc, redis.TimeoutError) or "refused" in str(exc).lower():
                    break  # nothing listens, or nothing answers: TLS would not help
                continue
            finally:
                client.close()
            if self._accepts_any(host, port, user, tls):
                return LivenessResult.unknown(
                    self.id, f"{host}:{port} accepts any password for {user or 'default'}; the value proves nothing"
                )
            return LivenessResult.live_as(self.id, _where(user or "default", host, port), "logged in")
        return LivenessResult.unknown(self.id, f"cannot reach {host}:{port} ({last})")

    def _accepts_any(self, host: str, port: int, user: str, tls: bool) -> bool:
        """Whether a random password logs in too (a `nopass` user, or no password set at all)."""
        import secrets

        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis(
            host=host,
            port=port,
            username=user or None,
            password="secretops-" + secrets.token_urlsafe(24),
            socket_connect_timeout=self.ctx.timeout,
            socket_timeout=self.ctx.timeout,
            ssl=tls,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()
        except redis.RedisError:
            return False
        finally:
            client.close()
        return True
