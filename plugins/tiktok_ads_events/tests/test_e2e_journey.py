"""The operator's journey through the ``amp-dest`` CLI against the local TikTok emulator:
plugins list, credentials add, destinations add (tested and auto tracking applied on
save), destinations test, send the shipped example file, read the run back. Then the
events TikTok received are checked one by one against hashes computed here.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from tiktok_ads_events.emulator import Emulator

pytestmark = pytest.mark.e2e

CREDENTIAL = "tiktok-prod"
DESTINATION = "store-sales"
TOKEN_ENV = "AMP_DEST_SECRET_TIKTOK_PROD_REFRESH_TOKEN"


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def journey(emulator, tmp_path_factory):
    """Run the whole journey once; the tests below read what each step left behind."""
    home = tmp_path_factory.mktemp("journey-home")
    env = e2e.cli_env(home, **{TOKEN_ENV: e2e.LONG_TERM_TOKEN})
    events_csv = e2e.write_refreshed_events(tmp_path_factory.mktemp("input") / "events.csv")
    tracking_before = emulator.state.event_set(e2e.EVENT_SET_ID).auto_tracking

    steps = SimpleNamespace(
        home=home, env=env, events_csv=events_csv, tracking_before=tracking_before
    )
    steps.plugins = e2e.amp_dest(env, "plugins", "list")
    steps.plugins_json = e2e.amp_dest(env, "plugins", "list", "--json")
    steps.credential = e2e.amp_dest(
        env, "credentials", "add", CREDENTIAL, "--type", e2e.DESTINATION_TYPE
    )
    steps.add = e2e.amp_dest(
        env,
        "destinations",
        "add",
        DESTINATION,
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        CREDENTIAL,
        "--set",
        f"advertiser_id={e2e.ADVERTISER_ID}",
        "--set",
        f"event_set_id={e2e.EVENT_SET_ID}",
        "--set",
        f"event_set_name={e2e.EVENT_SET_NAME}",
        "--set",
        "auto_tracking=true",
        "--set",
        f"api_base_url={emulator.base_url}",
    )
    steps.tracking_after = emulator.state.event_set(e2e.EVENT_SET_ID).auto_tracking
    steps.test = e2e.amp_dest(env, "destinations", "test", DESTINATION)
    steps.send = e2e.amp_dest(env, "send", DESTINATION, "--input", str(events_csv))
    steps.runs_list = e2e.amp_dest(env, "runs", "list", "--json")
    runs = json.loads(steps.runs_list.stdout) if steps.runs_list.returncode == 0 else []
    steps.run_id = runs[0]["id"] if runs else None
    steps.runs_show = e2e.amp_dest(env, "runs", "show", str(steps.run_id), "--json")
    steps.rows = e2e.read_rows(events_csv)
    return steps


def _ok(completed) -> None:
    assert completed.returncode == 0, completed.stderr


def test_plugins_list_shows_the_tiktok_plugin_with_its_version(journey):
    version = importlib.metadata.version("amp-destinations-tiktok-ads-events")
    _ok(journey.plugins)
    assert f"amp-destinations-tiktok-ads-events {version}" in journey.plugins.stdout
    assert "FAILED TO LOAD" not in journey.plugins.stdout
    tiktok = [
        p
        for p in json.loads(journey.plugins_json.stdout)
        if p["distribution"] == "amp-destinations-tiktok-ads-events"
    ]
    assert len(tiktok) == 1
    assert tiktok[0]["version"] == version
    assert tiktok[0]["error"] is None
    assert tiktok[0]["registered"]["destinations"] == [e2e.DESTINATION_TYPE]
    assert tiktok[0]["registered"]["credential_types"] == [e2e.DESTINATION_TYPE]


def test_credential_takes_its_secret_from_the_environment(journey):
    _ok(journey.credential)
    assert "refresh_token: set (environment)" in journey.credential.stdout
    assert e2e.LONG_TERM_TOKEN not in journey.credential.stdout + journey.credential.stderr


def test_destination_is_tested_and_auto_tracking_applied_on_save(journey):
    _ok(journey.add)
    assert f"connection test passed for {DESTINATION}" in journey.add.stdout
    assert "[FAIL]" not in journey.add.stdout
    applied = f"applied: auto tracking turned on for event set {e2e.EVENT_SET_ID}"
    assert applied in journey.add.stdout
    assert journey.tracking_before is False
    assert journey.tracking_after is True


def test_destination_test_passes(journey):
    _ok(journey.test)
    assert f"connection test for {DESTINATION}: passed" in journey.test.stdout
    assert "auto tracking is on, as set" in journey.test.stdout


def test_send_prints_the_summary(journey):
    _ok(journey.send)
    assert (
        f"run {journey.run_id} succeeded: 1,200 rows read, 1,156 delivered, 44 rejected, 0 pending"
    ) in journey.send.stdout
    # The example file uses TikTok's legacy names CompletePayment and PlaceAnOrder: each
    # sent row with one is warned about, naming the event to use instead.
    sent = Counter(row["event"] for row in e2e.valid_rows(journey.rows).values())
    assert sent["CompletePayment"] > 0 and sent["PlaceAnOrder"] > 0
    assert (
        f"warnings: event.renamed_to_purchase {sent['CompletePayment']}, "
        f"event.retiring_use_purchase {sent['PlaceAnOrder']}, phone.invalid 4"
    ) in journey.send.stdout
    assert journey.send.stderr == ""


def test_the_emulator_stored_exactly_the_valid_rows(journey, emulator):
    valid = e2e.valid_rows(journey.rows)
    assert len(valid) == e2e.SHIPPED_ROWS - 44
    e2e.assert_stored_once(emulator, set(valid))
    assert emulator.state.duplicates == 0


def test_each_event_carries_the_row_hashed_and_typed(journey, emulator):
    valid = e2e.valid_rows(journey.rows)
    for event in emulator.state.events(e2e.EVENT_SET_ID):
        row = valid[event["event_id"]]
        assert event["event"] == row["event"]
        assert type(event["event_time"]) is int
        assert event["event_time"] == e2e.expected_event_time(row["timestamp"])
        assert event["user"] == e2e.expected_user(row)
        props = event["properties"]
        assert props["currency"] == row["currency"]
        assert props["value"] == pytest.approx(e2e.expected_value(row))
        assert props["contents"] == [
            {
                "content_id": row["content_id"],
                "content_name": row["content_name"],
                "price": pytest.approx(float(row["price"])),
                "quantity": int(row["quantity"]),
            }
        ]
        assert type(props["contents"][0]["quantity"]) is int
        assert (props["order_id"], props["shop_id"], props["event_channel"]) == (
            row["order_id"],
            row["shop_id"],
            row["event_channel"],
        )


def test_e164_phones_are_sent_as_their_hash(journey, emulator):
    valid = e2e.valid_rows(journey.rows)
    e164 = {event_id: row for event_id, row in valid.items() if row["phone"].startswith("+")}
    assert len(e164) > 500
    phones = {
        event["event_id"]: event["user"].get("phone")
        for event in emulator.state.events(e2e.EVENT_SET_ID)
    }
    for event_id, row in e164.items():
        assert phones[event_id] == e2e.sha256_hex(row["phone"])


def test_rejects_file_lists_exactly_the_bad_rows_without_raw_pii(journey):
    run = json.loads(journey.runs_show.stdout)
    rejects_path = Path(run["rejects_path"])
    text = rejects_path.read_text(encoding="utf-8")
    rejects = list(csv.DictReader(text.splitlines()))
    found = {int(r["row"]): r["code"] for r in rejects}
    assert found == e2e.make_events.expected_rejects(e2e.SHIPPED_ROWS)
    assert len(rejects) == len(found)
    for reject in rejects:
        assert reject["record_id"] == journey.rows[int(reject["row"]) - 1]["event_id"]
        assert reject["message"]
    raw_values = {
        row[column]
        for row in journey.rows
        for column in ("email", "phone", "external_id")
        if len(row[column]) > 3
    }
    assert not [value for value in raw_values if value in text]


def test_runs_list_and_show_agree_and_counts_add_up(journey):
    _ok(journey.runs_list)
    _ok(journey.runs_show)
    listed = json.loads(journey.runs_list.stdout)
    shown = json.loads(journey.runs_show.stdout)
    assert len(listed) == 1
    attempts = shown.pop("attempts")
    assert shown.pop("already_sent_rows") == []  # runs show lists them, runs list counts them
    assert listed[0] == shown
    assert [(a["attempt"], a["status"], a["delivered"]) for a in attempts] == [
        (1, "succeeded", 1156)
    ]
    assert shown["status"] == "succeeded"
    assert shown["destination"] == DESTINATION
    counts = {key: shown[key] for key in ("rows_read", "delivered", "rejected", "pending")}
    assert counts == {"rows_read": 1200, "delivered": 1156, "rejected": 44, "pending": 0}
    e2e.assert_counts_add_up(counts)
    e2e.assert_counts_add_up(shown["summary"])
    assert shown["summary"]["rejected_by_code"] == dict(
        Counter(e2e.make_events.expected_rejects(e2e.SHIPPED_ROWS).values())
    )


def test_failing_connection_test_blocks_the_save(journey, emulator):
    added = e2e.amp_dest(
        journey.env,
        "destinations",
        "add",
        "wrong-advertiser",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        CREDENTIAL,
        "--set",
        "advertiser_id=7000000000000000999",
        "--set",
        f"event_set_id={e2e.EVENT_SET_ID}",
        "--set",
        f"api_base_url={emulator.base_url}",
    )
    assert added.returncode == 1
    lines = added.stderr.splitlines()
    assert len(lines) == 1, added.stderr
    assert lines[0].startswith("amp-dest: error: connection test failed at 'advertiser reachable'")
    assert "nothing was saved" in lines[0]
    assert "Traceback" not in added.stderr
    listed = json.loads(e2e.amp_dest(journey.env, "destinations", "list", "--json").stdout)
    assert [d["name"] for d in listed] == [DESTINATION]


def test_wrong_token_gives_the_reauthorize_hint(journey, emulator):
    env = {**journey.env, "AMP_DEST_SECRET_TIKTOK_STALE_REFRESH_TOKEN": "revoked-long-ago"}
    _ok(e2e.amp_dest(env, "credentials", "add", "tiktok-stale", "--type", e2e.DESTINATION_TYPE))
    added = e2e.amp_dest(
        env,
        "destinations",
        "add",
        "stale",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        "tiktok-stale",
        "--set",
        f"advertiser_id={e2e.ADVERTISER_ID}",
        "--set",
        f"event_set_id={e2e.EVENT_SET_ID}",
        "--set",
        f"api_base_url={emulator.base_url}",
    )
    assert added.returncode == 1
    lines = added.stderr.splitlines()
    assert len(lines) == 1, added.stderr
    assert "connection test failed at 'token accepted'" in lines[0]
    assert "re-authorize credential tiktok-stale in TikTok" in lines[0]
    assert "`amp-dest credentials reauthorize tiktok-stale`" in lines[0]
    assert "revoked-long-ago" not in added.stderr + added.stdout
