"""The user's scan policy: `policies/scan.toml` (or `--policy FILE`).

It disables rules by id, adds rule files, and allowlists findings by path, by regex on the
secret, and by stopword. Paths are applied by the runner (`ScanPolicy.path_allowed`); regexes and
stopwords by the engine (`ScanPolicy.secret_allowed`). A malformed file raises `PolicyError`
naming the file and the field.

```toml
[rules]
disable = ["generic-password-assignment"]
extra = ["rules/my-rules.toml"]           # relative to this file
[allowlist]
paths = ['''^tests/fixtures/''']
regexes = ['''^dummy''']
stopwords = ["example"]
```
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secretops.errors import PolicyError
from secretops.scan.rules.loader import regex_problem, shown

__all__ = ["ScanPolicy"]

_SECTIONS = {"rules": {"disable", "extra"}, "allowlist": {"paths", "regexes", "stopwords"}}


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    """Disabled rule ids, extra rule files, and allowlists (compiled)."""

    disabled_rules: tuple[str, ...] = ()
    extra_rule_files: tuple[Path, ...] = ()
    allow_paths: tuple[re.Pattern[str], ...] = ()
    allow_regexes: tuple[re.Pattern[str], ...] = ()
    allow_stopwords: tuple[str, ...] = ()
    source: Path | None = None

    @classmethod
    def default(cls) -> ScanPolicy:
        """No rules disabled, nothing allowlisted."""
        return cls()

    @classmethod
    def load(cls, path: Path) -> ScanPolicy:
        """Read and validate a policy file; raise `PolicyError` naming file and field."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read scan policy: {exc.strerror}", hint="check the path") from exc
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{path}: scan policy is not UTF-8", hint="save the file as UTF-8") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: not valid TOML: {exc}", hint="fix the TOML syntax at that line") from exc
        return cls.from_mapping(data, source=path)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: Path | None = None) -> ScanPolicy:
        """Build a policy from parsed TOML (`source` names the file in errors, and anchors `extra`)."""
        where = str(source) if source else "scan policy"
        for section, value in data.items():
            if section not in _SECTIONS:
                raise PolicyError(
                    f"{where}: unknown section [{section}]",
                    hint="a scan policy has [rules] (disable, extra) and [allowlist] (paths, regexes, stopwords)",
                )
            if not isinstance(value, dict):
                raise PolicyError(f"{where}: [{section}] must be a table")
            for key in value:
                if key not in _SECTIONS[section]:
                    raise PolicyError(
                        f"{where}: field '{section}.{key}': unknown key",
                        hint=f"[{section}] accepts: {', '.join(sorted(_SECTIONS[section]))}",
                    )

        def strings(section: str, key: str) -> list[str]:
            value = data.get(section, {}).get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PolicyError(f"{where}: field '{section}.{key}': must be a list of strings")
            return value

        def regexes(key: str) -> tuple[re.Pattern[str], ...]:
            out = []
            for index, text in enumerate(strings("allowlist", key)):
                try:
                    out.append(re.compile(text))
                except re.error as exc:
                    # An allowlist regex often spells out the value it allows: masked, never quoted.
                    raise PolicyError(
                        f"{where}: field 'allowlist.{key}': invalid regex (entry {index}, {shown(text)}): "
                        f"{regex_problem(exc)}",
                        hint="patterns use Python `re` syntax; use '''...''' literal strings in TOML",
                    ) from None
            return tuple(out)

        base = source.parent if source else Path(".")
        return cls(
            disabled_rules=tuple(strings("rules", "disable")),
            extra_rule_files=tuple(base / p for p in strings("rules", "extra")),
            allow_paths=regexes("paths"),
            allow_regexes=regexes("regexes"),
            allow_stopwords=tuple(s.lower() for s in strings("allowlist", "stopwords")),
            source=source,
        )

    def path_allowed(self, rel_path: str) -> bool:
        """True when `rel_path` is allowlisted, i.e. the runner should not report findings in it."""
        if not self.allow_paths:
            return False
        normalized = rel_path.replace("\\", "/")
        union = _union(self.allow_paths)
        if union is not None:
            return union.search(normalized) is not None
        return any(p.search(normalized) for p in self.allow_paths)

    def secret_allowed(self, secret: str) -> bool:
        """True when a secret is allowlisted by an `allowlist.regexes` match or a stopword."""
        if any(p.search(secret) for p in self.allow_regexes):
            return True
        if self.allow_stopwords:
            lowered = secret.lower()
            return any(word in lowered for word in self.allow_stopwords)
        return False


_BACKREF = re.compile(r"\\[1-9]|\(\?P=")


@functools.lru_cache(maxsize=16)
def _union(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One regex for a list of path patterns (the walk asks once per file), or None if they cannot be joined.

    Patterns that set flags inline (`(?i)...`) cannot sit inside an alternation, and a numbered
    backreference would point at another pattern's group: those lists are searched one pattern
    at a time.
    """
    if any(_BACKREF.search(p.pattern) or p.flags & ~re.UNICODE for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:
        return None
