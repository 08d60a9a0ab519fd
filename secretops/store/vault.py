"""`VaultStore`: HashiCorp Vault or OpenBao KV v2, through hvac.

Layout under the KV v2 mount (`VaultSettings.mount`, default `secret`) and `prefix`:

- `<prefix>/<name>`: the values, one KV version per store version (`{"value": ...}`), written
  with `cas=<current KV version>`; the store's version number is the KV version number.
- `<prefix>/_state/<name>`: the authoritative, value-free state (labels, per-version
  fingerprints, dates, attributes, run ids), one small KV secret rewritten with
  `cas=<its current version>` on every change. KV v2 metadata has no check-and-set, so labels
  live in data, where a `cas` write makes two concurrent promotes impossible: the loser's write
  is refused, it re-reads, and its check fails (`StoreConflictError`). `_state` cannot clash
  with a secret name, which starts with a letter or digit.
- the custom metadata of `<prefix>/<name>` mirrors the labels and the last versions'
  fingerprints (`bao kv metadata get`), kept within Vault's limits (64 keys, 512 bytes each);
  it is informational, rewritten after each change.

hvac is untyped: its dicts and exceptions stay in this module; everything leaving it is a
`Store` type or a `StoreError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import hvac
import hvac.exceptions

from secretops.settings import VaultSettings
from secretops.store._state import RecordStore, SecretRecord, VersionRecord, check_name, iso, stamp
from secretops.store.interface import (
    Label,
    SecretState,
    StoreAuthError,
    StoreConflictError,
    StoredValue,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
    Version,
)
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["VaultStore"]

log = logging.getLogger(__name__)

_STATE: Final = "_state"
_MIRRORED_VERSIONS: Final = 40  # 40 + 6 label/state keys stays under Vault's 64 custom-metadata keys
_META_VALUE_MAX: Final = 512
_RETRIES: Final = 8


class VaultStore(RecordStore):
    """Secret values in Vault/OpenBao KV v2 with check-and-set labels.

    Authenticates at construction with the method in `settings.auth` (token, AppRole,
    Kubernetes). `client` is for tests that bring their own `hvac.Client`; `max_versions`
    is set on each value path so KV keeps the history (its mount default keeps only 10).
    """

    id = "vault"

    def __init__(
        self,
        settings: VaultSettings,
        *,
        fingerprint_key: FingerprintKey | None = None,
        client: Any = None,
        max_versions: int = 1000,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self._mount = settings.mount.strip("/")
        self._prefix = settings.prefix.strip("/")
        self._max_versions = max_versions
        self._clock = clock or (lambda: datetime.now(UTC))
        if fingerprint_key is None:
            from secretops.settings import Settings

            fingerprint_key = Settings.from_env().fingerprint_key()
        self._fp_key = fingerprint_key
        self._client: Any = client if client is not None else self._login()

    def __repr__(self) -> str:
        return f"VaultStore(addr={self.settings.addr!r}, mount={self._mount!r}, prefix={self._prefix!r})"

    # ------------------------------------------------------------ connection and errors

    def _login(self) -> Any:
        s = self.settings
        client = hvac.Client(url=s.addr, namespace=s.namespace, verify=s.verify, timeout=s.timeout)
        try:
            self._authenticate(client)
        except StoreError as exc:
            if type(exc) in (StoreError, StoreNotFoundError):  # e.g. 400 "invalid role or secret ID"
                raise StoreAuthError(f"Vault at {s.addr} refused the {s.auth} login", hint=exc.hint) from exc
            raise
        log.debug("vault: authenticated to %s with %s", s.addr, s.auth)
        return client

    def _authenticate(self, client: Any) -> None:
        s = self.settings
        with self._translate(f"log in with {s.auth}"):
            if s.auth == "token":
                if s.token is None:
                    raise StoreAuthError(
                        f"no Vault token for {s.addr}", hint="set VAULT_TOKEN (or BAO_TOKEN), or choose another auth"
                    )
                client.token = s.token.reveal()
            elif s.auth == "approle":
                if not s.role_id or s.secret_id is None:
                    raise StoreAuthError(
                        "AppRole login needs a role id and a secret id", hint="set VAULT_ROLE_ID and VAULT_SECRET_ID"
                    )
                client.auth.approle.login(role_id=s.role_id, secret_id=s.secret_id.reveal())
            else:
                if not s.k8s_role:
                    raise StoreAuthError("Kubernetes login needs a role", hint="set VAULT_K8S_ROLE")
                try:
                    jwt = s.k8s_jwt_path.read_text().strip()
                except OSError as exc:
                    raise StoreAuthError(
                        f"cannot read the service account token {s.k8s_jwt_path}",
                        hint="run inside a pod with a mounted service account token",
                    ) from exc
                client.auth.kubernetes.login(role=s.k8s_role, jwt=jwt)

    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """Turn hvac and transport exceptions into store errors (messages never hold values)."""
        addr = self.settings.addr
        try:
            yield
        except StoreError:
            raise
        except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized) as exc:
            raise StoreAuthError(
                f"Vault at {addr} refused to {what}: permission denied",
                hint=f"check the token or login credentials, and that its policy grants {self._mount}/data/"
                f"{self._prefix}/* (create, read, update), {self._mount}/metadata/{self._prefix}/* (read, update, "
                f"list) and {self._mount}/delete/{self._prefix}/* (update); see docs/store.md",
            ) from exc
        except hvac.exceptions.VaultDown as exc:
            raise StoreUnavailableError(
                f"Vault at {addr} is sealed or in standby; cannot {what}",
                hint="unseal it (bao operator unseal / vault operator unseal) and retry",
            ) from exc
        except hvac.exceptions.VaultNotInitialized as exc:
            raise StoreUnavailableError(
                f"Vault at {addr} is not initialized", hint="initialize and unseal it (bao operator init)"
            ) from exc
        except hvac.exceptions.InvalidPath as exc:
            if "no handler for route" in str(exc):
                raise StoreError(
                    f"Vault at {addr} has no secrets engine mounted at {self._mount}/",
                    hint=f"enable KV v2 there: bao secrets enable -path={self._mount} kv-v2 "
                    "(or set SECRETOPS_VAULT_MOUNT)",
                ) from exc
            raise StoreNotFoundError(f"Vault at {addr}: nothing found while trying to {what}") from exc
        except hvac.exceptions.VaultError as exc:
            errors = "; ".join(str(e) for e in (getattr(exc, "errors", None) or [])) or type(exc).__name__
            raise StoreError(f"Vault at {addr} failed to {what}: {errors}") from exc
        except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
            raise StoreUnavailableError(
                f"cannot reach Vault at {addr} to {what} ({type(exc).__name__})",
                hint="check VAULT_ADDR and that the server is running and reachable",
            ) from exc

    # ------------------------------------------------------------ paths and raw KV calls

    def _join(self, *parts: str) -> str:
        return "/".join(p for p in (self._prefix, *parts) if p)

    def _value_path(self, name: str) -> str:
        return self._join(name)

    def _state_path(self, name: str) -> str:
        return self._join(_STATE, name)

    @property
    def _kv(self) -> Any:
        return self._client.secrets.kv.v2

    def _read(self, path: str, version: int | None = None) -> Mapping[str, Any] | None:
        """The `data` block of a KV read, or None when the path (or version) is absent or deleted."""
        try:
            with self._translate(f"read {self._mount}/{path}"):
                response = self._kv.read_secret_version(
                    path, version=version, mount_point=self._mount, raise_on_deleted_version=True
                )
        except StoreNotFoundError:
            return None
        data: Mapping[str, Any] = response["data"]
        return data

    def _write(self, path: str, data: Mapping[str, Any], cas: int) -> int | None:
        """Write `data` with check-and-set; the new KV version, or None when `cas` did not match."""
        try:
            response = self._kv.create_or_update_secret(path, secret=dict(data), cas=cas, mount_point=self._mount)
        except hvac.exceptions.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                return None
            with self._translate(f"write {self._mount}/{path}"):
                raise
        except Exception:
            with self._translate(f"write {self._mount}/{path}"):
                raise
        return int(response["data"]["version"])

    def _current_kv_version(self, path: str) -> int:
        try:
            with self._translate(f"read metadata of {self._mount}/{path}"):
                response = self._kv.read_secret_metadata(path, mount_point=self._mount)
        except StoreNotFoundError:
            return 0
        return int(response["data"].get("current_version") or 0)

    def _read_state(self, name: str) -> tuple[SecretRecord | None, int]:
        data = self._read(self._state_path(name))
        if data is None:
            return None, 0
        return SecretRecord.from_json(data["data"]), int(data["metadata"]["version"])

    def _mirror(self, record: SecretRecord) -> None:
        """Copy labels and recent fingerprints into the value path's custom metadata."""
        meta: dict[str, str] = {f"secretops.{label.value}": str(n) for label, n in record.labels.items()}
        meta["secretops.state"] = f"{self._mount}/{self._state_path(record.name)}"
        if record.rotated_at:
            meta["secretops.rotated_at"] = iso(record.rotated_at)
        if record.last_run_id:
            meta["secretops.last_run_id"] = record.last_run_id[:_META_VALUE_MAX]
        for v in sorted(record.versions, key=lambda v: v.number)[-_MIRRORED_VERSIONS:]:
            summary = {
                "fp": v.fingerprint,
                "at": iso(v.created_at),
                "run": v.run_id,
                "revoked": iso(v.revoked_at) if v.revoked_at else None,
            }
            text = json.dumps({k: str(x) for k, x in summary.items() if x}, separators=(",", ":"))
            meta[f"v{v.number}"] = text[:_META_VALUE_MAX]
        try:
            with self._translate(f"update metadata of {self._mount}/{self._value_path(record.name)}"):
                self._kv.update_metadata(
                    self._value_path(record.name),
                    max_versions=self._max_versions,
                    custom_metadata=meta,
                    mount_point=self._mount,
                )
        except StoreError as exc:  # the state is already committed; the mirror is informational
            log.warning("vault: could not mirror labels of %s into custom metadata: %s", record.name, exc.message)

    def _mutate(self, name: str, change: Callable[[SecretRecord], bool]) -> None:
        """Apply `change` to the state with check-and-set, re-reading and re-checking on a lost race."""
        check_name(name)
        for _ in range(_RETRIES):
            record, cas = self._read_state(name)
            if record is None:
                raise StoreNotFoundError(f"the store has no secret {name!r}")
            if not change(record):
                return
            if self._write(self._state_path(name), record.to_json(), cas) is not None:
                self._mirror(record)
                return
            log.debug("vault: state of %s changed under us; re-reading", name)
        raise StoreConflictError(f"secret {name!r} keeps changing under concurrent writers", hint="retry later")

    def _value(self, record: SecretRecord, number: int) -> StoredValue:
        v = record.require(number)
        data = self._read(self._value_path(record.name), version=number)
        if data is None or "value" not in (data.get("data") or {}):
            raise StoreNotFoundError(
                f"secret {record.name!r} version {number} is gone from Vault (deleted, destroyed or pruned)",
                hint=f"check: bao kv metadata get -mount={self._mount} {self._value_path(record.name)}",
            )
        return StoredValue(version=record.public(v), value=SecretValue(str(data["data"]["value"])))

    # ------------------------------------------------------------ Store

    def put(
        self,
        name: str,
        value: SecretValue,
        *,
        attributes: Mapping[str, str] | None = None,
        labels: frozenset[Label] = frozenset({Label.PENDING}),
        run_id: str | None = None,
    ) -> Version:
        """Write a KV version (cas), then record it and move `labels` in the state (cas)."""
        check_name(name)
        labels = frozenset(labels)
        value_path = self._value_path(name)
        for _ in range(_RETRIES):
            record, state_cas = self._read_state(name)
            record = record or SecretRecord(name)
            record.check_put(labels, run_id)
            number = self._write(value_path, {"value": value.reveal()}, self._current_kv_version(value_path))
            if number is None:
                continue  # another writer added a version between our read and write
            version = VersionRecord(
                number=number,
                fingerprint=fingerprint(self._fp_key, value),
                created_at=stamp(self._clock()),
                attributes=dict(attributes or {}),
                run_id=run_id,
            )
            record.add(version, labels)
            if self._write(self._state_path(name), record.to_json(), state_cas) is not None:
                self._mirror(record)
                log.debug("vault: stored %s version %d (%s) labels=%s", name, number, version.fingerprint, set(labels))
                return record.public(version)
            # Lost the race on the state: withdraw our unrecorded version and re-check.
            with self._translate(f"delete an unrecorded version of {self._mount}/{value_path}"):
                self._kv.delete_secret_versions(value_path, versions=[number], mount_point=self._mount)
        raise StoreConflictError(f"secret {name!r} keeps changing under concurrent writers", hint="retry later")

    def get(self, name: str, label: Label = Label.CURRENT) -> StoredValue | None:
        """The version carrying `label`, read from its KV version, or None."""
        record, _ = self._read_state(check_name(name))
        if record is None or label not in record.labels:
            return None
        return self._value(record, record.labels[label])

    def get_version(self, name: str, number: int) -> StoredValue:
        """Version `number` (`StoreNotFoundError` if absent)."""
        record, _ = self._read_state(check_name(name))
        if record is None:
            raise StoreNotFoundError(f"the store has no secret {name!r}")
        return self._value(record, number)

    def state(self, name: str) -> SecretState | None:
        """The state secret of `name`, without reading any value."""
        record, _ = self._read_state(check_name(name))
        return None if record is None else record.state()

    def names(self) -> list[str]:
        """Every name with a state secret under `<prefix>/_state/`, sorted."""
        found: list[str] = []
        stack = [""]
        while stack:
            sub = stack.pop()
            try:
                with self._translate(f"list {self._mount}/{self._state_path(sub)}"):
                    response = self._kv.list_secrets(self._state_path(sub).rstrip("/") + "/", mount_point=self._mount)
            except StoreNotFoundError:
                continue
            for key in response["data"]["keys"]:
                if key.endswith("/"):
                    stack.append(sub + key)
                else:
                    found.append(sub + key)
        return sorted(found)

    def close(self) -> None:
        """Close the HTTP session."""
        adapter = getattr(self._client, "adapter", None)
        if adapter is not None:
            adapter.close()
