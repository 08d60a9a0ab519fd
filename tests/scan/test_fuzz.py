"""Property test of the scan core and every output format on random hostile input (bounded for CI).

200 cases of random content salted with rule keywords and rule examples, in files with random
names (not UTF-8, control characters, bidi overrides); the checks are in `fuzz_core.check_case`.
The long run is `python -m benchmarks.fuzz.run --examples N` (figures in benchmarks/README.md).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from secretops.scan.formats import RenderOptions
from secretops.scan.runner import ScanResult
from tests.scan.fuzz_core import Case, cases, check_case, harness


@settings(
    max_examples=200,
    deadline=timedelta(seconds=5),  # a catastrophic regex shows here; ordinary cases take milliseconds
    database=None,  # nothing written to the checkout
    # The same 200 cases on every CI run (a CI result must not depend on luck); new ones locally,
    # and many more in the long run.
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_scan_and_every_format_survive_random_input(case: Case) -> None:
    check_case(case)


def test_the_harness_finds_planted_secrets() -> None:
    """The property above is not vacuous: a planted rule example is found and checked."""
    example = next(ex for ex in harness().examples if "ghp_" in ex)
    result = check_case(Case(name=b"bad\xff\x1b[2J.env", data=b"x\n" + example.encode() + b"\n"))
    assert any(f.rule_id.startswith("github") for f in result.findings)


def test_a_value_that_is_rule_text_is_no_leak() -> None:
    """Shrunk by the long run (seed 20261214): openssl's password `app.secret_key` is a leak, and
    the same words are in the Flask rule's description, which the outputs print."""
    flask = next(ex for ex in harness().examples if "app.secret_key" in ex and "'" in ex)
    data = ("-pass pass:" + flask).encode()
    result = check_case(Case(name=b"\x1b]0;owned\x07", data=data))
    assert {f.rule_id for f in result.findings} >= {"openssl-pass-argument", "flask-secret-key"}


def test_the_harness_catches_a_value_in_an_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """A format that printed a raw value would fail the property."""
    from secretops.scan.formats.table import TableFormat

    original = TableFormat.render

    def leaky(self: TableFormat, result: ScanResult, options: RenderOptions) -> str:
        values = [f.secret.reveal() for f in result.findings if f.secret is not None]
        return original(self, result, options) + "".join(values)

    monkeypatch.setattr(TableFormat, "render", leaky)
    example = next(ex for ex in harness().examples if "ghp_" in ex)
    with pytest.raises(AssertionError, match="table: a leaked value is in the output"):
        check_case(Case(name=b"x.env", data=example.encode() + b"\n"))


def test_the_property_fails_on_a_planted_defect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random cases, not a chosen one, catch a table that prints control characters raw.

    The same generator as the property above, derandomized (the same cases on every run), not
    shrunk (the first failing case is enough here).
    """
    from secretops.display import no_surrogates
    from secretops.scan.formats import table

    monkeypatch.setattr(table, "printable", no_surrogates)  # still valid UTF-8, controls left raw

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases())
    def planted(case: Case) -> None:
        check_case(case)

    with pytest.raises(AssertionError, match="table: raw control"):
        planted()
