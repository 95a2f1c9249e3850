"""``EventPreparer.prepare``: one input row to one TikTok event, or a reason not to send it.

The clock is fixed, so age and future bounds are exact. Rows are mostly CSV-like
(every value a string); JSON-typed rows are tested where the type matters.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from hashlib import sha256

import pytest

from amp_destinations import RecordError, RecordWarning
from tiktok_ads_events._prepare import FIELDS, EventPreparer

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
EVENT_SET_ID = "7123456789012345678"
PIXEL_CODE = "C4ABCDEFGH12IJKLMN90"
ROW = {
    "event": "Purchase",
    "event_id": "evt-0001",
    "timestamp": "2026-03-01T11:00:00Z",
    "email": "alice@example.com",
}
EMAIL_HASH = sha256(b"alice@example.com").hexdigest()

# TikTok's documented test vectors.
EMAIL_VECTOR = (
    " ALICE_abc@gmail.com ",
    "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f",
)
PHONE_VECTOR = (
    "(+1)2133734253",
    "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd",
)
EXTERNAL_ID_VECTOR = (
    "user_123",
    "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b",
)


def preparer(**settings) -> EventPreparer:
    base = {
        "advertiser_id": "7654321098765432109",
        "event_set_id": PIXEL_CODE if settings.get("event_source") == "web" else EVENT_SET_ID,
        "event_source": "offline",
        "default_phone_region": "US",
        "max_event_age_days": 28,
    }
    return EventPreparer({**base, **settings}, clock=lambda: NOW)


def values(row: dict) -> tuple:
    """The row as prepare receives it from the host."""
    return tuple(map(row.get, FIELDS))


def prepare(row: dict, **settings):
    """(result, warnings) for ROW updated with ``row``; a None value removes the column."""
    full = {**ROW, **row}
    full = {key: value for key, value in full.items() if value is not None}
    warnings: list = []
    return preparer(**settings).prepare(values(full), warnings), warnings


def event_of(row: dict, **settings) -> dict:
    result, warnings = prepare(row, **settings)
    assert isinstance(result, tuple), result
    return result[1]


def code_of(row: dict, **settings) -> str:
    result, warnings = prepare(row, **settings)
    assert isinstance(result, RecordError) and not isinstance(result, RecordWarning), result
    assert warnings == []
    return result.code


# -- the event as TikTok receives it ----------------------------------------------------


def test_minimal_row_becomes_the_event_tiktok_expects():
    result, warnings = prepare({})
    assert result == (
        EVENT_SET_ID,
        {
            "event": "Purchase",
            "event_time": int(NOW) - 3600,
            "event_id": "evt-0001",
            "user": {"email": EMAIL_HASH},
        },
    )
    assert warnings == []


def test_keys_without_a_value_are_left_out():
    event = event_of(
        {
            "phone": "",
            "external_id": "  ",
            "value": "",
            "currency": "",
            "order_id": "",
            "content_id": "",
            "event_channel": "",
            "price": "",
        }
    )
    assert set(event) == {"event", "event_time", "event_id", "user"}
    assert set(event["user"]) == {"email"}


def test_a_full_offline_row():
    row = {
        "event": "Purchase",
        "event_id": " order-77 ",
        "email": "a@b.co",
        "phone": "+12133734253",
        "external_id": "user_123",
        "content_id": "sku-1",
        "content_name": "Red shoes",
        "content_category": "shoes",
        "brand": "Acme",
        "price": "9.99",
        "quantity": "3",
        "content_type": "product",
        "currency": "USD",
        "order_id": "o-1",
        "shop_id": "store-9",
        "description": "in-store sale",
        "event_channel": "in_store",
    }
    event = event_of(row)
    assert event["event_id"] == "order-77"
    assert event["user"] == {
        "email": sha256(b"a@b.co").hexdigest(),
        "phone": PHONE_VECTOR[1],
        "external_id": EXTERNAL_ID_VECTOR[1],
    }
    assert event["properties"] == {
        "value": 29.97,
        "currency": "USD",
        "contents": [
            {
                "content_id": "sku-1",
                "content_name": "Red shoes",
                "content_category": "shoes",
                "brand": "Acme",
                "price": 9.99,
                "quantity": 3,
            }
        ],
        "order_id": "o-1",
        "shop_id": "store-9",
        "description": "in-store sale",
        "content_type": "product",
        "event_channel": "in_store",
    }
    assert "page" not in event and "limited_data_use" not in event


def test_json_typed_row():
    row = {
        "event_id": 12345,
        "timestamp": int(NOW) - 60,
        "phone": 2133734253,
        "external_id": 42,
        "value": 30,
        "currency": "EUR",
        "quantity": 2.0,
        "order_id": 991,
        "shop_id": None,
    }
    event = event_of(row)
    assert event["event_id"] == "12345"
    assert event["event_time"] == int(NOW) - 60
    assert event["user"]["phone"] == PHONE_VECTOR[1]
    assert event["user"]["external_id"] == sha256(b"42").hexdigest()
    assert event["properties"] == {
        "value": 30.0,
        "currency": "EUR",
        "contents": [{"quantity": 2}],
        "order_id": "991",
    }


# -- hashing ----------------------------------------------------------------------------


def test_email_vector():
    assert event_of({"email": EMAIL_VECTOR[0]})["user"]["email"] == EMAIL_VECTOR[1]


def test_phone_vector():
    assert event_of({"phone": PHONE_VECTOR[0]})["user"]["phone"] == PHONE_VECTOR[1]


def test_external_id_vector():
    assert (
        event_of({"external_id": EXTERNAL_ID_VECTOR[0]})["user"]["external_id"]
        == (EXTERNAL_ID_VECTOR[1])
    )


def test_prehashed_values_pass_through():
    digest = sha256(b"anything").hexdigest()
    user = event_of({"email": digest, "phone": digest, "external_id": digest})["user"]
    assert user == {"email": digest, "phone": digest, "external_id": digest}


def test_upper_case_digests_pass_through_lower_cased_for_email_and_phone_only():
    digest = sha256(b"anything").hexdigest()
    user = event_of(
        {"email": digest.upper(), "phone": digest.upper(), "external_id": digest.upper()}
    )["user"]
    assert user["email"] == digest and user["phone"] == digest
    # An upper-case hex external id may be a genuine id: it is hashed.
    assert user["external_id"] == sha256(digest.upper().encode()).hexdigest()


@pytest.mark.parametrize(
    "phone",
    [
        "+1 213 373 4253",
        "+1-213-373-4253",
        "+1.213.373.4253",
        "(213) 373-4253",
        "213-373-4253",
        "2133734253",
        "1 (213) 373-4253",
        "+1 (213) 373-4253",
    ],
)
def test_phone_formats_that_mean_the_same_number(phone):
    assert event_of({"phone": phone})["user"]["phone"] == PHONE_VECTOR[1]


def test_national_phone_is_read_in_the_default_region():
    expected = sha256(b"+442079460018").hexdigest()
    assert event_of({"phone": "020 7946 0018"}, default_phone_region="GB")["user"]["phone"] == (
        expected
    )
    assert event_of({"phone": "+44 20 7946 0018"})["user"]["phone"] == expected


@pytest.mark.parametrize(
    "phone",
    [
        "373-4253",  # a US number without its area code: its E.164 form would be wrong
        "12",
        "call me",
        "+0 123 456 789",
        "+1234567890123456",
        {"number": 2133734253},
        True,
    ],
)
def test_invalid_phone_is_dropped_with_a_warning(phone):
    result, warnings = prepare({"phone": phone})
    assert "phone" not in result[1]["user"]
    assert [w.code for w in warnings] == ["phone.invalid"]
    assert warnings[0].field == "phone"


def test_external_id_that_is_not_text_is_dropped_with_a_warning():
    result, warnings = prepare({"external_id": {"id": 1}})
    assert "external_id" not in result[1]["user"]
    assert [w.code for w in warnings] == ["external_id.invalid"]


# -- event ------------------------------------------------------------------------------


def test_event_is_required():
    assert code_of({"event": None}) == "event.missing"
    assert code_of({"event": "  "}) == "event.missing"


def test_fixed_event_name_fills_in_only_for_rows_without_an_event():
    assert event_of({"event": ""}, fixed_event_name="Lead")["event"] == "Lead"
    assert event_of({"event": None}, fixed_event_name="Lead")["event"] == "Lead"
    assert event_of({"event": "Purchase"}, fixed_event_name="Lead")["event"] == "Purchase"


def test_event_name_is_trimmed():
    assert event_of({"event": " Purchase "})["event"] == "Purchase"


@pytest.mark.parametrize(
    "given, meant",
    [
        ("purchase", "Purchase"),
        ("completepayment", "CompletePayment"),
        ("COMPLETEPAYMENT", "CompletePayment"),
        ("Purchse", "Purchase"),
        ("Complete Payment", "CompletePayment"),
        ("add_to_cart", "AddToCart"),
    ],
)
def test_a_near_miss_is_rejected_with_did_you_mean(given, meant):
    result, _ = prepare({"event": given})
    assert result.code == "event.unknown" and result.field == "event"
    assert result.message.endswith(f"did you mean {meant!r}?")


@pytest.mark.parametrize("given", ["Checkout", "12", ["Purchase"]])
def test_an_unknown_event_without_a_close_name_gets_no_suggestion(given):
    result, _ = prepare({"event": given})
    assert result.code == "event.unknown"
    assert "did you mean" not in result.message


# -- event_id ---------------------------------------------------------------------------


@pytest.mark.parametrize("event_id", [None, "", "   "])
def test_event_id_is_required(event_id):
    assert code_of({"event_id": event_id}) == "event_id.missing"


@pytest.mark.parametrize("event_id", [["a"], {"id": 1}, True])
def test_event_id_must_be_text_or_a_number(event_id):
    assert code_of({"event_id": event_id}) == "event_id.invalid"


# -- timestamp --------------------------------------------------------------------------

HOUR_AGO = int(NOW) - 3600


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-03-01T11:00:00Z",
        "2026-03-01T11:00:00+00:00",
        "2026-03-01T13:00:00+02:00",
        "2026-03-01T06:00:00-05:00",
        "2026-03-01T11:00:00",
        "2026-03-01 11:00:00",
        "2026-03-01T11:00:00.999Z",
        "20260301T110000Z",
        " 2026-03-01T11:00:00Z ",
        str(HOUR_AGO),
        f"{HOUR_AGO}.75",
        HOUR_AGO,
        float(HOUR_AGO),
        str(HOUR_AGO * 1000),
        str(HOUR_AGO * 1000 + 999),
        HOUR_AGO * 1000,
    ],
)
def test_timestamp_forms_that_mean_an_hour_ago(timestamp):
    assert event_of({"timestamp": timestamp})["event_time"] == HOUR_AGO


def test_date_alone_is_midnight_utc():
    assert event_of({"timestamp": "2026-02-20"})["event_time"] == int(
        datetime(2026, 2, 20, tzinfo=UTC).timestamp()
    )


@pytest.mark.parametrize("timestamp", [None, "", "  "])
def test_timestamp_is_required(timestamp):
    assert code_of({"timestamp": timestamp}) == "timestamp.missing"


@pytest.mark.parametrize(
    "timestamp",
    [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "01/03/2026",
        "nan",
        "inf",
        True,
        ["x"],
        str(HOUR_AGO * 1_000_000),  # microseconds are refused, not guessed at
        f"{HOUR_AGO:_}",  # float() reads 1_772_362_800; a timestamp is not written so
        float("nan"),
        float("inf"),
    ],
)
def test_unreadable_timestamp_is_rejected(timestamp):
    assert code_of({"timestamp": timestamp}) == "timestamp.invalid"


def test_the_28_day_bound_is_exact():
    oldest = int(NOW) - 28 * 86400
    assert event_of({"timestamp": oldest})["event_time"] == oldest
    assert code_of({"timestamp": oldest - 1}) == "timestamp.too_old"


def test_a_shorter_max_age_setting_narrows_the_window():
    seven_days = int(NOW) - 7 * 86400
    assert event_of({"timestamp": seven_days}, max_event_age_days=7)
    result, _ = prepare({"timestamp": seven_days - 1}, max_event_age_days=7)
    assert result.code == "timestamp.too_old" and "7 days" in result.message
    one_day = int(NOW) - 86400
    result, _ = prepare({"timestamp": one_day - 1}, max_event_age_days=1)
    assert "more than 1 day old" in result.message


def test_the_future_bound_allows_five_minutes_of_clock_skew():
    assert event_of({"timestamp": int(NOW) + 300})["event_time"] == int(NOW) + 300
    assert code_of({"timestamp": int(NOW) + 301}) == "timestamp.in_future"


def test_a_local_time_mistaken_for_utc_lands_in_the_future():
    # 15:00 in New York, written without its offset, is read as 15:00 UTC.
    assert code_of({"timestamp": "2026-03-01T15:00:00"}) == "timestamp.in_future"


def test_the_clock_is_read_per_row():
    now = [NOW]
    prep = EventPreparer({"event_set_id": EVENT_SET_ID}, clock=lambda: now[0])
    row = {**ROW, "timestamp": int(NOW) - 28 * 86400}
    assert isinstance(prep.prepare(values(row), []), tuple)
    now[0] += 1
    assert prep.prepare(values(row), []).code == "timestamp.too_old"


# -- email ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   "])
def test_email_is_required(email):
    assert code_of({"email": email}) == "email.missing"


@pytest.mark.parametrize(
    "email",
    [
        "alice",
        "alice@example",
        "alice@@example.com",
        "a@b@example.com",
        "@example.com",
        "alice@.com",
        "alice@example.",
        "alice@example..com",
        "alice smith@example.com",
        "alice@exa mple.com",
        "N/A",
        "+12133734253",
        {"email": "alice@example.com"},
        42,
    ],
)
def test_what_is_not_an_email_is_rejected(email):
    assert code_of({"email": email}) == "email.invalid"


@pytest.mark.parametrize(
    "email",
    [
        "alice+tag@example.com",
        "first.last@sub.example.co.uk",
        "ALICE@EXAMPLE.COM",
        "user@xn--bcher-kva.example",
        "jörg@bücher.example",
    ],
)
def test_unusual_but_real_addresses_are_accepted(email):
    assert event_of({"email": email})["user"]["email"] == (
        sha256(email.strip().lower().encode()).hexdigest()
    )


# -- event set --------------------------------------------------------------------------


def test_event_set_id_defaults_to_the_setting():
    assert prepare({"event_set_id": ""})[0][0] == EVENT_SET_ID
    assert prepare({})[0][0] == EVENT_SET_ID


def test_a_row_may_name_its_own_event_set():
    assert prepare({"event_set_id": " 7000000000000000042 "})[0][0] == "7000000000000000042"
    assert prepare({"event_set_id": 7000000000000000042})[0][0] == "7000000000000000042"
    other_pixel = "D5ZYXWVUT98SRQPONM76"
    assert prepare({"event_set_id": other_pixel}, event_source="web")[0][0] == other_pixel


@pytest.mark.parametrize(
    "event_source, event_set_id",
    [
        ("offline", "C4ABCDEFGH12IJKLMN90"),
        ("offline", "12-34"),
        ("offline", ["1"]),
        ("web", "7000000000000000042"),
        ("web", "c4abcdefgh12ijklmn90"),
    ],
)
def test_a_row_event_set_id_of_the_wrong_shape_is_rejected(event_source, event_set_id):
    assert (
        code_of({"event_set_id": event_set_id}, event_source=event_source) == "event_set_id.invalid"
    )


# -- rejections come alone --------------------------------------------------------------


def test_a_rejected_row_leaves_no_warnings():
    result, warnings = prepare(
        {"phone": "nope", "ip": "1.2.3.4", "event_source": "web", "value": "-5"}
    )
    assert result.code == "value.invalid"
    assert warnings == []


def test_prepare_works_without_start_and_after_start():
    prep = preparer()
    assert isinstance(prep.prepare(values(dict(ROW)), []), tuple)
    prep.start(list(ROW))
    assert isinstance(prep.prepare(values(dict(ROW)), []), tuple)


# -- money ------------------------------------------------------------------------------


def test_value_and_currency():
    assert event_of({"value": "29.99", "currency": "USD"})["properties"] == {
        "value": 29.99,
        "currency": "USD",
    }


def test_currency_is_upper_cased():
    assert event_of({"value": "1", "currency": " usd "})["properties"]["currency"] == "USD"


def test_default_currency_applies_to_rows_with_money_and_no_currency():
    assert event_of({"value": "5"}, default_currency="EUR")["properties"] == {
        "value": 5.0,
        "currency": "EUR",
    }
    assert event_of({"price": "5"}, default_currency="EUR")["properties"]["currency"] == "EUR"
    assert (
        event_of({"value": "5", "currency": "GBP"}, default_currency="EUR")["properties"][
            "currency"
        ]
        == "GBP"
    )
    # A row without money gets no currency.
    assert "properties" not in event_of({}, default_currency="EUR")


def test_value_without_any_currency_is_rejected():
    assert code_of({"value": "5"}) == "currency.missing"
    assert code_of({"price": "2", "quantity": "2"}) == "currency.missing"


def test_a_price_alone_needs_no_currency():
    assert event_of({"price": "2"})["properties"] == {"contents": [{"price": 2.0}]}


@pytest.mark.parametrize(
    "price, quantity, value",
    [
        ("9.99", "3", 29.97),
        ("0.1", "3", 0.3),
        ("19.99", "7", 139.93),
        ("0.0125", "3", 0.0375),
        ("10", "0", 0.0),
        (1.1, 3, 3.3),
    ],
)
def test_value_is_price_times_quantity_without_float_noise(price, quantity, value):
    properties = event_of({"price": price, "quantity": quantity, "currency": "USD"})["properties"]
    assert properties["value"] == value
    assert properties["contents"] == [{"price": float(price), "quantity": int(quantity)}]


def test_a_given_value_wins_over_price_times_quantity():
    assert (
        event_of({"value": "25", "price": "9.99", "quantity": "3", "currency": "USD"})[
            "properties"
        ]["value"]
        == 25.0
    )


@pytest.mark.parametrize("price", ["1e308", 1e308, "1.7976931348623157e308"])
def test_a_value_that_overflows_rejects_the_row(price):
    result, warnings = prepare({"price": price, "quantity": "10", "currency": "USD"})
    assert result.code == "value.invalid" and "too large" in result.message
    assert warnings == []


def test_an_overflowing_value_never_reaches_tiktok_as_null(dry_send):
    # Through the host: a dry run writes the request bodies TikTok would get.
    money = {"quantity": "10", "currency": "USD", "timestamp": int(time.time())}
    rows = [
        {**ROW, **money, "price": "1e308"},
        {**ROW, **money, "event_id": "evt-2", "price": "1e307"},
    ]
    result, events = dry_send(rows)
    assert result.summary["rejected_by_code"] == {"value.invalid": 1}
    assert [event["properties"]["value"] for event in events] == [1e308]


def test_the_largest_quantity_json_carries_exactly():
    properties = event_of({"quantity": str(2**53 - 1)})["properties"]
    assert properties["contents"] == [{"quantity": 2**53 - 1}]


def test_quantity_written_as_a_whole_float_is_a_whole_number():
    assert event_of({"quantity": "3.0"})["properties"]["contents"] == [{"quantity": 3}]


@pytest.mark.parametrize(
    "column, value, code",
    [
        ("value", "-1", "value.invalid"),
        ("value", "abc", "value.invalid"),
        ("value", "NaN", "value.invalid"),
        ("value", "inf", "value.invalid"),
        ("value", "1,234.50", "value.invalid"),
        ("value", "1_234.50", "value.invalid"),  # float() reads it; "1,234.50" is refused
        ("value", "-0.01", "value.invalid"),
        ("value", True, "value.invalid"),
        ("value", [1], "value.invalid"),
        ("value", float("nan"), "value.invalid"),
        ("value", 10**400, "value.invalid"),
        ("price", "-0.01", "price.invalid"),
        ("price", "free", "price.invalid"),
        ("price", "1e999", "price.invalid"),
        ("price", "1_000", "price.invalid"),
        ("quantity", "2.5", "quantity.invalid"),
        ("quantity", "-1", "quantity.invalid"),
        ("quantity", "two", "quantity.invalid"),
        ("quantity", 1.5, "quantity.invalid"),
        ("quantity", "1_000", "quantity.invalid"),
        ("quantity", "1e300", "quantity.invalid"),  # whole, but no JSON integer carries it
        ("quantity", 2**53, "quantity.invalid"),
        ("currency", "XYZ", "currency.invalid"),
        ("currency", "US Dollar", "currency.invalid"),
        ("currency", "$", "currency.invalid"),
        ("currency", "XAU", "currency.invalid"),
        ("currency", 840, "currency.invalid"),
    ],
)
def test_bad_money_rejects_the_row(column, value, code):
    row = {"value": "1", "currency": "USD", column: value}
    assert code_of(row) == code


# -- contents and other properties ------------------------------------------------------


def test_content_columns_make_the_first_content_item():
    event = event_of({"content_id": "sku-1", "brand": "Acme"})
    assert event["properties"] == {"contents": [{"content_id": "sku-1", "brand": "Acme"}]}


@pytest.mark.parametrize(
    "given, sent", [("product", "product"), ("Product_Group", "product_group")]
)
def test_content_type(given, sent):
    assert event_of({"content_type": given})["properties"] == {"content_type": sent}


@pytest.mark.parametrize(
    "given, sent", [("in_store", "in_store"), ("CRM", "crm"), (" Phone_Call ", "phone_call")]
)
def test_event_channel(given, sent):
    assert event_of({"event_channel": given})["properties"] == {"event_channel": sent}


@pytest.mark.parametrize(
    "column, value",
    [
        ("content_type", "sku"),
        ("content_type", ["product"]),
        ("event_channel", "store"),
        ("event_channel", 3),
    ],
)
def test_a_choice_outside_its_list_is_dropped_with_a_warning(column, value):
    result, warnings = prepare({column: value})
    assert "properties" not in result[1]
    assert [w.code for w in warnings] == [f"{column}.invalid"]


def test_event_source_in_a_row_is_ignored_with_a_warning():
    result, warnings = prepare({"event_source": "web"})
    assert isinstance(result, tuple) and "event_source" not in result[1]
    assert [w.code for w in warnings] == ["event_source.ignored"]


# -- web and offline --------------------------------------------------------------------

WEB_COLUMNS = {
    "ip": "203.0.113.7",
    "agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "cookie_id": "ttp-abc",
    "tiktok_click_id": "E.C.P.clickid",
    "locale": "en_US",
    "page_url": "https://shop.example/checkout",
    "referrer_url": "https://www.tiktok.com/",
}


def test_web_columns_are_renamed_for_tiktok():
    event = event_of(WEB_COLUMNS, event_source="web")
    assert event["user"] == {
        "email": EMAIL_HASH,
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "ttp": "ttp-abc",
        "ttclid": "E.C.P.clickid",
        "locale": "en_US",
    }
    assert event["page"] == {
        "url": "https://shop.example/checkout",
        "referrer": "https://www.tiktok.com/",
    }


@pytest.mark.parametrize(
    "ip", ["2001:db8::1", "::ffff:192.0.2.1", "2001:0db8:0000:0000:0000:0000:0000:0001"]
)
def test_ipv6_full_or_compressed(ip):
    assert event_of({"ip": ip}, event_source="web")["user"]["ip"] == ip


@pytest.mark.parametrize("ip", ["999.1.1.1", "localhost", "1.2.3", ["1.2.3.4"]])
def test_an_invalid_ip_is_dropped_with_a_warning(ip):
    result, warnings = prepare({"ip": ip}, event_source="web")
    assert "ip" not in result[1]["user"]
    assert [w.code for w in warnings] == ["ip.invalid"]


def test_web_only_columns_are_dropped_on_an_offline_destination():
    result, warnings = prepare(WEB_COLUMNS)
    assert result[1]["user"] == {"email": EMAIL_HASH}
    assert "page" not in result[1]
    assert sorted(w.code for w in warnings) == sorted(f"{c}.web_only" for c in WEB_COLUMNS)


def test_empty_web_only_columns_on_offline_raise_nothing():
    assert prepare({column: "" for column in WEB_COLUMNS})[1] == []


def test_start_skips_web_only_columns_the_input_does_not_have():
    prep = preparer()
    prep.start(list(ROW) + ["phone"])
    warnings: list = []
    # A column outside the announced ones is not even looked at.
    assert isinstance(prep.prepare(values({**ROW, "ip": "1.2.3.4"}), warnings), tuple)
    assert warnings == []
    prep.start(list(ROW) + ["ip"])
    prep.prepare(values({**ROW, "ip": "1.2.3.4"}), warnings)
    assert [w.code for w in warnings] == ["ip.web_only"]


def test_limited_data_use_is_an_event_level_flag_on_web():
    assert event_of({}, event_source="web", limited_data_use=True)["limited_data_use"] is True
    assert "limited_data_use" not in event_of({}, event_source="web", limited_data_use=False)
    assert "limited_data_use" not in event_of({}, limited_data_use=True)
