"""The emulator's own endpoints under ``/_emulator/``: inspect state, reset, arm faults,
revoke tokens, move the authorization codes' clock.

Plain JSON with ordinary HTTP statuses (not TikTok's envelope); no token needed, since
the emulator only listens on loopback.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson

from ._config import EmulatorConfigError
from ._messages import Request, Response, json_response
from ._state import EmulatorState

ADMIN_PREFIX = "/_emulator/"


def handle_admin(state: EmulatorState, request: Request) -> Response:
    route = (request.method, request.path.removeprefix(ADMIN_PREFIX))
    if route == ("GET", "events"):
        return _events(state, request)
    if route == ("GET", "test_events"):
        return _test_events(state, request)
    if route == ("GET", "stats"):
        return json_response(200, state.stats())
    if route == ("POST", "reset"):
        state.reset()
        return json_response(200, {"reset": True})
    if route == ("GET", "faults"):
        return json_response(200, state.fault_plan.snapshot())
    if route == ("POST", "faults"):
        return _configure_faults(state, request)
    if route == ("POST", "revoke"):
        return _revoke(state, request)
    if route == ("POST", "clock"):
        return _advance_clock(state, request)
    if route[1] in ("events", "test_events", "stats", "reset", "faults", "revoke", "clock"):
        return json_response(405, {"error": "method not allowed"})
    return json_response(404, {"error": "no such emulator endpoint"})


def _events(state: EmulatorState, request: Request) -> Response:
    wanted = parse_qs(request.query).get("event_set_id")
    if not wanted:
        return json_response(400, {"error": "event_set_id: required"})
    event_set_id = wanted[0]
    return json_response(
        200,
        {
            "event_set_id": event_set_id,
            "count": state.event_count(event_set_id),
            "events": state.events(event_set_id),
        },
    )


def _test_events(state: EmulatorState, request: Request) -> Response:
    wanted = parse_qs(request.query).get("event_set_id")
    if not wanted:
        return json_response(400, {"error": "event_set_id: required"})
    events = state.test_events(wanted[0])
    return json_response(
        200, {"event_set_id": wanted[0], "count": len(events), "test_events": events}
    )


def _configure_faults(state: EmulatorState, request: Request) -> Response:
    try:
        config = orjson.loads(request.body or b"{}")
        state.configure_faults(config)
    except orjson.JSONDecodeError:
        return json_response(400, {"error": "request body: must be valid JSON"})
    except EmulatorConfigError as error:
        return json_response(400, {"error": str(error)})
    return json_response(200, state.fault_plan.snapshot())


def _json_object(request: Request) -> dict | Response:
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return json_response(400, {"error": "request body: must be valid JSON"})
    if type(body) is not dict:
        return json_response(400, {"error": "request body: must be a JSON object"})
    return body


def _revoke(state: EmulatorState, request: Request) -> Response:
    """What a person revoking the app does (``app_id``: every token authorized for it),
    or one token (``token``)."""
    body = _json_object(request)
    if isinstance(body, Response):
        return body
    unknown = body.keys() - {"app_id", "token"}
    if unknown or len(body) != 1 or type(next(iter(body.values()), None)) is not str:
        return json_response(400, {"error": "request body: give app_id or token, a string"})
    return json_response(200, {"revoked": state.revoke(**body)})


def _advance_clock(state: EmulatorState, request: Request) -> Response:
    body = _json_object(request)
    if isinstance(body, Response):
        return body
    seconds = body.get("advance_seconds")
    if (
        body.keys() != {"advance_seconds"}
        or isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or seconds < 0
    ):
        return json_response(400, {"error": "advance_seconds: must be a number of at least 0"})
    return json_response(200, {"ahead_seconds": state.auth_codes.advance(seconds)})
