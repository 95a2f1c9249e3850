"""Several match keys per event (emails, phones and external ids), the click id in a
landing page's URL, phone numbers read in the default region or as international
numbers, and emails carrying invisible characters."""

from __future__ import annotations

import json
import time
from hashlib import sha256

import pytest

from amp_destinations import InputError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

NOW = int(time.time()) - 60
ROW = {"event": "Purchase", "event_id": "evt-1", "timestamp": NOW, "email": "alice@example.com"}


def h(text: str) -> str:
    return sha256(text.encode()).hexdigest()


def write_csv(path, header: list[str], *rows: list) -> str:
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def one_event(dry_send, source, **settings) -> tuple[dict, dict]:
    result, events = dry_send(source, **settings)
    assert result.summary["rejected"] == 0, result.summary["rejected_by_code"]
    (event,) = events
    return event, result.summary["warnings_by_code"]


# -- several values per key -------------------------------------------------------------


def test_csv_numbered_columns_give_a_list_per_key(dry_send, tmp_path):
    header = ["event", "event_id", "timestamp", "email", "email_2", "email_3"]
    header += ["phone", "phone_2", "external_id", "external_id_2"]
    path = write_csv(
        tmp_path / "events.csv",
        header,
        ["Purchase", "e1", NOW, "Alice@Example.com", " alice@work.example ", "", "+12133734253"]
        + ["(415) 555-0132", "crm-1", "loyalty-9"],
    )
    event, warnings = one_event(dry_send, path)
    assert event["user"] == {
        "email": [h("alice@example.com"), h("alice@work.example")],
        "phone": [h("+12133734253"), h("+14155550132")],
        "external_id": [h("crm-1"), h("loyalty-9")],
    }
    assert warnings == {}


def test_one_value_is_sent_as_a_string_and_equal_hashes_once(dry_send, tmp_path):
    path = write_csv(
        tmp_path / "events.csv",
        ["event", "event_id", "timestamp", "email", "email_2", "phone", "phone_2"],
        ["Purchase", "e1", NOW, "alice@example.com", "ALICE@example.com ", "", "2133734253"],
    )
    event, _ = one_event(dry_send, path)
    assert event["user"] == {"email": h("alice@example.com"), "phone": h("+12133734253")}


def test_jsonl_lists(dry_send, tmp_path):
    row = {
        **ROW,
        "email": ["alice@example.com", "a.smith@example.org"],
        "phone": ["+12133734253", 4155550132],
        "external_id": ["crm-1", 42],
    }
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(row) + "\n")
    event, _ = one_event(dry_send, path)
    assert event["user"] == {
        "email": [h("alice@example.com"), h("a.smith@example.org")],
        "phone": [h("+12133734253"), h("+14155550132")],
        "external_id": [h("crm-1"), h("42")],
    }


def test_parquet_list_columns(dry_send, tmp_path):
    path = tmp_path / "events.parquet"
    table = pa.table(
        {
            "event": ["Purchase"],
            "event_id": ["e1"],
            "timestamp": [NOW],
            "email": pa.array([["alice@example.com", "b@example.org"]], pa.list_(pa.string())),
            "phone": pa.array([["+12133734253"]], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, path)
    event, _ = one_event(dry_send, path)
    assert event["user"] == {
        "email": [h("alice@example.com"), h("b@example.org")],
        "phone": h("+12133734253"),
    }


def test_python_rows_with_lists_and_tuples(dry_send):
    row = {**ROW, "email": ("alice@example.com", "b@example.org"), "phone": ["2133734253"]}
    event, _ = one_event(dry_send, [row])
    assert event["user"]["email"] == [h("alice@example.com"), h("b@example.org")]
    assert event["user"]["phone"] == h("+12133734253")


def test_a_bad_extra_email_is_dropped_and_the_others_are_sent(dry_send):
    row = {**ROW, "email": ["N/A", "alice@example.com"], "email_2": "bob@example.com"}
    event, warnings = one_event(dry_send, [row])
    assert event["user"]["email"] == [h("alice@example.com"), h("bob@example.com")]
    assert warnings == {"email.partly_invalid": 1}


def test_an_email_in_a_numbered_column_is_enough(dry_send):
    event, _ = one_event(dry_send, [{**ROW, "email": "", "email_2": "bob@example.com"}])
    assert event["user"]["email"] == h("bob@example.com")


@pytest.mark.parametrize(
    "emails, code",
    [([], "email.missing"), (["", None], "email.missing"), (["N/A", {"a": 1}], "email.invalid")],
)
def test_a_row_needs_one_usable_email(dry_send, emails, code):
    result, events = dry_send([{**ROW, "email": emails}])
    assert events == [] and result.summary["rejected_by_code"] == {code: 1}


def test_bad_phones_and_ids_among_good_ones_are_dropped_with_one_warning(dry_send):
    row = {**ROW, "phone": ["call me", "+12133734253", "12"], "external_id": ["crm-1", True]}
    event, warnings = one_event(dry_send, [row])
    assert event["user"]["phone"] == h("+12133734253")
    assert event["user"]["external_id"] == h("crm-1")
    assert warnings == {"phone.invalid": 1, "external_id.invalid": 1}


def test_a_zero_or_a_boolean_in_a_numbered_column_is_read_not_skipped(dry_send):
    row = {**ROW, "external_id": "crm-1", "external_id_2": 0, "phone": "", "phone_2": False}
    event, warnings = one_event(dry_send, [row])
    assert event["user"]["external_id"] == [h("crm-1"), h("0")]
    assert "phone" not in event["user"] and warnings == {"phone.invalid": 1}


def test_a_column_beyond_the_fifth_value_stops_the_run(dry_send, tmp_path):
    header = ["event", "event_id", "timestamp", "email"] + [f"email_{n}" for n in range(2, 7)]
    path = write_csv(tmp_path / "events.csv", header, ["Purchase", "e1", NOW] + ["a@b.co"] * 6)
    with pytest.raises(InputError, match="column email_6, but at most 5 values per match key"):
        dry_send(path)


# -- the click id in the landing page ---------------------------------------------------


def test_web_events_take_ttclid_from_the_page_url(dry_send):
    url = "https://shop.example/landing?utm_source=tiktok&ttclid=E.C.P.abc123&x=1"
    event, _ = one_event(dry_send, [{**ROW, "page_url": url}], event_source="web")
    assert event["user"]["ttclid"] == "E.C.P.abc123"
    assert event["page"] == {"url": url}


def test_a_click_id_column_wins_over_the_url(dry_send):
    row = {**ROW, "page_url": "https://s.example/?ttclid=from-url", "tiktok_click_id": "col"}
    event, _ = one_event(dry_send, [row], event_source="web")
    assert event["user"]["ttclid"] == "col"


@pytest.mark.parametrize(
    "url",
    [
        "https://s.example/checkout",
        "https://s.example/?ttclid=",
        "https://s.example/#ttclid=in-the-fragment",
        "https://s.example/?not_ttclid=x",
        "http://[::1/?ttclid=x",  # unreadable: dropped quietly, the page url is sent as given
    ],
)
def test_no_ttclid_without_one_in_the_query(dry_send, url):
    event, _ = one_event(dry_send, [{**ROW, "page_url": url}], event_source="web")
    assert "ttclid" not in event["user"]


def test_offline_events_take_no_ttclid_from_a_url(dry_send):
    row = {**ROW, "page_url": "https://s.example/?ttclid=abc"}
    event, warnings = one_event(dry_send, [row])
    assert "ttclid" not in event["user"] and warnings == {"page_url.web_only": 1}


# -- phones: the default region, international numbers, numbers that cannot exist ------


@pytest.mark.parametrize(
    "phone, e164",
    [
        ("447911123456", "+447911123456"),  # not a US number, a valid UK one
        ("44 7911 123456", "+447911123456"),
        ("2133734253", "+12133734253"),  # valid in the default region: read there
        ("011 44 7911 123456", "+447911123456"),  # the US international prefix
        ("+44 (0)20 7946 0018", "+442079460018"),  # the trunk 0 is not dialled from abroad
    ],
)
def test_a_number_is_read_in_the_region_or_as_international(dry_send, phone, e164):
    event, warnings = one_event(dry_send, [{**ROW, "phone": phone}])
    assert event["user"]["phone"] == h(e164) and warnings == {}


@pytest.mark.parametrize(
    "phone",
    [
        "1234567890",  # area code 123: no NANP area code starts with 1
        "(123) 456-7890",
        "11234567890",
        "2121234567",  # exchange 123
        "9115550100",  # N11 codes are not area codes
    ],
)
def test_a_number_that_cannot_exist_is_dropped_with_a_warning(dry_send, phone):
    event, warnings = one_event(dry_send, [{**ROW, "phone": phone}])
    assert "phone" not in event["user"] and warnings == {"phone.invalid": 1}


def test_the_default_region_decides_a_national_number(dry_send):
    row = {**ROW, "phone": "020 7946 0018"}
    event, _ = one_event(dry_send, [row], default_phone_region="GB")
    assert event["user"]["phone"] == h("+442079460018")


# -- emails with invisible characters ---------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "\ufeffalice@example.com",  # a byte order mark strayed from a file's start
        "alice\u200b@example.com",  # zero-width space
        "ali\u00adce@example.com",  # soft hyphen
        "\u200e alice@example.com",  # a direction mark, then a space
        "alice@example.com\u2060",  # word joiner
    ],
)
def test_invisible_characters_are_removed_from_an_email(dry_send, email):
    event, _ = one_event(dry_send, [{**ROW, "email": email}])
    assert event["user"]["email"] == h("alice@example.com")


@pytest.mark.parametrize(
    "email", ["alice\x00@example.com", "alice@example.com\x07", "a\x85@b.co", "a\ud800@b.co"]
)
def test_a_control_character_makes_an_email_invalid(dry_send, email):
    result, events = dry_send([{**ROW, "email": email}])
    assert events == [] and result.summary["rejected_by_code"] == {"email.invalid": 1}
