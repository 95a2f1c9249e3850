"""Forms drawn from a JSON Schema, and a posted form read back into values.

The fields come from the same JSON Schema ``amp-dest destinations schema --json``
prints (``_schemas.json_schema``): a type per property, ``enum`` as a select, booleans
as checkboxes, defaults filled in, descriptions under the fields, required ones marked,
secrets (``writeOnly``) as password inputs that never carry a value. A posted form goes
back through ``parse_assignments``, the reading of ``--set KEY=VALUE``, so that the
console types its values exactly as the CLI does and the settings schema (through the
Host) is the only judge of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import marshmallow
import orjson
from starlette.datastructures import FormData

from .._authorize import Choice
from .._schemas import parse_assignments

__all__ = [
    "FormField",
    "changed",
    "fields_from_schema",
    "read_secrets",
    "read_values",
    "with_choices",
]


@dataclass
class FormField:
    """One input of a generated form, as the templates draw it."""

    name: str
    widget: str  # text, password, integer, number, checkbox, select, lines
    required: bool
    description: str = ""
    value: str = ""  # what the input shows; never a secret's value
    checked: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    choosable: bool = False  # the remote system lists its values (Host.choices)
    secret_set: str | None = None  # for a secret: where its value is kept, if it is set
    errors: list[str] = field(default_factory=list)


def _types(prop: Mapping[str, Any]) -> list[str]:
    types = prop.get("type", "string")
    return list(types) if isinstance(types, list) else [types]


def _widget(prop: Mapping[str, Any]) -> str:
    if prop.get("writeOnly"):
        return "password"
    if "enum" in prop:
        return "select"
    types = _types(prop)
    for kind in ("boolean", "integer", "number", "array"):
        if kind in types:
            return {"boolean": "checkbox", "array": "lines"}.get(kind, kind)
    return "text"


def _shown(value: Any, widget: str) -> str:
    if value is None:
        return ""
    if widget == "lines":
        return "\n".join(str(item) for item in value)
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def fields_from_schema(
    schema: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, str | None] | None = None,
    choosable: Sequence[str] = (),
    errors: Mapping[str, list[str]] | None = None,
    only: Iterable[str] | None = None,
) -> list[FormField]:
    """The inputs of a form for ``schema``'s properties (those in ``only``, when given),
    showing ``values`` (the defaults where a value is missing); ``secrets`` says which
    secret fields are set (a source) and which are not (None)."""
    values = values or {}
    required = set(schema.get("required", ()))
    wanted = set(only) if only is not None else None
    out = []
    for name, prop in schema.get("properties", {}).items():
        if wanted is not None and name not in wanted:
            continue
        widget = _widget(prop)
        value = values.get(name, prop.get("default"))
        form_field = FormField(
            name=name,
            widget=widget,
            required=name in required,
            description=prop.get("description", ""),
            choosable=name in choosable,
            errors=list((errors or {}).get(name, [])),
        )
        if widget == "password":
            form_field.secret_set = (secrets or {}).get(name)
        elif widget == "checkbox":
            form_field.checked = bool(value)
        else:
            form_field.value = _shown(value, widget)
        if widget == "select":
            form_field.options = [(str(choice), str(choice)) for choice in prop["enum"]]
        out.append(form_field)
    return out


def with_choices(form_field: FormField, choices: Sequence[Choice]) -> FormField:
    """``form_field`` as a select of the values the remote system listed, keeping the
    value it had when that is one of them."""
    form_field.widget = "select"
    form_field.options = [(choice.value, choice.label or choice.value) for choice in choices]
    return form_field


def read_values(
    schema_cls: type[marshmallow.Schema],
    form: FormData,
    names: Iterable[str],
    what: str,
    *,
    new: bool,
) -> dict[str, Any]:
    """The non-secret fields ``names`` of a posted form, typed as ``--set`` types them.
    An unchecked checkbox is false. An empty input is left out of something ``new`` and clears the
    value otherwise (None), as an empty ``--set KEY=`` does."""
    declared = schema_cls._declared_fields
    assignments = []
    for name in names:
        schema_field = declared[name]
        if isinstance(schema_field, marshmallow.fields.Boolean):
            assignments.append(f"{name}={'true' if form.get(name) else 'false'}")
            continue
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        if not text and new:
            continue
        if text and isinstance(schema_field, marshmallow.fields.List):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            text = orjson.dumps(lines).decode()
        assignments.append(f"{name}={text}")
    return parse_assignments(schema_cls, assignments, what)


def read_secrets(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """The secret fields typed into a posted form. A password input left empty keeps
    the secret as it is, so it is not among them."""
    out = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value:
            out[name] = value
    return out


def changed(form: FormData, shown: Iterable[FormField]) -> list[str]:
    """The fields of ``shown`` (as the page drew them) whose posted value differs: a
    save names only what the operator set or changed, so that a default the page showed
    is not frozen into the stored settings."""
    names = []
    for form_field in shown:
        if form_field.widget == "password":
            continue
        raw = form.get(form_field.name)
        if form_field.widget == "checkbox":
            if bool(raw) != form_field.checked:
                names.append(form_field.name)
        elif (raw.strip() if isinstance(raw, str) else "") != form_field.value.strip():
            names.append(form_field.name)
    return names
