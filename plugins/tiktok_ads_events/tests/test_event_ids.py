"""Event ids derived from other columns when a row has none (the event_id_columns
setting), computed here the way REASON_CODES.md documents it, so that an operator can
reproduce them."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import pytest
from marshmallow import ValidationError

from amp_destinations import InputError

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from tiktok_ads_events.emulator import Emulator

NOW = int(time.time()) - 60
ROW = {"event": "Purchase", "timestamp": NOW, "email": "alice@example.com"}


def documented_id(*texts: str) -> str:
    """REASON_CODES.md: each value's text, joined by U+001F, UTF-8, SHA-256, hex."""
    return sha256("\x1f".join(texts).encode("utf-8")).hexdigest()


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_row_without_event_id_gets_one_derived_from_the_named_columns(dry_send):
    rows = [
        {**ROW, "order_id": "ORD-1", "shop_id": "store-9"},
        {**ROW, "order_id": " ORD-2 ", "shop_id": "store-9", "event_id": ""},
        {**ROW, "order_id": "ORD-3", "shop_id": "store-9", "event_id": "given-3"},
    ]
    result, events = dry_send(rows, event_id_columns=["order_id", "shop_id"])
    assert result.summary["delivered"] == 3
    assert [event["event_id"] for event in events] == [
        documented_id("ORD-1", "store-9"),
        documented_id("ORD-2", "store-9"),  # trimmed, as every text field is
        "given-3",  # a row's own event_id wins
    ]


def test_the_same_file_gives_the_same_ids_every_time(dry_send, tmp_path):
    path = write_csv(
        tmp_path / "events.csv",
        "event,timestamp,email,order_id\n"
        f"Purchase,{NOW},a@example.com,ORD-1\nPurchase,{NOW},b@example.com,ORD-2\n",
    )
    first = [event["event_id"] for event in dry_send(path, event_id_columns=["order_id"])[1]]
    again = [event["event_id"] for event in dry_send(path, event_id_columns=["order_id"])[1]]
    assert first == again == [documented_id("ORD-1"), documented_id("ORD-2")]
    assert len(set(first)) == 2


def test_any_column_of_the_input_may_be_named(dry_send):
    # Not a column TikTok knows: the destination reads it only to derive ids.
    rows = [{**ROW, "transaction_ref": "T-77"}]
    _, events = dry_send(rows, event_id_columns=["transaction_ref", "timestamp"])
    assert events[0]["event_id"] == documented_id("T-77", str(NOW))


def test_a_missing_value_counts_as_empty_text(dry_send):
    rows = [{**ROW, "order_id": "ORD-1", "shop_id": None}]
    _, events = dry_send(rows, event_id_columns=["shop_id", "order_id"])
    assert events[0]["event_id"] == documented_id("", "ORD-1")


def test_native_values_are_joined_as_their_text(dry_send):
    at = datetime.fromtimestamp(NOW, UTC)
    rows = [{**ROW, "timestamp": at, "order_id": 991, "value": 12.5, "currency": "USD"}]
    _, events = dry_send(rows, event_id_columns=["order_id", "timestamp", "value"])
    assert events[0]["event_id"] == documented_id("991", at.isoformat(), "12.5")


def test_a_row_with_none_of_the_values_is_still_rejected(dry_send):
    rows = [{**ROW, "order_id": "ORD-1"}, {**ROW, "order_id": " ", "shop_id": ""}]
    result, events = dry_send(rows, event_id_columns=["order_id", "shop_id"])
    assert len(events) == 1 and result.summary["rejected_by_code"] == {"event_id.missing": 1}


def test_a_value_without_a_text_form_rejects_the_row(dry_send):
    result, _ = dry_send([{**ROW, "order_id": ["a", "b"]}], event_id_columns=["order_id"])
    assert result.summary["rejected_by_code"] == {"event_id.invalid": 1}


def test_without_the_setting_a_row_without_event_id_is_rejected(dry_send):
    rows = [{**ROW, "event_id": "e1"}, {**ROW, "event_id": "", "order_id": "ORD-1"}]
    result, events = dry_send(rows)
    assert len(events) == 1 and result.summary["rejected_by_code"] == {"event_id.missing": 1}


def test_a_file_needs_event_id_or_every_column_it_is_derived_from(dry_send, tmp_path):
    path = write_csv(
        tmp_path / "events.csv", f"event,timestamp,email,order_id\nPurchase,{NOW},a@b.co,O-1\n"
    )
    assert dry_send(path, event_id_columns=["order_id"])[0].summary["delivered"] == 1
    with pytest.raises(InputError, match="lacks one of event_id or shop_id"):
        dry_send(path, event_id_columns=["order_id", "shop_id"])


def test_required_columns_name_the_alternatives(make_destination):
    destination = make_destination(event_id_columns=["order_id", "shop_id"])
    assert destination.required_columns() == [
        ("event",),
        ("event_id", "order_id"),
        ("event_id", "shop_id"),
        ("timestamp",),
        ("email",),
    ]


@pytest.mark.parametrize(
    "columns, rule",
    [
        ([], "at least one column"),
        (["order_id", "order_id"], "names a column twice"),
        (["event_id"], "must not name event_id"),
    ],
)
def test_the_setting_is_checked_on_save(make_settings, columns, rule):
    with pytest.raises(ValidationError) as refused:
        make_settings(event_id_columns=columns)
    assert rule in str(refused.value.messages["event_id_columns"])


# -- against the emulator ---------------------------------------------------------------


@pytest.mark.e2e
def test_tiktok_deduplicates_a_file_sent_twice(tmp_path):
    path = write_csv(
        tmp_path / "events.csv",
        "event,timestamp,email,order_id\n"
        + "".join(f"Purchase,{NOW},c{n}@example.com,ORD-{n}\n" for n in range(50)),
    )
    with Emulator() as emulator, e2e.new_host(tmp_path / "home") as host:
        name = e2e.add_tiktok(host, emulator.base_url)
        host.update_destination(name, {"event_id_columns": ["order_id"]}, test=False)
        assert host.send(name, input=path).summary["delivered"] == 50
        # The same ids on the second run: the host's index skips every event, and when
        # resent anyway, TikTok drops them as repeats.
        assert host.send(name, input=path).summary["already_sent"] == 50
        assert host.send(name, input=path, resend=True).summary["delivered"] == 50
        ids = {documented_id(f"ORD-{n}") for n in range(50)}
        e2e.assert_stored_once(emulator, ids)
        assert emulator.state.duplicates == 50
