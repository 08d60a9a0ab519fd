"""The PostgreSQL store's tables, queries, key format and URL masking (no connection here).

Split from `secretops.store.postgres`, which re-exports the public names.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from secretops.errors import ConfigError
from secretops.store._state import SecretRecord, VersionRecord, stamp
from secretops.store.interface import Label

__all__ = [
    "AD_PREFIX",
    "CHECK_AD",
    "CHECK_PLAIN",
    "DDL",
    "KEYGEN_HINT",
    "KEY_ENV",
    "LABEL_COLUMNS",
    "NONCE",
    "RETRIES",
    "SCHEMA_LOCK",
    "SCHEMA_VERSION",
    "SELECT_SECRET",
    "SELECT_VALUE",
    "SELECT_VERSIONS",
    "TABLES",
    "TRANSIT_KEY_ENV",
    "TRANSIT_MOUNT_ENV",
    "associated_data",
    "decode_store_key",
    "mask_url",
    "record_from_rows",
    "url_password",
]

KEY_ENV: Final = "SECRETOPS_STORE_KEY"
TRANSIT_KEY_ENV: Final = "SECRETOPS_STORE_TRANSIT_KEY"
TRANSIT_MOUNT_ENV: Final = "SECRETOPS_STORE_TRANSIT_MOUNT"
SCHEMA_VERSION: Final = 1
TABLES: Final = ("secretops_store_meta", "secretops_store_secrets", "secretops_store_versions")
NONCE: Final = 12
AD_PREFIX: Final = "secretops-postgres:v1"
CHECK_AD: Final = b"secretops-postgres:v1:key-check"
CHECK_PLAIN: Final = b"secretops postgres store"
SCHEMA_LOCK: Final = 0x5345_4352_5354_4F52  # pg_advisory_xact_lock id: "SECRSTOR"
RETRIES: Final = 5
KEYGEN_HINT: Final = f"generate one with: python -c 'import secrets; print(secrets.token_hex(32))' and set {KEY_ENV}"
LABEL_COLUMNS: Final = {
    Label.PENDING: "pending_version",
    Label.CURRENT: "current_version",
    Label.PREVIOUS: "previous_version",
}

DDL: Final = (
    """CREATE TABLE IF NOT EXISTS secretops_store_meta (
        key text PRIMARY KEY,
        value text NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS secretops_store_secrets (
        name text PRIMARY KEY,
        pending_version integer,
        current_version integer,
        previous_version integer,
        rotated_at timestamptz,
        last_run_id text,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS secretops_store_versions (
        name text NOT NULL REFERENCES secretops_store_secrets (name) ON DELETE CASCADE,
        number integer NOT NULL CHECK (number > 0),
        fingerprint text NOT NULL,
        created_at timestamptz NOT NULL,
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        run_id text,
        revoked_at timestamptz,
        nonce bytea NOT NULL CHECK (octet_length(nonce) = 12),
        ciphertext bytea NOT NULL,
        PRIMARY KEY (name, number)
    )""",
)

SELECT_SECRET: Final = (
    "SELECT pending_version, current_version, previous_version, rotated_at, last_run_id "
    "FROM secretops_store_secrets WHERE name = %s"
)
SELECT_VERSIONS: Final = (
    "SELECT number, fingerprint, created_at, attributes, run_id, revoked_at "
    "FROM secretops_store_versions WHERE name = %s ORDER BY number"
)
#: One version with its secret's labels, in one statement (one snapshot); `{}` joins by label or number.
SELECT_VALUE: Final = (
    "SELECT s.pending_version, s.current_version, s.previous_version, s.rotated_at, s.last_run_id, "
    "v.number, v.fingerprint, v.created_at, v.attributes, v.run_id, v.revoked_at, v.nonce, v.ciphertext "
    "FROM secretops_store_secrets s LEFT JOIN secretops_store_versions v ON v.name = s.name AND {} "
    "WHERE s.name = %s"
)


# ---------------------------------------------------------------- helpers without a connection

CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """`url` with any password replaced by `***` (URL userinfo, `?password=`, or `password=` conninfo)."""
    if "://" not in url:
        return CONNINFO_PASSWORD.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = f"{userinfo}@{host}"
        query = parts.query
        if query:
            pairs = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
            query = urlencode(pairs, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<unparsable connection URL>"


def url_password(url: str) -> str | None:
    """The password inside `url`, if any (to scrub it from driver messages)."""
    try:
        parts = urlsplit(url) if "://" in url else None
    except ValueError:
        return None
    if parts is None:
        found = CONNINFO_PASSWORD.search(url)
        return found.group(2).strip("'") if found else None
    if parts.password:
        return parts.password
    for k, v in parse_qsl(parts.query):
        if k.lower() == "password":
            return v
    return None


def decode_store_key(text: str) -> bytes:
    """A `SECRETOPS_STORE_KEY`: 32 bytes as 64 hex characters, or base64 (standard or URL-safe).

    Anything else is a `ConfigError` that says what is wrong without echoing the key.
    """
    text = text.strip()
    if len(text) == 64:
        with contextlib.suppress(ValueError):
            return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        if re.fullmatch(r"[0-9a-fA-F]+", text):
            raise ConfigError(
                f"{KEY_ENV} is {len(text)} hex characters; the store key is 32 bytes (64 hex characters)",
                hint=KEYGEN_HINT,
            ) from None
        raise ConfigError(
            f"{KEY_ENV} is neither 64 hex characters nor base64 ({len(text)} characters given)", hint=KEYGEN_HINT
        ) from None
    if len(raw) != 32:
        if re.fullmatch(r"[0-9a-fA-F]+", text):
            raise ConfigError(
                f"{KEY_ENV} is {len(text)} hex characters; the store key is 32 bytes (64 hex characters)",
                hint=KEYGEN_HINT,
            )
        raise ConfigError(f"{KEY_ENV} decodes to {len(raw)} bytes; the store key is 32 bytes", hint=KEYGEN_HINT)
    return raw


def associated_data(name: str, number: int) -> bytes:
    return f"{AD_PREFIX}:{name}:{number}".encode()


def record_from_rows(name: str, secret_row: tuple[Any, ...], version_rows: list[tuple[Any, ...]]) -> SecretRecord:
    """A `SecretRecord` from a `SELECT_SECRET` row and `SELECT_VERSIONS` rows."""
    pending, current, previous, rotated_at, last_run_id = secret_row
    labels = {
        label: int(number)
        for label, number in ((Label.PENDING, pending), (Label.CURRENT, current), (Label.PREVIOUS, previous))
        if number is not None
    }
    versions = [
        VersionRecord(
            number=int(number),
            fingerprint=str(fp),
            created_at=stamp(created),
            attributes={str(k): str(v) for k, v in dict(attributes or {}).items()},
            run_id=run_id,
            revoked_at=stamp(revoked) if revoked is not None else None,
        )
        for number, fp, created, attributes, run_id, revoked in version_rows
    ]
    return SecretRecord(
        name=name,
        versions=versions,
        labels=labels,
        rotated_at=stamp(rotated_at) if rotated_at is not None else None,
        last_run_id=last_run_id,
    )
