"""TikTok's answer envelope ``{code, message, request_id, data}`` and the error an
endpoint raises to answer with a non-zero code; shared by every emulated endpoint."""

from __future__ import annotations

import itertools
import secrets
import time

import orjson

from ._messages import Response

INVALID_PARAMETER = 40002
NO_PERMISSION = 40001
ROLE_CANNOT_WRITE = 40106
NOT_AUTHORISED_FOR_ADVERTISER = 40300
TOKEN_EXPIRED = 40102
TOKEN_MISSING = 40104
TOKEN_INVALID = 40105


class ApiError(Exception):
    """An answer with a non-zero code; the message names the field, never its value."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


# TikTok's request ids are a timestamp and 18 hex digits; a counter after a random start
# keeps them unique without a system call per request.
_request_numbers = itertools.count(secrets.randbits(64))


def envelope(code: int, message: str, data: dict | None = None) -> Response:
    data = {} if data is None else data
    number = next(_request_numbers) & (1 << 72) - 1
    request_id = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}{number:018X}"
    body = orjson.dumps({"code": code, "message": message, "request_id": request_id, "data": data})
    return Response(200, body, code=code, data=data)
