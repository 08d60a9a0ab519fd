"""`store import` logic: `.env` parsing and adopting values per secret (built by hand, no YAML)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretops.errors import ConfigError
from secretops.inventory.models import ConsumerSpec, SecretSpec, Strategy
from secretops.store import Label, LocalStore
from secretops.store.importer import ImportStatus, import_values, parse_dotenv, read_dotenv
from secretops.values import SecretValue, fingerprint
from tests.store.conftest import FP_KEY, LOCAL_KEY

PW = "imp-fake-pw/with:odd@chars"
DJ = "django-insecure-fake-key-0123456789"


def _db() -> SecretSpec:
    return SecretSpec(
        name="shop/database",
        kind="postgres-password",
        issuer="pg",
        accounts=["shop_a", "shop_b"],
        strategy=Strategy.ALTERNATE,
        consumers=[
            ConsumerSpec(target="web", env="DATABASE_URL", template="postgresql://{username}:{password|url}@db/shop"),
            ConsumerSpec(
                target="worker", env="DATABASE_URL", template="postgresql://{username}:{password|url}@db/shop"
            ),
            ConsumerSpec(target="worker", env="DB_PASSWORD"),
            ConsumerSpec(target="worker", env="DB_USER", template="{username}"),
        ],
    )


def _django() -> SecretSpec:
    return SecretSpec(
        name="shop/django-key",
        kind="django-secret-key",
        issuer="django",
        consumers=[ConsumerSpec(target="web", env="DJANGO_SECRET_KEY")],
    )


SECRETS = {"shop/database": _db(), "shop/django-key": _django()}


def _url(user: str, pw: str) -> str:
    from urllib.parse import quote

    return f"postgresql://{user}:{quote(pw, safe='')}@db/shop"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / ".secretops", key=LOCAL_KEY, fingerprint_key=FP_KEY)


def _run(store: LocalStore, source: dict[str, str], **kw: bool) -> dict[str, tuple[ImportStatus, str]]:
    results = import_values(SECRETS, store, source, fingerprint_key=FP_KEY, **kw)
    return {r.secret: (r.status, r.detail) for r in results}


def test_imports_agreeing_consumers_with_attributes(store: LocalStore) -> None:
    source = {"DATABASE_URL": _url("shop_a", PW), "DB_PASSWORD": PW, "DB_USER": "shop_a", "DJANGO_SECRET_KEY": DJ}
    results = import_values(SECRETS, store, source, fingerprint_key=FP_KEY)
    by = {r.secret: r for r in results}
    assert by["shop/database"].status is ImportStatus.IMPORTED
    assert by["shop/database"].envs == ("DATABASE_URL", "DB_PASSWORD", "DB_USER")
    assert by["shop/database"].fingerprint == fingerprint(FP_KEY, PW)
    got = store.get("shop/database")
    assert got is not None and got.value.reveal() == PW
    assert dict(got.version.attributes) == {"username": "shop_a"}
    assert got.version.labels == frozenset({Label.CURRENT})
    state = store.state("shop/database")
    assert state is not None and state.rotated_at is None  # adopted, not rotated: due for rotation
    dj = store.get("shop/django-key")
    assert dj is not None and dj.value.reveal() == DJ
    for r in results:
        assert PW not in repr(r) and DJ not in repr(r)

    # Idempotent: a second import stores nothing.
    again = _run(store, source)
    assert {k: s for k, (s, _) in again.items()} == {
        "shop/database": ImportStatus.UNCHANGED,
        "shop/django-key": ImportStatus.UNCHANGED,
    }
    state = store.state("shop/database")
    assert state is not None and len(state.versions) == 1


def test_not_found_and_value_free_consumers(store: LocalStore) -> None:
    out = _run(store, {"DB_USER": "shop_a"})
    assert out["shop/django-key"][0] is ImportStatus.NOT_FOUND
    assert "DJANGO_SECRET_KEY" in out["shop/django-key"][1]
    assert out["shop/database"][0] is ImportStatus.NOT_FOUND  # a username alone is not the value
    assert store.names() == []


def test_conflicting_consumers_store_nothing(store: LocalStore) -> None:
    source = {"DATABASE_URL": _url("shop_a", PW), "DB_PASSWORD": PW + "-other", "DJANGO_SECRET_KEY": DJ}
    out = _run(store, source)
    assert out["shop/database"][0] is ImportStatus.CONFLICTING
    assert "value" in out["shop/database"][1] and PW not in out["shop/database"][1]
    assert store.state("shop/database") is None
    out = _run(store, {"DATABASE_URL": _url("shop_a", PW), "DB_USER": "shop_b"})
    assert out["shop/database"][0] is ImportStatus.CONFLICTING and "username" in out["shop/database"][1]


def test_value_not_fitting_the_template(store: LocalStore) -> None:
    out = _run(store, {"DATABASE_URL": f"mysql://shop_a:{PW}@elsewhere/x", "DB_PASSWORD": PW})
    assert out["shop/database"][0] is ImportStatus.UNPARSABLE
    assert "DATABASE_URL" in out["shop/database"][1] and PW not in out["shop/database"][1]
    assert store.state("shop/database") is None


def test_differing_current_needs_overwrite_and_dry_run_touches_nothing(store: LocalStore) -> None:
    store.put("shop/django-key", SecretValue("an-older-fake-key"), labels=frozenset({Label.CURRENT}))
    out = _run(store, {"DJANGO_SECRET_KEY": DJ})
    assert out["shop/django-key"][0] is ImportStatus.DIFFERS and "--overwrite" in out["shop/django-key"][1]
    before = store.state("shop/django-key")
    dry = import_values(SECRETS, store, {"DJANGO_SECRET_KEY": DJ}, fingerprint_key=FP_KEY, dry_run=True, overwrite=True)
    assert [(r.status, r.dry_run) for r in dry if r.secret == "shop/django-key"] == [(ImportStatus.IMPORTED, True)]
    assert store.state("shop/django-key") == before
    out = _run(store, {"DJANGO_SECRET_KEY": DJ}, overwrite=True)
    assert out["shop/django-key"][0] is ImportStatus.IMPORTED
    current = store.get("shop/django-key")
    assert current is not None and current.value.reveal() == DJ and current.version.number == 2


def test_parse_dotenv() -> None:
    text = """
# a comment
export PLAIN=abc#not-a-comment
SPACED = value with spaces   # trailing comment
SINGLE='lit\\n $HOME # kept'
DOUBLE="esc\\n\\"q\\" \\\\ end" # comment
MULTI="-----BEGIN FAKE-----
line2
-----END FAKE-----"
EMPTY=
dotted.key=1
"""
    assert parse_dotenv(text) == {
        "PLAIN": "abc#not-a-comment",
        "SPACED": "value with spaces",
        "SINGLE": "lit\\n $HOME # kept",
        "DOUBLE": 'esc\n"q" \\ end',
        "MULTI": "-----BEGIN FAKE-----\nline2\n-----END FAKE-----",
        "EMPTY": "",
        "dotted.key": "1",
    }


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("OK=1\nthis-line-holds-a-fake-secret-XYZ\n", 2, "not a KEY=value"),
        ('A=1\nB="unterminated-fake-secret-XYZ\n', 2, "unterminated"),
        ("A='x' trailing-fake-secret-XYZ\n", 1, "after the closing quote"),
    ],
)
def test_parse_dotenv_errors_name_the_line_not_the_text(text: str, line: int, what: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_dotenv(text, origin="app.env")
    assert f"app.env:{line}:" in info.value.message and what in info.value.message
    assert "XYZ" not in info.value.diagnostics()


def test_read_dotenv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_dotenv(tmp_path / "nope.env")
    assert "nope.env" in info.value.message
