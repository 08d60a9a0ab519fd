"""The scanner engine: one fragment buffer in, classified and grouped `Finding`s out.

Pipeline for one `Fragment` (the whole text at once, never line by line):

1. keyword prefilter over the whole buffer in C (`Prefilter`: Hyperscan, else Aho-Corasick);
2. windows: the line(s) holding each keyword hit (capped on very long lines), merged when they
   touch; rules with `multiline = true` also see the 16 KiB after their window (a keyword storm's
   hits arrive collapsed from the prefilter: the same windows, a bounded number of hits);
3. each rule whose keyword hit a window runs its regex over that window only
   (`pattern.finditer(text, start, end)`: no copies); a multiline rule runs once over the union
   of its overlapping reaches (each character read once per rule, not once per window);
4. candidates on the same secret span are de-duplicated (a specific rule beats a generic one);
5. rule and policy allowlists, inline `secretops:allow`;
6. grouping (`group.py`): host/port/database/user context, provider inference, identifiers
   folded into their secret;
7. classification (`filters.py`), then entropy floor and checksum for would-be leaks;
8. `Finding`s with a keyed fingerprint and a masked preview, sorted by location.

A `Scanner` is cheap to build in each worker process: the prefilter database is cached on disk.
It is not thread-safe across threads sharing one instance only in its Hyperscan scratch, which
is kept per thread.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Final

from secretops.scan.checksums import CHECKSUMS
from secretops.scan.config import ScanPolicy
from secretops.scan.filters import classify, in_ci_service_block, name_not_secret, shannon_entropy
from secretops.scan.group import IDENTIFIER_TAG, Candidate, absorb_identifiers, attach_context
from secretops.scan.models import Classification, Finding, Fragment, Location, Severity
from secretops.scan.prefilter import Prefilter, bytes_to_chars
from secretops.scan.rules.interface import Rule, RuleSet
from secretops.values import FingerprintKey, SecretValue, fingerprint, mask

__all__ = ["ALLOW_MARKER", "DECODER_KEYWORDS", "FOREIGN_ALLOW_MARKERS", "NEXT_LINE_MARKER", "LineIndex", "Scanner"]

log = logging.getLogger(__name__)

#: An inline comment with this marker suppresses findings on its line.
ALLOW_MARKER: Final = "secretops:allow"
#: Other scanners' inline markers, honoured too so a team moving over keeps its reviewed lines:
#: detect-secrets, gitleaks/Betterleaks, Kingfisher, ggshield, TruffleHog.
FOREIGN_ALLOW_MARKERS: Final = (
    "pragma: allowlist secret",
    "gitleaks:allow",
    "kingfisher:ignore",
    "ggignore",
    "trufflehog:ignore",
)
#: detect-secrets' marker for the line after it (it does not allow its own line).
NEXT_LINE_MARKER: Final = "pragma: allowlist nextline secret"
_LINE_MARKERS: Final = (ALLOW_MARKER, *FOREIGN_ALLOW_MARKERS)

#: Prefilter keywords that gate the decoders (`decoders.expand`): a text without any of them holds
#: no Kubernetes `Secret` manifest, whichever rules are enabled.
DECODER_KEYWORDS: Final = ("secret",)
MAX_LINE_REACH: Final = 2048  # look this far for the line's edges; on longer lines (minified code)
LONG_LINE_CONTEXT: Final = 256  # ... the window is the hit plus this much on each side
MAX_WINDOW: Final = 8192  # merged windows stop growing past this size (they may then overlap)
MULTILINE_REACH: Final = 16384  # extra reach after a window for rules with `multiline = true`
_SHIFT: Final = 20
_MASK: Final = (1 << _SHIFT) - 1


class LineIndex:
    """Line numbers for offsets in one text, counted lazily from checkpoints (no full pass).

    Each query counts newlines from the nearest known checkpoint (`str.count`, in C) and
    remembers the answer, so sorted queries cost one pass over the text in total.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._offsets = [0]
        self._lines = [1]
        self._last = (0, 0)  # (offset, its line's start) of the last `line_start` query

    def line(self, offset: int) -> int:
        """1-based line number of `offset`."""
        i = bisect.bisect_right(self._offsets, offset) - 1
        base, line = self._offsets[i], self._lines[i]
        if offset == base:
            return line
        line += self._text.count("\n", base, offset)
        self._offsets.insert(i + 1, offset)
        self._lines.insert(i + 1, line)
        return line

    def line_start(self, offset: int) -> int:
        """Offset of the first character of the line holding `offset`.

        Remembers the last answer, so queries in (nearly) ascending order read each character
        once: many findings on one very long line do not rescan it from its start each time.
        """
        last, start = self._last
        if start <= offset <= last:
            return start
        if offset > last:
            nl = self._text.rfind("\n", last, offset)
            if nl >= 0:
                start = nl + 1
        else:
            start = self._text.rfind("\n", 0, offset) + 1
        self._last = (offset, start)
        return start

    def line_end(self, offset: int) -> int:
        """Offset of the newline ending the line holding `offset` (the text's length on the last line)."""
        end = self._text.find("\n", offset)
        return len(self._text) if end < 0 else end

    def column(self, offset: int) -> int:
        """1-based column of `offset` on its line."""
        return offset - self.line_start(offset) + 1


class Scanner:
    """Scans fragments with a rule set; see the module docstring for the pipeline.

    `scan` returns findings of every class (leak, test-credential, placeholder, weak-default);
    the runner filters classes and applies the policy's path allowlist.
    """

    def __init__(
        self,
        rules: RuleSet | Iterable[Rule],
        key: FingerprintKey,
        policy: ScanPolicy | None = None,
        *,
        prefilter_backend: str | None = None,
        redact: int | None = None,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._redact = redact  # `--redact N`: percent of a value previews show (None: the default)
        self._key = key
        self.policy = policy or ScanPolicy.default()
        keywords = sorted({kw for rule in self.rules for kw in rule.keywords} | set(DECODER_KEYWORDS))
        index = {kw: i for i, kw in enumerate(keywords)}
        kw_rules: list[list[int]] = [[] for _ in keywords]
        for ri, rule in enumerate(self.rules):
            for kw in rule.keywords:
                kw_rules[index[kw]].append(ri)
        self._kw_rules: list[tuple[int, ...]] = [tuple(r) for r in kw_rules]
        self._kw_len = [len(kw) for kw in keywords]
        self._always = tuple(ri for ri, rule in enumerate(self.rules) if not rule.keywords)
        # Rules whose candidates `classify` first judges by their assignment name alone: the
        # engine drops a candidate whose name names no secret before building anything for it.
        self._by_name = tuple(
            (rule.generic or "assignment" in rule.tags) and rule.decode is None for rule in self.rules
        )
        self._decoder_kws = frozenset(index[kw] for kw in DECODER_KEYWORDS)
        self._multiline = tuple(rule.multiline for rule in self.rules)
        self._rule_order = {rule.id: i for i, rule in enumerate(self.rules)}
        # Rules whose values are identifiers, shown in full as another finding's context by design.
        self._identifier_ids = frozenset(r.id for r in self.rules if r.public or IDENTIFIER_TAG in r.tags)
        self._patterns: list[re.Pattern[str] | None] = [None] * len(self.rules)
        self._requires: list[str | None] = [None] * len(self.rules)  # `Rule.required`, set with the pattern
        self.prefilter = Prefilter(keywords, backend=prefilter_backend)
        self._services_text: str | None = None
        self._lowered_text: str | None = None  # the text `_lowered` is the lowercase of
        self._lowered = ""
        self._services = False

    # -- stage 1-3: prefilter, windows, regexes ---------------------------------------------------

    def prefilter_bytes(self, data: bytes) -> list[int] | None:
        """Keyword hits over a file's raw bytes (byte offsets), or None when the prefilter reads text only.

        An empty list means no rule can match and no decoder applies: the file needs no decoding.
        Otherwise decode the bytes, map the offsets with `hits_for_text`, and pass them to `scan`.
        """
        if not self.prefilter.scans_bytes:
            return None
        return self.prefilter.find_bytes(data)

    @staticmethod
    def hits_for_text(data: bytes, text: str, hits: list[int]) -> list[int]:
        """`hits` from `prefilter_bytes(data)` as character offsets into `text`, decoded from `data`.

        Valid only when `text` is `data` decoded as UTF-8 or Latin-1 (no BOM stripped).
        """
        if len(text) == len(data):  # ASCII or Latin-1: one byte per character
            return hits
        return bytes_to_chars(data, hits)

    def wants_decoders(self, hits: list[int]) -> bool:
        """Whether a text with these prefilter hits may hold encoded values the decoders read."""
        decoder_kws = self._decoder_kws
        return any(p & _MASK in decoder_kws for p in hits)

    def _windows(self, text: str, packed: list[int] | None = None) -> Iterator[tuple[int, int, set[int]]]:
        """Merged `(start, end, keyword indexes)` windows around every keyword hit, in text order.

        A generator: a text with a keyword on each of a million lines never holds a million
        windows at once.
        """
        if packed is None:
            packed = self.prefilter.find_packed(text)
        if not packed:
            return
        packed.sort()
        n = len(text)
        cur_start = cur_end = -1
        cur_kws: set[int] = set()
        rfind, find = text.rfind, text.find
        kw_len = self._kw_len
        for p in packed:
            end = p >> _SHIFT
            kw = p & _MASK
            if end <= cur_end:
                cur_kws.add(kw)
                continue
            lo = end - kw_len[kw]
            if lo < 0:
                lo = 0
            hi = end
            floor = lo - MAX_LINE_REACH
            ws = rfind("\n", 0, lo) + 1 if floor <= 0 else rfind("\n", floor, lo) + 1 or lo - LONG_LINE_CONTEXT
            ceiling = hi + MAX_LINE_REACH
            if ceiling >= n:
                we = find("\n", hi)
                if we < 0:
                    we = n
            else:
                we = find("\n", hi, ceiling)
                if we < 0:
                    we = min(n, hi + LONG_LINE_CONTEXT)
            if ws <= cur_end and cur_end - cur_start < MAX_WINDOW:
                if we > cur_end:
                    cur_end = we
                cur_kws.add(kw)
                continue
            if cur_end >= 0:
                yield cur_start, cur_end, cur_kws
            cur_start, cur_end, cur_kws = ws, we, {kw}
        yield cur_start, cur_end, cur_kws

    def compile_all(self) -> None:
        """Compile every rule's regex now (before forking workers that would each compile them)."""
        for ri in range(len(self._patterns)):
            self._pattern(ri)

    def _pattern(self, ri: int) -> re.Pattern[str]:
        """Rule `ri`'s compiled regex, compiled on first use (most scans need only some rules)."""
        pattern = self._patterns[ri]
        if pattern is None:
            rule = self.rules[ri]
            if not rule.multiline:
                self._requires[ri] = rule.required
            pattern = self._patterns[ri] = rule.pattern
        return pattern

    def _raw_candidates(self, text: str, hits: list[int] | None = None) -> list[Candidate]:
        seen: set[tuple[int, int, int]] = set()
        out: list[Candidate] = []
        n = len(text)
        multiline = self._multiline
        patterns = self._patterns
        kw_rules = self._kw_rules
        run_rule = self._run_rule
        requires = self._requires
        find = text.find
        for ri in self._always:
            run_rule(ri, text, 0, n, seen, out)
        # A multiline rule reaches `MULTILINE_REACH` past each of its windows; where those reaches
        # overlap, it runs once over their union (rule index -> [start, end] not yet run), so
        # each character is read once per rule, not once per window that reaches it.
        reach: dict[int, list[int]] = {}
        for ws, we, kws in self._windows(text, hits):
            if len(kws) == 1:
                rule_ids: Iterable[int] = kw_rules[next(iter(kws))]  # already in rule order
            else:
                rule_ids = sorted({ri for kw in kws for ri in kw_rules[kw]})
            for ri in rule_ids:
                if multiline[ri]:
                    end = we + MULTILINE_REACH
                    if end > n:
                        end = n
                    span = reach.get(ri)
                    if span is not None and ws <= span[1]:
                        if end > span[1]:
                            span[1] = end
                        continue
                    if span is not None:
                        run_rule(ri, text, span[0], span[1], seen, out)
                    reach[ri] = [ws, end]
                    continue
                # Most windows hold no match of most of their rules. A character every match
                # holds (`required_chars`) missing from the window says so first, else one
                # `search` in C; on a match `finditer` goes on from its end.
                pattern = patterns[ri] or self._pattern(ri)
                needs = requires[ri]
                if needs is not None:
                    if len(needs) == 1:
                        if find(needs, ws, we) < 0:
                            continue
                    else:
                        for c in needs:
                            if find(c, ws, we) >= 0:
                                break
                        else:
                            continue
                first = pattern.search(text, ws, we)
                if first is not None:
                    run_rule(ri, text, ws, we, seen, out, first)
        for ri, (ws, we) in reach.items():
            run_rule(ri, text, ws, we, seen, out)
        # Deferred runs append out of window order: sort by place, ties in rule order (which rule
        # wins a tie in `_dedupe` then never depends on how windows fell).
        order = self._rule_order
        out.sort(key=lambda c: (c.start, -c.end, order[c.rule.id]))
        return out

    def _run_rule(
        self,
        ri: int,
        text: str,
        ws: int,
        we: int,
        seen: set[tuple[int, int, int]],
        out: list[Candidate],
        first: re.Match[str] | None = None,
    ) -> None:
        """Rule `ri`'s regex over `text[ws:we]`: one candidate per new secret span, appended to `out`.

        `first` is the window's first match when the caller found it already (`search` from
        `ws`): the matches are then it and those of `finditer` from its end, the very matches
        `finditer` from `ws` gives (it resumes where a non-empty match ended; lookbehinds and
        anchors see the whole text either way).
        """
        pattern = self._patterns[ri] or self._pattern(ri)
        rule = self.rules[ri]
        by_name = self._by_name[ri]
        group = rule.secret_group
        matches: Iterable[re.Match[str]]
        if first is not None and first.end() > first.start():
            matches = itertools.chain((first,), pattern.finditer(text, first.end(), we))
        elif first is None and self._multiline[ri] and text.isascii() and rule.line_anchor is not None:
            matches = self._anchored(pattern, rule.line_anchor, text, ws, we)
        else:
            matches = pattern.finditer(text, ws, we)
        for m in matches:
            start, end = m.span(group)
            if start < 0 or end <= start:
                continue
            key = (ri, start, end)
            if key in seen:
                continue
            seen.add(key)
            groups = m.groupdict()
            name = groups.get("name")
            value = m.group(group)
            if name and by_name and name_not_secret(name, value):
                continue  # `classify` would say the same first: `input_token = ...` is no secret
            context = {ctx: groups[g] for ctx, g in rule.context.items() if groups.get(g)}
            out.append(
                Candidate(
                    rule=rule,
                    start=start,
                    end=end,
                    value=value,
                    line=0,
                    name=name,
                    quoted=bool(groups.get("q")),
                    op=groups.get("op"),
                    provider=rule.provider,
                    kind=rule.kind,
                    context=context,
                )
            )

    def _anchored(
        self, pattern: re.Pattern[str], anchor: tuple[int, tuple[str, ...], bool], text: str, ws: int, we: int
    ) -> Iterator[re.Match[str]]:
        """The matches `pattern.finditer(text, ws, we)` gives, for a regex with a line anchor (ASCII text).

        Such a regex (`Rule.line_anchor`) matches only at a line start with one of its literals
        at most `reach` characters further: instead of trying every position of a 16 KiB
        multiline reach, it is tried (`match`) at the line starts before each occurrence of the
        literals (found case-insensitively, a superset of where it matches), in order, each
        past the previous match's end, as `finditer` goes on. On ASCII text lowercasing maps
        nothing else onto the literals' letters.
        """
        reach, literals, caseless = anchor
        if caseless and self._lowered_text is not text:
            self._lowered_text = text
            self._lowered = text.lower()
        find = self._lowered.find if caseless else text.find
        rfind = text.rfind
        starts: set[int] = set()
        for literal in literals:
            pos = find(literal, ws, we)
            while pos >= 0:
                # Every line start in [lo, pos]: after a newline at lo - 1 or later (or the text's
                # start); each look back is bounded by `reach`, whatever the line's length.
                lo = max(ws, pos - reach)
                floor = lo - 1 if lo > 0 else 0
                nl = rfind("\n", floor, pos)
                while nl >= 0:
                    starts.add(nl + 1)
                    nl = rfind("\n", floor, nl)
                if lo == 0:
                    starts.add(0)
                pos = find(literal, pos + 1, we)
        done = ws
        for start in sorted(starts):
            if start < done:
                continue
            m = pattern.match(text, start, we)
            if m is not None and m.end() > m.start():
                yield m
                done = m.end()

    # -- stage 4: de-duplication -------------------------------------------------------------------

    @staticmethod
    def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
        """One candidate per secret span; a specific rule beats a generic one, which it also covers."""
        candidates.sort(key=lambda c: (c.start, -c.end, c.rule.generic))
        kept: list[Candidate] = []
        specific: list[tuple[int, int]] = []
        by_span: dict[tuple[int, int], Candidate] = {}
        for c in candidates:
            span = (c.start, c.end)
            if span in by_span:
                prev = by_span[span]
                better = (prev.rule.generic and not c.rule.generic) or (
                    prev.rule.generic == c.rule.generic and len(c.context) > len(prev.context)
                )
                if better:
                    kept[kept.index(prev)] = c
                    by_span[span] = c
                    if not c.rule.generic:
                        specific.append(span)
                continue
            by_span[span] = c
            kept.append(c)
            if not c.rule.generic:
                specific.append(span)
        if not specific:
            return kept
        specific.sort()
        starts = [s for s, _ in specific]

        def overlaps_specific(c: Candidate) -> bool:
            i = bisect.bisect_right(starts, c.end)
            return any(s < c.end and c.start < e for s, e in specific[max(0, i - 8) : i])

        return [c for c in kept if not c.rule.generic or not overlaps_specific(c)]

    # -- the whole pipeline ------------------------------------------------------------------------

    def candidates(self, fragment: Fragment) -> list[Candidate]:
        """Regex hits after de-duplication, before allowlists, grouping and classification.

        Generic assignments whose name names no secret (`input_token = ...`) are already gone:
        classification would drop them first. For tests and `--verbose` debugging (public rules
        never become findings on their own). Each candidate holds its raw value in memory: never
        log or print it.
        """
        if not fragment.text:
            return []
        return self._dedupe(self._raw_candidates(fragment.text))

    def scan(self, fragment: Fragment, hits: list[int] | None = None) -> list[Finding]:
        """All findings in `fragment`, of every class, grouped and sorted by location.

        `hits` are the fragment's prefilter hits when the caller already has them (character
        offsets, see `prefilter_bytes` and `hits_for_text`); the prefilter runs otherwise.
        """
        text = fragment.text
        if not text:
            return []
        candidates = self._raw_candidates(text, hits)
        if not candidates:
            return []
        candidates = self._dedupe(candidates)
        lines = LineIndex(text)
        candidates.sort(key=lambda c: c.start)
        kept: list[Candidate] = []
        marked: dict[int, list[int]] = {}  # line start -> where the line's allow markers start
        spans = _Spans(candidates)  # a marker inside a value allows nothing
        for c in candidates:
            c.value = self._decoded(c)
            if not c.value or self._allowlisted(c, fragment.path, text, lines, marked, spans):
                continue
            c.line = lines.line(c.start)
            kept.append(c)
        kept = absorb_identifiers(kept)
        findings = [f for c in kept if (f := self._finding(c, fragment, text, lines)) is not None]
        if findings:
            findings = self._mask_secrets_in_context(findings)
        findings.sort(key=lambda f: (f.location.line, f.location.column, f.rule_id))
        return findings

    def _mask_secrets_in_context(self, findings: list[Finding]) -> list[Finding]:
        """Mask a context part that holds a finding's secret (another finding's, or its own).

        Context is shown in full as the public parts of a credential (a user, a host), but a
        rule's user slot can hold a secret: `curl -u skey_...:` passes Omise's secret key as
        the user name; a `host` part can run on into a token glued to the line. Such a part is
        then masked like a preview.
        """
        if not any(f.context for f in findings):
            return findings
        identifiers = self._identifier_ids
        secrets_ = [
            f.secret.reveal()
            for f in findings
            if f.secret is not None and f.rule_id not in identifiers and len(f.secret) >= 4
        ]
        out = []
        for f in findings:
            context = f.context
            hidden = {
                k: mask(v, self._redact)
                for k, v in context.items()
                if any(value in v for value in secrets_)
            }
            out.append(dataclasses.replace(f, context={**context, **hidden}) if hidden else f)
        return out

    @staticmethod
    def _decoded(c: Candidate) -> str:
        if c.rule.decode != "base64":
            return c.value
        try:
            return base64.b64decode(c.value + "=" * (-len(c.value) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""

    def _allowlisted(
        self,
        c: Candidate,
        path: str,
        text: str,
        lines: LineIndex,
        marked: dict[int, list[int]],
        spans: _Spans,
    ) -> bool:
        rule = c.rule
        if rule.allow_paths and any(p.search(path) for p in rule.allow_paths):
            return True
        if any(p.search(c.value) for p in rule.allow_regexes):
            return True
        if rule.allow_stopwords:
            lowered = c.value.lower()
            if any(w in lowered for w in rule.allow_stopwords):
                return True
        if self.policy.secret_allowed(c.value):
            return True
        return self._marked(c, text, lines, marked, spans)

    @staticmethod
    def _marked(c: Candidate, text: str, lines: LineIndex, marked: dict[int, list[int]], spans: _Spans) -> bool:
        """An inline marker allows the candidate: on its lines, or `NEXT_LINE_MARKER` on the line before.

        A marker counts only outside every candidate's value: a value that spells a marker (in a
        file an attacker wrote) hides neither itself nor a secret on the next line.
        """
        first = lines.line_start(c.start)
        single = text.find("\n", c.start, c.end) < 0
        found = marked.get(first) if single else None
        if found is None:  # one look per line, not per candidate
            last = lines.line_end(c.end)
            found = _marker_starts(text, first, last, _LINE_MARKERS)
            if single:
                marked[first] = found
        if any(not spans.covers(pos) for pos in found):
            return True
        if first == 0:
            return False
        previous = lines.line_start(first - 1)
        return any(not spans.covers(pos) for pos in _marker_starts(text, previous, first, (NEXT_LINE_MARKER,)))

    def _has_services(self, text: str) -> bool:
        """Whether `text` has any YAML `services:` key (checked once per scan)."""
        if self._services_text is not text:
            self._services_text = text
            self._services = "services:" in text
        return self._services

    def _finding(self, c: Candidate, fragment: Fragment, text: str, lines: LineIndex) -> Finding | None:
        rule = c.rule
        line_start = lines.line_start(c.start)
        attach_context(c, text, line_start)
        verdict = classify(
            c.value,
            path=fragment.path,
            name=c.name,
            context=c.context,
            generic=rule.generic or "assignment" in rule.tags,
            quoted=c.quoted,
            op=c.op,
            in_ci_service=lambda: self._has_services(text) and in_ci_service_block(text, line_start, fragment.path),
            keywords=rule.keywords,
            text=text,
            line_start=line_start,
        )
        if verdict.classification is None:
            log.debug("%s at %s:%d dropped: %s", rule.id, fragment.path, c.line, verdict.reasons[0])
            return None
        reasons = list(verdict.reasons)
        cls = verdict.classification
        entropy = shannon_entropy(c.value)
        if cls is Classification.LEAK:
            if rule.entropy is not None and entropy < rule.entropy:
                log.debug("%s at %s:%d dropped: entropy below floor", rule.id, fragment.path, c.line)
                return None
            if rule.checksum is not None and not CHECKSUMS[rule.checksum](c.value):
                log.debug("%s at %s:%d dropped: checksum failed", rule.id, fragment.path, c.line)
                return None
            if rule.checksum is not None:
                reasons.append(f"checksum {rule.checksum} valid")
        severity = rule.severity
        if cls is Classification.WEAK_DEFAULT:
            severity = Severity.MEDIUM
        elif cls is Classification.TEST_CREDENTIAL:
            severity = Severity.LOW
        elif cls is Classification.PLACEHOLDER:
            severity = Severity.INFO
        if not rule.generic or rule.checksum:
            confidence = "high"
        elif c.context.get("host") or entropy >= 3.5:
            confidence = "medium" if not c.context.get("host") else "high"
        else:
            confidence = "low"
        severity = verdict.severity or severity  # lowered for a value with no live shape in a test path
        confidence = verdict.confidence or confidence
        end_line = c.line + text.count("\n", c.start, c.end)
        end_col = c.end - lines.line_start(c.end) + 1
        location = Location(
            path=fragment.path,
            line=fragment.line_offset + c.line,
            column=c.start - line_start + 1,
            end_line=fragment.line_offset + end_line,
            end_column=end_col,
            cell=fragment.cell,
            commit=fragment.commit,
        )
        return Finding(
            rule_id=rule.id,
            kind=c.kind,
            provider=c.provider,
            classification=cls,
            severity=severity,
            confidence=confidence,
            location=location,
            fingerprint=fingerprint(self._key, c.value),
            preview=mask(c.value, self._redact),
            context=dict(c.context),
            reasons=tuple(reasons),
            secret=SecretValue(c.value),
        )


def _marker_starts(text: str, first: int, last: int, markers: tuple[str, ...]) -> list[int]:
    """Where each of `markers` starts in `text[first:last]`, every occurrence."""
    out = []
    for marker in markers:
        pos = text.find(marker, first, last)
        while pos >= 0:
            out.append(pos)
            pos = text.find(marker, pos + 1, last)
    return out


class _Spans:
    """The candidates' secret spans, asked whether an offset falls inside one (log time)."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, candidates: list[Candidate]) -> None:
        ordered = sorted((c.start, c.end) for c in candidates)
        self._starts = [start for start, _ in ordered]
        self._ends = list(itertools.accumulate((end for _, end in ordered), max))  # furthest end so far

    def covers(self, pos: int) -> bool:
        """Whether `pos` is inside some candidate's value."""
        index = bisect.bisect_right(self._starts, pos) - 1
        return index >= 0 and self._ends[index] > pos
