"""What the rules seam hands the engine: `Rule` (one validated rule) and `RuleSet` (the rules in force).

`load_rules` (`loader.py`) builds them from the TOML files, and `gitleaks.py` from gitleaks
configs; a rule's regex is compiled, and read for its required characters and line anchor, by
`regexes.py`. `RuleError` (`secretops.errors`) is the seam's error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from secretops.scan.models import Severity
from secretops.scan.rules.regexes import compile_regex, line_anchor, required_chars

__all__ = ["Rule", "RuleSet"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule, validated.

    `secret_group` names the regex group holding the secret (0 is the whole match). `context`
    maps a context name (`host`, `user`, ...) to a regex group whose text is reported alongside
    the finding. A `public` rule finds identifiers that are not secret (an AWS access key id, a
    Stripe publishable key): they are never leaks, and the engine attaches them as context to a
    nearby secret of the same provider. `source` is the file the rule came from.
    """

    id: str
    description: str
    provider: str
    kind: str
    severity: Severity
    keywords: tuple[str, ...]
    regex: str
    secret_group: int | str = 0
    entropy: float | None = None
    public: bool = False
    checksum: str | None = None
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()
    allow_regexes: tuple[re.Pattern[str], ...] = ()
    allow_stopwords: tuple[str, ...] = ()
    allow_paths: tuple[re.Pattern[str], ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    multiline: bool = False
    decode: str | None = None
    references: tuple[str, ...] = ()
    source: str = ""

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled regex (compiled on first use, once per process, with `re.MULTILINE`)."""
        return compile_regex(self.regex)

    @property
    def required(self) -> str | None:
        """Characters of which every match holds at least one (`required_chars`), or None."""
        return required_chars(self.regex)

    @property
    def line_anchor(self) -> tuple[int, tuple[str, ...], bool] | None:
        """`(reach, literals, caseless)`: every match starts a line, a literal that far on (`line_anchor`)."""
        return line_anchor(self.regex)

    @property
    def generic(self) -> bool:
        """True for catch-all rules (tag `generic`); a specific rule wins over them on the same span."""
        return "generic" in self.tags


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The enabled rules, in load order, with the files they came from.

    `digest` is a hash of everything that shapes the compiled prefilter (the keywords), used as
    the cache key for the on-disk Hyperscan database.
    """

    rules: tuple[Rule, ...]
    files: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    @property
    def ids(self) -> tuple[str, ...]:
        """Rule ids in load order."""
        return tuple(r.id for r in self.rules)

    @property
    def digest(self) -> str:
        """SHA-256 over the rules' keywords (what the prefilter database depends on)."""
        h = hashlib.sha256()
        for rule in self.rules:
            h.update(rule.id.encode())
            h.update(b"\0")
            h.update("\x1f".join(rule.keywords).encode())
            h.update(b"\n")
        return h.hexdigest()
