"""The keyword prefilter: find every rule keyword in a whole buffer in one pass, in C.

With Hyperscan (x86-64 Linux) all keywords are compiled into one case-insensitive literal
database; a compiled database is cached on disk under `~/.cache/secretops/` (or
`$SECRETOPS_CACHE_DIR`, `$XDG_CACHE_HOME/secretops`), keyed by a hash of the keywords and the
Hyperscan version, so each worker process loads it instead of compiling. Without Hyperscan the
prefilter uses pyahocorasick when installed, else one Python regex of lookaheads.

Hyperscan scans bytes. ASCII text is scanned as is (byte offsets are character offsets); other
text is scanned as UTF-8 and hit offsets are mapped back to characters (keywords are ASCII, so a
hit always ends on a character boundary).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from secretops.scan.cache import cache_dir, read_entry, write_entry

__all__ = ["Prefilter", "bytes_to_chars", "cache_dir"]

log = logging.getLogger(__name__)


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - depends on the platform
        return None


_hs: Any = _optional("hyperscan")  # x86-64 Linux wheels only
_ac: Any = _optional("ahocorasick")  # optional fallback

_SHIFT = 20  # keyword index in the low bits of a packed hit: end_offset << _SHIFT | index
_MASK = (1 << _SHIFT) - 1
_MEMO: dict[str, Any] = {}
_MEMO_LOCK = threading.Lock()


def _on_match(index: int, start: int, end: int, flags: int, hits: list[int]) -> None:
    hits.append(end << _SHIFT | index)


def bytes_to_chars(data: bytes, hits: list[int]) -> list[int]:
    """Turn packed UTF-8 byte offsets into character offsets.

    Every hit ends a keyword, which is ASCII, so each offset falls on a character boundary;
    decoding the bytes between consecutive hits counts the characters (one pass in C overall).
    """
    hits.sort()
    out: list[int] = []
    prev_b = prev_c = 0
    for p in hits:
        b = p >> _SHIFT
        if b != prev_b:
            prev_c += len(data[prev_b:b].decode("utf-8", "surrogatepass"))
            prev_b = b
        out.append(prev_c << _SHIFT | (p & _MASK))
    return out


class Prefilter:
    """Finds where any of `keywords` (lowercase ASCII literals) occurs, case-insensitively.

    `find(text)` returns `(end_offset, keyword_index)` pairs sorted by offset. `backend` says
    which implementation is in use: `hyperscan`, `ahocorasick` or `regex`.
    """

    def __init__(self, keywords: Sequence[str], *, backend: str | None = None) -> None:
        if len(keywords) > _MASK:
            raise ValueError("too many keywords")
        self.keywords = tuple(keywords)
        wanted = backend or ("hyperscan" if _hs is not None else "ahocorasick" if _ac is not None else "regex")
        self.backend = wanted
        self._local = threading.local()
        self._find: Callable[[str], list[int]]
        if not self.keywords:
            self._find = lambda text: []
        elif wanted == "hyperscan":
            self._db = self._hyperscan_db()
            self._find = self._find_hyperscan
        elif wanted == "ahocorasick":
            if _ac is None:
                raise ValueError("pyahocorasick is not installed")
            automaton = _ac.Automaton()
            for index, kw in enumerate(self.keywords):
                automaton.add_word(kw, index)
            automaton.make_automaton()
            self._automaton = automaton
            self._find = self._find_ahocorasick
        elif wanted == "regex":
            ordered = sorted(range(len(self.keywords)), key=lambda i: -len(self.keywords[i]))
            self._regex_order = ordered
            alternation = "|".join(f"({re.escape(self.keywords[i])})" for i in ordered)
            # A lookahead finds a keyword at every start position, overlapping ones included;
            # keywords that are prefixes of the longest one matched there are added below.
            self._regex = re.compile(f"(?=(?:{alternation}))")
            self._prefixes = {
                i: [j for j in range(len(self.keywords)) if j != i and self.keywords[i].startswith(self.keywords[j])]
                for i in range(len(self.keywords))
            }
            self._find = self._find_regex
        else:
            raise ValueError(f"unknown prefilter backend {wanted!r}")

    def find(self, text: str) -> list[tuple[int, int]]:
        """Every keyword occurrence as `(end_offset, keyword_index)`, sorted by offset."""
        packed = self._find(text)
        packed.sort()
        return [(p >> _SHIFT, p & _MASK) for p in packed]

    def find_packed(self, text: str) -> list[int]:
        """Like `find`, as unsorted ints `end_offset << 20 | keyword_index` (fast path for the engine)."""
        return self._find(text)

    @property
    def scans_bytes(self) -> bool:
        """True when `find_bytes` works (Hyperscan): a file can be prefiltered before it is decoded."""
        return self.backend == "hyperscan" and bool(self.keywords)

    def find_bytes(self, data: bytes) -> list[int]:
        """Packed hits (as `find_packed`) over raw bytes, with byte offsets; Hyperscan only.

        The runner calls this on a file's bytes before decoding them, so a file with no keyword
        is never decoded. For UTF-8 text, `bytes_to_chars` turns the offsets into character
        offsets; for ASCII and Latin-1 text they already are.
        """
        if not self.scans_bytes:
            raise ValueError(f"the {self.backend} prefilter scans text, not bytes")
        hits: list[int] = []
        self._db.scan(data, match_event_handler=_on_match, context=hits, scratch=self._scratch())
        return hits

    # -- hyperscan ---------------------------------------------------------------------------------

    def _hyperscan_db(self) -> Any:
        assert _hs is not None
        version = getattr(_hs, "__version__", "?")
        key = hashlib.sha256(("\x1f".join(self.keywords) + f"\0hs{version}").encode()).hexdigest()[:32]
        with _MEMO_LOCK:
            if key in _MEMO:
                return _MEMO[key]
            db = None
            cached = read_entry("prefilter", key, ".hsdb")
            if cached is not None:
                try:
                    db = _hs.loadb(cached, _hs.HS_MODE_BLOCK)
                except Exception as exc:  # a corrupt or foreign cache file: rebuild it
                    log.debug("ignoring unusable prefilter cache %s: %s", key, exc)
            if db is None:
                db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
                exprs = [kw.encode("ascii") for kw in self.keywords]
                db.compile(
                    expressions=exprs,
                    ids=list(range(len(exprs))),
                    elements=len(exprs),
                    flags=_hs.HS_FLAG_CASELESS,
                    literal=True,
                )
                write_entry("prefilter", key, ".hsdb", _hs.dumpb(db))
            _MEMO[key] = db
            return db

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            assert _hs is not None
            scratch = _hs.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def _find_hyperscan(self, text: str) -> list[int]:
        hits: list[int] = []
        if text.isascii():  # O(1) in CPython; byte offsets are character offsets
            self._db.scan(text.encode("ascii"), match_event_handler=_on_match, context=hits, scratch=self._scratch())
            return hits
        data = text.encode("utf-8", "surrogatepass")
        self._db.scan(data, match_event_handler=_on_match, context=hits, scratch=self._scratch())
        return bytes_to_chars(data, hits)

    # -- fallbacks ---------------------------------------------------------------------------------

    @staticmethod
    def _lower_ascii(text: str) -> str:
        data = text.encode("ascii") if text.isascii() else text.encode("ascii", "replace")
        return data.lower().decode("ascii")

    def _find_ahocorasick(self, text: str) -> list[int]:
        lowered = self._lower_ascii(text)
        return [(end + 1) << _SHIFT | index for end, index in self._automaton.iter(lowered)]

    def _find_regex(self, text: str) -> list[int]:
        lowered = self._lower_ascii(text)
        out: list[int] = []
        order = self._regex_order
        for m in self._regex.finditer(lowered):
            pos = m.start()
            group = m.lastindex
            if group is None:
                continue
            index = order[group - 1]
            out.append((pos + len(self.keywords[index])) << _SHIFT | index)
            for j in self._prefixes[index]:
                out.append((pos + len(self.keywords[j])) << _SHIFT | j)
        return out
