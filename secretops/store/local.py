"""`LocalStore`: the embedded store used when no Vault is configured.

One JSON file, `<state_dir>/store.json`, mode 0600. Metadata (labels, fingerprints, dates,
attributes) is in clear; each value is sealed with AES-256-GCM (`cryptography`), with the
secret name and version number as associated data, so a ciphertext moved to another secret or
version fails to open. A key check (a sealed constant) lets a wrong key fail at start, before
anything is written.

The key is 32 bytes, from `SECRETOPS_LOCAL_KEY` (64 hex characters, or base64) or from the key
file `<state_dir>/local.key` (hex), created with mode 0600 on the first write. A key file that
group or others can access is refused. Every change is a read-modify-write under an exclusive
`fcntl.flock` on `<state_dir>/store.lock`, and the file is replaced atomically
(`secretops.fileio.write_private`), so check-and-set promotes are safe across processes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretops.fileio import write_private
from secretops.store._state import RecordStore, SecretRecord, VersionRecord, check_name, stamp
from secretops.store.interface import (
    Label,
    SecretState,
    StoredValue,
    StoreError,
    StoreNotFoundError,
    Version,
)
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = ["KEY_ENV", "LocalStore", "load_local_key"]

log = logging.getLogger(__name__)

KEY_ENV: Final = "SECRETOPS_LOCAL_KEY"
KEY_FILE: Final = "local.key"
STORE_FILE: Final = "store.json"
LOCK_FILE: Final = "store.lock"
_FORMAT: Final = 1
_NONCE: Final = 12
_CHECK_AD: Final = b"secretops-local:v1:key-check"
_CHECK_PLAIN: Final = b"secretops local store"
_KEYGEN_HINT: Final = "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"


def _decode_key(text: str) -> bytes:
    text = text.strip()
    if len(text) == 64:
        with contextlib.suppress(ValueError):
            return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise StoreError(f"{KEY_ENV} is not a 32-byte key in hex (64 characters) or base64", hint=_KEYGEN_HINT)
    return raw


def load_local_key(state_dir: Path, environ: Mapping[str, str] | None = None, *, create: bool = False) -> bytes | None:
    """The LocalStore key: `SECRETOPS_LOCAL_KEY`, else `<state_dir>/local.key`.

    With `create`, a missing key file is made (32 random bytes, hex, mode 0600). Returns None
    when there is no key and `create` is false. Refuses a key file group or others can access.
    """
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _decode_key(env[KEY_ENV])
    path = Path(state_dir) / KEY_FILE
    try:
        st = path.stat()
    except FileNotFoundError:
        if not create:
            return None
        key = secrets.token_bytes(32)
        write_private(path, key.hex() + "\n")
        log.info("created local store key file %s (mode 0600)", path)
        return key
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise StoreError(
            f"the local store key file {path} is accessible to group or others (mode {stat.S_IMODE(st.st_mode):04o})",
            hint=f"chmod 600 {path}",
        )
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise StoreError(f"the local store key file {path} does not hold a 32-byte hex key", hint=_KEYGEN_HINT)
    return key


class LocalStore(RecordStore):
    """An encrypted JSON file under the state directory (`.secretops/` by default).

    `key` (32 bytes) overrides `SECRETOPS_LOCAL_KEY` and the key file; `fingerprint_key`
    defaults to the installation's (`Settings.fingerprint_key()`); `clock` is for tests.
    """

    id = "local"

    def __init__(
        self,
        path: Path,
        key: bytes | None = None,
        *,
        fingerprint_key: FingerprintKey | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self._file = self.path / STORE_FILE
        self._lock_path = self.path / LOCK_FILE
        self._environ = dict(os.environ if environ is None else environ)
        if key is not None and len(key) != 32:
            raise StoreError("a LocalStore key is 32 bytes", hint=_KEYGEN_HINT)
        self._key: bytes | None = key if key is not None else load_local_key(self.path, self._environ)
        if key is not None:
            self._key_source = "the key given"
        elif self._environ.get(KEY_ENV):
            self._key_source = KEY_ENV
        else:
            self._key_source = str(self.path / KEY_FILE)
        if fingerprint_key is None:
            from secretops.settings import Settings

            fingerprint_key = Settings.from_env(self._environ).fingerprint_key()
        self._fp_key = fingerprint_key
        self._clock = clock or (lambda: datetime.now(UTC))
        doc = self._load()
        if doc is not None:
            if self._key is None:
                raise StoreError(
                    f"the local store {self._file} exists but its key is missing",
                    hint=f"set {KEY_ENV} or restore {self.path / KEY_FILE}; a new key cannot open old values",
                )
            self._check_key(doc)

    def __repr__(self) -> str:
        return f"LocalStore(path={str(self.path)!r})"

    # ------------------------------------------------------------ file, lock, cipher

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        if not exclusive and not self.path.is_dir():
            yield  # nothing stored yet; reading must not create the state directory (--dry-run)
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _load(self) -> dict[str, Any] | None:
        try:
            text = self._file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(
                f"the local store {self._file} is not valid JSON (line {exc.lineno})",
                hint="restore it from a backup; secretops never writes a partial file",
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise StoreError(f"the local store {self._file} has an unknown format", hint="upgrade secretops")
        return doc

    def _aead(self) -> AESGCM:
        if self._key is None:
            self._key = load_local_key(self.path, self._environ, create=True)
            assert self._key is not None
        return AESGCM(self._key)

    def _seal(self, plain: bytes, ad: bytes) -> str:
        nonce = secrets.token_bytes(_NONCE)
        return base64.b64encode(nonce + self._aead().encrypt(nonce, plain, ad)).decode("ascii")

    def _open(self, sealed: str, ad: bytes) -> bytes:
        raw = base64.b64decode(sealed)
        return self._aead().decrypt(raw[:_NONCE], raw[_NONCE:], ad)

    def _check_key(self, doc: Mapping[str, Any]) -> None:
        try:
            ok = self._open(str(doc["key_check"]), _CHECK_AD) == _CHECK_PLAIN
        except (InvalidTag, KeyError, ValueError, binascii.Error):
            ok = False
        if not ok:
            raise StoreError(
                f"{self._key_source} does not open the local store {self._file}",
                hint=f"use the key the store was created with ({KEY_ENV} or {KEY_FILE}); nothing was changed",
            )

    @staticmethod
    def _ad(name: str, number: int) -> bytes:
        return f"secretops-local:v1:{name}:{number}".encode()

    def _read(self) -> dict[str, Any]:
        doc = self._load()
        if doc is None:
            return {"format": _FORMAT, "secrets": {}}
        self._check_key(doc)
        return doc

    def _record(self, doc: Mapping[str, Any], name: str) -> SecretRecord | None:
        entry = doc["secrets"].get(name)
        return None if entry is None else SecretRecord.from_json(entry["record"])

    def _write(self, doc: dict[str, Any]) -> None:
        if "key_check" not in doc:
            doc["key_check"] = self._seal(_CHECK_PLAIN, _CHECK_AD)
        write_private(self._file, json.dumps(doc, indent=1, sort_keys=True) + "\n")

    def _mutate(self, name: str, change: Callable[[SecretRecord], bool]) -> None:
        with self._locked(exclusive=True):
            doc = self._read()
            record = self._record(doc, check_name(name))
            if record is None:
                raise StoreNotFoundError(f"the store has no secret {name!r}")
            if change(record):
                doc["secrets"][name]["record"] = record.to_json()
                self._write(doc)

    def _value(self, doc: Mapping[str, Any], record: SecretRecord, number: int) -> StoredValue:
        v = record.require(number)
        sealed = doc["secrets"][record.name]["sealed"].get(str(number))
        if sealed is None:
            raise StoreNotFoundError(f"secret {record.name!r} version {number} has no stored value")
        try:
            plain = self._open(sealed, self._ad(record.name, number))
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise StoreError(
                f"secret {record.name!r} version {number} failed authentication in {self._file}",
                hint="the store file was altered or damaged; restore it from a backup",
            ) from exc
        return StoredValue(version=record.public(v), value=SecretValue(plain.decode("utf-8")))

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
        """Add a version sealed under the store key and move `labels` to it (see `Store.put`)."""
        check_name(name)
        labels = frozenset(labels)
        with self._locked(exclusive=True):
            doc = self._read()
            entry = doc["secrets"].setdefault(name, {"record": SecretRecord(name).to_json(), "sealed": {}})
            record = SecretRecord.from_json(entry["record"])
            record.check_put(labels, run_id)
            number = max((v.number for v in record.versions), default=0) + 1
            version = VersionRecord(
                number=number,
                fingerprint=fingerprint(self._fp_key, value),
                created_at=stamp(self._clock()),
                attributes=dict(attributes or {}),
                run_id=run_id,
            )
            record.add(version, labels)
            entry["sealed"][str(number)] = self._seal(value.reveal().encode("utf-8"), self._ad(name, number))
            entry["record"] = record.to_json()
            self._write(doc)
        log.debug("stored %s version %d (%s) labels=%s", name, number, version.fingerprint, sorted(labels))
        return record.public(version)

    def get(self, name: str, label: Label = Label.CURRENT) -> StoredValue | None:
        """The version carrying `label`, decrypted, or None."""
        check_name(name)
        with self._locked(exclusive=False):
            doc = self._read()
            record = self._record(doc, name)
            if record is None or label not in record.labels:
                return None
            return self._value(doc, record, record.labels[label])

    def get_version(self, name: str, number: int) -> StoredValue:
        """Version `number`, decrypted (`StoreNotFoundError` if absent)."""
        check_name(name)
        with self._locked(exclusive=False):
            doc = self._read()
            record = self._record(doc, name)
            if record is None:
                raise StoreNotFoundError(f"the store has no secret {name!r}")
            return self._value(doc, record, number)

    def state(self, name: str) -> SecretState | None:
        """Metadata of every version of `name` (no decryption)."""
        check_name(name)
        with self._locked(exclusive=False):
            doc = self._load()
        record = None if doc is None else self._record(doc, name)
        return None if record is None else record.state()

    def names(self) -> list[str]:
        """Every secret name in the file, sorted."""
        with self._locked(exclusive=False):
            doc = self._load()
        return [] if doc is None else sorted(doc["secrets"])
