"""`DotenvTarget`: a `.env` file on a docker-compose host, and an optional restart command.

`set_env` edits one key in place: comments, blank lines, order, `export ` prefixes and each
line's quoting style (`KEY=value`, `KEY="value"`, `KEY='value'`) are kept; a missing key is
appended at the end. The file is replaced atomically with its mode preserved
(`secretops.fileio.write_atomic`). When a new value cannot be written safely in the line's
style (a `$` or a space in an unquoted value, which docker compose would interpolate or cut),
the line switches to single quotes, which compose reads literally; a value holding a single
quote goes in double quotes with backslash escapes.

The file must exist: `set_env` refuses to create a missing file (or its directory) unless the
target says `create: true`, so a typo in `path` fails the run before anything is revoked instead
of writing a new file no app reads. A relative `path` resolves against `base_dir` (the working
directory by default, as `secretops policy check` resolves it too: `resolve_path`).
`inspect_dotenv` says whether a file exists and which keys it holds (for `policy check`,
`status` and `store import`; see `secretops.targets.presence`).

`redeploy` runs the restart command (an argv list such as `docker compose up -d web worker`, in
the file's directory, with a timeout), and fails on a non-zero exit status. Without one there
is nothing to deploy (`DeployState.NONE`).

Concurrent writers in this process (several secrets in one file, `--concurrency`) serialize on
a per-file thread lock; other processes serialize on `flock` of the file's directory.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from secretops.errors import TargetError
from secretops.fileio import write_atomic
from secretops.inventory.models import DotenvTargetSpec
from secretops.targets.interface import Deployment, DeployState, EnvRef, Target
from secretops.values import FingerprintKey, SecretValue, fingerprint

__all__ = [
    "DotenvLine",
    "DotenvState",
    "DotenvTarget",
    "inspect_dotenv",
    "nearest_file",
    "parse_dotenv",
    "render_line",
    "resolve_path",
]

_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<export>export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)(?P<eq>[ \t]*=[ \t]*)(?P<rest>.*)$"
)
_UNQUOTED_SAFE = re.compile(r"^[A-Za-z0-9_\-.~+/:@%,=?&!*^\[\]|;<>]*$")
_DOUBLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class DotenvLine:
    """One `KEY=value` line: where it is, its style (`plain`, `single`, `double`) and value."""

    index: int
    key: str
    style: str
    value: str
    prefix: str  # indent, `export `, key and `=` exactly as written
    trailer: str  # text after the value (an inline comment), kept on rewrite


def _parse_value(rest: str) -> tuple[str, str, str]:
    """(style, value, trailer) of what follows `KEY=`."""
    if rest.startswith("'"):
        end = rest.find("'", 1)
        if end != -1:
            return "single", rest[1:end], rest[end + 1 :]
        return "single", rest[1:], ""
    if rest.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(rest):
            ch = rest[i]
            if ch == "\\" and i + 1 < len(rest):
                nxt = rest[i + 1]
                out.append(_DOUBLE_ESCAPES.get(nxt, "\\" + nxt))
                i += 2
                continue
            if ch == '"':
                return "double", "".join(out), rest[i + 1 :]
            out.append(ch)
            i += 1
        return "double", "".join(out), ""
    # Unquoted: an inline comment starts at a `#` preceded by whitespace (compose's rule).
    m = re.search(r"[ \t]+#", rest)
    if m:
        return "plain", rest[: m.start()].rstrip(), rest[len(rest[: m.start()].rstrip()) :]
    stripped = rest.rstrip()
    return "plain", stripped, rest[len(stripped) :]


def parse_dotenv(text: str) -> dict[str, DotenvLine]:
    """Every assignment in `text` by key (the last one wins, as in docker compose)."""
    out: dict[str, DotenvLine] = {}
    for index, line in enumerate(text.splitlines()):
        m = _LINE.match(line)
        if not m:
            continue
        style, value, trailer = _parse_value(m.group("rest"))
        prefix = line[: m.start("rest")]
        out[m.group("key")] = DotenvLine(index, m.group("key"), style, value, prefix, trailer)
    return out


def _quote(style: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        style = "double"
    if style == "plain" and not _UNQUOTED_SAFE.match(value):
        style = "single"
    if style == "double" and "$" in value and "'" not in value:
        style = "single"  # compose interpolates `$` inside double quotes
    if style == "single" and "'" in value:
        style = "double"
    if style == "plain":
        return value
    if style == "single":
        return f"'{value}'"
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def render_line(prefix: str, style: str, value: str, trailer: str = "") -> str:
    """One assignment line: `prefix` (up to `=`), the value in `style` (or a safer one), `trailer`."""
    return prefix + _quote(style, value) + trailer


def resolve_path(spec: DotenvTargetSpec, base_dir: Path | None = None) -> Path:
    """The file a dotenv target writes: `~` expanded, a relative path under `base_dir` (default: cwd)."""
    path = Path(spec.path).expanduser()
    if path.is_absolute():
        return path
    return (base_dir if base_dir is not None else Path.cwd()) / path


def nearest_file(path: Path) -> str | None:
    """The name of the existing file in `path`'s directory closest to `path.name` (difflib), if any."""
    try:
        names = [p.name for p in path.parent.iterdir() if p.is_file()]
    except OSError:
        return None
    found = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return found[0] if found else None


def _nearest_dir(path: Path) -> Path:
    """The deepest existing ancestor of `path`."""
    for parent in path.parents:
        if parent.is_dir():
            return parent
    return Path(path.anchor or "/")


DotenvProblem = Literal["missing-directory", "missing-file", "not-a-file", "unreadable"]


@dataclass(frozen=True, slots=True)
class DotenvState:
    """What a `.env` path holds now: the keys it assigns, or why it cannot say.

    `problem` is None for a readable file; otherwise `detail` explains it (names only, never a
    value) and `suggestion` is the nearest existing file name in its directory, if any.
    """

    path: Path
    keys: frozenset[str] | None
    problem: DotenvProblem | None = None
    detail: str = ""
    suggestion: str | None = None

    @property
    def exists(self) -> bool:
        """Whether the file exists and was read."""
        return self.problem is None


def inspect_dotenv(path: Path) -> DotenvState:
    """Whether `path` exists as a readable file, and the keys it assigns (never their values)."""
    if not path.parent.is_dir():
        existing = _nearest_dir(path.parent)
        return DotenvState(
            path,
            None,
            "missing-directory",
            f"directory {path.parent} does not exist (the nearest existing one is {existing})",
        )
    if path.is_dir():
        return DotenvState(path, None, "not-a-file", f"{path} is a directory, not a .env file")
    if not path.exists():
        guess = nearest_file(path)
        detail = f"{path} does not exist" + (f" (did you mean {guess}?)" if guess else "")
        return DotenvState(path, None, "missing-file", detail, guess)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        return DotenvState(path, None, "unreadable", f"cannot read {path}: {reason}")
    return DotenvState(path, frozenset(parse_dotenv(text)))


class DotenvTarget(Target):
    """A `.env` file (path from the policy), optionally restarted with an argv command."""

    kind = "dotenv"

    def __init__(self, name: str, spec: DotenvTargetSpec, *, base_dir: Path | None = None) -> None:
        self.name = name
        self.spec = spec
        self.path = resolve_path(spec, base_dir)

    def describe(self) -> str:
        """`dotenv:<path>`."""
        return f"dotenv:{self.path}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        key = str(self.path.resolve())
        with _thread_locks_guard:
            lock = _thread_locks.setdefault(key, threading.Lock())
        with lock:
            if self.spec.create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.parent.is_dir():
                raise self._missing(inspect_dotenv(self.path))
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _missing(self, state: DotenvState) -> TargetError:
        relative = ""
        if not Path(self.spec.path).expanduser().is_absolute():
            relative = " (a relative path resolves against the working directory)"
        return TargetError(
            f"{self.describe()}: {state.detail}; refusing to create it{relative}",
            hint=f"fix `path` of target {self.name!r} in the policy"
            + (f" (did you mean {state.suggestion}?)" if state.suggestion else "")
            + ", or set `create: true` on the target if secretops should create the file",
        )

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except OSError as exc:
            raise TargetError(
                f"{self.describe()}: cannot read: {exc.strerror}", hint="check the path and permissions"
            ) from exc

    def set_env(self, ref: EnvRef, value: SecretValue) -> None:
        """Replace `ref.key`'s value in place (or append it); atomic, mode kept."""
        if ref.component is not None:
            raise TargetError(f"{self.describe()}: a .env file has no components (got {ref})")
        with self._locked():
            if not self.spec.create and not self.path.is_file():
                raise self._missing(inspect_dotenv(self.path))
            text = self._read()
            lines = text.splitlines()
            found = parse_dotenv(text).get(ref.key)
            if found is not None:
                lines[found.index] = render_line(found.prefix, found.style, value.reveal(), found.trailer)
            else:
                lines.append(render_line(f"{ref.key}=", "plain", value.reveal()))
            new = "\n".join(lines) + "\n"
            if new == text:
                return
            try:
                write_atomic(self.path, new)
            except OSError as exc:
                raise TargetError(
                    f"{self.describe()}: cannot write: {exc.strerror}", hint="check the directory's permissions"
                ) from exc

    def read_value(self, ref: EnvRef) -> SecretValue | None:
        """The value `ref.key` holds now, or None if the key is absent."""
        found = parse_dotenv(self._read()).get(ref.key)
        return None if found is None else SecretValue(found.value)

    def read_fingerprint(self, ref: EnvRef, key: FingerprintKey) -> str | None:
        """The fingerprint of the file's current value for `ref.key` (None when absent)."""
        value = self.read_value(ref)
        return None if value is None else fingerprint(key, value)

    def redeploy(self) -> Deployment:
        """Run the restart command (if any) and report whether it exited 0."""
        if not self.spec.restart:
            return Deployment(id="none", state=DeployState.NONE, detail="no restart command")
        timeout = self.spec.restart_timeout.total_seconds()
        argv = self.spec.restart
        shown = shlex.join(argv)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        try:
            proc = subprocess.run(
                argv, cwd=self.path.parent, capture_output=True, text=True, timeout=timeout, check=False
            )
        except FileNotFoundError as exc:
            raise TargetError(
                f"{self.describe()}: restart command {argv[0]!r} not found", hint="fix `restart` in the policy"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise TargetError(
                f"{self.describe()}: restart command {shown!r} did not finish within {timeout:g}s",
                hint="raise `restart_timeout`, or check the host",
            ) from exc
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [""])[-1][:200]
            return Deployment(
                id=f"exit-{proc.returncode}",
                state=DeployState.FAILED,
                detail=f"{shown!r} exited {proc.returncode}" + (f": {last}" if last else ""),
            )
        return Deployment(id="exit-0", state=DeployState.LIVE, detail=f"{shown!r} exited 0")

    def wait(self, deployment: Deployment, timeout: timedelta) -> Deployment:
        """The restart command ran synchronously in `redeploy`: its result is final."""
        return deployment
