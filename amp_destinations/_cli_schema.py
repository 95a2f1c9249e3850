"""``destinations schema`` for a person: the JSON Schema document that ``--json``
prints, read back as a ``--help`` page (each field, what it is for, and its rules in
the brackets click uses: ``[required]``, ``[default: 28]``).

Rendered from the document itself, not from the marshmallow schema, so that what a
person reads and what a script reads cannot differ. Imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from . import _display as fmt

__all__ = ["schema_help"]

# Choices listed in full up to this many; beyond it the count, and --json has them.
_LISTED_CHOICES = 12


def schema_help(document: Mapping[str, Any]) -> str:
    """The text of ``destinations schema TYPE`` for the document ``Host.schema`` gives."""
    formatter = click.HelpFormatter()
    formatter.write_text(f"{document['destination']}: {document['title']}")
    with formatter.section("Settings (--set KEY=VALUE)"):
        _fields(formatter, document["settings"])
    credential = document.get("credential")
    if credential is None:
        formatter.write_paragraph()
        formatter.write_text("It needs no credential.")
        return formatter.getvalue()
    with formatter.section(f"Credential fields (type {credential['x-credential-type']})"):
        formatter.write_text(
            "Secrets are prompted for (hidden) or read with --secrets-stdin, never given "
            "with --set."
        )
        formatter.write_paragraph()
        _fields(formatter, credential)
    formatter.write_paragraph()
    formatter.write_text("--json prints this as JSON Schema.")
    return formatter.getvalue()


def _fields(formatter: click.HelpFormatter, schema: Mapping[str, Any]) -> None:
    required = set(schema.get("required", ()))
    rows = []
    for name, field in schema["properties"].items():
        rules = _rules(field, name in required)
        text = field.get("description", "")
        rows.append((name, f"{text}  [{'; '.join(rules)}]" if rules else text))
    formatter.write_dl(rows)


def _rules(field: Mapping[str, Any], required: bool) -> list[str]:
    """What a value must be, in the words of ``--help``."""
    types = field.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    kind = next((t for t in types if t != "null"), None)
    rules = ["secret"] if field.get("writeOnly") else []
    if "enum" in field:
        choices = [fmt.value(choice) for choice in field["enum"] if choice is not None]
        if len(choices) <= _LISTED_CHOICES:
            rules.append("one of: " + ", ".join(choices))
        else:
            rules.append(f"one of {len(choices)} values, listed by --json")
    elif kind == "array":
        item = field.get("items", {}).get("type")
        rules.append(f"a JSON list of {item}s" if isinstance(item, str) else "a JSON list")
    elif kind == "object":
        rules.append("a JSON object")
    elif kind is not None:
        rules.append(field.get("format", kind))
    rules += _limits(field)
    if "pattern" in field:
        rules.append(f"matching {field['pattern']}")
    if required:
        rules.append("required")
    elif field.get("default") is not None:
        rules.append(f"default: {fmt.value(field['default'])}")
    return rules


def _limits(field: Mapping[str, Any]) -> list[str]:
    low, high = field.get("minimum"), field.get("maximum")
    if low is not None and high is not None:
        limits = [f"{low} to {high}"]
    else:
        limits = [f"at least {low}"] if low is not None else []
        if "exclusiveMinimum" in field:
            limits.append(f"more than {field['exclusiveMinimum']}")
        if high is not None:
            limits.append(f"at most {high}")
    if "exclusiveMaximum" in field:
        limits.append(f"less than {field['exclusiveMaximum']}")
    unit = "character" if "minLength" in field or "maxLength" in field else "item"
    shortest = field.get("minLength", field.get("minItems"))
    longest = field.get("maxLength", field.get("maxItems"))
    if shortest:
        limits.append(f"at least {fmt.counted(shortest, unit)}")
    if longest is not None:
        limits.append(f"at most {fmt.counted(longest, unit)}")
    return limits
