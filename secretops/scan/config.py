"""The user's scan policy: found from the scanned path up to the repository root, or `--policy FILE`.

Discovery (`discover`): starting at the first scanned folder (a file's folder; the working
directory for standard input), each folder up to the repository root (the folder holding
`.git`, or the file-system root outside a repository) is searched for, in this order,
`.secretops.toml`, a `pyproject.toml` with a `[tool.secretops]` table, and `policies/scan.toml`.
The nearest folder wins; within a folder, that order. `--policy FILE` skips discovery. Path
allowlists of a discovered file are relative to the folder it configures (the one holding
`.secretops.toml`/`pyproject.toml`, the parent of `policies/`), whichever folder is scanned.
Every `.secretopsignore` (gitignore syntax, `pathspec`) from the repository root down to the
scanned folder is applied too, each relative to its own folder.

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

import dataclasses
import functools
import logging
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathspec import GitIgnoreSpec

from secretops.errors import PolicyError
from secretops.scan.rules.loader import regex_problem, shown

__all__ = [
    "CONFIG_NAMES",
    "IGNORE_FILE",
    "Discovery",
    "ScanPolicy",
    "config_base",
    "discover",
    "find_ignore_files",
    "load_ignores",
    "resolve_policy",
    "with_discovery",
]

log = logging.getLogger(__name__)

#: The files discovery looks for in each folder, in precedence order.
CONFIG_NAMES = (".secretops.toml", "pyproject.toml", "policies/scan.toml")
IGNORE_FILE = ".secretopsignore"

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
    #: The folder a discovered file configures: its path allowlists also match paths relative to it.
    base: str | None = None
    #: `.secretopsignore` files: (folder, spec), each matched on paths relative to its folder.
    ignores: tuple[tuple[str, GitIgnoreSpec], ...] = ()
    #: `allow_paths` as one regex (`_union`), or None: built once here, not at each of the walk's
    #: calls (an `lru_cache` lookup hashes every pattern's compiled code each time).
    _paths_union: re.Pattern[str] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_paths_union", _union(self.allow_paths) if self.allow_paths else None)

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
        prefix = ""
        if path.name == "pyproject.toml":
            tool = data.get("tool", {})
            section = tool.get("secretops") if isinstance(tool, dict) else None
            if not isinstance(section, dict):
                raise PolicyError(
                    f"{path}: no [tool.secretops] table",
                    hint="add a [tool.secretops.rules] or [tool.secretops.allowlist] table",
                )
            data, prefix = section, "tool.secretops."
        return cls.from_mapping(data, source=path, prefix=prefix, text=path.read_text(encoding="utf-8"))

    @classmethod
    def from_mapping(
        cls, data: dict[str, Any], *, source: Path | None = None, prefix: str = "", text: str = ""
    ) -> ScanPolicy:
        """Build a policy from parsed TOML (`source` names the file in errors, and anchors `extra`).

        `prefix` is the table the data came from (`tool.secretops.` in `pyproject.toml`), and
        `text` the file's text: errors then name `file:line` and the full field name.
        """
        name = str(source) if source else "scan policy"

        def at(section: str, key: str | None = None) -> str:
            line = _line_of(text, prefix + section, key)
            return f"{name}:{line}" if line else name

        for section, value in data.items():
            if section not in _SECTIONS:
                raise PolicyError(
                    f"{at(section)}: unknown section [{prefix}{section}]",
                    hint="a scan policy has [rules] (disable, extra) and [allowlist] (paths, regexes, stopwords)",
                )
            if not isinstance(value, dict):
                raise PolicyError(f"{at(section)}: [{prefix}{section}] must be a table")
            for key in value:
                if key not in _SECTIONS[section]:
                    raise PolicyError(
                        f"{at(section, key)}: field '{prefix}{section}.{key}': unknown key",
                        hint=f"[{section}] accepts: {', '.join(sorted(_SECTIONS[section]))}",
                    )

        def strings(section: str, key: str) -> list[str]:
            value = data.get(section, {}).get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PolicyError(f"{at(section, key)}: field '{prefix}{section}.{key}': must be a list of strings")
            return value

        def regexes(key: str) -> tuple[re.Pattern[str], ...]:
            out = []
            for index, pattern in enumerate(strings("allowlist", key)):
                try:
                    out.append(re.compile(pattern))
                except re.error as exc:
                    # An allowlist regex often spells out the value it allows: masked, never quoted.
                    raise PolicyError(
                        f"{at('allowlist', key)}: field '{prefix}allowlist.{key}': invalid regex "
                        f"(entry {index}, {shown(pattern)}): {regex_problem(exc)}",
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
        return self._normal_allowed(rel_path.replace("\\", "/"))

    def _normal_allowed(self, normalized: str) -> bool:
        union = self._paths_union
        if union is not None:
            return union.search(normalized) is not None
        return any(p.search(normalized) for p in self.allow_paths)

    def entry_allowed(self, rel: str, shown: str, fs_path: str | None) -> bool:
        """The runner's whole test for one walked file or source fragment: `path_allowed` on `rel`
        (relative to the scan root or repository) and on `shown` (as findings show it), then
        `file_allowed(fs_path)` (`.secretopsignore`, allowlists relative to `base`; skipped when
        `fs_path` is None). The same answer as those calls, but each distinct path is searched
        once: in a scan from a discovered policy's folder, `shown` and the `base`-relative path
        are the same string.
        """
        first = second = ""
        if self.allow_paths:
            first = rel.replace("\\", "/")
            if self._normal_allowed(first):
                return True
            second = shown.replace("\\", "/")
            if second != first and self._normal_allowed(second):
                return True
        if fs_path is None or not (self.ignores or (self.base and self.allow_paths)):
            return False
        absolute = _absolute(fs_path)
        for folder, spec in self.ignores:
            inner = _inside(absolute, folder)
            if inner is not None and spec.match_file(inner):
                return True
        if self.base and self.allow_paths:
            based = _inside(absolute, self.base)
            if based is not None:
                based = based.replace("\\", "/")
                if based != first and based != second and self._normal_allowed(based):
                    return True
        return False

    def file_allowed(self, fs_path: str) -> bool:
        """True when the file at `fs_path` (as opened, relative to the working directory or absolute)
        is ignored by a `.secretopsignore` or by a path allowlist relative to `base`."""
        if not (self.ignores or (self.base and self.allow_paths)):
            return False
        absolute = _absolute(fs_path)
        for folder, spec in self.ignores:
            rel = _inside(absolute, folder)
            if rel is not None and spec.match_file(rel):
                return True
        if self.base and self.allow_paths:
            rel = _inside(absolute, self.base)
            if rel is not None and self.path_allowed(rel):
                return True
        return False

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


def _absolute(path: str) -> str:
    """`os.path.abspath(path)` without its `normpath` work for the walk's plain paths.

    This runs once per walked file, and `abspath` costs several times what the allowlist test
    itself does. A path with no `.`/`..` component and no doubled or trailing slash is already
    normal: joined to the working folder, it is what `abspath` would return. A name that only
    starts with a dot (`.env`, `benchmarks/.work/...`) is not such a component.
    """
    if not path or "//" in path or path.endswith("/") or _dot_component(path) or os.sep != "/":
        return os.path.abspath(path)
    if path.startswith("/"):
        return path
    cwd = os.getcwd()
    return cwd + path if cwd == "/" else f"{cwd}/{path}"


def _dot_component(path: str) -> bool:
    """Whether a `/`-separated path has a `.` or `..` component (`a/./b`, `../a`, `a/..`, `.`)."""
    if "/." not in path and not path.startswith("."):
        return False  # no component starts with a dot
    return (
        "/./" in path
        or "/../" in path
        or path.endswith(("/.", "/.."))
        or path.startswith(("./", "../"))
        or path in (".", "..")
    )


@functools.lru_cache(maxsize=64)
def _prefix(folder: str) -> str:
    normalized = os.path.abspath(folder)
    return normalized if normalized.endswith(os.sep) else normalized + os.sep


def _inside(absolute: str, folder: str) -> str | None:
    """`absolute` (normalised, as `os.path.abspath` gives it) relative to `folder` (with `/`), or None
    when it is not inside it.

    A string prefix test, not `os.path.relpath`: this runs once per walked file, and relpath cost
    a quarter of the CPU of a whole scan of a source tree.
    """
    prefix = _prefix(folder)
    if not absolute.startswith(prefix) or len(absolute) == len(prefix):
        return None
    return absolute[len(prefix) :].replace(os.sep, "/")


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """The line of `[section]` (or of `key = ` inside it) in a TOML text, when it can be found."""
    if not text:
        return None
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]")
    for index, line in enumerate(lines):
        if header.match(line):
            if key is None:
                return index + 1
            assign = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
            for offset, inner in enumerate(lines[index + 1 :], start=index + 2):
                if inner.lstrip().startswith("["):
                    break
                if assign.match(inner):
                    return offset
            return index + 1
    return None


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found for a scan: the policy file (or None), the ignore files, and the root."""

    config: Path | None
    ignore_files: tuple[Path, ...]
    root: Path


def _start(target: str) -> Path:
    if target == "-":
        return Path.cwd()
    path = Path(os.path.abspath(target))
    return path if path.is_dir() or (not path.exists() and not path.suffix) else path.parent


def _ancestors(start: Path) -> list[Path]:
    """`start` and its parents up to the repository root (the folder holding `.git`), or `/`."""
    out = []
    current = start
    while True:
        out.append(current)
        if (current / ".git").exists() or current.parent == current:
            return out
        current = current.parent


def _config_in(folder: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = folder / name
        if not candidate.is_file():
            continue
        if name == "pyproject.toml" and not _has_tool_table(candidate):
            log.debug("config: %s has no [tool.secretops] table, looking further", candidate)
            continue
        return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    """Whether a pyproject.toml declares `[tool.secretops]` (a broken file counts: its error is shown)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "tool.secretops" in path.read_text(encoding="utf-8", errors="replace")
    tool = data.get("tool", {})
    return isinstance(tool, dict) and "secretops" in tool


def find_ignore_files(target: str) -> tuple[Path, ...]:
    """The `.secretopsignore` files from the repository root down to the folder of `target`."""
    return tuple(f for f in reversed([d / IGNORE_FILE for d in _ancestors(_start(target))]) if f.is_file())


def discover(target: str) -> Discovery:
    """Find the scan configuration for `target` (see the module docstring for the order)."""
    folders = _ancestors(_start(target))
    config = None
    for folder in folders:
        config = _config_in(folder)
        if config is not None:
            break
    ignores = tuple(f for f in reversed([d / IGNORE_FILE for d in folders]) if f.is_file())
    return Discovery(config, ignores, folders[-1])


def config_base(path: Path) -> str:
    """The folder a configuration file configures: `policies/scan.toml` configures its parent's parent."""
    folder = path.resolve().parent
    if path.name == "scan.toml" and folder.name == "policies":
        folder = folder.parent
    return str(folder)


def load_ignores(files: Sequence[Path]) -> tuple[tuple[str, GitIgnoreSpec], ...]:
    """Compiled `.secretopsignore` files; a malformed or unreadable one raises `PolicyError`."""
    out = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: cannot read it: {exc}", hint="fix or remove the file") from exc
        try:
            spec = GitIgnoreSpec.from_lines(lines, backend="simple")  # picklable (workers); hyperscan is not
        except (ValueError, TypeError) as exc:
            raise PolicyError(f"{path}: not valid gitignore syntax: {exc}", hint="see `man gitignore`") from exc
        out.append((str(path.resolve().parent), spec))
    return tuple(out)


def with_discovery(policy: ScanPolicy, base: str | None, ignore_files: Sequence[Path]) -> ScanPolicy:
    """`policy` anchored at `base` (a discovered file's folder) and with the ignore files applied."""
    return dataclasses.replace(policy, base=base, ignores=load_ignores(ignore_files))


def resolve_policy(policy_file: Path | None, policies_dir: Path | None, targets: Sequence[str]) -> ScanPolicy:
    """The scan policy for a scan of `targets`, by precedence (documented in docs/scanning.md).

    1. `policy_file` (`--policy FILE`): that file, no discovery;
    2. `policies_dir` (`SECRETOPS_POLICIES`) when it holds a `scan.toml`: that file;
    3. discovery from the first target up to its repository root (`discover`);
    4. no file: nothing disabled, nothing allowlisted.

    Other targets whose own discovery finds a different file are named in a notice on the log
    (the first path's configuration applies to the whole scan). The `.secretopsignore` files of
    every target apply, whichever way the policy was chosen: each is anchored to its folder.
    """
    targets = list(targets) or ["."]
    found = [discover(t) for t in targets]
    ignore_files = tuple(dict.fromkeys(f.resolve() for d in found for f in d.ignore_files))
    for ignore in ignore_files:
        log.info("config: applying ignore file %s", ignore)
    if policy_file is not None:
        if not policy_file.is_file():
            raise PolicyError(f"--policy {policy_file}: no such file", hint="give the path of a scan.toml policy")
        log.info("config: using %s (--policy)", policy_file)
        return with_discovery(ScanPolicy.load(policy_file), None, ignore_files)
    if policies_dir is not None and (policies_dir / "scan.toml").is_file():
        chosen = policies_dir / "scan.toml"
        log.info("config: using %s (SECRETOPS_POLICIES)", chosen)
        return with_discovery(ScanPolicy.load(chosen), None, ignore_files)
    first = found[0].config
    for target, other in zip(targets[1:], found[1:], strict=True):
        if other.config is not None and (first is None or other.config.resolve() != first.resolve()):
            log.warning(
                "config: %s has its own configuration %s, not applied: this scan uses %s (the first path's); "
                "scan that path on its own to apply it",
                target,
                other.config,
                first or "none",
            )
    if first is None:
        log.info(
            "config: no .secretops.toml, [tool.secretops] or policies/scan.toml from %s up to %s",
            targets[0],
            found[0].root,
        )
        return with_discovery(ScanPolicy.default(), None, ignore_files)
    log.info("config: using %s (found from %s)", first, targets[0])
    return with_discovery(ScanPolicy.load(first), config_base(first), ignore_files)
