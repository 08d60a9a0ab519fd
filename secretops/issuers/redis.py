"""Redis 6+ / Valkey ACL users, rotated by `overlap` (a user can hold several passwords), via redis-py.

`apply` adds the new password beside the old one; `revoke` removes the old one, never with
`resetpass` (that would drop every password). Passwords are sent as their SHA-256 hashes
(`ACL SETUSER user #<hash>` to add, `!<hash>` to remove): the same effect as `>pass`/`<pass`,
but the plaintext never goes over the admin connection, so `MONITOR` or a proxy log cannot
show it. Idempotency comes from `ACL GETUSER`, which lists the hashes a user holds.

In OSS Redis, connections already authenticated survive a password removal; `kill_clients`
runs `CLIENT KILL USER`, which drops *all* the user's connections (also those that use the new
password: they must reconnect). Managed offerings differ (platform-apis.md section 7).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from secretops.errors import IssuerError
from secretops.inventory.models import RedisIssuerSpec, SecretSpec, Strategy
from secretops.issuers._common import NEW_VALUE, require_strategy, single_account
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

__all__ = ["RedisIssuer", "acl_hash"]

log = logging.getLogger(__name__)

_TIMEOUT = 5.0


def acl_hash(value: SecretValue) -> str:
    """The hex SHA-256 Redis stores for an ACL password (what `ACL GETUSER` lists)."""
    return hashlib.sha256(value.reveal().encode("utf-8")).hexdigest()


class RedisIssuer(Issuer):
    """One ACL user of a Redis 6+ server reached with the admin URL in `spec.admin_url_env`.

    The admin user needs `+acl` (ACL GETUSER/SETUSER/SAVE) and, with `kill_clients`,
    `+client|kill`. `secret.accounts[0]` names the ACL user, which must exist with its
    permissions. `check` opens a fresh connection to the admin URL's host and port with
    `AUTH user password` and sends `PING`.
    """

    kind: ClassVar[str] = "redis"
    strategies: ClassVar[frozenset[Strategy]] = frozenset({Strategy.OVERLAP})
    generates_value: ClassVar[bool] = False

    def __init__(self, spec: RedisIssuerSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = env
        self._client: redis.Redis | None = None

    # ------------------------------------------------------------ connection plumbing

    def _pool_args(self) -> tuple[type[Any], dict[str, Any]]:
        url = admin_secret(self._env, self.spec.admin_url_env, "redis issuer")
        try:
            pool = redis.ConnectionPool.from_url(url.reveal())
        except ValueError:
            raise IssuerError(
                f"redis issuer: {self.spec.admin_url_env} is not a redis:// or rediss:// URL",
                hint="use redis://user:password@host:6379/0",
            ) from None
        kwargs = dict(pool.connection_kwargs)
        pool.disconnect()
        kwargs.update(socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT)
        return pool.connection_class, kwargs

    @staticmethod
    def _where(kwargs: Mapping[str, Any]) -> str:
        return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"

    def _admin(self) -> redis.Redis:
        if self._client is None:
            cls, kwargs = self._pool_args()
            kwargs["retry"] = Retry(NoBackoff(), 1)
            self._client = redis.Redis(connection_pool=redis.ConnectionPool(connection_class=cls, **kwargs))
        return self._client

    def _call(self, secret: SecretSpec, action: str, *args: str) -> Any:
        """Run one admin command; translate redis-py errors into issuer errors (no values in them)."""
        client = self._admin()
        where = self._where(client.connection_pool.connection_kwargs)
        try:
            return client.execute_command(*args)  # type: ignore[no-untyped-call]
        except redis.AuthenticationError:
            raise IssuerAuthError(
                f"Redis at {where} refused the admin credentials from {self.spec.admin_url_env}",
                hint=f"check the user and password in {self.spec.admin_url_env}",
            ) from None
        except redis.exceptions.NoPermissionError:
            raise IssuerAuthError(
                f"{secret.name}: the Redis admin user may not {action}",
                hint="the admin user needs +acl (and +client|kill with kill_clients)",
            ) from None
        except (redis.ConnectionError, redis.TimeoutError):
            raise IssuerUnavailableError(
                f"cannot reach Redis at {where} to {action}",
                hint="check host, port and network access; is the server running?",
            ) from None
        except redis.ResponseError as exc:
            # Server error text does not echo ACL rules, but hashes are not worth risking: first word only.
            code = str(exc).split(" ", 1)[0] if str(exc) else "ERR"
            hint = "the server has no ACL file: set acl_save: false" if action == "ACL SAVE" else None
            raise IssuerError(f"{secret.name}: Redis refused to {action} ({code})", hint=hint) from None
        except redis.RedisError as exc:
            raise IssuerError(f"{secret.name}: Redis failed to {action} ({type(exc).__name__})") from None

    def _user(self, secret: SecretSpec, username: str) -> tuple[set[str], bool]:
        """The password hashes `username` holds and whether it is enabled."""
        raw = self._call(secret, f"read ACL user {username}", "ACL", "GETUSER", username)
        if raw is None:
            raise IssuerError(
                f"{secret.name}: Redis ACL user {username} does not exist",
                hint=f"create it with its permissions first, e.g. ACL SETUSER {username} on ~app:* +@read +@write",
            )
        info = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in dict(raw).items()}
        hashes = {h.decode() if isinstance(h, bytes) else str(h) for h in info.get("passwords") or []}
        flags = {f.decode() if isinstance(f, bytes) else str(f) for f in info.get("flags") or []}
        return hashes, "on" in flags

    def _after_change(self, secret: SecretSpec) -> None:
        if self.spec.acl_save:
            self._call(secret, "ACL SAVE", "ACL", "SAVE")

    def close(self) -> None:
        """Close the admin connection pool."""
        if self._client is not None:
            self._client.close()
            self._client.connection_pool.disconnect()
            self._client = None

    # ------------------------------------------------------------ Issuer API

    def _username(self, secret: SecretSpec, current: Credential | None) -> str:
        return single_account(self.kind, secret, current, "ACL user")

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """ACL SETUSER to add the new password, AUTH checks, then ACL SETUSER to remove the old one."""
        require_strategy(self.kind, secret, self.strategies)
        actor = f"issuer:{self.kind}"
        user = self._username(secret, current)
        steps = [
            PlanStep(actor, f"ACL GETUSER {user}", "which password hashes the user holds"),
            PlanStep(actor, f"ACL SETUSER {user} on #<sha256>", f"add the {NEW_VALUE}; the old one keeps working"),
        ]
        if self.spec.acl_save:
            steps.append(PlanStep(actor, "ACL SAVE"))
        steps.append(PlanStep(actor, f"check: AUTH {user} + PING", "verify the new value"))
        if current is not None:
            steps.append(PlanStep(actor, f"ACL SETUSER {user} !<sha256>", "remove the old password after the grace"))
            if self.spec.acl_save:
                steps.append(PlanStep(actor, "ACL SAVE"))
            if self.spec.kill_clients:
                steps.append(PlanStep(actor, f"CLIENT KILL USER {user}", "drops every connection of the user"))
            steps.append(PlanStep(actor, f"check: AUTH {user} with the old value is refused", "prove it dead"))
        return steps

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """Add `proposed` to the ACL user's passwords (the current one stays valid). No-op if present."""
        require_strategy(self.kind, secret, self.strategies)
        if proposed is None:
            raise IssuerError(f"{secret.name}: the redis issuer needs a generated value", hint="set a generator")
        user = self._username(secret, current)
        new = Credential(proposed, {"username": user})
        hashes, enabled = self._user(secret, user)
        if acl_hash(proposed) in hashes and enabled:
            log.info("redis: ACL user %s already holds the new password; nothing to do", user)
            return new
        self._call(secret, f"add a password to ACL user {user}", "ACL", "SETUSER", user, "on", "#" + acl_hash(proposed))
        log.info("redis: added a password to ACL user %s (%d held before; value not logged)", user, len(hashes))
        self._after_change(secret)
        return new

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """A fresh connection with `AUTH user password` and `PING`: False when the AUTH is refused."""
        user = credential.attributes.get("username")
        if not user:
            raise IssuerError(f"{secret.name}: a redis credential needs a username attribute")
        cls, kwargs = self._pool_args()
        kwargs.update(username=user, password=credential.value.reveal())
        return self._ping(secret, cls, kwargs, user)

    def _ping(self, secret: SecretSpec, cls: type[Any], kwargs: dict[str, Any], user: str) -> bool:
        """A fresh connection with `kwargs` (`AUTH`, `SELECT`) and `PING`: False when the AUTH is refused."""
        kwargs["retry"] = Retry(NoBackoff(), 0)
        client = redis.Redis(connection_pool=redis.ConnectionPool(connection_class=cls, **kwargs))
        try:
            client.ping()
        except redis.AuthenticationError:
            log.info("redis: AUTH as %s at %s refused", user, self._where(kwargs))
            return False
        except redis.exceptions.NoPermissionError:
            return True  # authenticated, just not allowed to PING
        except (redis.ConnectionError, redis.TimeoutError):
            raise IssuerUnavailableError(
                f"{secret.name}: cannot reach Redis at {self._where(kwargs)} to check {user}",
                hint="check host, port and network access",
            ) from None
        except redis.ResponseError as exc:
            # e.g. "DB index is out of range" from the SELECT of a consumer's /N
            code = str(exc).split(" ", 1)[0] if str(exc) else "ERR"
            raise IssuerError(
                f"{secret.name}: Redis at {self._where(kwargs)} refused a command of the login as {user} ({code}: "
                f"{'database ' + str(kwargs.get('db')) + ' ' if kwargs.get('db') else ''}{str(exc)[:60]})",
                hint="check the database number in the consumer's URL",
            ) from None
        except redis.RedisError as exc:
            raise IssuerError(f"{secret.name}: check of ACL user {user} failed ({type(exc).__name__})") from None
        finally:
            client.close()
            client.connection_pool.disconnect()
        return True

    def consumer_hosts(self) -> frozenset[str] | None:
        """The admin URL's host (or socket path): where consumer checks may log in."""
        try:
            _, kwargs = self._pool_args()
        except IssuerError:
            return frozenset()
        found = {str(h) for h in (kwargs.get("host"), kwargs.get("path")) if h}
        return frozenset(found or {"localhost"})  # redis-py's default host

    def host_aliases(self) -> frozenset[str]:
        """`aliases` of the issuer spec: names consumers use that are checked at the admin URL's address."""
        return frozenset(self.spec.aliases)

    def check_endpoint(self, secret: SecretSpec, endpoint: Endpoint) -> bool:
        """`AUTH` with the user and password a consumer's parsed URL carries, at its host, port and db.

        Only at the admin URL's host: another is refused before any connection. No user in the
        URL means `AUTH <password>`, i.e. the `default` user, as redis-py does.
        """
        allowed = self.consumer_hosts() or frozenset()
        if endpoint.service != "redis":
            raise IssuerError(f"{secret.name}: a {endpoint.scheme} URL is not a Redis URL")
        alias = len(endpoint.hosts) == 1 and not host_matches(endpoint.hosts[0], allowed)
        alias = alias and host_matches(endpoint.hosts[0], self.host_aliases())
        if not alias and (len(endpoint.hosts) != 1 or not host_matches(endpoint.hosts[0], allowed)):
            raise IssuerError(
                f"{secret.name}: refusing to log in at {endpoint.where()}: not the issuer's host "
                f"({', '.join(sorted(allowed)) or 'none configured'})",
                hint="point the admin URL at the host consumers use",
            )
        if endpoint.password is None:
            return False
        cls, kwargs = self._pool_args()
        own: dict[str, Any] = {k: kwargs[k] for k in ("host", "port", "path") if k in kwargs}
        for key in ("host", "port", "path", "db", "username", "password"):
            kwargs.pop(key, None)
        if alias:  # a name only consumers can resolve: log in at the admin URL's address
            kwargs.update(own)
        elif endpoint.scheme == "unix":
            cls = redis.UnixDomainSocketConnection
            kwargs["path"] = endpoint.hosts[0]
        else:
            if endpoint.scheme == "rediss":
                cls = redis.SSLConnection
            elif cls is redis.SSLConnection:
                cls = redis.Connection
            kwargs.update(host=endpoint.hosts[0], port=endpoint.port or 6379)
            kwargs = {k: v for k, v in kwargs.items() if cls is redis.SSLConnection or not k.startswith("ssl_")}
        kwargs.update(db=int(endpoint.database or 0), username=endpoint.user, password=endpoint.password.reveal())
        return self._ping(secret, cls, kwargs, endpoint.user or "default")

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """Remove `old`'s password from the ACL user, once `keep`'s is there. Idempotent.

        With `kill_clients`, every connection of the user is then closed (`CLIENT KILL USER`).
        """
        require_strategy(self.kind, secret, self.strategies)
        user = keep.attributes.get("username") or self._username(secret, old)
        if old.attributes.get("username", user) != user:
            raise IssuerError(f"{secret.name}: old and new credentials name different ACL users")
        old_hash, keep_hash = acl_hash(old.value), acl_hash(keep.value)
        if old_hash == keep_hash:
            raise IssuerError(f"{secret.name}: refusing to revoke: the old and new values are the same")
        hashes, _ = self._user(secret, user)
        if keep_hash not in hashes:
            raise IssuerError(
                f"{secret.name}: refusing to remove the old password of {user}: the new one is not set",
                hint="resume the rotation so apply adds the new password first",
            )
        if old_hash in hashes:
            self._call(secret, f"remove a password of ACL user {user}", "ACL", "SETUSER", user, "!" + old_hash)
            log.info("redis: removed the old password of ACL user %s", user)
            self._after_change(secret)
        else:
            log.info("redis: ACL user %s no longer holds the old password; nothing to remove", user)
        if self.spec.kill_clients:
            killed = self._call(secret, f"CLIENT KILL USER {user}", "CLIENT", "KILL", "USER", user)
            log.info("redis: closed %s connection(s) of ACL user %s", killed, user)

    def rollback(self, secret: SecretSpec, new: Credential, keep: Credential | None) -> None:
        """Remove `new`'s password again, unless it is the only one the user holds."""
        require_strategy(self.kind, secret, self.strategies)
        user = new.attributes.get("username") or self._username(secret, keep)
        new_hash = acl_hash(new.value)
        hashes, _ = self._user(secret, user)
        if new_hash not in hashes:
            return
        if keep is not None and acl_hash(keep.value) == new_hash:
            raise IssuerError(f"{secret.name}: refusing to roll back: the value to keep is the new one")
        if hashes == {new_hash}:
            raise IssuerError(
                f"{secret.name}: refusing to roll back: the new password is the only one ACL user {user} holds",
                hint="keep the new value; the user would be locked out otherwise",
            )
        self._call(secret, f"remove a password of ACL user {user}", "ACL", "SETUSER", user, "!" + new_hash)
        self._after_change(secret)
