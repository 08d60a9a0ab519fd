"""Text from scanned files made safe to show: on a terminal, in HTML, in JSON and in URIs.

Paths and snippets come from whatever is being scanned, so an attacker picks them. Two things
go wrong with them unless every output passes them through here:

- **Control characters.** A file named `x\\x1b]0;owned\\x07` sets the terminal title when the
  table prints it; `\\x1b[2J` clears the screen; `\\n` forges a line of output; U+202E (right-to-
  left override) makes a path read backwards. `printable` writes each of them as a visible
  escape (`\\x1b`, `\\n`, `\\u202e`), for every human-facing output: the table, stderr, logs,
  HTML and SARIF message texts.
- **Names that are not UTF-8.** POSIX file names are bytes; Python carries an undecodable byte
  as a lone surrogate (U+DC80-U+DCFF, `surrogateescape`), which no UTF-8 encoder accepts.
  Human-facing outputs show such a byte as `\\xNN` (`printable`); machine-facing ones percent-
  encode it: JSON paths (`json_path`, flagged `"path_encoding": "percent"`) and SARIF URIs
  (`path_bytes` + RFC 3986 percent-encoding), so that the original bytes can be recovered with
  `urllib.parse.unquote_to_bytes`.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["PATH_PERCENT", "PATH_UTF8", "json_path", "json_text", "no_surrogates", "path_bytes", "printable"]

PATH_UTF8: Final = "utf-8"
PATH_PERCENT: Final = "percent"

# C0 controls, DEL, C1 controls; zero-width and bidirectional formatting characters; line and
# paragraph separators; the byte order mark; lone surrogates.
_UNSAFE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_SHORT: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _SHORT:
        return _SHORT[ch]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` with every control, formatting and undecodable character written as a visible escape.

    `"a\\x1b[2Jb"` becomes `a\\x1b[2Jb` with a literal backslash, an undecodable byte 0xFF of a
    file name becomes `\\xff`, a right-to-left override `\\u202e`. Ordinary text (including every
    printable non-ASCII letter) is unchanged.
    """
    s = str(text)
    if _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(_escape, s)


def path_bytes(path: str) -> bytes:
    """The bytes of a file name as the file system has them (UTF-8, undecodable bytes restored)."""
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte: keep its code point
        return path.encode("utf-8", "surrogatepass")


def json_path(path: str) -> tuple[str, str]:
    """`(text, encoding)`: how a path is written in JSON reports and baselines.

    A path that is valid UTF-8 is written as it is, with encoding `"utf-8"`. Otherwise, with
    encoding `"percent"`, each byte that is not UTF-8 becomes `%XX` and `%` itself becomes `%25`;
    everything else stays readable, and `urllib.parse.unquote_to_bytes(text)` gives back the
    exact bytes of the name.
    """
    if _SURROGATE.search(path) is None:
        return path, PATH_UTF8
    out: list[str] = []
    for ch in path:
        code = ord(ch)
        if ch == "%":
            out.append("%25")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"%{code - 0xDC00:02X}")
        elif 0xD800 <= code <= 0xDFFF:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        else:
            out.append(ch)
    return "".join(out), PATH_PERCENT


# What `json.dumps(..., ensure_ascii=False)` leaves raw but a terminal may act on: DEL, C1
# controls (U+009B is CSI), zero-width and bidi formatting characters, line separators.
_JSON_RAW: Final = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def json_text(text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) safe to print on a terminal.

    JSON already escapes C0 controls; this writes the characters above as `\\uXXXX` escapes too
    (they only occur inside strings, and decode to the same string), and replaces any lone
    surrogate by U+FFFD so that the text encodes as UTF-8.
    """
    text = no_surrogates(text)
    if _JSON_RAW.search(text) is None:
        return text
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def no_surrogates(text: str) -> str:
    """`text` with any lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)
