"""Marshmallow schemas as the operator meets them: loading with one-line errors,
``--set KEY=VALUE`` typed by the schema, and JSON Schema for ``destinations schema``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import marshmallow
import orjson
from marshmallow import fields, validate

from ._errors import InvalidFieldsError
from ._userinfo import USERINFO_RULE, carries_userinfo

__all__ = ["load_with", "provided", "parse_assignments", "json_schema"]


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "(settings)" if key == "_schema" else f"{prefix}{key}"
            flat.update(_flatten(value, f"{name}."))
            if not isinstance(value, Mapping):
                flat[name] = [str(item) for item in (value if isinstance(value, list) else [value])]
        return flat
    return {prefix.rstrip(".") or "(settings)": [str(messages)]}


def load_with(
    schema_cls: type[marshmallow.Schema],
    data: Mapping[str, Any],
    what: str,
    partial: bool | tuple[str, ...] = False,
) -> dict:
    """Load ``data``; unknown keys and rule violations raise one InvalidFieldsError that
    names every field and rule (never a value: messages come from the schema). A URL
    with user info is refused in every non-secret field, whatever its type.
    ``partial`` names fields that may be missing although required (True: any)."""
    try:
        loaded = schema_cls(unknown=marshmallow.RAISE).load(dict(data), partial=partial)
    except marshmallow.ValidationError as exc:
        errors = _flatten(exc.messages)
        known = ", ".join(schema_cls._declared_fields)
        for field, rules in errors.items():
            errors[field] = [
                f"unknown setting (known: {known})."
                if rule == "Unknown field."
                else "is required."
                if rule == "Missing data for required field."
                else rule
                for rule in rules
            ]
        raise InvalidFieldsError(what, errors) from None
    declared = schema_cls._declared_fields
    leaks = {
        key: [USERINFO_RULE]
        for key, value in loaded.items()
        if key in declared and not declared[key].metadata.get("secret") and carries_userinfo(value)
    }
    if leaks:
        raise InvalidFieldsError(what, leaks)
    return loaded


def provided(
    schema_cls: type[marshmallow.Schema], loaded: Mapping[str, Any], keys: Iterable[str]
) -> dict[str, Any]:
    """The typed (dumped) values of the keys the operator gave, secrets left out, so
    that stored settings keep their types and do not freeze today's defaults."""
    dumped = schema_cls().dump(loaded)
    declared = schema_cls._declared_fields
    return {
        key: dumped[key]
        for key in keys
        if key in dumped and not declared[key].metadata.get("secret")
    }


def parse_assignments(
    schema_cls: type[marshmallow.Schema], assignments: Iterable[str], what: str
) -> dict:
    """``["key=value", ...]`` to a dict for ``load_with``. Values stay strings for the
    schema to type (marshmallow reads "true" as a bool and "5" as an int), except for
    list and mapping fields, which take JSON. An empty value clears the key (None)."""
    declared = schema_cls._declared_fields
    result: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidFieldsError(
                what, {assignment.split("=")[0] or "?": ["expected KEY=VALUE."]}
            )
        field = declared.get(key)
        if field is None:
            raise InvalidFieldsError(
                what, {key: [f"unknown setting (known: {', '.join(declared)})."]}
            )
        if field.metadata.get("secret"):
            raise InvalidFieldsError(
                what,
                {
                    key: [
                        "is secret: it is never taken from the command line; you will be prompted "
                        "for it, or pass --secrets-stdin."
                    ]
                },
            )
        if value == "":
            result[key] = None
        elif isinstance(field, (fields.List, fields.Dict, fields.Nested, fields.Tuple)):
            try:
                result[key] = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise InvalidFieldsError(what, {key: ["expects a JSON value."]}) from None
        else:
            result[key] = value
    return result


_TYPES: list[tuple[type, dict]] = [
    (fields.Boolean, {"type": "boolean"}),
    (fields.Integer, {"type": "integer"}),
    (fields.Number, {"type": "number"}),
    (fields.Email, {"type": "string", "format": "email"}),
    (fields.Url, {"type": "string", "format": "uri"}),
    (fields.DateTime, {"type": "string", "format": "date-time"}),
    (fields.List, {"type": "array"}),
    (fields.Dict, {"type": "object"}),
    (fields.Nested, {"type": "object"}),
    (fields.String, {"type": "string"}),
]


def _field_schema(field: fields.Field) -> dict:
    out: dict[str, Any] = {}
    for field_type, base in _TYPES:
        if isinstance(field, field_type):
            out.update(base)
            break
    if isinstance(field, fields.List) and field.inner is not None:
        out["items"] = _field_schema(field.inner)
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    description = field.metadata.get("description")
    if description:
        out["description"] = description
    if field.metadata.get("title"):
        out["title"] = field.metadata["title"]
    default = field.load_default
    if default is not marshmallow.missing and not callable(default):
        out["default"] = default
    if field.load_only or field.metadata.get("secret"):
        out["writeOnly"] = True
    if field.dump_only:
        out["readOnly"] = True
    for validator in _validators(field):
        if isinstance(validator, validate.OneOf):
            out["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Length):
            if validator.min is not None:
                out["minLength" if out.get("type") == "string" else "minItems"] = validator.min
            if validator.max is not None:
                out["maxLength" if out.get("type") == "string" else "maxItems"] = validator.max
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                out["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
            if validator.max is not None:
                out["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        elif isinstance(validator, validate.Regexp):
            out["pattern"] = validator.regex.pattern
    return out


def _validators(field: fields.Field[Any]) -> list[Callable[[Any], Any]]:
    found: list[Callable[[Any], Any]] = []
    for validator in field.validators:
        if isinstance(validator, validate.And):
            found.extend(validator.validators)
        else:
            found.append(validator)
    return found


def json_schema(schema_cls: type[marshmallow.Schema], title: str) -> dict:
    properties = {}
    required = []
    for name, field in schema_cls._declared_fields.items():
        key = field.data_key or name
        properties[key] = _field_schema(field)
        if field.required:
            required.append(key)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema
