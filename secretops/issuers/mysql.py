"""MySQL 8 and MariaDB users, via PyMySQL: `alternate`, `replace`, and `overlap` on MySQL 8.0.14+.

- `alternate` (MariaDB and MySQL): two users (`app_a@'%'`, `app_b@'%'`) with the same grants.
  The idle one gets `IDENTIFIED BY <new> ACCOUNT UNLOCK`; the retired one gets `ACCOUNT LOCK`
  (or a random password with `retire: scramble`).
- `overlap` (MySQL 8.0.14+ only): `IDENTIFIED BY <new> RETAIN CURRENT PASSWORD` keeps the old
  password as a secondary one; revoke runs `DISCARD OLD PASSWORD`. MariaDB has no equivalent:
  we detect the server with `SELECT VERSION()` and say so.

Account names are `user` (host `%`) or `user@host`. The password goes as a string literal
escaped by PyMySQL (MySQL cannot bind parameters in `ALTER USER`); it is never logged, and
driver messages are scrubbed of it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import pymysql

from secretops.errors import IssuerError
from secretops.inventory.models import MysqlIssuerSpec, SecretSpec, Strategy
from secretops.issuers._common import (
    NEW_VALUE,
    idle_account,
    other_than,
    random_password,
    require_strategy,
    scrub,
    single_account,
)
from secretops.issuers.interface import (
    Credential,
    Endpoint,
    Issuer,
    IssuerAuthError,
    IssuerUnavailableError,
    PlanStep,
    admin_secret,
    host_matches,
)
from secretops.values import SecretValue

__all__ = ["MysqlIssuer", "ServerVersion", "parse_server_version"]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT = 5
# Server error codes meaning "these credentials do not log in".
_LOGIN_REFUSED = {
    1045,  # ER_ACCESS_DENIED_ERROR
    1862,  # ER_MUST_CHANGE_PASSWORD_LOGIN (expired)
    3118,  # ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
    4151,  # ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)
}
_PRIVILEGE = {1044, 1142, 1227, 1370, 3530}  # access denied to db/table/privilege
_UNREACHABLE = {2002, 2003, 2005, 2006, 2013}
_NO_SUCH_USER = 1396  # ER_CANNOT_USER ("Operation ALTER USER failed for ...")
_BAD_DB = 1049  # ER_BAD_DB_ERROR ("Unknown database")
_OVERLAP_MIN = (8, 0, 14)


@dataclass(frozen=True)
class ServerVersion:
    """What `SELECT VERSION()` says: MariaDB or MySQL, and the version numbers."""

    mariadb: bool
    version: tuple[int, int, int]
    text: str

    @property
    def retains_passwords(self) -> bool:
        """True when `RETAIN CURRENT PASSWORD` exists (MySQL 8.0.14+, not MariaDB)."""
        return not self.mariadb and self.version >= _OVERLAP_MIN

    def __str__(self) -> str:
        return f"{'MariaDB' if self.mariadb else 'MySQL'} {'.'.join(map(str, self.version))}"


def parse_server_version(text: str) -> ServerVersion:
    """Parse `8.0.36`, `10.11.19-MariaDB-0+deb12u1` or `5.5.5-10.6.12-MariaDB` into a `ServerVersion`."""
    mariadb = "mariadb" in text.lower()
    numbers = [tuple(int(x) for x in m) for m in re.findall(r"(\d+)\.(\d+)\.(\d+)", text)]
    if mariadb and len(numbers) > 1 and numbers[0] == (5, 5, 5):
        numbers = numbers[1:]  # the old replication-compatibility prefix
    version = numbers[0] if numbers else (0, 0, 0)
    return ServerVersion(mariadb, (version[0], version[1], version[2]), text)


def _split_account(account: str) -> tuple[str, str]:
    """`app_a` -> (`app_a`, `%`); `app_a@10.0.%` -> (`app_a`, `10.0.%`); quotes are stripped."""
    user, sep, host = account.rpartition("@")
    if not sep:
        user, host = account, "%"
    return user.strip("'`\""), (host.strip("'`\"") or "%")


class MysqlIssuer(Issuer):
    """Users on a MySQL or MariaDB server reached with the admin DSN in `spec.admin_dsn_env`.

    The DSN is a URL: `mysql://root:password@host:3306/db`. The admin user needs the global
    `CREATE USER` privilege (it covers `ALTER USER` and `ACCOUNT LOCK` on other users).
    `check` logs in as the credential's user at `spec.host`/`port` (else the DSN's).
    """

    kind: ClassVar[str] = "mysql"
    strategies: ClassVar[frozenset[Strategy]] = frozenset({Strategy.ALTERNATE, Strategy.OVERLAP, Strategy.REPLACE})
    generates_value: ClassVar[bool] = False

    def __init__(self, spec: MysqlIssuerSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = env
        self._conn: pymysql.connections.Connection[Any] | None = None
        self._server: ServerVersion | None = None

    # ------------------------------------------------------------ connection plumbing

    def _admin_params(self) -> dict[str, Any]:
        dsn = admin_secret(self._env, self.spec.admin_dsn_env, "mysql issuer")
        bad = IssuerError(
            f"mysql issuer: {self.spec.admin_dsn_env} is not a mysql:// URL",
            hint="use mysql://user:password@host:3306/database",
        )
        try:
            url = urlsplit(dsn.reveal())
            port = url.port
        except ValueError:
            raise bad from None
        if url.scheme not in {"mysql", "mariadb", "mysql+pymysql"} or not url.hostname:
            raise bad
        params: dict[str, Any] = {
            "host": url.hostname,
            "port": port or 3306,
            "user": unquote(url.username or "root"),
            "password": unquote(url.password or ""),
        }
        if url.path.strip("/"):
            params["database"] = unquote(url.path.strip("/"))
        return params

    def _admin(self) -> pymysql.connections.Connection[Any]:
        if self._conn is not None and self._conn.open:
            return self._conn
        params = self._admin_params()
        where = f"{params['host']}:{params['port']}"
        try:
            self._conn = pymysql.connect(**params, autocommit=True, connect_timeout=_CONNECT_TIMEOUT)
        except pymysql.MySQLError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            if code in _LOGIN_REFUSED or code in _PRIVILEGE:
                raise IssuerAuthError(
                    f"MySQL at {where} refused the admin credentials from {self.spec.admin_dsn_env} (error {code})",
                    hint=f"check the user and password in {self.spec.admin_dsn_env}",
                ) from None
            raise IssuerUnavailableError(
                f"cannot reach MySQL at {where} (error {code})",
                hint="check host, port and network access; is the server running?",
            ) from None
        return self._conn

    def _execute(
        self, secret: SecretSpec, action: str, query: str, args: tuple[str, ...], *values: SecretValue
    ) -> list[tuple[Any, ...]]:
        """Run one admin statement; translate driver errors, scrubbing every value from messages."""
        try:
            with self._admin().cursor() as cur:
                cur.execute(query, args)
                return list(cur.fetchall())
        except pymysql.MySQLError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            text = scrub(str(exc.args[1]) if len(exc.args) > 1 else type(exc).__name__, *values)
            if code in _PRIVILEGE:
                raise IssuerAuthError(
                    f"{secret.name}: the MySQL admin user may not {action}: {text} (error {code})",
                    hint="grant the admin user CREATE USER (global)",
                ) from None
            if code == _NO_SUCH_USER:
                raise IssuerError(
                    f"{secret.name}: cannot {action}: no such user (error {code})",
                    hint="create both users first (docs/issuers.md has the SQL)",
                ) from None
            if code in _UNREACHABLE or isinstance(exc, pymysql.err.InterfaceError):
                self._conn = None
                raise IssuerUnavailableError(
                    f"{secret.name}: lost the MySQL connection while trying to {action} (error {code})",
                    hint="retry with `secretops resume`; every step is idempotent",
                ) from None
            raise IssuerError(f"{secret.name}: cannot {action}: {text} (error {code})") from None

    def server(self, secret: SecretSpec) -> ServerVersion:
        """The server's flavour and version (`SELECT VERSION()`), asked once."""
        if self._server is None:
            rows = self._execute(secret, "read the server version", "SELECT VERSION()", ())
            self._server = parse_server_version(str(rows[0][0]))
            log.debug("mysql: server is %s", self._server)
        return self._server

    def close(self) -> None:
        """Close the admin connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ helpers

    def _require_overlap(self, secret: SecretSpec) -> None:
        server = self.server(secret)
        if server.retains_passwords:
            return
        if server.mariadb:
            raise IssuerError(
                f"{secret.name}: strategy overlap is not supported on {server}: MariaDB has no "
                "RETAIN CURRENT PASSWORD (two passwords per user)",
                hint="use strategy alternate with two users (accounts: [app_a, app_b])",
            )
        raise IssuerError(
            f"{secret.name}: strategy overlap needs MySQL 8.0.14+ (RETAIN CURRENT PASSWORD); the server is {server}",
            hint="upgrade MySQL, or use strategy alternate with two users",
        )

    def _account(self, secret: SecretSpec, current: Credential | None) -> str:
        if secret.strategy is Strategy.ALTERNATE:
            return idle_account(secret, current, lambda account: _split_account(account)[0])
        return single_account(self.kind, secret, current, "MySQL user")

    def _user_host(self, secret: SecretSpec, username: str) -> tuple[str, str]:
        """The `user`@`host` account for a credential's username, found in `secret.accounts`."""
        for account in secret.accounts:
            user, host = _split_account(account)
            if user == username:
                return user, host
        return _split_account(username)

    def _set_password(self, secret: SecretSpec, user: str, host: str, value: SecretValue, clause: str = "") -> None:
        query = "ALTER USER %s@%s IDENTIFIED BY %s" + (f" {clause}" if clause else "")
        self._execute(secret, f"set the password of {user}@{host}", query, (user, host, value.reveal()), value)
        log.info("mysql: set a new password on %s@%s %s(value not logged)", user, host, f"{clause} " if clause else "")

    def _retire(self, secret: SecretSpec, user: str, host: str) -> None:
        if self.spec.retire == "scramble":
            self._set_password(secret, user, host, random_password())
        else:
            self._execute(secret, f"lock {user}@{host}", "ALTER USER %s@%s ACCOUNT LOCK", (user, host))
            log.info("mysql: locked retired user %s@%s (ACCOUNT LOCK)", user, host)

    def _consumer_where(self) -> tuple[str, int]:
        admin = self._admin_params()
        return self.spec.host or str(admin["host"]), self.spec.port or int(admin["port"])

    # ------------------------------------------------------------ Issuer API

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """The ALTER USER statements apply and revoke would run, and the login checks."""
        strategy = require_strategy(self.kind, secret, self.strategies)
        actor = f"issuer:{self.kind}"
        user, host = _split_account(self._account(secret, current))
        try:
            where = "{}:{}".format(*self._consumer_where())
        except IssuerError:
            where = f"the host in {self.spec.admin_dsn_env}"
        set_clause = {
            Strategy.ALTERNATE: " ACCOUNT UNLOCK",
            Strategy.OVERLAP: " RETAIN CURRENT PASSWORD",
            Strategy.REPLACE: "",
        }[strategy]
        steps = []
        if strategy is Strategy.OVERLAP:
            steps.append(PlanStep(actor, "SELECT VERSION()", "overlap needs MySQL 8.0.14+ (not MariaDB)"))
        if strategy is Strategy.REPLACE:
            steps.append(PlanStep(actor, "warning", f"consumers of {user} fail until redeployed"))
        steps += [
            PlanStep(actor, f"ALTER USER '{user}'@'{host}' IDENTIFIED BY{set_clause}", NEW_VALUE),
            PlanStep(actor, f"check: log in as {user} at {where}", "verify the new value"),
        ]
        if strategy is Strategy.ALTERNATE and current is not None:
            old_user, old_host = self._user_host(secret, current.attributes.get("username", "?"))
            action = "IDENTIFIED BY (random, held by nobody)" if self.spec.retire == "scramble" else "ACCOUNT LOCK"
            steps.append(PlanStep(actor, f"ALTER USER '{old_user}'@'{old_host}' {action}", "after the grace period"))
            steps.append(PlanStep(actor, f"check: login as {old_user} is refused", "prove the old value dead"))
        elif strategy is Strategy.OVERLAP:
            steps.append(
                PlanStep(actor, f"ALTER USER '{user}'@'{host}' DISCARD OLD PASSWORD", "after the grace period")
            )
            steps.append(PlanStep(actor, f"check: login as {user} with the old value is refused", "prove it dead"))
        return steps

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """Set `proposed` on the idle user (alternate, also unlocking it), as the primary password
        keeping the current one (overlap), or as the only password (replace). No-op if it already works.
        """
        strategy = require_strategy(self.kind, secret, self.strategies)
        if proposed is None:
            raise IssuerError(f"{secret.name}: the mysql issuer needs a generated value", hint="set a generator")
        if strategy is Strategy.OVERLAP:
            self._require_overlap(secret)
        user, host = _split_account(self._account(secret, current))
        new = Credential(proposed, {"username": user})
        try:
            if self.check(secret, new):
                log.info("mysql: %s@%s already logs in with the new value; nothing to do", user, host)
                return new
        except IssuerUnavailableError:
            log.debug("mysql: consumer address unreachable from here; setting the password anyway")
        clause = {Strategy.ALTERNATE: "ACCOUNT UNLOCK", Strategy.OVERLAP: "RETAIN CURRENT PASSWORD"}.get(strategy, "")
        self._set_password(secret, user, host, proposed, clause)
        return new

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """Log in as the credential's user with its password (and `SELECT 1`).

        False when the server refuses the login (wrong password, locked account);
        `IssuerUnavailableError` when it cannot be reached.
        """
        username = credential.attributes.get("username")
        if not username:
            raise IssuerError(f"{secret.name}: a mysql credential needs a username attribute")
        host, port = self._consumer_where()
        return self._login(secret, host, port, username, credential.value, self.spec.database)

    def _login(
        self, secret: SecretSpec, host: str, port: int, username: str, value: SecretValue, database: str | None
    ) -> bool:
        """Log in at `host:port` (using `database`) and `SELECT 1`: True, False if refused, else raise."""
        params: dict[str, Any] = {"host": host, "port": port, "user": username}
        if database:
            params["database"] = database
        try:
            conn = pymysql.connect(**params, password=value.reveal(), connect_timeout=_CONNECT_TIMEOUT)
        except pymysql.MySQLError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            if code in _LOGIN_REFUSED:
                log.info("mysql: login as %s at %s:%s refused (error %s)", username, host, port, code)
                return False
            if code in _PRIVILEGE or code == _BAD_DB:
                what = "does not exist" if code == _BAD_DB else f"may not be used by {username}"
                raise IssuerError(
                    f"{secret.name}: database {database} at {host}:{port} {what} (error {code})",
                    hint="grant the user access to the database, or fix the database name",
                ) from None
            raise IssuerUnavailableError(
                f"{secret.name}: cannot reach MySQL at {host}:{port} to check {username} (error {code})",
                hint="set host/port on the issuer to an address reachable from where secretops runs",
            ) from None
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            conn.close()
        return True

    def consumer_hosts(self) -> frozenset[str] | None:
        """`host` of the issuer spec and the admin DSN's host: where consumer checks may log in."""
        hosts = {self.spec.host} if self.spec.host else set()
        with contextlib.suppress(IssuerError):
            hosts.add(str(self._admin_params()["host"]))
        return frozenset(hosts)

    def check_endpoint(self, secret: SecretSpec, endpoint: Endpoint) -> bool:
        """Log in where a consumer's parsed URL points (host, port, database) with its user and password.

        Only at one of `consumer_hosts()`: another host is refused before any connection.
        """
        allowed = self.consumer_hosts() or frozenset()
        if endpoint.service != "mysql":
            raise IssuerError(f"{secret.name}: a {endpoint.scheme} URL is not a MySQL connection string")
        host, port = (endpoint.hosts[0], endpoint.port or 3306) if len(endpoint.hosts) == 1 else ("", 0)
        if not host_matches(host, allowed) and host_matches(host, self.host_aliases()):
            host, port = self._consumer_where()  # an alias: log in at the issuer's own address
        elif not host_matches(host, allowed):
            raise IssuerError(
                f"{secret.name}: refusing to log in at {endpoint.where()}: not the issuer's host "
                f"({', '.join(sorted(allowed)) or 'none configured'})",
                hint="set `host` on the issuer to the host consumers connect to",
            )
        if endpoint.password is None or not endpoint.user:
            return False
        return self._login(secret, host, port, endpoint.user, endpoint.password, endpoint.database)

    def host_aliases(self) -> frozenset[str]:
        """`aliases` of the issuer spec: names consumers use that are checked at the issuer's address."""
        return frozenset(self.spec.aliases)

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """alternate: lock (or scramble) the retired user. overlap: `DISCARD OLD PASSWORD`. replace: nothing.

        overlap refuses when `keep` does not log in, since discarding would leave no working password.
        """
        strategy = require_strategy(self.kind, secret, self.strategies)
        if strategy is Strategy.REPLACE:
            return
        if strategy is Strategy.OVERLAP:
            self._require_overlap(secret)
            user, host = self._user_host(secret, keep.attributes.get("username", ""))
            if not self.check(secret, keep):
                raise IssuerError(
                    f"{secret.name}: refusing to discard the old password of {user}: the new one does not log in",
                    hint="run the rotation again (resume) so apply sets the new password first",
                )
            self._execute(
                secret,
                f"discard the old password of {user}@{host}",
                "ALTER USER %s@%s DISCARD OLD PASSWORD",
                (user, host),
            )
            log.info("mysql: discarded the old (secondary) password of %s@%s", user, host)
            return
        user, host = self._user_host(secret, other_than(secret, old, keep))
        self._retire(secret, user, host)

    def rollback(self, secret: SecretSpec, new: Credential, keep: Credential | None) -> None:
        """alternate: lock the idle user again. overlap/replace: put `keep` back as the only password."""
        strategy = require_strategy(self.kind, secret, self.strategies)
        user, host = self._user_host(secret, new.attributes.get("username", ""))
        if strategy is Strategy.ALTERNATE:
            if keep is not None and keep.attributes.get("username") == user:
                raise IssuerError(f"{secret.name}: refusing to lock {user}: the credential to keep uses it")
            self._retire(secret, user, host)
            return
        if keep is None:
            raise IssuerError(
                f"{secret.name}: cannot roll back without the previous value", hint="the user keeps the new password"
            )
        self._set_password(secret, user, host, keep.value)
        if strategy is Strategy.OVERLAP:
            self._execute(
                secret,
                f"discard the secondary password of {user}@{host}",
                "ALTER USER %s@%s DISCARD OLD PASSWORD",
                (user, host),
            )
