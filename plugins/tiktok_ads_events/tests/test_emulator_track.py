"""The TikTok emulator's event/track/: strict validation, deduplication, stored events and
every injected fault, through real sockets on 127.0.0.1 (packaged default seed)."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from tiktok_ads_events._constants import OFFLINE_GET_PATH, REFRESH_TOKEN_PATH, TRACK_PATH
from tiktok_ads_events.emulator import Emulator

ADVERTISER = "7000000000000000001"
EVENT_SET = "7100000000000000001"
PIXEL = "C0AMPDESTPIXEL000001"
TOKEN = "emulator-token"
MISSING = object()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_event(number: int = 0, **changes) -> dict:
    """A valid offline event; ``changes`` maps dotted paths to new values (MISSING removes)."""
    event = {
        "event": "Purchase",
        "event_time": int(time.time()) - 3600,
        "event_id": f"evt-{number:05d}",
        "user": {
            "email": sha256(f"user{number}@example.com"),
            "phone": sha256(f"+1555{number:07d}"),
            "external_id": sha256(f"customer-{number}"),
        },
        "properties": {
            "currency": "USD",
            "value": 10.5,
            "order_id": f"order-{number}",
            "contents": [{"content_id": "sku-1", "price": 5.25, "quantity": 2}],
        },
    }
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = event
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is MISSING:
            del target[leaf]
        else:
            target[leaf] = value
    return event


def make_events(count: int, start: int = 0) -> list[dict]:
    return [make_event(number) for number in range(start, start + count)]


def web_event(number: int = 0) -> dict:
    event = make_event(number)
    event["user"].update(
        {
            "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0",
            "ttp": "ttp-cookie",
            "ttclid": "click-1",
            "locale": "en-US",
        }
    )
    event["page"] = {
        "url": "https://shop.example.com/checkout",
        "referrer": "https://www.example.com/",
    }
    event["limited_data_use"] = False
    return event


def body(
    events: list[dict], *, source: str = "offline", source_id: str = EVENT_SET, **extra
) -> dict:
    return {
        "event_source": source,
        "event_source_id": source_id,
        "partner_name": "AmpDestinations",
        "data": events,
        **extra,
    }


@pytest.fixture
def emu():
    with Emulator() as running:
        yield running


def connect(emu: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emu.base_url, headers={"Access-Token": TOKEN}, timeout=10)


@pytest.fixture
def client(emu):
    with connect(emu) as http:
        yield http


def minimal_seed() -> dict:
    return {
        "access_tokens": [{"token": TOKEN}],
        "advertisers": [
            {"advertiser_id": ADVERTISER, "event_sets": [{"event_set_id": EVENT_SET, "name": "S"}]}
        ],
    }


def track(client, events, **kwargs) -> dict:
    return client.post(TRACK_PATH, json=body(events, **kwargs)).json()


# -- accepted batches --------------------------------------------------------------------


def test_a_valid_offline_batch_is_accepted_and_stored_as_sent(client, emu):
    events = make_events(3)
    answer = track(client, events)
    assert (answer["code"], answer["message"]) == (0, "OK")
    assert emu.state.events(EVENT_SET) == events
    assert emu.state.event_count(EVENT_SET) == 3


def test_test_events_are_kept_apart_from_real_ones_and_listed_with_their_code(client, emu):
    events = make_events(3)
    answer = track(client, events, test_event_code="TEST123")
    assert (answer["code"], answer["message"]) == (0, "OK")
    assert emu.state.events(EVENT_SET) == [] and emu.state.event_count(EVENT_SET) == 0
    listed = client.get("/_emulator/test_events", params={"event_set_id": EVENT_SET}).json()
    assert listed["count"] == 3
    assert listed["test_events"] == [{"test_event_code": "TEST123", "event": e} for e in events]
    assert client.get("/_emulator/stats").json()["test_events"] == {EVENT_SET: 3}
    # The same events sent for real afterwards are new to the real count.
    track(client, events)
    assert emu.state.event_count(EVENT_SET) == 3


def test_a_valid_web_batch_with_web_fields_is_accepted(client, emu):
    events = [web_event(0), web_event(1)]
    assert track(client, events, source="web", source_id=PIXEL)["code"] == 0
    assert emu.state.events(PIXEL) == events


def test_a_web_event_identified_only_by_its_cookie_is_accepted(client):
    event = make_event(user={"ttp": "ttp-cookie", "ip": "2001:db8::1"})
    assert track(client, [event], source="web", source_id=PIXEL)["code"] == 0


def test_identifiers_may_be_lists_of_hashes(client):
    event = make_event(**{"user.email": [sha256("a@example.com"), sha256("b@example.com")]})
    assert track(client, [event])["code"] == 0


def test_custom_properties_are_allowed(client):
    assert track(client, [make_event(**{"properties.loyalty_tier": "gold"})])["code"] == 0


def test_a_thousand_events_are_accepted_and_a_thousand_and_one_rejected(client, emu):
    assert track(client, make_events(1000))["code"] == 0
    answer = track(client, make_events(1001, start=1000))
    assert (answer["code"], answer["message"]) == (40002, "data: must hold at most 1000 events")
    assert emu.state.event_count(EVENT_SET) == 1000


# -- rejected batches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"event_source": MISSING}, "event_source: required"),
        ({"event_source": "app"}, "event_source: must be offline, web or crm"),
        ({"event_source_id": MISSING}, "event_source_id: required"),
        ({"event_source_id": 7100000000000000001}, "event_source_id: must be a non-empty string"),
        ({"data": MISSING}, "data: required"),
        ({"data": {}}, "data: must be a list of events"),
        ({"data": []}, "data: must hold at least one event"),
        ({"test_event_code": 5}, "test_event_code: must be a non-empty string"),
        ({"pixel_code": PIXEL}, "pixel_code: unknown field"),
    ],
)
def test_a_bad_request_field_rejects_the_batch_naming_it(client, change, message):
    sent = body(make_events(2))
    for field, value in change.items():
        if value is MISSING:
            del sent[field]
        else:
            sent[field] = value
    answer = client.post(TRACK_PATH, json=sent).json()
    assert (answer["code"], answer["message"]) == (40002, message)


def test_a_body_that_is_not_an_object_is_rejected(client):
    answer = client.post(TRACK_PATH, json=[make_event()]).json()
    assert (answer["code"], answer["message"]) == (40002, "request body: must be a JSON object")


SECRET_EMAIL = "alice@example.com"
CURRENCY_RULE = "must be a three-letter upper-case ISO 4217 code"
DAY = 86400


class FromNow(int):
    """An event_time given as seconds from now, read when the test runs: a time taken at
    import goes stale in a long session and would test the wrong rule."""


def resolve_times(change: dict) -> dict:
    now = int(time.time())
    return {k: now + v if isinstance(v, FromNow) else v for k, v in change.items()}


EVENT_RULES = [
    ({"event": MISSING}, "event: required"),
    ({"event": "purchase"}, "event: must be a standard event name (case-sensitive)"),
    ({"event": ["Purchase"]}, "event: must be a standard event name (case-sensitive)"),
    ({"event_time": MISSING}, "event_time: required"),
    ({"event_time": "2024-05-01T12:00:00Z"}, "event_time: must be an integer of Unix seconds"),
    ({"event_time": 1714564800.5}, "event_time: must be an integer of Unix seconds"),
    ({"event_time": FromNow(-29 * DAY)}, "event_time: must be within the last 28 days"),
    (
        {"event_time": FromNow(600)},
        "event_time: must not be more than 300 seconds in the future",
    ),
    ({"event_id": MISSING}, "event_id: required"),
    ({"event_id": ""}, "event_id: must be a non-empty string"),
    ({"event_id": "   "}, "event_id: must be a non-empty string"),
    ({"event_id": 17}, "event_id: must be a non-empty string"),
    ({"user": MISSING}, "user: required"),
    ({"user": {}}, "user: must carry at least one identifier"),
    ({"user.email": SECRET_EMAIL}, "user.email: must be a SHA-256 hex digest"),
    ({"user.email": sha256(SECRET_EMAIL).upper()}, "user.email: must be a SHA-256 hex digest"),
    ({"user.email": sha256(SECRET_EMAIL)[:63]}, "user.email: must be a SHA-256 hex digest"),
    ({"user.email": None}, "user.email: must be a SHA-256 hex digest"),
    (
        {"user.email": [sha256("a@example.com"), SECRET_EMAIL]},
        "user.email[1]: must be a SHA-256 hex digest",
    ),
    ({"user.phone": "+12133734253"}, "user.phone: must be a SHA-256 hex digest"),
    ({"user.external_id": "z" * 64}, "user.external_id: must be a SHA-256 hex digest"),
    ({"user.first_name": "Alice"}, "user.first_name: unknown field"),
    ({"user.ip": "203.0.113.9"}, "user.ip: only allowed when event_source is web"),
    ({"user.user_agent": "Mozilla/5.0"}, "user.user_agent: only allowed when event_source is web"),
    ({"user.ttclid": "click"}, "user.ttclid: only allowed when event_source is web"),
    ({"page": {"url": "https://example.com/"}}, "page: only allowed when event_source is web"),
    ({"properties": "none"}, "properties: must be an object"),
    ({"properties.currency": "usd"}, f"properties.currency: {CURRENCY_RULE}"),
    ({"properties.currency": "US"}, f"properties.currency: {CURRENCY_RULE}"),
    ({"properties.currency": 840}, "properties.currency: must be a string"),
    ({"properties.value": "10.50"}, "properties.value: must be a number"),
    ({"properties.value": True}, "properties.value: must be a number"),
    ({"properties.contents": {"price": 1}}, "properties.contents: must be a list of objects"),
    ({"properties.contents": ["sku-1"]}, "properties.contents[0]: must be an object"),
    ({"properties.contents.0.price": "5.25"}, "properties.contents[0].price: must be a number"),
    (
        {"properties.contents.0.quantity": 1.5},
        "properties.contents[0].quantity: must be a whole number",
    ),
    ({"properties.contents.0.colour": "red"}, "properties.contents[0].colour: unknown field"),
    (
        {"properties.content_type": "service"},
        "properties.content_type: must be product or product_group",
    ),
    (
        {"properties.event_channel": "fax"},
        "properties.event_channel: must be one of crm, email, in_store, other, phone_call, website",
    ),
    ({"properties.order_id": 1234}, "properties.order_id: must be a string"),
    ({"limited_data_use": "yes"}, "limited_data_use: must be true or false"),
    ({"campaign": "spring"}, "campaign: unknown field"),
]


@pytest.mark.parametrize(
    "change, rule", EVENT_RULES, ids=[message.split(":")[0] for _, message in EVENT_RULES]
)
def test_one_invalid_event_rejects_the_batch_naming_index_and_field_never_the_value(
    client, emu, change, rule
):
    events = make_events(20)
    events[17] = make_event(17, **resolve_times(change))
    answer = track(client, events)
    assert (answer["code"], answer["message"]) == (40002, f"data[17].{rule}")
    assert SECRET_EMAIL not in answer["message"] and sha256(SECRET_EMAIL) not in answer["message"]
    assert emu.state.event_count(EVENT_SET) == 0


@pytest.mark.parametrize(
    "change, rule",
    [
        ({"user.ip": "999.1.1.1"}, "user.ip: must be an IPv4 or IPv6 address"),
        ({"user.user_agent": ""}, "user.user_agent: must be a non-empty string"),
        ({"page.url": "javascript:alert(1)"}, "page.url: must be an http or https URL"),
        ({"page.title": "Checkout"}, "page.title: unknown field"),
    ],
)
def test_web_fields_are_checked_on_web_batches(client, change, rule):
    events = [web_event(0), web_event(1)]
    for path, value in change.items():
        *parents, leaf = path.split(".")
        events[1][parents[0]][leaf] = value
    answer = track(client, events, source="web", source_id=PIXEL)
    assert (answer["code"], answer["message"]) == (40002, f"data[1].{rule}")


def test_an_event_that_is_not_an_object_is_named(client):
    answer = track(client, [make_event(0), "Purchase"])
    assert (answer["code"], answer["message"]) == (40002, "data[1]: must be an object")


# -- deduplication -----------------------------------------------------------------------


def test_a_resent_batch_is_accepted_but_stored_once_and_counted_as_duplicates(client, emu):
    events = make_events(5)
    assert track(client, events)["code"] == 0
    assert track(client, events)["code"] == 0
    assert emu.state.events(EVENT_SET) == events
    assert emu.state.duplicates == 5


def test_dedup_key_is_event_set_event_and_event_id(client, emu):
    first = make_event(1)
    same_id_other_event = make_event(1, event="Lead")
    same_id_in_batch = make_event(1)
    assert track(client, [first, same_id_other_event, same_id_in_batch])["code"] == 0
    web = make_event(1)
    assert track(client, [web], source="web", source_id=PIXEL)["code"] == 0
    assert [e["event"] for e in emu.state.events(EVENT_SET)] == ["Purchase", "Lead"]
    assert len(emu.state.events(PIXEL)) == 1
    assert emu.state.duplicates == 1


def test_admin_events_endpoint_lists_stored_events(client):
    events = make_events(2)
    track(client, events)
    track(client, events)
    listed = client.get("/_emulator/events", params={"event_set_id": EVENT_SET}).json()
    assert listed == {"event_set_id": EVENT_SET, "count": 2, "events": events}
    stats = client.get("/_emulator/stats").json()
    assert (stats["events"], stats["duplicates"]) == ({EVENT_SET: 2}, 2)
    assert client.get("/_emulator/events").status_code == 400


def test_without_store_events_only_counts_and_dedup_keys_are_kept():
    with (
        Emulator({**minimal_seed(), "options": {"store_events": False}}) as emu,
        connect(emu) as client,
    ):
        track(client, make_events(3))
        track(client, make_events(3))
        assert emu.state.events(EVENT_SET) == []
        assert (emu.state.event_count(EVENT_SET), emu.state.duplicates) == (3, 3)


def test_reset_forgets_events_and_counts(client, emu):
    track(client, make_events(2))
    client.post("/_emulator/reset")
    assert emu.state.events(EVENT_SET) == []
    assert (emu.state.duplicates, emu.state.request_count(TRACK_PATH)) == (0, 0)
    assert track(client, make_events(2))["code"] == 0
    assert emu.state.duplicates == 0


# -- faults ------------------------------------------------------------------------------


@pytest.fixture
def armed(request):
    with Emulator(faults=request.param) as emu, connect(emu) as client:
        yield emu, client


@pytest.mark.parametrize("armed", [{"rate_limit": {"count": 2}}], indirect=True)
def test_rate_limit_answers_40100_for_the_next_n_requests_and_stores_nothing(armed):
    emu, client = armed
    events = make_events(3)
    assert [track(client, events)["code"] for _ in range(3)] == [40100, 40100, 0]
    assert emu.state.request_count(TRACK_PATH) == 3
    assert (emu.state.event_count(EVENT_SET), emu.state.duplicates) == (3, 0)


@pytest.mark.parametrize("armed", [{"rate_limit": {"count": 1, "code": 40016}}], indirect=True)
def test_rate_limit_code_is_configurable(armed):
    _, client = armed
    assert track(client, make_events(1))["code"] == 40016


@pytest.mark.parametrize("armed", [{"rate_limit": {"count": 1}}], indirect=True)
def test_faults_hit_event_track_only_unless_paths_say_otherwise(armed):
    _, client = armed
    assert client.get(OFFLINE_GET_PATH, params={"advertiser_id": ADVERTISER}).json()["code"] == 0
    assert track(client, make_events(1))["code"] == 40100


@pytest.mark.parametrize(
    "armed", [{"server_error": {"count": 1, "paths": ["offline/get/"]}}], indirect=True
)
def test_a_fault_can_target_other_endpoints(armed):
    _, client = armed
    answer = client.get(OFFLINE_GET_PATH, params={"advertiser_id": ADVERTISER}).json()
    assert answer["code"] == 50000
    assert track(client, make_events(1))["code"] == 0


def test_fractions_fire_in_the_same_order_for_the_same_seed():
    def codes(seed: int) -> list[int]:
        faults = {"seed": seed, "rate_limit": {"fraction": 0.5}}
        with Emulator(faults=faults) as emu, connect(emu) as client:
            return [track(client, make_events(1))["code"] for _ in range(16)]

    first = codes(7)
    assert first == codes(7)
    assert set(first) == {0, 40100}


@pytest.mark.parametrize("armed", [{"http_error": {"count": 1, "status": 503}}], indirect=True)
def test_http_error_answers_that_status_once(armed):
    emu, client = armed
    events = make_events(2)
    assert client.post(TRACK_PATH, json=body(events)).status_code == 503
    assert track(client, events)["code"] == 0
    assert emu.state.duplicates == 0


@pytest.mark.parametrize(
    "armed", [{"http_error": {"count": 1, "status": 429, "retry_after": 3}}], indirect=True
)
def test_http_429_carries_retry_after(armed):
    _, client = armed
    answer = client.post(TRACK_PATH, json=body(make_events(1)))
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")


@pytest.mark.parametrize("armed", [{"server_error": {"count": 2}}], indirect=True)
def test_server_error_answers_50000_with_http_200(armed):
    emu, client = armed
    answers = [client.post(TRACK_PATH, json=body(make_events(1))) for _ in range(3)]
    statuses_and_codes = [(a.status_code, a.json()["code"]) for a in answers]
    assert statuses_and_codes == [(200, 50000), (200, 50000), (200, 0)]
    assert emu.state.event_count(EVENT_SET) == 1


@pytest.mark.parametrize("armed", [{"slow": {"count": 1, "seconds": 3}}], indirect=True)
def test_a_slow_answer_times_the_client_out_but_the_events_were_stored(armed):
    emu, client = armed
    events = make_events(4)
    with pytest.raises(httpx.ReadTimeout):
        client.post(TRACK_PATH, json=body(events), timeout=0.5)
    assert track(client, events)["code"] == 0  # the client's resend
    assert emu.state.events(EVENT_SET) == events
    assert emu.state.duplicates == 4


@pytest.mark.parametrize("armed", [{"slow": {"count": 1, "seconds": 0.2}}], indirect=True)
def test_a_patient_client_gets_the_slow_answer(armed):
    _, client = armed
    assert track(client, make_events(1))["code"] == 0


@pytest.mark.parametrize("armed", [{"drop": {"count": 1}}], indirect=True)
def test_a_drop_before_accepting_closes_the_connection_and_stores_nothing(armed):
    emu, client = armed
    events = make_events(3)
    with pytest.raises(httpx.RemoteProtocolError):
        track(client, events)
    assert emu.state.event_count(EVENT_SET) == 0
    assert track(client, events)["code"] == 0
    assert emu.state.duplicates == 0


@pytest.mark.parametrize("armed", [{"drop": {"count": 1, "after_accept": True}}], indirect=True)
def test_a_drop_after_accepting_stores_the_events_then_the_resend_is_a_duplicate(armed):
    emu, client = armed
    events = make_events(3)
    with pytest.raises(httpx.RemoteProtocolError):
        track(client, events)
    assert emu.state.events(EVENT_SET) == events
    assert track(client, events)["code"] == 0
    assert (emu.state.event_count(EVENT_SET), emu.state.duplicates) == (3, 3)


@pytest.mark.parametrize("armed", [{"drop": {"count": 1, "after_accept": True}}], indirect=True)
def test_a_drop_after_accept_spares_rejected_requests(armed):
    emu, client = armed
    assert track(client, [make_event(event="purchase")])["code"] == 40002
    with pytest.raises(httpx.RemoteProtocolError):
        track(client, make_events(1))


@pytest.mark.parametrize("armed", [{"poison_event_ids": ["evt-00003"]}], indirect=True)
def test_a_poisoned_event_fails_its_whole_batch_naming_its_index(armed):
    emu, client = armed
    answer = track(client, make_events(5))
    assert (answer["code"], answer["message"]) == (
        40002,
        "data[3]: event rejected (emulator poison_event_ids fault)",
    )
    assert emu.state.event_count(EVENT_SET) == 0
    assert track(client, make_events(3))["code"] == 0
    assert track(client, make_events(1, start=4))["code"] == 0


@pytest.mark.parametrize(
    "armed", [{"partial": {"count": 1, "message": "2 events not matched"}}], indirect=True
)
def test_a_partial_answer_is_20001_with_the_events_stored(armed):
    emu, client = armed
    answer = track(client, make_events(3))
    assert (answer["code"], answer["message"]) == (20001, "2 events not matched")
    assert emu.state.event_count(EVENT_SET) == 3
    assert track(client, make_events(1, start=3))["code"] == 0


@pytest.mark.parametrize("armed", [{"token_expiry_after": 2}], indirect=True)
def test_a_token_expires_after_n_requests_until_a_refresh_produces_a_new_one(armed):
    emu, client = armed

    def refresh(refresh_token: str) -> dict:
        return client.post(
            REFRESH_TOKEN_PATH,
            json={
                "app_id": "7200000000000000001",
                "secret": "emulator-secret",
                "refresh_token": refresh_token,
                "grant_type": "refresh_token",
            },
        ).json()["data"]

    def send(number: int, access_token: str) -> int:
        answer = client.post(
            TRACK_PATH, json=body([make_event(number)]), headers={"Access-Token": access_token}
        )
        return answer.json()["code"]

    first = refresh("emulator-refresh-token")
    assert [send(n, first["access_token"]) for n in range(4)] == [0, 0, 40102, 40102]
    second = refresh(first["refresh_token"])
    assert send(9, second["access_token"]) == 0
    assert emu.state.event_count(EVENT_SET) == 3


def test_faults_come_from_the_seed_keyword_arguments_or_the_admin_endpoint():
    seed = {**minimal_seed(), "faults": {"server_error": {"count": 1}, "rate_limit": {"count": 1}}}
    with Emulator(seed, faults={"rate_limit": {"count": 2}}) as emu, connect(emu) as client:
        snapshot = emu.state.fault_plan.snapshot()
        assert (snapshot["server_error"]["count"], snapshot["rate_limit"]["count"]) == (1, 2)
        assert [track(client, make_events(1))["code"] for _ in range(4)] == [40100, 40100, 50000, 0]
        assert client.get("/_emulator/faults").json()["rate_limit"]["count"] == 0

        client.post("/_emulator/faults", json={"server_error": {"count": 1}})
        assert [track(client, make_events(1))["code"] for _ in range(2)] == [50000, 0]

        client.post("/_emulator/reset")  # re-arms the start-up faults
        assert [track(client, make_events(1))["code"] for _ in range(4)] == [40100, 40100, 50000, 0]
