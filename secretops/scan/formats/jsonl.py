"""`--format jsonl`: one finding per line, for log pipelines (docs/json-schema.md).

Each line is one JSON object with exactly the fields of a finding in the JSON report
(`finding_to_dict`), so a pipeline can stream them without parsing a whole document. A scan with
no finding writes nothing. Skips and stats go to the table summary on stderr, not to this stream.
"""

from __future__ import annotations

import json

from secretops.display import json_text
from secretops.scan.formats.interface import Format, RenderOptions
from secretops.scan.formats.json_format import finding_to_dict
from secretops.scan.runner import ScanResult

__all__ = ["JsonLinesFormat"]


class JsonLinesFormat(Format):
    """`--format jsonl`."""

    id = "jsonl"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        """One compact JSON object per finding, each line ending with a newline."""
        lines = [
            json_text(json.dumps(finding_to_dict(f, h, show_secrets=options.show_secrets), ensure_ascii=False))
            for f, h in zip(result.findings, result.line_hashes, strict=True)
        ]
        return "".join(line + "\n" for line in lines)
