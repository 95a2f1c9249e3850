"""TikTok's answers: routing, authentication, the endpoints and the fault pipeline.

Independent of the HTTP layer: ``EmulatorApi.handle`` takes a parsed request and
returns what to answer (or to drop, or to delay). HTTP 200 even for API errors, as TikTok.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from .._constants import (
    ACCESS_TOKEN_PATH,
    ADVERTISER_GET_PATH,
    CRM_LIST_PATH,
    OFFLINE_GET_PATH,
    OFFLINE_UPDATE_PATH,
    OK,
    PARTIAL_SUCCESS,
    PIXEL_LIST_PATH,
    REFRESH_TOKEN_PATH,
    TOKEN_NOT_REFRESHABLE,
    TRACK_PATH,
)
from ._envelope import (
    INVALID_PARAMETER,
    NO_PERMISSION,
    NOT_AUTHORISED_FOR_ADVERTISER,
    ROLE_CANNOT_WRITE,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_MISSING,
    ApiError,
    envelope,
)
from ._messages import Request, Response, plain
from ._oauth import OAuthEndpoints
from ._parsing import first, json_body, json_object, no_unknown_fields, string_fields
from ._state import AccessToken, EmulatorState, RefreshOutcome, TokenStatus
from ._validate import InvalidRequest, check_body, check_events

_SOURCE_KINDS = {"offline": "offline event set", "web": "pixel", "crm": "CRM event set"}
_TOKEN_ANSWERS = {
    TokenStatus.UNKNOWN: (TOKEN_INVALID, "Access token is invalid or has been revoked."),
    TokenStatus.REVOKED: (TOKEN_INVALID, "Access token is invalid or has been revoked."),
    TokenStatus.EXPIRED: (TOKEN_EXPIRED, "Access token has expired."),
}


@dataclass(frozen=True, slots=True)
class _Endpoint:
    method: str
    authenticated: bool
    # Called with the request's AccessToken when ``authenticated``, else with None.
    handler: Callable[[Request, Any], Response]


class EmulatorApi:
    def __init__(self, state: EmulatorState):
        self.state = state
        oauth = OAuthEndpoints(state)
        self._endpoints = {
            TRACK_PATH: _Endpoint("POST", True, self._track),
            OFFLINE_GET_PATH: _Endpoint("GET", True, self._offline_get),
            OFFLINE_UPDATE_PATH: _Endpoint("POST", True, self._offline_update),
            PIXEL_LIST_PATH: _Endpoint("GET", True, self._pixel_list),
            CRM_LIST_PATH: _Endpoint("GET", True, self._crm_list),
            REFRESH_TOKEN_PATH: _Endpoint("POST", False, self._refresh_token),
            ACCESS_TOKEN_PATH: _Endpoint("POST", False, oauth.access_token),
            ADVERTISER_GET_PATH: _Endpoint("GET", True, oauth.advertiser_get),
        }

    def handle(self, request: Request) -> Response:
        self.state.count_request(request.path)
        endpoint = self._endpoints.get(request.path)
        if endpoint is None:
            return plain(404, "404 page not found")
        if request.method != endpoint.method:
            return plain(405, "405 method not allowed", (("Allow", endpoint.method),))
        slow = self.state.fault_plan.take("slow", request.path)
        response = self._answer(request, endpoint)
        if slow is not None:
            response.delay = slow.seconds
        return response

    def _answer(self, request: Request, endpoint: _Endpoint) -> Response:
        plan, path = self.state.fault_plan, request.path
        if plan.take_drop(path, accepted=False):
            return Response(0, drop=True)
        fault = plan.take("http_error", path)
        if fault is not None:
            retry = () if fault.retry_after is None else (("Retry-After", str(fault.retry_after)),)
            return plain(fault.status, f"{fault.status} error injected by the emulator", retry)
        fault = plan.take("rate_limit", path)
        if fault is not None:
            return envelope(fault.code, "Too many requests. Please retry in some time.")
        fault = plan.take("server_error", path)
        if fault is not None:
            return envelope(fault.code, "Internal service error. Please retry later.")
        try:
            token = self._authenticate(request) if endpoint.authenticated else None
            response = endpoint.handler(request, token)
        except InvalidRequest as error:
            return envelope(INVALID_PARAMETER, str(error))
        except ApiError as error:
            return envelope(error.code, str(error))
        if plan.take_drop(path, accepted=True):
            return Response(0, drop=True)
        fault = plan.take("partial", path)
        if fault is not None:
            return envelope(PARTIAL_SUCCESS, fault.message, response.data)
        return response

    def _authenticate(self, request: Request) -> AccessToken:
        raw = request.headers.get("Access-Token")
        if not raw:
            raise ApiError(TOKEN_MISSING, "Access-Token header is missing or empty.")
        status, token = self.state.authenticate(raw)
        if status is not TokenStatus.ACTIVE:
            raise ApiError(*_TOKEN_ANSWERS[status])
        assert token is not None  # an active token is one that was found
        return token

    # Endpoints.

    def _track(self, request: Request, token: AccessToken) -> Response:
        body = json_body(request)
        event_source, source_id, data = check_body(body)
        owner = self.state.owner_of(event_source, source_id)
        if owner is None:
            kind = _SOURCE_KINDS[event_source]
            raise InvalidRequest("event_source_id", f"no {kind} with this id exists")
        if owner not in token.advertiser_ids:
            raise ApiError(
                NOT_AUTHORISED_FOR_ADVERTISER,
                "event_source_id: the access token has no permission for it",
            )
        _require_write_role(token)
        check_events(data, event_source, int(time.time()))
        poison = self.state.fault_plan.poison_event_ids
        if poison:
            for index, event in enumerate(data):
                if event["event_id"] in poison:
                    raise InvalidRequest(
                        f"data[{index}]", "event rejected (emulator poison_event_ids fault)"
                    )
        test_event_code = body.get("test_event_code")
        if test_event_code is not None:
            # As TikTok does: shown apart, never counted with the real events.
            self.state.store_test_events(source_id, test_event_code, data)
        else:
            self.state.store(source_id, data, request.body)
        return envelope(OK, "OK")

    def _offline_get(self, request: Request, token: AccessToken) -> Response:
        params = parse_qs(request.query, keep_blank_values=True)
        advertiser_id = self._authorised_advertiser(first(params, "advertiser_id"), token)
        wanted = first(params, "event_set_ids")
        event_sets = self.state.event_sets_of(advertiser_id)
        if wanted is not None:
            ids = _id_list(wanted)
            event_sets = [s for s in event_sets if s.event_set_id in ids]
        listed = [
            {"event_set_id": s.event_set_id, "name": s.name, "auto_tracking": s.auto_tracking}
            for s in event_sets
        ]
        return envelope(OK, "OK", {"event_set_list": listed, "page_info": _page_info(len(listed))})

    def _offline_update(self, request: Request, token: AccessToken) -> Response:
        body = json_object(request)
        no_unknown_fields(body, ("advertiser_id", "event_set_id", "auto_tracking", "name"))
        advertiser_id = self._authorised_advertiser(body.get("advertiser_id"), token)
        _require_write_role(token)
        event_set_id = _digits(body.get("event_set_id"), "event_set_id")
        auto_tracking = body.get("auto_tracking")
        if type(auto_tracking) is not bool:
            rule = "required" if auto_tracking is None else "must be true or false"
            raise InvalidRequest("auto_tracking", rule)
        name = body.get("name")
        if name is not None and (type(name) is not str or not name.strip()):
            raise InvalidRequest("name", "must be a non-empty string")
        event_set = self.state.event_set(event_set_id)
        if event_set is None or event_set.advertiser_id != advertiser_id:
            raise InvalidRequest(
                "event_set_id", "no offline event set with this id under this advertiser"
            )
        self.state.update_event_set(event_set_id, auto_tracking=auto_tracking, name=name)
        return envelope(OK, "OK")

    def _pixel_list(self, request: Request, token: AccessToken) -> Response:
        params = parse_qs(request.query, keep_blank_values=True)
        advertiser_id = self._authorised_advertiser(first(params, "advertiser_id"), token)
        code = first(params, "code")
        pixels = [
            {"pixel_id": p.pixel_id, "pixel_code": p.code, "pixel_name": p.name}
            for p in self.state.pixels_of(advertiser_id)
            if code is None or p.code == code
        ]
        return envelope(OK, "OK", {"pixels": pixels, "page_info": _page_info(len(pixels))})

    def _crm_list(self, request: Request, token: AccessToken) -> Response:
        """The advertiser's CRM event sets, optionally only those of ``event_set_ids``
        (as ``offline/get/`` filters): our assumption of TikTok's shape."""
        params = parse_qs(request.query, keep_blank_values=True)
        advertiser_id = self._authorised_advertiser(first(params, "advertiser_id"), token)
        wanted = first(params, "event_set_ids")
        ids = None if wanted is None else _id_list(wanted)
        listed = [
            {"event_set_id": s.event_set_id, "name": s.name}
            for s in self.state.crm_event_sets_of(advertiser_id)
            if ids is None or s.event_set_id in ids
        ]
        return envelope(OK, "OK", {"crm_event_sets": listed, "page_info": _page_info(len(listed))})

    def _refresh_token(self, request: Request, token: None) -> Response:
        body = string_fields(request, ("app_id", "secret", "refresh_token", "grant_type"))
        if body["grant_type"] != "refresh_token":
            raise InvalidRequest("grant_type", "must be refresh_token")
        outcome, data = self.state.refresh(body["app_id"], body["secret"], body["refresh_token"])
        if outcome is RefreshOutcome.BAD_CLIENT:
            raise InvalidRequest("app_id/secret", "no app with this id and secret")
        if outcome is RefreshOutcome.LONG_TERM:
            raise ApiError(
                TOKEN_NOT_REFRESHABLE,
                "The token is a long-term access token and cannot be refreshed.",
            )
        if outcome is RefreshOutcome.INVALID_TOKEN:
            raise ApiError(TOKEN_INVALID, "refresh_token: invalid, expired or already rotated")
        return envelope(OK, "OK", data)

    def _authorised_advertiser(self, value: Any, token: AccessToken) -> str:
        advertiser_id = _digits(value, "advertiser_id")
        if not self.state.has_advertiser(advertiser_id):
            raise ApiError(NO_PERMISSION, "advertiser_id: no permission to operate this advertiser")
        if advertiser_id not in token.advertiser_ids:
            raise ApiError(
                NOT_AUTHORISED_FOR_ADVERTISER,
                "advertiser_id: the access token is not authorised for it",
            )
        return advertiser_id


def _require_write_role(token: AccessToken) -> None:
    if token.role == "analyst":
        raise ApiError(
            ROLE_CANNOT_WRITE,
            "No permission: the Analyst role cannot send events or edit event sets.",
        )


def _digits(value: Any, field: str) -> str:
    if value is None:
        raise InvalidRequest(field, "required")
    if type(value) is not str or not (value.isascii() and value.isdigit()):
        raise InvalidRequest(field, "must be a string of digits")
    return value


def _id_list(raw: str) -> set[str]:
    try:
        ids = orjson.loads(raw)
    except orjson.JSONDecodeError:
        ids = None
    if type(ids) is not list or not all(
        type(i) is str and i.isascii() and i.isdigit() for i in ids
    ):
        raise InvalidRequest("event_set_ids", "must be a JSON list of event set id strings")
    return set(ids)


def _page_info(total: int) -> dict:
    return {"page": 1, "page_size": max(total, 10), "total_number": total, "total_page": 1}
