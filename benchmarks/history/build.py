"""A reproducible synthetic git repository of about 18,000 commits, with planted fake leaks.

The repository is written in one pass with `git fast-import` (seeded RNG, fixed dates), from
real text on this machine: the files of the speed benchmark's tree (`benchmarks/.work/speed/tree`)
when it exists, else the venv's site-packages `.py/.md/.json/.yaml/...` files. An initial commit
imports a project of a few thousand files; every later commit touches 1-5 files the way a
project's history does: edits of a few lines (lines removed, lines taken from another real file
inserted), a larger rewrite of a block now and then, a file added (a real file), a file deleted.

A few hundred commits also plant one fake credential each, of formats every scanner knows: AWS
key pairs, GitHub `ghp_` tokens with a valid CRC32, Stripe `sk_live_` keys, PostgreSQL URIs with
a password, Slack `xoxb-` tokens; half in an existing file, half in a new config file. Where
each leak went (commit, path, line, kind) is written to `leaks.json` beside the repository, so
`run.py` measures every tool's recall. The values are random and fake (never valid anywhere);
they live only under `benchmarks/.work/` (git-ignored).

Usage: python -m benchmarks.history.build [--commits N] [--leaks N] [--seed N] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / ".work" / "history"
SPEED_TREE = HERE.parent / ".work" / "speed" / "tree"
SUFFIXES = {".py", ".pyi", ".md", ".rst", ".txt", ".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".js", ".c", ".h"}
#: Bump when the generator changes, so an old repository is rebuilt rather than reused.
VERSION = 1
START = 1388534400  # 2014-01-01T00:00:00Z
AUTHORS = [
    ("Ada Lindqvist", "ada@example.org"),
    ("Bram Okafor", "bram@example.org"),
    ("Chen Wei", "chen.wei@example.org"),
    ("Dana Ruiz", "dana@example.org"),
    ("Emeka Obi", "emeka@example.org"),
    ("Fatima Haddad", "fatima@example.org"),
    ("Goran Petrov", "goran@example.org"),
    ("Hana Sato", "hana@example.org"),
]
VERBS = ["Fix", "Add", "Refactor", "Update", "Remove", "Document", "Test", "Clean up", "Speed up", "Handle"]


@dataclass
class Leak:
    """One planted credential: the commit (index, then sha) and where its first line is."""

    n: int
    kind: str
    path: str
    line: int
    values: list[str]
    commit: str = ""


def pool_files(limit: int = 20000) -> list[Path]:
    """Real text files to take content from (sorted, so the same seed gives the same repository)."""
    roots = [SPEED_TREE] if SPEED_TREE.exists() else [Path(p) for p in sys.path if p.endswith("site-packages")]
    found: list[Path] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.suffix not in SUFFIXES or path.is_symlink():
                    continue
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                if 200 <= size <= 48 * 1024:
                    found.append(path)
    return found[:: max(1, len(found) // limit)][:limit]


_CACHE: dict[Path, list[bytes]] = {}


def _read_lines(path: Path) -> list[bytes]:
    cached = _CACHE.get(path)
    if cached is not None:
        return cached
    if len(_CACHE) > 4000:
        _CACHE.clear()
    _CACHE[path] = _read_uncached(path)
    return _CACHE[path]


def _read_uncached(path: Path) -> list[bytes]:
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if b"\0" in data:
        return []
    return data.splitlines(keepends=True)


_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ALNUM = string.ascii_letters + string.digits


def _b62(value: int, width: int) -> str:
    out = ""
    while value:
        value, digit = divmod(value, 62)
        out = _B62[digit] + out
    return out.rjust(width, "0")


def fake_secret(rng: random.Random, kind: str) -> list[str]:
    """Random values of `kind`'s format (a list: an AWS pair is two values)."""

    def pick(chars: str, n: int) -> str:
        return "".join(rng.choice(chars) for _ in range(n))

    if kind == "aws":
        return ["AKIA" + pick(string.ascii_uppercase + "234567", 16), pick(_ALNUM + "/+", 40)]
    if kind == "github":
        body = pick(_B62, 30)
        return ["ghp_" + body + _b62(zlib.crc32(body.encode()), 6)]
    if kind == "stripe":
        return ["sk_live_" + pick(_ALNUM, 24)]
    if kind == "postgres":
        return [pick(string.ascii_lowercase, 8), pick(_ALNUM, 20)]
    if kind == "slack":
        return [f"xoxb-{pick(string.digits, 12)}-{pick(string.digits, 13)}-{pick(_ALNUM, 24)}"]
    raise ValueError(kind)


KINDS = ["aws", "github", "stripe", "postgres", "slack"]


def leak_lines(kind: str, values: list[str], suffix: str) -> list[bytes]:
    """How the credential is written in a file of `suffix` (an assignment, a YAML key, an env line)."""
    if kind == "aws":
        pairs = [("aws_access_key_id", values[0]), ("aws_secret_access_key", values[1])]
    elif kind == "github":
        pairs = [("github_token", values[0])]
    elif kind == "stripe":
        pairs = [("stripe_secret_key", values[0])]
    elif kind == "postgres":
        pairs = [("database_url", f"postgresql://{values[0]}:{values[1]}@db-main.internal:5432/app")]
    else:
        pairs = [("slack_bot_token", values[0])]
    if suffix in (".yaml", ".yml"):
        return [f"{k}: {v}\n".encode() for k, v in pairs]
    if suffix in (".py", ".pyi", ".js", ".c", ".h"):
        return [f'{k.upper()} = "{v}"\n'.encode() for k, v in pairs]
    if suffix == ".json":
        return [f'  "{k}": "{v}",\n'.encode() for k, v in pairs]
    return [f"{k.upper()}={v}\n".encode() for k, v in pairs]


class Builder:
    """The repository state (path -> lines) and the fast-import stream written as it changes."""

    def __init__(self, rng: random.Random, pool: list[Path], out: IO[bytes]) -> None:
        self.rng = rng
        self.pool = pool
        self.out = out
        self.files: dict[str, list[bytes]] = {}
        self.paths: list[str] = []  # the keys of `files`, for O(1) random choice
        self.where: dict[str, int] = {}
        self.next_pool = 0
        self.blob_bytes = 0

    # state ---------------------------------------------------------------------------------
    def _set(self, path: str, lines: list[bytes]) -> None:
        if path not in self.where:
            self.where[path] = len(self.paths)
            self.paths.append(path)
        self.files[path] = lines

    def _delete(self, path: str) -> None:
        i = self.where.pop(path)
        last = self.paths.pop()
        if last != path:
            self.paths[i] = last
            self.where[last] = i
        del self.files[path]

    def _repo_path(self, src: Path) -> str:
        parts = src.parts[-3:]
        top = "src" if src.suffix in (".py", ".pyi", ".js", ".c", ".h") else "docs"
        base = "/".join((top, *parts))
        path, n = base, 1
        while path in self.files:
            stem, dot, ext = base.rpartition(".")
            path = f"{stem}_{n}.{ext}" if dot else f"{base}_{n}"
            n += 1
        return path

    def _new_file(self) -> tuple[str, list[bytes]]:
        while True:
            src = self.pool[self.next_pool % len(self.pool)]
            self.next_pool += 1
            lines = _read_lines(src)
            if lines:
                return self._repo_path(src), lines

    def _donor_lines(self, n: int) -> list[bytes]:
        lines = _read_lines(self.rng.choice(self.pool))
        if not lines:
            return [b"\n"] * min(n, 1)
        start = self.rng.randrange(max(1, len(lines) - n + 1))
        return lines[start : start + n] or lines[:1]

    # changes -------------------------------------------------------------------------------
    def edit(self, path: str, *, big: bool = False) -> None:
        lines = list(self.files[path])
        for _ in range(1 if big else self.rng.choice((1, 1, 1, 2, 2, 3))):
            at = self.rng.randrange(len(lines) + 1)
            if big:
                removed, added = self.rng.randint(10, 300), self.rng.randint(20, 400)
            else:
                removed, added = self.rng.choice((0, 1, 1, 2, 3, 5)), self.rng.choice((0, 1, 1, 2, 3, 4, 8))
                if removed == added == 0:
                    added = 1
            if sum(map(len, lines)) > 64 * 1024:
                added = min(added, removed)
            lines[at : at + removed] = self._donor_lines(added) if added else []
        self._set(path, lines or [b"\n"])

    def plant(self, leak: Leak, *, in_new_file: bool) -> None:
        if in_new_file or not self.paths:
            names = ["config/settings_{}.py", "deploy/values_{}.yaml", "config/{}.env", "ops/secrets_{}.json"]
            path = self.rng.choice(names).format(leak.n)
            suffix = Path(path).suffix
            body = self._donor_lines(self.rng.randint(3, 30)) if suffix == ".py" else []
            at = self.rng.randint(0, len(body))
            lines = body[:at] + leak_lines(leak.kind, leak.values, suffix) + body[at:]
        else:
            path = self.rng.choice(self.paths)
            lines = list(self.files[path])
            at = self.rng.randint(0, len(lines))
            if at and not lines[at - 1].endswith(b"\n"):
                lines[at - 1] += b"\n"
            lines[at:at] = leak_lines(leak.kind, leak.values, Path(path).suffix)
        self._set(path, lines)
        leak.path, leak.line = path, at + 1

    # stream --------------------------------------------------------------------------------
    def _data(self, payload: bytes) -> None:
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def commit(self, mark: int, when: int, message: str, changed: set[str], deleted: set[str]) -> None:
        name, email = self.rng.choice(AUTHORS)
        ident = f"{name} <{email}> {when} +0000".encode()
        self.out.write(b"commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n" % (mark, ident, ident))
        self._data(message.encode())
        for path in sorted(deleted):
            self.out.write(b"D %s\n" % path.encode())
        for path in sorted(changed):
            content = b"".join(self.files[path])
            self.blob_bytes += len(content)
            self.out.write(b"M 100644 inline %s\n" % path.encode())
            self._data(content)
        self.out.write(b"\n")


def build(dest: Path, *, commits: int, leaks: int, seed: int, initial_files: int) -> dict[str, object]:
    """Write the repository to `dest/repo` and the planted leaks to `dest/leaks.json`."""
    rng = random.Random(seed)
    pool = pool_files()
    if len(pool) < 500:
        raise SystemExit(f"only {len(pool)} text files found to build from")
    repo = dest / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    marks = dest / "marks"
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "fast-import", "--quiet", f"--export-marks={marks}"],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    b = Builder(rng, pool, proc.stdin)
    planted_at = set(rng.sample(range(2, commits + 1), leaks))
    planted: list[Leak] = []
    when = START
    for mark in range(1, commits + 1):
        changed: set[str] = set()
        deleted: set[str] = set()
        if mark == 1:
            for _ in range(initial_files):
                path, lines = b._new_file()
                b._set(path, lines)
                changed.add(path)
            message = "Initial import\n"
        else:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 5))):
                op = rng.random()
                if op < 0.10:
                    path, lines = b._new_file()
                    b._set(path, lines)
                    changed.add(path)
                elif op < 0.14 and len(b.paths) > 100:
                    path = rng.choice(b.paths)
                    if path in changed:
                        continue
                    b._delete(path)
                    deleted.add(path)
                else:
                    path = rng.choice(b.paths)
                    if path in deleted:
                        continue
                    if op > 0.95:  # rewritten through (a reformatting, a move of code)
                        b._set(path, b._donor_lines(10**9))
                    else:
                        b.edit(path, big=op > 0.55)
                    changed.add(path)
            if mark in planted_at:
                leak = Leak(mark, KINDS[len(planted) % len(KINDS)], "", 0, [])
                leak.values = fake_secret(rng, leak.kind)
                b.plant(leak, in_new_file=rng.random() < 0.5)
                deleted.discard(leak.path)
                changed.add(leak.path)
                planted.append(leak)
            target = Path(rng.choice(sorted(changed))).stem if changed else "history"
            message = f"{rng.choice(VERBS)} {target}\n\nChange {mark} of the synthetic history.\n"
        when += rng.randint(60, 35000)
        b.commit(mark, when, message, changed, deleted)
        if mark % 1000 == 0:
            tag = f"v{mark // 1000}.0"
            proc.stdin.write(b"reset refs/tags/%s\nfrom :%d\n\n" % (tag.encode(), mark))
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    shas = dict(line.split() for line in marks.read_text().splitlines())
    for leak in planted:
        leak.commit = shas[f":{leak.n}"]
    meta: dict[str, object] = {
        "version": VERSION,
        "seed": seed,
        "commits": commits,
        "initial_files": initial_files,
        "files_at_head": len(b.paths),
        "blob_bytes_written": b.blob_bytes,
        "build_seconds": round(time.perf_counter() - started, 1),
        "source": str(SPEED_TREE if SPEED_TREE.exists() else "site-packages"),
        "leaks": [asdict(leak) for leak in planted],
    }
    (dest / "leaks.json").write_text(json.dumps(meta, indent=1))
    return meta


def ensure(
    dest: Path = WORK, *, commits: int = 18000, leaks: int = 300, seed: int = 11, initial_files: int = 3000
) -> dict[str, object]:
    """The repository's metadata, building it first unless one with the same parameters exists."""
    manifest = dest / "leaks.json"
    if manifest.exists() and (dest / "repo" / "HEAD").exists():
        meta: dict[str, object] = json.loads(manifest.read_text())
        wanted = {"version": VERSION, "seed": seed, "commits": commits, "initial_files": initial_files}
        if all(meta.get(k) == v for k, v in wanted.items()) and len(meta["leaks"]) == leaks:  # type: ignore[arg-type]
            return meta
    dest.mkdir(parents=True, exist_ok=True)
    return build(dest, commits=commits, leaks=leaks, seed=seed, initial_files=initial_files)


def main() -> int:
    parser = argparse.ArgumentParser(description="Build the synthetic history repository.")
    parser.add_argument("--commits", type=int, default=18000)
    parser.add_argument("--leaks", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--initial-files", type=int, default=3000)
    parser.add_argument("--dest", type=Path, default=WORK)
    parser.add_argument("--force", action="store_true", help="rebuild even if it exists")
    args = parser.parse_args()
    if args.force and (args.dest / "leaks.json").exists():
        (args.dest / "leaks.json").unlink()
    meta = ensure(args.dest, commits=args.commits, leaks=args.leaks, seed=args.seed, initial_files=args.initial_files)
    print(
        f"{args.dest / 'repo'}: {meta['commits']} commits, {meta['files_at_head']} files at HEAD, "
        f"{len(meta['leaks'])} planted leaks (built in {meta['build_seconds']} s)"  # type: ignore[arg-type]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
