"""Encoding batches and delivering them: the exact request, and every answer of the
spec's table classified the way the host needs it."""

from __future__ import annotations

import email.utils
import time

import httpx
import orjson
import pytest

from amp_destinations import AmpDestError, Batch, FailureType, ItemRejection, RecordWarning
from amp_destinations.testing import prepare_row, refused_commands
from tiktok_ads_events import TikTokAdsEvents
from tiktok_ads_events._constants import (
    INVALID_PARAMETER,
    PARTNER_NAME,
    RATE_LIMITED,
    SERVER_ERROR,
    TOKEN_INVALID,
)

# -- encoding -----------------------------------------------------------------------------


def test_the_body_wraps_the_events_in_tiktoks_envelope(tt, make_destination, make_batch):
    destination = make_destination()
    batch = make_batch(destination)
    body = orjson.loads(batch.body)
    assert body == {
        "event_source": "offline",
        "event_source_id": tt.EVENT_SET_ID,
        "partner_name": PARTNER_NAME,
        "data": [orjson.loads(part) for part in batch.parts],
    }
    assert list(body) == ["event_source", "event_source_id", "partner_name", "data"]


def test_test_event_code_is_sent_only_when_set(tt, make_destination, make_batch):
    body = orjson.loads(make_batch(make_destination(test_event_code="TEST4242")).body)
    assert body["test_event_code"] == "TEST4242"
    assert list(body) == [
        "event_source",
        "event_source_id",
        "partner_name",
        "test_event_code",
        "data",
    ]
    assert "test_event_code" not in orjson.loads(make_batch(make_destination()).body)


def test_web_destinations_send_event_source_web(tt, make_destination, make_batch):
    destination = make_destination(event_source="web")
    body = orjson.loads(make_batch(destination, event_source_id=tt.PIXEL_CODE).body)
    assert (body["event_source"], body["event_source_id"]) == ("web", tt.PIXEL_CODE)


def test_encoded_items_are_joined_without_being_serialised_again(make_destination):
    destination = make_destination()
    parts = [b'{"event":"Lead", "event_id":"a"}', b'{"event":"Lead","event_id":"b"}']
    body = Batch.from_parts(destination, "7123456789012345678", parts).body
    assert body.endswith(b'"data":[' + parts[0] + b"," + parts[1] + b"]}")


def test_a_batch_carries_one_event_set(tt, make_destination):
    destination = make_destination()
    event = {"event": "Lead", "event_id": "x"}
    assert destination.batch_key((tt.EVENT_SET_ID, event)) == tt.EVENT_SET_ID
    assert destination.batch_key(("7000000000000000009", event)) == "7000000000000000009"
    assert destination.encode_item((tt.EVENT_SET_ID, event)) == orjson.dumps(event)


def test_prepare_delegates_to_the_event_preparer_compiled_at_start_run(tt, make_destination):
    destination = make_destination()
    destination.start_run(["event", "event_id", "timestamp", "email"])
    warnings: list[RecordWarning] = []
    row = {
        "event": "Purchase",
        "event_id": "order-1",
        "timestamp": int(time.time()) - 60,
        "email": " ALICE_abc@gmail.com ",
    }
    event_source_id, event = prepare_row(destination, row, warnings)
    assert event_source_id == tt.EVENT_SET_ID
    assert event["event"] == "Purchase"
    assert event["user"]["email"] == (
        "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f"
    )
    assert warnings == []


def test_prepare_without_start_run_still_works(tt, make_destination):
    destination = make_destination()
    row = {"event": "Lead", "event_id": "x", "timestamp": int(time.time()), "email": "a@b.co"}
    assert prepare_row(destination, row)[0] == tt.EVENT_SET_ID


# -- the request --------------------------------------------------------------------------


def test_deliver_posts_the_exact_body_with_the_token_header(
    tt, httpx_mock, make_destination, make_batch, session
):
    destination = make_destination()
    batch = make_batch(destination)
    httpx_mock.add_response(method="POST", url=tt.TRACK_URL, json=tt.answer())
    assert destination.deliver(batch, session).kind == "delivered"
    request = httpx_mock.get_request()
    assert str(request.url) == "https://business-api.tiktok.com/open_api/v1.3/event/track/"
    assert request.headers["Access-Token"] == tt.LONG_TERM_TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert request.content == batch.body


def test_deliver_uses_the_configured_base_url(
    tt, httpx_mock, make_destination, make_batch, session
):
    destination = make_destination(api_base_url="http://127.0.0.1:8765")
    httpx_mock.add_response(
        url="http://127.0.0.1:8765/open_api/v1.3/event/track/", json=tt.answer()
    )
    assert destination.deliver(make_batch(destination), session).kind == "delivered"


# -- the answers --------------------------------------------------------------------------


def deliver_answer(tt, httpx_mock, destination, batch, session, **response):
    httpx_mock.add_response(method="POST", url=tt.TRACK_URL, **response)
    return destination.deliver(batch, session)


@pytest.fixture
def send(tt, httpx_mock, make_destination, make_batch, session):
    """Deliver a three-event batch against one TikTok answer; return the outcome."""

    def send(**response):
        destination = make_destination()
        return deliver_answer(
            tt, httpx_mock, destination, make_batch(destination), session, **response
        )

    return send


def test_code_0_is_delivered(tt, send):
    outcome = send(json=tt.answer(0, "OK"))
    assert (outcome.kind, outcome.note) == ("delivered", "")


def test_partial_success_is_delivered_with_tiktoks_message(tt, send):
    outcome = send(json=tt.answer(20001, "Partially successful: 1 event failed"))
    assert outcome.kind == "delivered"
    assert "Partially successful: 1 event failed" in outcome.note
    assert "20001" in outcome.note


def test_partial_success_with_a_per_event_list_rejects_those_events(tt, send):
    errors = [
        {"index": 2, "code": 40002, "message": "event_time is too old"},
        {"index": 0, "message": "invalid event"},
    ]
    outcome = send(json=tt.answer(20001, "Partially successful", {"errors": errors}))
    assert outcome.kind == "rejected_items"
    assert outcome.rejections == (
        ItemRejection(
            2,
            "tiktok.event_rejected",
            "TikTok refused this event (code 40002): event_time is too old",
        ),
        ItemRejection(0, "tiktok.event_rejected", "TikTok refused this event: invalid event"),
    )
    assert "Partially successful" in outcome.note


@pytest.mark.parametrize(
    "errors",
    [
        [{"index": 3, "message": "out of range"}],
        [{"index": "0", "message": "not an int"}],
        ["not an object"],
        {"index": 0},
    ],
)
def test_a_per_event_list_that_cannot_be_read_leaves_the_batch_delivered(tt, send, errors):
    outcome = send(json=tt.answer(20001, "Partially successful", {"errors": errors}))
    assert outcome.kind == "delivered"
    assert "Partially successful" in outcome.note


@pytest.mark.parametrize("code", sorted(INVALID_PARAMETER))
def test_invalid_parameter_rejects_the_batch_for_the_host_to_split(tt, send, code):
    outcome = send(json=tt.answer(code, "Invalid value for event: Purchasee"))
    assert outcome.kind == "rejected"
    assert outcome.code == "tiktok.invalid_parameter"
    assert "Invalid value for event: Purchasee" in outcome.message


@pytest.mark.parametrize("code", [40001, 40106])
def test_permission_codes_stop_the_run_with_role_advice(tt, send, code):
    outcome = send(json=tt.answer(code, "No permission to operate advertiser"))
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.AUTH)
    assert "Ad Account Operator or Admin" in outcome.message
    assert "Analyst cannot send" in outcome.message
    assert tt.ADVERTISER_ID in outcome.message


@pytest.mark.parametrize("code", [40300, 40301])
def test_advertiser_not_matched_stops_the_run_pointing_at_the_advertiser_id(tt, send, code):
    outcome = send(json=tt.answer(code, "Advertiser not found"))
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.CONFIG)
    assert "check advertiser_id" in outcome.message
    assert "Ad Account Operator or Admin" in outcome.message


@pytest.mark.parametrize("code", sorted(TOKEN_INVALID) + [40107])
def test_a_refused_long_term_token_stops_the_run_asking_to_reauthorize(tt, send, code):
    outcome = send(json=tt.answer(code, "Access token is invalid or revoked"))
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.AUTH)
    assert f"re-authorize credential {tt.CREDENTIAL_NAME} in TikTok" in outcome.message
    # The CLI names its command for a refused credential; the API's message does not.
    assert "amp-dest" not in outcome.message


@pytest.mark.parametrize("code", sorted(RATE_LIMITED))
def test_rate_limit_codes_retry_and_slow_the_run(tt, send, code):
    outcome = send(json=tt.answer(code, "Too many requests"))
    assert (outcome.kind, outcome.throttled, outcome.retry_after) == ("retry", True, None)


def test_a_duplicate_request_is_delivered(tt, send):
    outcome = send(json=tt.answer(40050, "Duplicate request"))
    assert outcome.kind == "delivered"
    assert "40050" in outcome.note


def test_a_write_conflict_is_retried(tt, send):
    outcome = send(json=tt.answer(40202, "Write conflict"))
    assert (outcome.kind, outcome.throttled) == ("retry", False)


@pytest.mark.parametrize("code", sorted(SERVER_ERROR))
def test_server_error_codes_are_retried(tt, send, code):
    outcome = send(json=tt.answer(code, "System error"))
    assert (outcome.kind, outcome.throttled) == ("retry", False)
    assert str(code) in outcome.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_is_retried_whatever_the_body(tt, send, status):
    outcome = send(status_code=status, text="<html>Bad gateway</html>")
    assert outcome.kind == "retry"
    assert f"HTTP {status}" in outcome.message


def test_http_503_with_retry_after_keeps_the_delay(tt, send):
    outcome = send(status_code=503, headers={"Retry-After": "30"}, text="maintenance")
    assert (outcome.kind, outcome.retry_after) == ("retry", 30.0)


def test_http_429_retries_after_the_seconds_tiktok_gives(tt, send):
    outcome = send(status_code=429, headers={"Retry-After": "7"}, text="slow down")
    assert (outcome.kind, outcome.retry_after, outcome.throttled) == ("retry", 7.0, True)


def test_http_429_reads_an_http_date_retry_after(tt, send):
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    outcome = send(status_code=429, headers={"Retry-After": later}, text="")
    assert outcome.kind == "retry" and outcome.throttled
    assert 0 < outcome.retry_after <= 120


def test_http_429_with_a_past_date_retries_at_once(tt, send):
    outcome = send(status_code=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert outcome.retry_after == 0.0


@pytest.mark.parametrize("header", [None, "soon", ""])
def test_http_429_without_a_readable_retry_after_leaves_the_delay_to_the_host(tt, send, header):
    outcome = send(status_code=429, headers={"Retry-After": header} if header is not None else {})
    assert (outcome.kind, outcome.retry_after, outcome.throttled) == ("retry", None, True)


@pytest.mark.parametrize(
    "exception",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_timeouts_and_connection_errors_are_retried(
    tt, httpx_mock, make_destination, make_batch, session, exception
):
    destination = make_destination()
    httpx_mock.add_exception(exception, url=tt.TRACK_URL)
    outcome = destination.deliver(make_batch(destination), session)
    assert outcome.kind == "retry"


def test_a_timeout_says_why_resending_is_safe(
    tt, httpx_mock, make_destination, make_batch, session
):
    destination = make_destination()
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=tt.TRACK_URL)
    assert "event_id" in destination.deliver(make_batch(destination), session).message


@pytest.mark.parametrize(
    "response",
    [
        {"text": "<html>Welcome to the proxy</html>"},
        {"json": ["not", "an", "envelope"]},
        {"json": {"message": "no code"}},
        {"json": {"code": "0", "message": "code as text"}},
        {"status_code": 404, "text": "Not Found"},
    ],
)
def test_an_answer_that_is_not_tiktoks_envelope_stops_the_run(tt, send, response):
    outcome = send(**response)
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.SYSTEM)
    assert "api_base_url" in outcome.message


def test_an_unknown_4xxxx_code_stops_the_run(tt, send):
    outcome = send(json=tt.answer(41234, "Something new"))
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.SYSTEM)
    assert "41234" in outcome.message and "Something new" in outcome.message


@pytest.mark.parametrize("code", [50001, 51000, 61000])
def test_an_unknown_server_code_is_retried(tt, send, code):
    assert send(json=tt.answer(code, "Internal")).kind == "retry"


def test_tiktoks_request_id_is_kept_for_support(tt, send):
    outcome = send(json=tt.answer(40002, "Invalid", request_id="REQ-777"))
    assert "REQ-777" in outcome.message


def test_a_multi_line_message_from_tiktok_becomes_one_line(tt, send):
    outcome = send(json=tt.answer(40002, "line one\nline two\r\n  line three"))
    assert "\n" not in outcome.message and "line one line two line three" in outcome.message


def test_without_a_credential_deliver_names_the_command_that_adds_one(
    make_settings, make_destination, make_batch, session
):
    destination = TikTokAdsEvents(make_settings(), None)
    with pytest.raises(AmpDestError) as raised:
        destination.deliver(make_batch(make_destination()), session)
    message = str(raised.value)
    assert "`amp-dest credentials add NAME --type tiktok-offline-events`" in message
    assert refused_commands(message) == {}
