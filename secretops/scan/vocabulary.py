"""The words the classifier knows: pure data, no logic (used by `secretops.scan.filters`).

Folder names of test trees, values that are no credential, the parts of secret names,
placeholder words, documented example keys, textbook hosts and users, JWT claim names and
well-known default passwords. Word sets are lowercase; `KNOWN_EXAMPLES` holds exact values.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "COMPOUND_ENDS",
    "JWT_CLAIMS",
    "KEY_QUALIFIERS",
    "KNOWN_EXAMPLES",
    "NON_VALUES",
    "PAGING_WORDS",
    "PASSWORD_WORDS",
    "PLACEHOLDER_WORDS",
    "TAIL_WORDS",
    "TEST_DIRS",
    "TEXTBOOK_DOMAINS",
    "TEXTBOOK_HOSTS",
    "TEXTBOOK_USERS",
    "TOKEN_META",
    "WEAK_WORDS",
]


TEST_DIRS: Final = frozenset(
    {
        "test",
        "tests",
        "spec",
        "specs",
        "fixtures",
        "fixture",
        "testdata",
        "test-data",
        "test_data",
        "__tests__",
        "__fixtures__",
        "__mocks__",
        "mocks",
        "testing",
    }
)

NON_VALUES: Final = frozenset(
    {
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "none",
        "null",
        "nil",
        "undefined",
        "required",
        "optional",
        "enabled",
        "disabled",
        "str",
        "string",
        "bytes",
        "int",
        "bool",
        "secretstr",
        "text",
        "varchar",
        "char",
        "object",
        "any",
        "default",
        "auto",
        "n/a",
        "na",
    }
)

PASSWORD_WORDS: Final = frozenset({"password", "passwd", "passphrase", "pwd", "pass", "pswd", "passwort"})

KEY_QUALIFIERS: Final = frozenset({"api", "access", "auth", "private", "master", "encryption", "signing", "secret"})

# Compound words (`PGPASSWORD`, `apikey`, `authToken` lower-cased to `authtoken`) ending in a secret term.
COMPOUND_ENDS: Final = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authkey",
    "privatekey",
    "masterkey",
    "secretkey",
    "encryptionkey",
    "signingkey",
    "dsn",
)

# Words that may follow the secret term: environments, numbering, encodings (`SECRET_KEY_BASE` is Rails).
TAIL_WORDS: Final = frozenset(
    {
        "prod",
        "production",
        "staging",
        "stage",
        "dev",
        "development",
        "live",
        "local",
        "new",
        "old",
        "current",
        "primary",
        "secondary",
        "main",
        "value",
        "string",
        "b64",
        "base64",
        "encoded",
        "raw",
        "plain",
        "plaintext",
        "hex",
        "pem",
        "base",
    }
)

# `*_token` names that are pagination, idempotency, parser or tokenizer metadata, never credentials.
TOKEN_META: Final = frozenset(
    {
        "next",
        "prev",
        "previous",
        "page",
        "paging",
        "pagination",
        "continuation",
        "input",
        "output",
        "start",
        "end",
        "resume",
        "sync",
        "cursor",
        "request",
        "idempotency",
        "change",
        "lock",
        "creation",
        "action",
        "verification",
        "block",
        "update",
        "csrf",
        "xsrf",
        "cancel",
        "cancellation",
        "marker",
        "stop",
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "cls",
        "mask",
        "special",
        "word",
        "parse",
        "last",
        "first",
        "peek",
        "expected",
        "seen",
        "client",
        "max",
        "min",
        "num",
        "total",
        "sentence",
        "text",
        "string",
        "char",
    }
)

PAGING_WORDS: Final = frozenset(
    {"next", "prev", "previous", "page", "pagination", "continuation", "forward", "backward", "cursor", "idempotency"}
)

PLACEHOLDER_WORDS: Final = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "apikey",
        "api_key",
        "api-key",
        "value",
        "redacted",
        "removed",
        "hidden",
        "placeholder",
        "todo",
        "tbd",
        "fixme",
        "foo",
        "bar",
        "baz",
        "foobar",
        "xyz",
        "abc",
        "secretkey",
        "secret_key",
        "secret-key",
        "mysecret",
        "mypassword",
        "mytoken",
        "s3cr3t",
        "accesstoken",
        "access_token",
        "authtoken",
        "auth_token",
        "privatekey",
        "private_key",
        "credentials",
        "username",
        "user",
        "empty",
        "blank",
        "unset",
        "dbpassword",
        "db_password",
    }
)

KNOWN_EXAMPLES: Final = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        # Azurite's (the Azure Storage emulator's) published well-known account key: the same
        # on every machine, accepted by no Azure account (learn.microsoft.com: storage-use-azurite).
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)

TEXTBOOK_HOSTS: Final = frozenset(
    {
        "host",
        "hostname",
        "server",
        "servername",
        "domain",
        "your-host",
        "db-host",
        "dbhost",
        "<host>",
        "myhost",
        "remotehost",
        "host.com",
        "domain.com",
    }
)

TEXTBOOK_DOMAINS: Final = (
    "example.com",
    "example.org",
    "example.net",
    ".example",
    ".invalid",
    "company.com",
    "domain.com",
    "domain.org",
)

TEXTBOOK_USERS: Final = frozenset({"user", "username", "usr", "myuser", "dbuser", "db_user", "your-user", "name"})

JWT_CLAIMS: Final = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "role",
        "roles",
        "scope",
        "scp",
        "azp",
        "user",
        "username",
        "user_id",
        "uid",
        "email",
        "tenant",
        "org",
        "ref",
        "permissions",
        "groups",
        "sid",
        "client_id",
        "app_id",
        "account",
        "name",
    }
)

WEAK_WORDS: Final = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "toor",
        "123456",
        "1234",
        "12345",
        "12345678",
        "123456789",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "qwerty",
        "letmein",
        "welcome",
        "default",
        "postgres",
        "mysql",
        "redis",
        "guest",
        "changeit",
        "secret123",
        "admin123",
        "pass123",
        "abc123",
        "master",
        "superuser",
        "oracle",
        "sa",
        "pass1234",
        "password!",
        "hunter2",
        "trustno1",
        "iloveyou",
        "pa55word",
        "rabbitmq",
        "mongodb",
        "example",
        "demo",
        "sonar",
        "jenkins",
        "airflow",
        "keycloak",
        "minioadmin",
    }
)
