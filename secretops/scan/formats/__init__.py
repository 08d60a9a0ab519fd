"""Output formats for scan results: `table` (default), `json`, `sarif`, `html`."""

from __future__ import annotations

from secretops.scan.formats.html import HtmlFormat
from secretops.scan.formats.interface import Format, FormatError, RenderOptions, RuleInfo, rule_infos
from secretops.scan.formats.json_format import JsonFormat
from secretops.scan.formats.sarif import SarifFormat
from secretops.scan.formats.table import TableFormat

__all__ = [
    "FORMATS",
    "Format",
    "FormatError",
    "HtmlFormat",
    "JsonFormat",
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
    SarifFormat.id: SarifFormat,
    HtmlFormat.id: HtmlFormat,
}


def get_format(name: str) -> Format:
    """The format called `name`, or a `FormatError` listing the known ones."""
    try:
        return FORMATS[name]()
    except KeyError:
        raise FormatError(f"unknown output format {name!r}", hint=f"use one of: {', '.join(FORMATS)}") from None
