"""Where a finding is in its file: positions of chunks, notebook cells and decoded text."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from secretops.scan.models import Finding, Fragment
from secretops.scan.sources.stream import char_count


@dataclass(frozen=True, slots=True)
class Shifted:
    """Positions of a chunk that starts in the middle of a line: its first line's columns move right."""

    first_line: int
    shift: int

    def locate(self, line: int, column: int) -> tuple[int, int]:
        return (line, column + self.shift) if line == self.first_line else (line, column)


def relocate(finding: Finding, fragment: Fragment, *, derived: bool) -> Finding:
    """`finding` at the file's line and column (`fragment.positions`), with the notebook cell in `context`."""
    loc = finding.location
    positions = fragment.positions
    if positions is not None:
        if derived:  # found in decoded text: point at the start of the line that holds the encoded value
            line, column = positions.locate(loc.line, 1)
            end_line, end_column = line, column
        else:
            line, column = positions.locate(loc.line, loc.column)
            if loc.end_column > 1:  # the end is exclusive: place the last character, then step past it
                end_line, end_column = positions.locate(loc.end_line, loc.end_column - 1)
                end_column += 1
            else:
                end_line, end_column = positions.locate(loc.end_line, loc.end_column)
        loc = dataclasses.replace(loc, line=line, column=column, end_line=end_line, end_column=end_column)
    context = finding.context
    if loc.cell is not None:
        context = {**context, "cell": str(loc.cell)}
    return dataclasses.replace(finding, location=loc, context=context)


def char_offset(data: bytes, text: str, offset: int) -> int:
    """The character offset in `text` (decoded from `data`) of byte `offset`, a character boundary."""
    if len(text) == len(data):  # ASCII, or decoded as Latin-1
        return offset
    return char_count(data[:offset])


def text_position(text: str, offset: int) -> tuple[int, int]:
    """(line index, column index) of `offset` in `text`, both 0-based."""
    return text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)
