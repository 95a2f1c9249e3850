"""Event-name churn: TikTok's renamed and retiring events, and the destination's map
from input event names to TikTok's."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from marshmallow import ValidationError

from amp_destinations.testing import prepare_row
from tiktok_ads_events import TikTokSettingsSchema

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

NOW = int(time.time()) - 60
ROW = {"event_id": "evt-1", "timestamp": NOW, "email": "alice@example.com"}


def rows(*events: str) -> list[dict]:
    return [{**ROW, "event_id": f"evt-{n}", "event": event} for n, event in enumerate(events)]


@pytest.mark.parametrize(
    "legacy, code, replacement",
    [
        ("CompletePayment", "event.renamed_to_purchase", "Purchase"),
        ("SubmitForm", "event.renamed_to_lead", "Lead"),
        ("PlaceAnOrder", "event.retiring_use_purchase", "Purchase"),
        ("ClickButton", "event.retiring_use_lead", "Lead"),
    ],
)
def test_a_legacy_name_is_sent_with_a_warning_naming_its_replacement(
    dry_send, legacy, code, replacement
):
    result, events = dry_send(rows(legacy, legacy, replacement))
    # Sent as given: TikTok still takes it (and converts the renamed ones itself).
    assert [event["event"] for event in events] == [legacy, legacy, replacement]
    assert result.summary["warnings_by_code"] == {code: 2}


def test_the_warning_message_names_the_replacement(make_destination):
    destination = make_destination()
    warnings: list = []
    prepare_row(destination, {**ROW, "event": "SubmitForm"}, warnings)
    (warning,) = warnings
    assert warning.field == "event" and "Lead" in warning.message


def test_a_fixed_legacy_event_name_is_warned_about_too(dry_send):
    result, events = dry_send([dict(ROW)], fixed_event_name="CompletePayment")
    assert events[0]["event"] == "CompletePayment"
    assert result.summary["warnings_by_code"] == {"event.renamed_to_purchase": 1}


def test_the_map_turns_input_names_into_tiktok_names(dry_send):
    names = {"order completed": "Purchase", "Newsletter Signup": "Subscribe"}
    result, events = dry_send(
        rows("order completed", "ORDER COMPLETED", " Order Completed ", "newsletter signup"),
        event_name_map=names,
    )
    assert [event["event"] for event in events] == ["Purchase"] * 3 + ["Subscribe"]
    assert result.summary["rejected"] == 0 and result.summary["warnings_by_code"] == {}


def test_the_map_applies_before_the_name_is_checked(dry_send):
    # Legacy and lower-case names can be mapped away; unmapped ones are checked as before.
    names = {"CompletePayment": "Purchase", "purchase": "Purchase"}
    result, events = dry_send(
        rows("CompletePayment", "purchase", "Lead", "checkout"), event_name_map=names
    )
    assert [event["event"] for event in events] == ["Purchase", "Purchase", "Lead"]
    assert result.summary["rejected_by_code"] == {"event.unknown": 1}
    assert result.summary["warnings_by_code"] == {}


def test_an_unknown_name_points_at_the_map(make_destination):
    result = prepare_row(make_destination(), {**ROW, "event": "order completed"})
    assert result.code == "event.unknown" and "event_name_map" in result.message


def test_a_map_to_a_legacy_name_still_warns(dry_send):
    result, _ = dry_send(rows("sale"), event_name_map={"sale": "PlaceAnOrder"})
    assert result.summary["warnings_by_code"] == {"event.retiring_use_purchase": 1}


# -- the setting ------------------------------------------------------------------------


def load(**settings):
    return TikTokSettingsSchema().load(
        {"advertiser_id": "7654321098765432109", "event_set_id": "7123456789012345678", **settings}
    )


def test_the_map_defaults_to_empty():
    assert load()["event_name_map"] == {}


@pytest.mark.parametrize(
    "names, rule",
    [
        ({"sale": "purchase"}, "did you mean Purchase?"),
        ({"sale": "Checkout"}, "must be a TikTok standard event name"),
        ({"  ": "Purchase"}, "has an empty key"),
        ({"Sale": "Purchase", "sale ": "Lead"}, "twice, to different names"),
        ({"sale": 3}, "Not a valid string"),
    ],
)
def test_a_map_that_cannot_be_applied_is_refused_on_save(names, rule):
    with pytest.raises(ValidationError) as refused:
        load(event_name_map=names)
    assert rule in str(refused.value.messages["event_name_map"])


def test_keys_equal_but_for_case_may_agree():
    names = {"Sale": "Purchase", "sale": "Purchase"}
    assert load(event_name_map=names)["event_name_map"] == names


def test_the_cli_takes_the_map_and_the_id_columns_as_json(tmp_path, tt):
    env = e2e.cli_env(tmp_path, AMP_DEST_SECRET_TIKTOK_REFRESH_TOKEN=tt.LONG_TERM_TOKEN)
    added = e2e.amp_dest(env, "credentials", "add", "tiktok", "--type", e2e.DESTINATION_TYPE)
    assert added.returncode == 0, added.stderr
    added = e2e.amp_dest(
        env,
        "destinations",
        "add",
        "store",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        "tiktok",
        "--no-test",
        "--set",
        f"advertiser_id={tt.ADVERTISER_ID}",
        "--set",
        f"event_set_id={tt.EVENT_SET_ID}",
        "--set",
        'event_name_map={"order completed": "Purchase"}',
        "--set",
        'event_id_columns=["order_id", "shop_id"]',
    )
    assert added.returncode == 0, added.stderr
    shown = e2e.amp_dest(env, "destinations", "show", "store", "--json")
    settings = json.loads(shown.stdout)["settings"]
    assert settings["event_name_map"] == {"order completed": "Purchase"}
    assert settings["event_id_columns"] == ["order_id", "shop_id"]
    refused = e2e.amp_dest(
        env, "destinations", "update", "store", "--set", 'event_name_map={"sale": "purchase"}'
    )
    assert refused.returncode != 0 and "did you mean Purchase?" in refused.stderr
