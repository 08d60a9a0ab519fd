"""The PostgreSQL state's URL handling, without a server: masked `describe()`, scrubbed errors, lock keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from secretops.errors import ConfigError
from secretops.state.pg_conn import advisory_key, password_of, where
from secretops.state.postgres import PostgresState

PW = "pw-Vb6^not-a-real-one"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://ops:{PW}@db.internal:6432/state", "postgresql://ops:***@db.internal:6432/state"),
        (
            f"postgres://ops@db.internal/state?password={PW}&sslmode=require",
            "postgresql://ops:***@db.internal:5432/state",
        ),
        (f"host=db.internal user=ops password={PW} dbname=state", "postgresql://ops:***@db.internal:5432/state"),
        ("postgresql://db.internal/state", "postgresql://db.internal:5432/state"),
        ("postgresql:///state", "postgresql://localhost:5432/state"),
    ],
)
def test_describe_masks_the_password(url: str, shown: str) -> None:
    state = PostgresState(url)
    assert state.describe() == where(url) == shown
    assert PW not in repr(state)


def test_password_of_finds_it_wherever_it_is() -> None:
    assert password_of(f"postgresql://ops:{PW.replace('^', '%5E')}@h/d") == PW
    assert password_of(f"host=h password={PW}") == PW
    assert password_of("postgresql://ops@h/d") is None


def test_a_malformed_url_is_a_usage_error_that_does_not_quote_it() -> None:
    bad = f"postgresql://ops:{PW}@h/d?nonsense_option=1"
    assert where(bad) == "postgresql://<unparsable connection string>"
    state = PostgresState(bad)
    with pytest.raises(ConfigError) as info:
        state.schema_version()
    assert PW not in info.value.diagnostics()


def test_lease_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PostgresState("postgresql://h/d", lease=timedelta(0))


def test_advisory_keys_are_signed_64_bit_and_namespaced() -> None:
    keys = {advisory_key("lease", "shop/db"), advisory_key("lease", "shop/db2"), advisory_key("migrate")}
    assert len(keys) == 3
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert advisory_key("lease", "shop/db") == advisory_key("lease", "shop/db")
