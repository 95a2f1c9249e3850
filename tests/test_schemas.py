"""The JSON Schema of a marshmallow schema, as ``destinations schema --json`` prints it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from amp_destinations._schemas import json_schema


class Lengths(Schema):
    code = fields.String(allow_none=True, validate=validate.Length(max=64))
    tags = fields.List(fields.String(), validate=validate.Length(min=1))


def test_a_length_counts_a_strings_characters_even_when_it_may_be_null():
    properties = json_schema(Lengths, "Lengths")["properties"]
    assert properties["code"] == {"type": ["string", "null"], "maxLength": 64}
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}, "minItems": 1}
