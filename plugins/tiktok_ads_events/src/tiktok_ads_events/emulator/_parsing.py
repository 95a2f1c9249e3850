"""Reading a request's JSON body and query string, strictly: a malformed part is an
``InvalidRequest`` naming it (answered as 40002), never its value."""

from __future__ import annotations

from typing import Any

import orjson

from ._messages import Request
from ._validate import InvalidRequest


def json_body(request: Request) -> Any:
    content_type = request.headers.get("Content-Type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise InvalidRequest("Content-Type", "must be application/json")
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("request body", "must be valid JSON") from None


def json_object(request: Request) -> dict:
    body = json_body(request)
    if type(body) is not dict:
        raise InvalidRequest("request body", "must be a JSON object")
    return body


def string_fields(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    """A JSON object of exactly these fields, each a non-empty string."""
    body = json_object(request)
    no_unknown_fields(body, fields)
    for field in fields:
        value = body.get(field)
        if type(value) is not str or not value:
            rule = "required" if value is None else "must be a non-empty string"
            raise InvalidRequest(field, rule)
    return body


def no_unknown_fields(body: dict, known: tuple[str, ...]) -> None:
    unknown = body.keys() - set(known)
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "unknown field")


def first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None
