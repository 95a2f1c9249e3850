"""The host's standard destination suite (amp_destinations.testing) run on TikTok Ads
Events: the contract every destination keeps, with TikTok's answers, which come as
HTTP 200 with a code in the body, standing in for plain HTTP's."""

from __future__ import annotations

import time

import httpx
import orjson

import tiktok_ads_events
from amp_destinations.testing import DestinationTests
from tiktok_ads_events import TikTokAdsEvents, TikTokCredentialType

ADVERTISER_ID = "7654321098765432109"
EVENT_SET_ID = "7123456789012345678"
NOW = int(time.time())


def answer(code: int = 0, message: str = "OK", data: dict | None = None) -> httpx.Response:
    body = {"code": code, "message": message, "request_id": "2024010112000001", "data": data}
    return httpx.Response(200, json={**body, "data": data or {}})


class TestTikTokAdsEventsContract(DestinationTests):
    destination_class = TikTokAdsEvents
    credential_type_class = TikTokCredentialType
    plugin = tiktok_ads_events
    settings = {"advertiser_id": ADVERTISER_ID, "event_set_id": EVENT_SET_ID}
    # A long-term token (no app credentials): no token exchange before each call.
    credential = {"refresh_token": "lt-token-5f0c1d2e3a4b5c6d7e8f"}
    good_rows = (
        {
            "event": "CompletePayment",
            "event_id": "order-20240101-0001",
            "timestamp": NOW - 3600,
            "email": " Ada.Lovelace@Example.com ",
            "phone": "+44 20 7946 0958",
            "value": "19.90",
            "currency": "GBP",
        },
        {
            "event": "Lead",
            "event_id": "lead-20240101-0002",
            "timestamp": NOW - 60,
            "email": "grace.hopper@example.com",
            "phone": "call me maybe",  # dropped with the warning phone.invalid
            "external_id": "crm-customer-4242",
        },
    )
    bad_rows = (
        ({**good_rows[1], "email": "grace.hopper-at-example"}, "email.invalid"),
        ({**good_rows[1], "event_id": ""}, "event_id.missing"),
        ({**good_rows[1], "timestamp": "the day before yesterday"}, "timestamp.invalid"),
        ({**good_rows[0], "currency": "DOLLARS"}, "currency.invalid"),
        ({**good_rows[1], "event": "NotAStandardEvent"}, "event.unknown"),
    )

    def connection_response(self, request: httpx.Request) -> httpx.Response:
        event_set = {"event_set_id": EVENT_SET_ID, "name": "Store purchases"}
        return answer(0, "OK", {"event_set_list": [{**event_set, "auto_tracking": False}]})

    def accepted_response(self, request: httpx.Request) -> httpx.Response:
        return answer(0, "OK")

    def auth_refused_response(self, request: httpx.Request) -> httpx.Response:
        return answer(40105, "Access token is invalid or has been revoked.")

    def rejected_response(self, request: httpx.Request) -> httpx.Response:
        return answer(40002, "data[0].user.email: not a valid string")

    def partly_rejected_response(self, request: httpx.Request) -> httpx.Response:
        last = len(orjson.loads(request.content)["data"]) - 1
        errors = [{"index": last, "code": 40002, "message": "event_time is too old"}]
        return answer(20001, "Partially successful", {"errors": errors})
