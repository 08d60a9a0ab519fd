"""A small stand-in for `secretops.scan.engine.Scanner`, so runner and format tests do not depend
on the real rules: it finds `FAKE_<CLASS>_<8+ alnum>` tokens and classifies them by `<CLASS>`."""

from __future__ import annotations

import re

from secretops.scan.models import Classification, Finding, Fragment, Location, Severity
from secretops.values import FingerprintKey, SecretValue, fingerprint, mask

TOKEN = re.compile(r"FAKE_(LEAK|TEST|PH|WEAK|CRIT)_[A-Za-z0-9]{8,}")
_CLASS = {
    "LEAK": (Classification.LEAK, Severity.HIGH),
    "CRIT": (Classification.LEAK, Severity.CRITICAL),
    "TEST": (Classification.TEST_CREDENTIAL, Severity.HIGH),
    "PH": (Classification.PLACEHOLDER, Severity.HIGH),
    "WEAK": (Classification.WEAK_DEFAULT, Severity.MEDIUM),
}


class FakeScanner:
    """Finds fake tokens; raises on any fragment whose text contains `EXPLODE` (an engine bug)."""

    def __init__(self, key: FingerprintKey | None = None) -> None:
        self.key = key or FingerprintKey(b"k" * 32)
        self.calls = 0

    def scan(self, fragment: Fragment) -> list[Finding]:
        self.calls += 1
        if "EXPLODE" in fragment.text:
            raise RuntimeError("engine bug")
        found = []
        for m in TOKEN.finditer(fragment.text):
            value = m.group(0)
            line = fragment.text.count("\n", 0, m.start()) + 1
            col = m.start() - (fragment.text.rfind("\n", 0, m.start()) + 1) + 1
            cls, sev = _CLASS[m.group(1)]
            found.append(
                Finding(
                    rule_id="fake-token",
                    kind="api-key",
                    provider="fake",
                    classification=cls,
                    severity=sev,
                    confidence="high",
                    location=Location(
                        path=fragment.path,
                        line=fragment.line_offset + line,
                        column=col,
                        end_line=fragment.line_offset + line,
                        end_column=col + len(value),
                        cell=fragment.cell,
                        commit=fragment.commit,
                    ),
                    fingerprint=fingerprint(self.key, value),
                    preview=mask(value),
                    context={"host": "db.example.internal"} if "HOST" in fragment.text else {},
                    reasons=(f"{cls}: fake token",),
                    secret=SecretValue(value),
                )
            )
        return found
