"""Output formats for scan results: `table` (default), `json`, `jsonl`, `sarif`, `gitlab`, `html`."""

from __future__ import annotations

from secretops.scan.formats.gitlab import GitlabFormat
from secretops.scan.formats.html import HtmlFormat
from secretops.scan.formats.interface import Format, FormatError, RenderOptions, RuleInfo, rule_infos
from secretops.scan.formats.json_format import JsonFormat
from secretops.scan.formats.jsonl import JsonLinesFormat
from secretops.scan.formats.sarif import SarifFormat
from secretops.scan.formats.table import TableFormat

__all__ = [
    "FORMATS",
    "Format",
    "FormatError",
    "GitlabFormat",
    "HtmlFormat",
    "JsonFormat",
    "JsonLinesFormat",
    "RenderOptions",
    "RuleInfo",
    "SarifFormat",
    "TableFormat",
    "get_format",
    "rule_infos",
]

FORMATS: dict[str, type[Format]] = {
    TableFormat.id: TableFormat,
    JsonFormat.id: JsonFormat,
    JsonLinesFormat.id: JsonLinesFormat,
    SarifFormat.id: SarifFormat,
    GitlabFormat.id: GitlabFormat,
    HtmlFormat.id: HtmlFormat,
}


def get_format(name: str) -> Format:
    """The format called `name`, or a `FormatError` listing the known ones."""
    try:
        return FORMATS[name]()
    except KeyError:
        raise FormatError(f"unknown output format {name!r}", hint=f"use one of: {', '.join(FORMATS)}") from None
