"""PostgreSQL login roles, rotated by `alternate` (two roles) or `replace` (one role), via psycopg 3.

`alternate` needs two login roles that are members of a NOLOGIN group role holding the
privileges (`bootstrap_alternate` creates that shape, docs/issuers.md shows the SQL). The idle
role gets the new password and `LOGIN`; once consumers use it, the other is locked with `NOLOGIN`
(or a random password when `retire: scramble`).

Passwords never travel in clear text to the server: `ALTER ROLE ... PASSWORD` cannot take bind
parameters, so we compute the SCRAM-SHA-256 verifier locally (RFC 5802/7677, as PostgreSQL
stores it) and send that. The plaintext is therefore absent from the server log, from
`pg_stat_statements` and from any error message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import stringprep
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from secretops.errors import IssuerError
from secretops.inventory.models import PostgresIssuerSpec, SecretSpec, Strategy
from secretops.issuers._common import (
    NEW_VALUE,
    driver_reason,
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

__all__ = ["PostgresIssuer", "scram_sha256_verifier"]

log = logging.getLogger(__name__)

_SCRAM_ITERATIONS = 4096
_CONNECT_TIMEOUT = 5
# libpq phrases that mean "the server answered and refused these credentials".
_AUTH_PHRASES = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "is not permitted to log in",
    "does not exist",
    "password is required",
    "no password supplied",
)


def _saslprep(password: str) -> str | None:
    """RFC 4013 SASLprep as PostgreSQL applies it (`pg_saslprep`); None means "use the raw bytes".

    PostgreSQL skips ASCII strings, and falls back to the raw password when the string has
    prohibited or unassigned characters; libpq does the same on the client, so both agree.
    """
    if password.isascii():
        return password
    mapped = []
    for ch in password:
        if stringprep.in_table_c12(ch):
            mapped.append(" ")
        elif not stringprep.in_table_b1(ch):
            mapped.append(ch)
    out = unicodedata.normalize("NFKC", "".join(mapped))
    if not out:
        return None
    prohibited = (
        stringprep.in_table_a1,
        stringprep.in_table_c12,
        stringprep.in_table_c21_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
    )
    if any(check(ch) for ch in out for check in prohibited):
        return None
    if any(stringprep.in_table_d1(ch) for ch in out) and (
        any(stringprep.in_table_d2(ch) for ch in out)
        or not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1]))
    ):
        return None
    return out


def scram_sha256_verifier(
    password: SecretValue, *, salt: bytes | None = None, iterations: int = _SCRAM_ITERATIONS
) -> str:
    """The `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` string PostgreSQL stores.

    Sent as the literal of `ALTER ROLE ... PASSWORD`, PostgreSQL keeps it as is (a pre-hashed
    password), so the plaintext never reaches the server. The verifier is not the password,
    but it still allows an offline guessing attack: it is never logged either.
    """
    raw = password.reveal()
    prepared = _saslprep(raw)
    data = (prepared if prepared is not None else raw).encode("utf-8", "surrogatepass")
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", data, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


class PostgresIssuer(Issuer):
    """Login roles on a PostgreSQL server reached with the admin DSN in `spec.admin_dsn_env`.

    The admin role needs `CREATEROLE` (or superuser) and, with `terminate_sessions`, membership
    in `pg_signal_backend`. `check` logs in as the credential's role at the consumers' address
    (`spec.host`/`port`/`database`, else the admin DSN's) and runs `SELECT 1`.
    """

    kind: ClassVar[str] = "postgres"
    strategies: ClassVar[frozenset[Strategy]] = frozenset({Strategy.ALTERNATE, Strategy.REPLACE})
    generates_value: ClassVar[bool] = False

    def __init__(self, spec: PostgresIssuerSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = env
        self._conn: psycopg.Connection[Any] | None = None

    # ------------------------------------------------------------ connection plumbing

    def _admin_params(self) -> dict[str, Any]:
        dsn = admin_secret(self._env, self.spec.admin_dsn_env, "postgres issuer")
        try:
            return conninfo_to_dict(dsn.reveal())
        except psycopg.Error:
            # The driver's message can quote the DSN: do not chain it.
            raise IssuerError(
                f"postgres issuer: {self.spec.admin_dsn_env} is not a valid connection string",
                hint="use postgresql://user:password@host:5432/dbname",
            ) from None

    def _where(self, params: Mapping[str, Any]) -> str:
        return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"

    def _admin(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        params = self._admin_params()
        password = params.get("password")
        try:
            self._conn = psycopg.connect(**{"connect_timeout": _CONNECT_TIMEOUT, **params}, autocommit=True)
        except psycopg.OperationalError as exc:
            reason = driver_reason(exc, password)
            if any(p in str(exc).lower() for p in _AUTH_PHRASES):
                raise IssuerAuthError(
                    f"PostgreSQL at {self._where(params)} refused the admin credentials from {self.spec.admin_dsn_env}",
                    hint=f"check the user and password in {self.spec.admin_dsn_env}",
                ) from None
            raise IssuerUnavailableError(
                f"cannot reach PostgreSQL at {self._where(params)}: {reason}",
                hint="check host, port and network access; is the server running?",
            ) from None
        return self._conn

    def _consumer_params(self) -> dict[str, Any]:
        admin = self._admin_params()
        params: dict[str, Any] = {
            "host": self.spec.host or admin.get("host") or "localhost",
            "port": self.spec.port or admin.get("port") or 5432,
            "dbname": self.spec.database or admin.get("dbname") or "postgres",
            "connect_timeout": _CONNECT_TIMEOUT,
        }
        sslmode = self.spec.sslmode or admin.get("sslmode")
        if sslmode:
            params["sslmode"] = sslmode
        return params

    def _execute(
        self,
        secret: SecretSpec,
        action: str,
        query: sql.SQL | sql.Composed | str,
        *values: SecretValue | str,
        params: tuple[str, ...] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run one admin statement and return its rows; translate driver errors, echoing no value.

        Driver exceptions are not chained (`from None`): their text may quote the statement.
        """
        try:
            cur = self._admin().execute(query, params)
            return cur.fetchall() if cur.description else []
        except psycopg.errors.InsufficientPrivilege as exc:
            raise IssuerAuthError(
                f"{secret.name}: the PostgreSQL admin role may not {action}: {self._diag(exc, *values)}",
                hint="the admin role needs CREATEROLE (and pg_signal_backend to terminate sessions)",
            ) from None
        except psycopg.errors.UndefinedObject as exc:
            raise IssuerError(
                f"{secret.name}: cannot {action}: {self._diag(exc, *values)}",
                hint="create the roles first: PostgresIssuer.bootstrap_alternate or the SQL in docs/issuers.md",
            ) from None
        except psycopg.OperationalError:
            self._conn = None
            raise IssuerUnavailableError(
                f"{secret.name}: lost the PostgreSQL connection while trying to {action}",
                hint="retry with `secretops resume`; every step is idempotent",
            ) from None
        except psycopg.Error as exc:
            raise IssuerError(f"{secret.name}: cannot {action}: {self._diag(exc, *values)}") from None

    @staticmethod
    def _diag(exc: psycopg.Error, *values: SecretValue | str) -> str:
        primary = exc.diag.message_primary or type(exc).__name__
        state = f" (SQLSTATE {exc.sqlstate})" if exc.sqlstate else ""
        return scrub(primary, *values) + state

    def close(self) -> None:
        """Close the admin connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ helpers

    def _account(self, secret: SecretSpec, current: Credential | None) -> str:
        if secret.strategy is Strategy.ALTERNATE:
            return idle_account(secret, current)
        return single_account(self.kind, secret, current, "login role")

    def _set_password(self, secret: SecretSpec, role: str, value: SecretValue, *, login: bool) -> None:
        verifier = scram_sha256_verifier(value)
        query = sql.SQL("ALTER ROLE {} WITH {}PASSWORD {}").format(
            sql.Identifier(role), sql.SQL("LOGIN " if login else ""), sql.Literal(verifier)
        )
        self._execute(secret, f"set the password of role {role}", query, value, verifier)
        log.info("postgres: set a new password on role %s (SCRAM verifier, value not logged)", role)

    def _retire(self, secret: SecretSpec, role: str) -> None:
        if self.spec.retire == "scramble":
            self._set_password(secret, role, random_password(), login=False)
            log.info("postgres: scrambled the password of retired role %s", role)
        else:
            query = sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role))
            self._execute(secret, f"lock role {role}", query)
            log.info("postgres: locked retired role %s (NOLOGIN)", role)

    def _terminate(self, secret: SecretSpec, role: str) -> None:
        query = sql.SQL(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {} AND pid <> pg_backend_pid()"
        ).format(sql.Literal(role))
        self._execute(secret, f"terminate the sessions of {role}", query)
        log.info("postgres: terminated the sessions of role %s", role)

    # ------------------------------------------------------------ Issuer API

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """ALTER ROLE on the idle (or only) role, a login check, then the retirement of the old one."""
        strategy = require_strategy(self.kind, secret, self.strategies)
        actor = f"issuer:{self.kind}"
        role = self._account(secret, current)
        try:
            where = self._where(self._consumer_params())
        except IssuerError:
            where = f"the host in {self.spec.admin_dsn_env}"
        steps = [
            PlanStep(actor, f"ALTER ROLE {role} WITH LOGIN PASSWORD", f"SCRAM-SHA-256 verifier of the {NEW_VALUE}"),
            PlanStep(actor, f"check: log in as {role} at {where}, SELECT 1", "verify the new value"),
        ]
        if strategy is Strategy.ALTERNATE and current is not None:
            old = current.attributes.get("username", "?")
            lock = (
                f"ALTER ROLE {old} PASSWORD (random, held by nobody)"
                if self.spec.retire == "scramble"
                else f"ALTER ROLE {old} NOLOGIN"
            )
            steps.append(PlanStep(actor, lock, "after consumers switched and the grace period"))
            if self.spec.terminate_sessions:
                steps.append(PlanStep(actor, f"pg_terminate_backend: sessions of {old}"))
            steps.append(PlanStep(actor, f"check: login as {old} is refused", "prove the old value dead"))
        elif strategy is Strategy.REPLACE:
            steps.insert(0, PlanStep(actor, "warning", f"consumers of role {role} fail until redeployed"))
            if self.spec.terminate_sessions:
                steps.append(PlanStep(actor, f"pg_terminate_backend: sessions of {role}"))
        return steps

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """Give the idle role (alternate) or the only role (replace) the `proposed` password and LOGIN.

        Does nothing when that role already logs in with `proposed` (a resumed run).
        """
        require_strategy(self.kind, secret, self.strategies)
        if proposed is None:
            raise IssuerError(f"{secret.name}: the postgres issuer needs a generated value", hint="set a generator")
        role = self._account(secret, current)
        new = Credential(proposed, {"username": role})
        try:
            if self.check(secret, new):
                log.info("postgres: role %s already logs in with the new value; nothing to do", role)
                return new
        except IssuerUnavailableError:
            log.debug("postgres: consumer address unreachable from here; setting the password anyway")
        self._set_password(secret, role, proposed, login=True)
        return new

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """Log in as the credential's role with its password and run `SELECT 1`.

        False when the server refuses the login (wrong password, NOLOGIN, unknown role);
        `IssuerUnavailableError` when the server cannot be reached at all.
        """
        role = credential.attributes.get("username")
        if not role:
            raise IssuerError(f"{secret.name}: a postgres credential needs a username attribute")
        hint = "set `database` on the issuer to the database consumers use"
        return self._login(secret, self._consumer_params(), role, credential.value, db_hint=hint)

    def _login(
        self, secret: SecretSpec, params: Mapping[str, Any], role: str, value: SecretValue, *, db_hint: str
    ) -> bool:
        """Log in with `params` as `role`/`value` and run `SELECT 1`: True, False if refused, else raise."""
        raw = value.reveal()
        try:
            with psycopg.connect(**params, user=role, password=raw, autocommit=True) as conn:
                conn.execute("SELECT 1").fetchone()
        except psycopg.OperationalError as exc:
            text = str(exc).lower()
            if "database" in text and "does not exist" in text:
                raise IssuerError(
                    f"{secret.name}: database {params['dbname']} does not exist at {self._where(params)}",
                    hint=db_hint,
                ) from None
            if any(p in text for p in _AUTH_PHRASES):
                log.info("postgres: login as %s at %s refused", role, self._where(params))
                return False
            raise IssuerUnavailableError(
                f"{secret.name}: cannot reach PostgreSQL at {self._where(params)} to check {role}: "
                f"{driver_reason(exc, raw)}",
                hint="set host/port on the issuer to an address reachable from where secretops runs",
            ) from None
        except psycopg.Error as exc:
            raise IssuerError(f"{secret.name}: check of role {role} failed: {self._diag(exc, raw)}") from None
        return True

    def consumer_hosts(self) -> frozenset[str] | None:
        """`host` of the issuer spec (`h1,h2` for several) and the admin DSN's: where consumer checks may log in."""
        hosts = {h.strip() for h in (self.spec.host or "").split(",") if h.strip()}
        try:
            admin = self._admin_params()
        except IssuerError:
            return frozenset(hosts)
        for key in ("host", "hostaddr"):
            hosts.update(h for h in str(admin.get(key) or "").split(",") if h)
        return frozenset(hosts)

    def host_aliases(self) -> frozenset[str]:
        """`aliases` of the issuer spec: names consumers use that are checked at the issuer's address."""
        return frozenset(self.spec.aliases)

    def check_endpoint(self, secret: SecretSpec, endpoint: Endpoint) -> bool:
        """Log in where a consumer's parsed value points (hosts, ports, database), as it would.

        Only at one of `consumer_hosts()`: any other host is refused with an `IssuerError`
        before a connection is tried. The database defaults to the user name, as in libpq.
        """
        allowed = self.consumer_hosts() or frozenset()
        if endpoint.service != "postgres":
            raise IssuerError(f"{secret.name}: a {endpoint.scheme} URL is not a PostgreSQL connection string")
        hosts: list[str] = []
        ports: list[int] = []
        for host, port in zip(endpoint.hosts, endpoint.ports, strict=True):
            if not host_matches(host, allowed) and host_matches(host, self.host_aliases()):
                own = self._consumer_params()  # an alias: log in at the issuer's own address
                host, port = str(own["host"]), int(own["port"])
            elif not host_matches(host, allowed):
                hosts = []
                break
            hosts.append(host)
            ports.append(port or 5432)
        if not hosts:
            raise IssuerError(
                f"{secret.name}: refusing to log in at {endpoint.where()}: not the issuer's host "
                f"({', '.join(sorted(allowed)) or 'none configured'})",
                hint="set `host` on the issuer to the host consumers connect to",
            )
        if endpoint.password is None or not endpoint.user:
            return False
        params: dict[str, Any] = {
            "host": ",".join(hosts),
            "port": ",".join(str(p) for p in ports),
            "dbname": endpoint.database or endpoint.user,
            "connect_timeout": _CONNECT_TIMEOUT,
        }
        params.update({k: v for k, v in endpoint.options.items() if k in ("sslmode", "target_session_attrs")})
        hint = "the consumer's value names a database that does not exist: fix its template"
        return self._login(secret, params, endpoint.user, endpoint.password, db_hint=hint)

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """alternate: lock the retired role (`NOLOGIN` or a random password). replace: nothing left to do.

        With `terminate_sessions`, the retired role's open sessions are ended too.
        """
        strategy = require_strategy(self.kind, secret, self.strategies)
        if strategy is Strategy.REPLACE:
            # The one role already has the new password; the old one stopped working at `apply`.
            if self.spec.terminate_sessions:
                self._terminate(secret, keep.attributes.get("username", ""))
            return
        role = other_than(secret, old, keep)
        self._retire(secret, role)
        if self.spec.terminate_sessions:
            self._terminate(secret, role)

    def rollback(self, secret: SecretSpec, new: Credential, keep: Credential | None) -> None:
        """alternate: lock the idle role again. replace: set `keep`'s password back on the role."""
        strategy = require_strategy(self.kind, secret, self.strategies)
        role = new.attributes.get("username", "")
        if strategy is Strategy.REPLACE:
            if keep is None:
                raise IssuerError(
                    f"{secret.name}: cannot roll back a replace without the previous value",
                    hint="the role keeps the new password; store or distribute it",
                )
            self._set_password(secret, role, keep.value, login=True)
            return
        if keep is not None and keep.attributes.get("username") == role:
            raise IssuerError(f"{secret.name}: refusing to lock {role}: the credential to keep uses it")
        self._retire(secret, role)

    def bootstrap_alternate(self, secret: SecretSpec, *, group: str, set_role: bool = True) -> list[str]:
        """Create the group role and the two login roles of an alternate secret. Idempotent.

        `group` (NOLOGIN) is meant to own the objects and hold the grants; both accounts become
        members, start as NOLOGIN without a password (the first `apply` enables one), and with
        `set_role` run `SET ROLE group` at login, so tables they create belong to the group.
        Grant privileges to `group` yourself. Returns what was done.
        """
        if len(secret.accounts) != 2:
            raise IssuerError(f"{secret.name}: bootstrap_alternate needs two accounts", hint="accounts: [a, b]")
        done: list[str] = []
        for role, login_role in ((group, False), *((a, True) for a in secret.accounts)):
            exists = self._execute(secret, "look up roles", "SELECT 1 FROM pg_roles WHERE rolname = %s", params=(role,))
            if not exists:
                self._execute(
                    secret, f"create role {role}", sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role))
                )
                done.append(f"CREATE ROLE {role} NOLOGIN")
            if login_role:
                member = self._execute(
                    secret,
                    "look up role memberships",
                    "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
                    params=(group, role),
                )
                if not member:
                    self._execute(
                        secret,
                        f"grant {group} to {role}",
                        sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role)),
                    )
                    done.append(f"GRANT {group} TO {role}")
                if set_role:
                    self._execute(
                        secret,
                        f"set the default role of {role}",
                        sql.SQL("ALTER ROLE {} SET role = {}").format(sql.Identifier(role), sql.Literal(group)),
                    )
        return done
