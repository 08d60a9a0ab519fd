"""The JSON Schema of a policy file, for editors (`secretops policy schema`).

Generated from `PolicyFile`, with durations described as we write them (`90d`, `12h`; a bare
number is refused, it has no unit) rather than pydantic's ISO 8601 default, so an editor accepts what
`secretops policy check` accepts. Point an editor at it with a first line such as
`# yaml-language-server: $schema=policy.schema.json`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from secretops.inventory.models import PolicyFile

__all__ = ["DURATION_PATTERN", "SCHEMA_ID", "policy_schema"]

SCHEMA_ID = "urn:secretops:schema:policy:1"
DURATION_PATTERN = r"^\s*\d+\s*(s|m|h|d|w)\s*$"


def _duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class _PolicySchema(GenerateJsonSchema):
    """Pydantic's generator, with our duration syntax."""

    def timedelta_schema(self, schema: core_schema.TimedeltaSchema) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["90d", "12h", "30m"],
            "description": "a whole number and a unit: s, m, h, d or w (a bare number has no unit)",
        }

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return _duration_text(dft)
        return super().encode_default(dft)


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one `policies/*.yaml` file."""
    schema = PolicyFile.model_json_schema(schema_generator=_PolicySchema, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "secretops policy file",
    }
