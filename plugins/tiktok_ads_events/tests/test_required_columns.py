"""The columns the destination declares it requires, and the host stopping a run
before anything is sent when a file lacks them, instead of rejecting every row."""

from __future__ import annotations

import time

import pytest

from amp_destinations import Host, InputError, SecretStore
from amp_destinations.testing import MemoryKeyring, prepare_row


def test_event_event_id_timestamp_and_email_are_required(make_destination):
    assert make_destination().required_columns() == [
        ("event",),
        ("event_id",),
        ("timestamp",),
        ("email",),
    ]


def test_a_fixed_event_name_makes_the_event_column_optional(make_destination):
    destination = make_destination(fixed_event_name="Purchase")
    assert destination.required_columns() == [("event_id",), ("timestamp",), ("email",)]


@pytest.mark.parametrize("column", ["event", "event_id", "timestamp", "email"])
def test_without_a_required_column_prepare_rejects_every_row(make_destination, column):
    """The declaration is true: each required column missing rejects the row."""
    destination = make_destination()
    destination.start_run(None)
    row = {
        "event": "Purchase",
        "event_id": "e1",
        "timestamp": str(int(time.time())),
        "email": "a@example.com",
    }
    assert not hasattr(prepare_row(destination, row), "code")
    del row[column]
    assert prepare_row(destination, row).code == f"{column}.missing"


@pytest.fixture
def host(tmp_path, tt):
    with Host(tmp_path / "home", secrets=SecretStore(backend=MemoryKeyring(), environ={})) as host:
        host.add_credential(
            "tiktok", "tiktok-offline-events", {}, {"refresh_token": tt.LONG_TERM_TOKEN}
        )
        for name, extra in (("sales", {}), ("signups", {"fixed_event_name": "Lead"})):
            host.add_destination(
                name,
                "tiktok-offline-events",
                "tiktok",
                {"advertiser_id": tt.ADVERTISER_ID, "event_set_id": tt.EVENT_SET_ID, **extra},
                test=False,
            )
        yield host


def test_a_file_without_email_stops_before_anything_is_sent(host, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event,event_id,timestamp,phone\nPurchase,e1,1700000000,+12133734253\n")
    with pytest.raises(InputError) as refused:
        host.send("sales", input=path)
    assert str(refused.value) == (
        f"nothing was sent: {path} lacks email, which destination sales (TikTok Ads Events) needs"
    )
    assert host.runs() == []


def test_a_semicolon_file_names_what_is_missing_and_the_delimiter(host, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event;event_id;timestamp;email\nPurchase;e1;1700000000;a@example.com\n")
    with pytest.raises(
        InputError, match="lacks event, event_id, timestamp, email, .*use delimiter=';'$"
    ):
        host.send("sales", input=path)


def test_a_fixed_event_name_lets_a_file_without_events_through(host, tmp_path):
    path = tmp_path / "signups.csv"
    path.write_text(f"event_id,timestamp,email\ne1,{int(time.time())},a@example.com\n")
    result = host.send("signups", input=path, dry_run=True)
    assert result.status == "succeeded" and result.summary["delivered"] == 1
