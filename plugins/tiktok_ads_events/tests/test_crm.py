"""CRM events (``event_source`` crm): the settings each source takes, the lead every event
carries, custom event names, the request body, the connection test that reads the CRM
event set, and the CRM event sets listed as choices."""

from __future__ import annotations

import httpx
import orjson
import pytest
from marshmallow import ValidationError

from amp_destinations import Choice, Credential, RecordError
from amp_destinations._schemas import json_schema
from tiktok_ads_events import TikTokAdsEvents, TikTokCredentialType, TikTokSettingsSchema
from tiktok_ads_events._constants import CRM_LIST_PATH, TRACK_PATH
from tiktok_ads_events._prepare import FIELDS, EventPreparer

ADVERTISER_ID = "7654321098765432109"
CRM_SET_ID = "7400000000000000042"
NOW = 1_772_000_000.0
CRM = {
    "advertiser_id": ADVERTISER_ID,
    "event_set_id": CRM_SET_ID,
    "event_source": "crm",
    "lead_event_source": "HubSpot",
}
# Distinctive values, so that a leak into a message cannot go unnoticed.
ROW = {
    "event": "Lead",
    "event_id": "evt-0042",
    "timestamp": str(int(NOW) - 3600),
    "email": "Jane.Doe@Example.com",
    "lead_id": "hs-lead-99817",
}


def load(**settings):
    return TikTokSettingsSchema().load({**CRM, **settings})


def refusal(**settings) -> dict:
    with pytest.raises(ValidationError) as refused:
        TikTokSettingsSchema().load({key: value for key, value in settings.items() if value})
    return refused.value.messages


def prepare(changes=None, **settings):
    row = {key: value for key, value in {**ROW, **(changes or {})}.items() if value is not None}
    warnings: list = []
    loaded = load(**settings) if settings.get("event_source", "crm") == "crm" else settings
    result = EventPreparer(loaded, clock=lambda: NOW).prepare(tuple(map(row.get, FIELDS)), warnings)
    return result, [warning.code for warning in warnings]


# -- settings, per source ----------------------------------------------------------------


def test_a_crm_destination_loads_with_its_crm_and_event_set():
    settings = load()
    assert settings["event_source"] == "crm"
    assert settings["lead_event_source"] == "HubSpot"
    assert settings["event_set_id"] == CRM_SET_ID


def test_a_crm_destination_needs_the_name_of_its_crm():
    messages = refusal(**{**CRM, "lead_event_source": None})
    assert set(messages) == {"lead_event_source"}
    assert "required for CRM events" in messages["lead_event_source"][0]
    assert "HubSpot" in messages["lead_event_source"][0]


def test_a_blank_crm_name_counts_as_none():
    messages = refusal(**{**CRM, "lead_event_source": " "})
    assert "required for CRM events" in messages["lead_event_source"][0]


@pytest.mark.parametrize(
    "source, event_set_id", [("offline", "7123456789012345678"), ("web", "C4ABCDEFGH12IJKLMN90")]
)
def test_a_crm_name_is_refused_on_other_sources(source, event_set_id):
    messages = refusal(
        advertiser_id=ADVERTISER_ID,
        event_set_id=event_set_id,
        event_source=source,
        lead_event_source="HubSpot",
    )
    assert messages == {
        "lead_event_source": ["applies to CRM events only; clear it or set event_source to crm."]
    }


def test_a_crm_event_set_id_is_digits():
    messages = refusal(**{**CRM, "event_set_id": "C4ABCDEFGH12IJKLMN90"})
    assert "digits only for CRM events" in messages["event_set_id"][0]
    assert "Events Manager" in messages["event_set_id"][0]


@pytest.mark.parametrize(
    "setting, rule",
    [
        ("limited_data_use", "applies to web events only"),
        ("auto_tracking", "applies to offline event sets only"),
    ],
)
def test_settings_of_other_sources_are_refused_on_crm(setting, rule):
    messages = refusal(**CRM, **{setting: True})
    assert rule in messages[setting][0]


def test_an_unknown_source_names_the_three():
    messages = refusal(**{**CRM, "event_source": "app"})
    assert messages["event_source"] == ["must be offline, web or crm."]


def test_crm_settings_may_name_custom_events_and_offline_ones_may_not():
    custom = {"fixed_event_name": "Qualified lead", "event_name_map": {"won": "Deal won"}}
    settings = load(**custom)
    assert settings["fixed_event_name"] == "Qualified lead"
    assert settings["event_name_map"] == {"won": "Deal won"}
    messages = refusal(advertiser_id=ADVERTISER_ID, event_set_id="7123456789012345678", **custom)
    assert "must be a TikTok standard event name" in messages["fixed_event_name"][0]
    assert "must be a TikTok standard event name" in str(messages["event_name_map"])


def test_a_custom_event_name_has_a_sane_length():
    messages = refusal(**CRM, fixed_event_name="x" * 101)
    assert "at most 100 printable characters" in messages["fixed_event_name"][0]


def test_choices_may_be_listed_before_the_crm_is_named():
    partial = TikTokSettingsSchema().load(
        {"advertiser_id": ADVERTISER_ID, "event_source": "crm"}, partial=True
    )
    assert partial["event_source"] == "crm"


def test_the_json_schema_lists_the_crm_source_and_its_setting():
    properties = json_schema(TikTokSettingsSchema, "settings")["properties"]
    assert properties["event_source"]["enum"] == ["offline", "web", "crm"]
    assert "HubSpot" in properties["lead_event_source"]["description"]
    assert "CRM event set id" in properties["event_set_id"]["description"]


# -- rows ------------------------------------------------------------------------------


def test_a_crm_event_carries_its_lead_and_the_crm_it_comes_from():
    (event_source_id, event), warnings = prepare()
    assert event_source_id == CRM_SET_ID
    assert event["lead"] == {"lead_id": "hs-lead-99817", "lead_event_source": "HubSpot"}
    assert event["event"] == "Lead"
    assert event["event_id"] == "evt-0042"
    assert warnings == []


@pytest.mark.parametrize("lead_id, sent", [(991, "991"), (991.0, "991"), (" hs-1 ", "hs-1")])
def test_a_lead_id_is_sent_as_text(lead_id, sent):
    (_, event), _ = prepare({"lead_id": lead_id})
    assert event["lead"]["lead_id"] == sent


@pytest.mark.parametrize(
    "lead_id, code",
    [
        (None, "lead_id.missing"),
        ("  ", "lead_id.missing"),
        (["hs-lead-99817"], "lead_id.invalid"),
        (True, "lead_id.invalid"),
        (float("nan"), "lead_id.invalid"),
    ],
)
def test_a_crm_row_without_a_usable_lead_id_is_rejected(lead_id, code):
    result, warnings = prepare({"lead_id": lead_id})
    assert isinstance(result, RecordError)
    assert (result.code, result.field) == (code, "lead_id")
    assert "hs-lead" not in result.message
    assert warnings == []


@pytest.mark.parametrize(
    "source, event_set_id", [("offline", "7123456789012345678"), ("web", "C4ABCDEFGH12IJKLMN90")]
)
def test_a_lead_id_elsewhere_is_dropped_with_a_warning(source, event_set_id):
    settings = TikTokSettingsSchema().load(
        {"advertiser_id": ADVERTISER_ID, "event_set_id": event_set_id, "event_source": source}
    )
    (_, event), warnings = prepare(**settings)
    assert "lead" not in event
    assert warnings == ["lead_id.crm_only"]


def test_custom_event_names_are_sent_on_crm():
    (_, event), warnings = prepare({"event": " Qualified lead "})
    assert event["event"] == "Qualified lead"
    assert warnings == []


def test_a_custom_name_that_is_a_standard_one_but_for_case_is_sent_with_a_warning():
    (_, event), warnings = prepare({"event": "complete_payment"})
    assert event["event"] == "complete_payment"
    assert warnings == ["event.custom_looks_standard"]


def test_a_custom_event_name_too_long_is_rejected():
    result, _ = prepare({"event": "x" * 101})
    assert (result.code, result.field) == ("event.invalid", "event")


def test_legacy_names_and_the_map_apply_on_crm():
    (_, event), warnings = prepare({"event": "SubmitForm"})
    assert warnings == ["event.renamed_to_lead"]
    (_, event), warnings = prepare(
        {"event": "Deal WON"}, event_name_map={"deal won": "Closed deal"}
    )
    assert event["event"] == "Closed deal"


def test_a_custom_fixed_event_name_is_used_for_rows_without_one():
    (_, event), _ = prepare({"event": None}, fixed_event_name="Qualified lead")
    assert event["event"] == "Qualified lead"


def test_web_fields_are_dropped_on_crm_with_a_warning():
    (_, event), warnings = prepare(
        {"ip": "198.51.100.23", "page_url": "https://shop.example.com/?ttclid=abc"}
    )
    assert "page" not in event
    assert set(event["user"]) == {"email"}
    assert sorted(warnings) == ["ip.web_only", "page_url.web_only"]
    assert "limited_data_use" not in event


def test_a_per_row_event_set_id_on_crm_is_digits():
    result, _ = prepare({"event_set_id": "C4ABCDEFGH12IJKLMN90"})
    assert (result.code, result.field) == ("event_set_id.invalid", "event_set_id")
    assert "CRM event set" in result.message
    (event_source_id, _), _ = prepare({"event_set_id": "7400000000000000043"})
    assert event_source_id == "7400000000000000043"


def test_a_crm_input_without_a_lead_id_column_is_refused_before_sending():
    destination = TikTokAdsEvents(load())
    assert ("lead_id",) in destination.required_columns()
    offline = TikTokAdsEvents(
        TikTokSettingsSchema().load(
            {"advertiser_id": ADVERTISER_ID, "event_set_id": "7123456789012345678"}
        )
    )
    assert ("lead_id",) not in offline.required_columns()


# -- the request -------------------------------------------------------------------------


def test_the_body_names_the_crm_source_and_set(make_batch, make_credential):
    destination = TikTokAdsEvents(load(), make_credential())
    batch = make_batch(destination, event_source_id=CRM_SET_ID)
    body = orjson.loads(batch.body)
    assert body["event_source"] == "crm"
    assert body["event_source_id"] == CRM_SET_ID


# -- the connection test -------------------------------------------------------------------

CRM_LIST_URL = httpx.URL(
    "https://business-api.tiktok.com" + CRM_LIST_PATH,
    params={"advertiser_id": ADVERTISER_ID, "event_set_ids": f'["{CRM_SET_ID}"]'},
)


@pytest.fixture
def check_crm(tt, httpx_mock, make_credential, session):
    def check(entries, **settings):
        httpx_mock.add_response(
            method="GET", url=CRM_LIST_URL, json=tt.answer(data={"crm_event_sets": entries})
        )
        status = TikTokAdsEvents(load(**settings), make_credential()).test_connection(session)
        assert not any(r.url.path == TRACK_PATH for r in httpx_mock.get_requests())
        return status

    return check


def test_the_connection_test_reads_the_crm_event_set(check_crm):
    status = check_crm(
        [{"event_set_id": CRM_SET_ID, "name": "Lead pipeline"}], event_set_name="Lead pipeline"
    )
    assert status.ok, status.to_dict()
    assert [check.name for check in status.checks] == [
        "api reachable",
        "token accepted",
        "advertiser reachable",
        "event set found",
        "name matches",
    ]
    assert "CRM event set 7400000000000000042 ('Lead pipeline') found" in status.checks[3].message


def test_a_missing_crm_event_set_says_where_its_id_is(check_crm):
    status = check_crm([{"event_set_id": "7400000000000000099", "name": "Other"}])
    failed = status.first_failure
    assert failed.name == "event set found"
    assert f"has no CRM event set {CRM_SET_ID}" in failed.message
    assert "Events Manager" in failed.hint
    assert "CRM event set" in failed.hint


def test_a_crm_event_set_of_another_name_fails_naming_both(check_crm):
    status = check_crm(
        [{"event_set_id": CRM_SET_ID, "name": "Old pipeline"}], event_set_name="Lead pipeline"
    )
    failed = status.first_failure
    assert failed.name == "name matches"
    assert "'Old pipeline'" in failed.message and "'Lead pipeline'" in failed.message


def test_saving_a_crm_destination_changes_nothing_in_tiktok(httpx_mock, make_credential, session):
    destination = TikTokAdsEvents(load(), make_credential())
    assert destination.on_save(session, None) == []
    assert httpx_mock.get_requests() == []


# -- listed choices ----------------------------------------------------------------------


def test_crm_destinations_list_the_advertisers_crm_event_sets(tt, httpx_mock, session):
    httpx_mock.add_response(
        url=httpx.URL(tt.BASE + CRM_LIST_PATH, params={"advertiser_id": ADVERTISER_ID}),
        json=tt.answer(data={"crm_event_sets": [{"event_set_id": CRM_SET_ID, "name": "Leads"}]}),
    )
    credential = Credential(
        tt.CREDENTIAL_NAME,
        TikTokCredentialType(),
        {"refresh_token": tt.LONG_TERM_TOKEN},
        facts={"advertiser_ids": [ADVERTISER_ID], "long_term_token": True},
    )
    listed = TikTokAdsEvents.choices(
        "event_set_id",
        credential,
        {"advertiser_id": ADVERTISER_ID, "event_source": "crm"},
        session,
    )
    assert listed == [Choice(CRM_SET_ID, f"Leads ({CRM_SET_ID})")]
