"""Templates: filters render what each client parses back to the same value; parse inverts render."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from psycopg.conninfo import conninfo_to_dict

from secretops.inventory.templates import FILTERS, Template, TemplateError, conninfo_quote, conninfo_unquote

AWKWARD = ["plain", "a b", "it's", "back\\slash", "@/?#:%", "'\\' ", "=;&+", "üñí"]


@pytest.mark.parametrize("value", AWKWARD)
def test_conninfo_filter_is_read_back_by_libpq(value: str) -> None:
    template = Template("host=db user={username} password={password|conninfo} dbname=app")
    rendered = template.render({"username": "app", "value": value})
    parsed = conninfo_to_dict(rendered)
    assert parsed["password"] == value and parsed["host"] == "db" and parsed["dbname"] == "app"
    assert template.parse(rendered) == {"username": "app", "value": value}


@pytest.mark.parametrize("value", AWKWARD)
def test_url_filter_is_read_back_by_urllib_and_libpq(value: str) -> None:
    template = Template("postgresql://{username}:{password|url}@db.example.com:5432/app")
    rendered = template.render({"username": "app", "value": value})
    split = urlsplit(rendered)
    assert split.hostname == "db.example.com" and split.port == 5432
    assert unquote(split.password or "") == value
    assert conninfo_to_dict(rendered)["password"] == value  # libpq's own URI parser agrees
    assert template.parse(rendered) == {"username": "app", "value": value}


def test_conninfo_unquote_reads_bare_words_too() -> None:
    assert conninfo_unquote("s3cret") == "s3cret"
    assert conninfo_unquote(conninfo_quote("a'b")) == "a'b"


def test_unknown_filter_names_the_known_ones() -> None:
    with pytest.raises(TemplateError) as info:
        Template("{password|base64}")
    assert str(info.value) == "unknown filter base64; known: conninfo, url (in {password|base64})"
    assert set(FILTERS) == {"url", "conninfo"}


def test_placeholders_in_order() -> None:
    found = Template("a{{b}}{username}:{password|url}{previous}").placeholders()
    assert [(str(p), p.field, p.filter) for p in found] == [
        ("{username}", "username", None),
        ("{password|url}", "value", "url"),
        ("{previous}", "previous", None),
    ]
