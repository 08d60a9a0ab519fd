"""The keyword prefilter: find every rule keyword in a whole buffer in one pass, in C.

With Hyperscan (x86-64 Linux) all keywords are compiled into one case-insensitive literal
database; a compiled database is cached on disk under `~/.cache/secretops/` (or
`$SECRETOPS_CACHE_DIR`, `$XDG_CACHE_HOME/secretops`), keyed by a hash of the keywords and the
Hyperscan version, so each worker process loads it instead of compiling. Without Hyperscan the
prefilter uses pyahocorasick when installed, else one Python regex of lookaheads.

Hyperscan scans bytes. ASCII text is scanned as is (byte offsets are character offsets); other
text is scanned as UTF-8 and hit offsets are mapped back to characters (keywords are ASCII, so a
hit always ends on a character boundary).

Keyword storms. A keyword can occur at almost every byte of hostile input (`aaaa...` holds the
21-`a` Twitter bearer keyword at every offset), so when a text has more hits than `plain_cap`
allows (far more than any ordinary file), the hits the engine gets are collapsed
(`find_packed`, `find_bytes`): of the hits of one keyword on one line within `STRIDE` bytes of
the last kept one, only the last is kept too (the engine's windows are the same: a window is the
hit's line, or the hit plus 256 characters on a very long line, and windows that overlap merge).
That bounds the hits kept to about two per keyword per `STRIDE` bytes of a line, plus one per
line. A run where one keyword repeats with a period shorter than itself (`STORM` hits within
one stride, text periodic over the longest keyword) also stops Hyperscan's per-hit callbacks:
the scan halts, the end of the periodic run is found with one regex in C, the run gets one hit
every `STRIDE` bytes for each keyword that occurs in its repeating unit, and the scan resumes
just before the run's end. `find` still returns every occurrence.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import itertools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from secretops.scan.cache import cache_dir, read_entry, write_entry

__all__ = ["PLAIN_HITS", "STORM", "STRIDE", "Prefilter", "bytes_to_chars", "cache_dir", "plain_cap"]

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
#: Hits of one keyword on one line closer than this to the last kept one are collapsed.
STRIDE: Final = 128
#: This many collapsed hits of one keyword in a row, overlapping each other: a storm (see above).
STORM: Final = 64
#: Hits a text may always have before they are collapsed (`plain_cap`).
PLAIN_HITS: Final = 4096


def _on_match(index: int, start: int, end: int, flags: int, hits: list[int]) -> None:
    hits.append(end << _SHIFT | index)


def _on_match_capped(index: int, start: int, end: int, flags: int, context: tuple[list[int], int]) -> bool | None:
    hits = context[0]
    hits.append(end << _SHIFT | index)
    return len(hits) > context[1] or None  # True halts the scan


def plain_cap(size: int) -> int:
    """How many hits a text of `size` characters may have before they are collapsed.

    Ordinary files stay far below (one hit per 16 bytes is a keyword on nearly every line), so
    their hits reach the engine as they are; past it, memory per input byte stays bounded.
    """
    return PLAIN_HITS + size // 16


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
        self._kw_bytes = tuple(kw.encode("ascii", "replace").lower() for kw in self.keywords)
        self._kw_len = [len(kw) for kw in self._kw_bytes]
        self._max_len = max(self._kw_len, default=1)
        self._run_patterns: dict[bytes, re.Pattern[bytes]] = {}
        self._unit_keywords: dict[bytes, tuple[int, ...]] = {}
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

    def find_packed(self, text: str, *, collapse: bool | None = None) -> list[int]:
        """Hits as unsorted ints `end_offset << 20 | keyword_index`, for the engine.

        Every hit while there are at most `plain_cap(len(text))` of them, else collapsed hits
        (module docstring; `collapse=True` always collapses, for tests). Collapsed hits give the
        engine the same windows; their number is bounded by the text's size over `STRIDE` per
        keyword, plus one per line, whatever the text holds.
        """
        if not self.keywords:
            return []
        cap = -1 if collapse else plain_cap(len(text)) if collapse is None else 1 << 62
        if self.backend == "hyperscan":
            return self._find_hyperscan(text, cap=cap)
        packed = self._iter_ahocorasick(text) if self.backend == "ahocorasick" else iter(sorted(self._find(text)))
        first = list(itertools.islice(packed, cap + 1)) if cap >= 0 else []
        if cap >= 0 and len(first) <= cap:
            return first
        return self._collapsed(itertools.chain(first, packed), text)

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
        return self._scan_capped(data, plain_cap(len(data)))

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

    def _find_hyperscan(self, text: str, *, cap: int | None = None) -> list[int]:
        """Hits over `text`: all of them (`cap` None), or as `_scan_capped`."""
        ascii_text = text.isascii()  # O(1) in CPython; byte offsets are then character offsets
        data = text.encode("ascii") if ascii_text else text.encode("utf-8", "surrogatepass")
        if cap is not None:
            hits = self._scan_capped(data, cap)
        else:
            hits = []
            self._db.scan(data, match_event_handler=_on_match, context=hits, scratch=self._scratch())
        return hits if ascii_text else bytes_to_chars(data, hits)

    def _scan_capped(self, data: bytes, cap: int) -> list[int]:
        """Every hit while there are at most `cap` (the common case: a cheap callback), else collapsed hits."""
        if cap >= 0:
            hits: list[int] = []
            try:
                self._db.scan(data, match_event_handler=_on_match_capped, context=(hits, cap), scratch=self._scratch())
            except _hs.ScanTerminated:  # past the cap: a dense input, scan it again collapsing hits
                pass
            else:
                return hits
            del hits
        return self._scan_collapsed(data)

    def _scan_collapsed(self, data: bytes) -> list[int]:
        """Collapsed hits over `data` (module docstring), halting Hyperscan on a storm and resuming after it."""
        hits: list[int] = []
        append = hits.append
        find = data.find
        kw_len = self._kw_len
        limit: dict[int, int] = {}  # a hit of this keyword ending at or before this offset is collapsed
        pending: dict[int, int] = {}  # the last collapsed hit of the keyword: kept when its run closes
        skipped: dict[int, int] = {}  # collapsed hits in a row
        storm: list[int] = []
        base = 0

        def on_match(kw: int, _start: int, end: int, _flags: int, _context: object) -> bool | None:
            end += base
            if end <= limit.get(kw, -1):
                prev = pending.get(kw, -1)
                pending[kw] = end
                count = skipped[kw] = skipped.get(kw, 0) + 1
                if count >= STORM and end - prev <= kw_len[kw]:
                    skipped[kw] = 0
                    if self._periodic_before(data, end, end - prev):
                        storm[:] = (kw, end, end - prev)
                        return True  # halt: the caller skips the periodic run
                return None
            prev = pending.pop(kw, -1)
            if prev >= 0:
                append(prev << _SHIFT | kw)
            append(end << _SHIFT | kw)
            skipped[kw] = 0
            nl = find(b"\n", end, end + STRIDE)
            limit[kw] = end + STRIDE if nl < 0 else nl
            return None

        view = memoryview(data)
        scratch = self._scratch()
        while True:
            storm.clear()
            with contextlib.suppress(_hs.ScanTerminated):  # raised when `on_match` halts on a storm
                self._db.scan(view[base:], match_event_handler=on_match, scratch=scratch)
            if not storm:
                break
            kw, end, gap = storm
            unit = bytes(data[end - gap : end]).lower()
            run_end = self._run_end(unit, data, end)
            for other in self._companions(unit):
                prev = pending.pop(other, -1)
                if 0 <= prev < end:
                    append(prev << _SHIFT | other)
                step = gap * max(1, STRIDE // gap)
                for pos in range(end, run_end, step):
                    append(pos << _SHIFT | other)
                append(run_end << _SHIFT | other)
                nl = find(b"\n", run_end, run_end + STRIDE)
                limit[other] = run_end + STRIDE if nl < 0 else nl
                skipped[other] = 0
            # Resume so that a keyword ending past the run is found whole; the keywords inside it
            # are the companions just added (their hits up to `run_end` are collapsed again).
            base = max(base + 1, run_end - self._max_len + 1)  # always forward, whatever the text
        for kw, end in pending.items():
            append(end << _SHIFT | kw)
        return hits

    def _periodic_before(self, data: bytes, end: int, gap: int) -> bool:
        """Whether the longest keyword's length plus `gap` bytes before `end` repeat with period `gap`."""
        reps = -(-(self._max_len + gap) // gap)
        begin = end - reps * gap
        return begin >= 0 and data[begin:end].lower() == data[end - gap : end].lower() * reps

    def _run_end(self, unit: bytes, data: bytes, end: int) -> int:
        """Where the run of `unit` repeated (caseless) that starts at `end` stops."""
        pattern = self._run_patterns.get(unit)
        if pattern is None:
            pattern = self._run_patterns[unit] = re.compile(b"(?:" + re.escape(unit) + b")*", re.IGNORECASE)
        m = pattern.match(data, end)
        return m.end() if m else end

    def _companions(self, unit: bytes) -> tuple[int, ...]:
        """Indexes of the keywords that occur in text repeating `unit` (lowercase), the storm's own included."""
        found = self._unit_keywords.get(unit)
        if found is None:
            text = unit * (self._max_len // len(unit) + 2)
            found = self._unit_keywords[unit] = tuple(i for i, kw in enumerate(self._kw_bytes) if kw in text)
        return found

    # -- fallbacks ---------------------------------------------------------------------------------

    @staticmethod
    def _lower_ascii(text: str) -> str:
        data = text.encode("ascii") if text.isascii() else text.encode("ascii", "replace")
        return data.lower().decode("ascii")

    def _find_ahocorasick(self, text: str) -> list[int]:
        return list(self._iter_ahocorasick(text))

    def _iter_ahocorasick(self, text: str) -> Iterable[int]:
        lowered = self._lower_ascii(text)
        return ((end + 1) << _SHIFT | index for end, index in self._automaton.iter(lowered))

    @staticmethod
    def _collapsed(packed: Iterable[int], text: str) -> list[int]:
        """The fallbacks' hits, collapsed as Hyperscan's are (no halting: they pay per hit anyway)."""
        hits: list[int] = []
        append = hits.append
        find = text.find
        limit: dict[int, int] = {}
        pending: dict[int, int] = {}
        for p in sorted(packed) if isinstance(packed, list) else packed:
            kw = p & _MASK
            end = p >> _SHIFT
            if end <= limit.get(kw, -1):
                pending[kw] = end
                continue
            prev = pending.pop(kw, -1)
            if prev >= 0:
                append(prev << _SHIFT | kw)
            append(p)
            nl = find("\n", end, end + STRIDE)
            limit[kw] = end + STRIDE if nl < 0 else nl
        for kw, end in pending.items():
            append(end << _SHIFT | kw)
        return hits

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
