"""A request as the HTTP layer hands it over, and what to do in return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

import orjson


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str] | Message[str, str]  # the server's are case-insensitive
    body: bytes


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    # The envelope's code and data, kept so a fault can rewrite the answer and logs can show it.
    code: int | None = None
    data: dict | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # Close the connection without answering (after ``delay`` seconds, if any).
    drop: bool = False
    delay: float = 0.0


def plain(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(
        status, text.encode() + b"\n", content_type="text/plain; charset=utf-8", headers=headers
    )


def json_response(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload))
