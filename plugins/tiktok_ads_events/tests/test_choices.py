"""Settings chosen from what the account reaches: advertisers (the authorization's ids,
named by /oauth2/advertiser/get/), offline event sets and pixels of the advertiser
chosen. Read-only; a refusal is one line; the app secret stays out of httpx's log."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from amp_destinations import AmpDestError, Choice, Credential, InvalidFieldsError
from tiktok_ads_events import TikTokAdsEvents, TikTokCredentialType, TikTokSettingsSchema
from tiktok_ads_events._authorization import TikTokAuthorization
from tiktok_ads_events._choices import MAX_PAGES
from tiktok_ads_events._constants import ADVERTISER_GET_PATH, OFFLINE_GET_PATH, PIXEL_LIST_PATH
from tiktok_ads_events.emulator import Emulator, approve

OTHER_ADVERTISER = "7000000000000000009"


@pytest.fixture
def credential(tt):
    def make(*, app=True, facts=None, api_base_url=None):
        values = {
            "refresh_token": tt.LONG_TERM_TOKEN,
            "app_id": tt.APP_ID if app else None,
            "app_secret": tt.APP_SECRET if app else None,
            "api_base_url": api_base_url,
        }
        return Credential(tt.CREDENTIAL_NAME, TikTokCredentialType(), values, facts=facts)

    return make


@pytest.fixture
def choices(session):
    def listed(setting, credential, **settings):
        return TikTokAdsEvents.choices(setting, credential, settings, session)

    return listed


def advertiser_get_url(tt, base=None):
    return httpx.URL(
        (base or tt.BASE) + ADVERTISER_GET_PATH,
        params={"app_id": tt.APP_ID, "secret": tt.APP_SECRET},
    )


def advertisers_answer(tt, *entries):
    listed = [{"advertiser_id": i, "advertiser_name": n} for i, n in entries]
    return tt.answer(data={"list": listed})


def test_the_choosable_settings_are_settings_of_the_schema():
    assert TikTokAdsEvents.choosable == ("advertiser_id", "event_set_id")
    assert set(TikTokAdsEvents.choosable) <= set(TikTokSettingsSchema().fields)


def test_advertisers_are_the_authorizations_ids_named_by_tiktok(
    tt, httpx_mock, credential, choices
):
    httpx_mock.add_response(
        url=advertiser_get_url(tt),
        json=advertisers_answer(tt, (tt.ADVERTISER_ID, "Main brand"), (OTHER_ADVERTISER, "Old")),
    )
    facts = {"advertiser_ids": [tt.ADVERTISER_ID, "7000000000000000007"], "long_term_token": True}
    listed = choices("advertiser_id", credential(facts=facts))
    assert listed == [
        Choice(tt.ADVERTISER_ID, f"Main brand ({tt.ADVERTISER_ID})"),
        Choice("7000000000000000007", "7000000000000000007"),
    ]
    request = httpx_mock.get_request()
    assert request.method == "GET"
    assert request.headers["Access-Token"] == tt.LONG_TERM_TOKEN


def test_without_facts_the_advertisers_are_those_tiktok_lists(tt, httpx_mock, credential, choices):
    httpx_mock.add_response(method="POST", json=tt.answer(40107, "long-term token"))
    httpx_mock.add_response(
        url=advertiser_get_url(tt), json=advertisers_answer(tt, (tt.ADVERTISER_ID, "Main brand"))
    )
    assert choices("advertiser_id", credential()) == [
        Choice(tt.ADVERTISER_ID, f"Main brand ({tt.ADVERTISER_ID})")
    ]


def test_without_app_credentials_the_authorizations_ids_are_listed_unnamed(tt, credential, choices):
    listed = choices("advertiser_id", credential(app=False, facts={"advertiser_ids": ["71", "72"]}))
    assert listed == [Choice("71", "71"), Choice("72", "72")]


def test_without_app_credentials_or_facts_nothing_can_be_listed(tt, credential, choices):
    with pytest.raises(AmpDestError) as caught:
        choices("advertiser_id", credential(app=False))
    assert str(caught.value) == (
        f"credential {tt.CREDENTIAL_NAME} has neither app_id and app_secret to ask TikTok for "
        "its advertisers nor an authorization that named them: authorize it, or give its "
        "app_id and app_secret"
    )


def test_the_app_secret_in_the_query_stays_out_of_httpxs_log(
    tt, httpx_mock, credential, choices, caplog
):
    caplog.set_level(logging.DEBUG)
    httpx_mock.add_response(url=advertiser_get_url(tt), json=advertisers_answer(tt))
    choices("advertiser_id", credential(facts={"advertiser_ids": [], "long_term_token": True}))
    logged = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert logged and ADVERTISER_GET_PATH in logged[0]
    assert all(tt.APP_SECRET not in line for line in logged)
    assert "secret=%5Bredacted%5D" in logged[0]


def test_offline_event_sets_are_those_of_the_advertiser_chosen(tt, httpx_mock, credential, choices):
    sets = [
        {"event_set_id": tt.EVENT_SET_ID, "name": "Store sales"},
        {"event_set_id": "7123456789012345679", "name": ""},
        {"name": "no id"},
    ]
    httpx_mock.add_response(
        url=httpx.URL(tt.BASE + OFFLINE_GET_PATH, params={"advertiser_id": tt.ADVERTISER_ID}),
        json=tt.answer(data={"event_set_list": sets}),
    )
    facts = {"advertiser_ids": [tt.ADVERTISER_ID], "long_term_token": True}
    listed = choices("event_set_id", credential(facts=facts), advertiser_id=tt.ADVERTISER_ID)
    assert listed == [
        Choice(tt.EVENT_SET_ID, f"Store sales ({tt.EVENT_SET_ID})"),
        Choice("7123456789012345679", "7123456789012345679"),
    ]


def test_web_destinations_list_the_advertisers_pixels(tt, httpx_mock, credential, choices):
    httpx_mock.add_response(
        url=httpx.URL(tt.BASE + PIXEL_LIST_PATH, params={"advertiser_id": tt.ADVERTISER_ID}),
        json=tt.answer(data={"pixels": [{"pixel_code": tt.PIXEL_CODE, "pixel_name": "Shop"}]}),
    )
    listed = choices(
        "event_set_id",
        credential(app=False),
        advertiser_id=tt.ADVERTISER_ID,
        event_source="web",
    )
    assert listed == [Choice(tt.PIXEL_CODE, f"Shop ({tt.PIXEL_CODE})")]


def test_every_page_is_read_up_to_a_bound(tt, httpx_mock, credential, choices):
    def page(number, total):
        entry = {"event_set_id": f"71000000000000000{number:02d}", "name": f"Set {number}"}
        info = {"page": number, "page_size": 1, "total_number": total, "total_page": total}
        return tt.answer(data={"event_set_list": [entry], "page_info": info})

    base = tt.BASE + OFFLINE_GET_PATH
    httpx_mock.add_response(
        url=httpx.URL(base, params={"advertiser_id": tt.ADVERTISER_ID}), json=page(1, 3)
    )
    for number in (2, 3):
        params = {"advertiser_id": tt.ADVERTISER_ID, "page": str(number)}
        httpx_mock.add_response(url=httpx.URL(base, params=params), json=page(number, 3))
    listed = choices("event_set_id", credential(app=False), advertiser_id=tt.ADVERTISER_ID)
    assert [choice.label for choice in listed] == [
        "Set 1 (7100000000000000001)",
        "Set 2 (7100000000000000002)",
        "Set 3 (7100000000000000003)",
    ]


def test_a_list_claiming_endless_pages_stops_at_the_bound(tt, httpx_mock, credential, choices):
    info = {"total_page": 10**6}
    httpx_mock.add_response(
        json=tt.answer(data={"event_set_list": [], "page_info": info}), is_reusable=True
    )
    choices("event_set_id", credential(app=False), advertiser_id=tt.ADVERTISER_ID)
    assert len(httpx_mock.get_requests()) == MAX_PAGES


@pytest.mark.parametrize(
    "settings, field, rule",
    [
        ({}, "advertiser_id", "is needed first"),
        ({"advertiser_id": "70000-1"}, "advertiser_id", "must contain digits only"),
        (
            {"advertiser_id": "7", "api_base_url": "http://tiktok.example.com"},
            "api_base_url",
            "must be an https:// URL",
        ),
    ],
)
def test_event_sets_need_a_valid_advertiser_and_a_safe_address_first(
    credential, choices, settings, field, rule
):
    # No request is made: pytest-httpx fails the test on any unexpected one.
    with pytest.raises(InvalidFieldsError) as caught:
        choices("event_set_id", credential(app=False), **settings)
    assert caught.value.errors.keys() == {field}
    assert caught.value.errors[field][0].startswith(rule)


def test_the_address_is_the_settings_then_the_credentials(tt, httpx_mock, credential, choices):
    emulator = "http://127.0.0.1:8765"
    httpx_mock.add_response(url=advertiser_get_url(tt, emulator), json=advertisers_answer(tt))
    facts = {"advertiser_ids": [], "long_term_token": True}
    choices("advertiser_id", credential(facts=facts, api_base_url=emulator))
    other = "http://127.0.0.1:9876"
    httpx_mock.add_response(url=advertiser_get_url(tt, other), json=advertisers_answer(tt))
    choices("advertiser_id", credential(facts=facts, api_base_url=emulator), api_base_url=other)


def test_a_refused_token_is_one_line_naming_the_credential(tt, httpx_mock, credential, choices):
    echo = f"Access token {tt.LONG_TERM_TOKEN} is invalid or has been revoked."
    httpx_mock.add_response(json=tt.answer(40105, echo, request_id="R9"))
    with pytest.raises(AmpDestError) as caught:
        choices("advertiser_id", credential(facts={"advertiser_ids": [], "long_term_token": True}))
    message = str(caught.value)
    assert message.startswith(f"TikTok refused the token of credential {tt.CREDENTIAL_NAME}: ")
    assert "\n" not in message
    assert tt.LONG_TERM_TOKEN not in message and tt.APP_SECRET not in message


def test_an_unreachable_api_is_one_line(tt, httpx_mock, credential, choices):
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    with pytest.raises(AmpDestError, match="^could not reach https://business-api.tiktok.com"):
        choices("event_set_id", credential(app=False), advertiser_id=tt.ADVERTISER_ID)


def test_other_settings_and_a_missing_credential_are_refused(credential, choices):
    with pytest.raises(AmpDestError, match="TikTok lists no choices for event_source"):
        choices("event_source", credential())
    with pytest.raises(AmpDestError, match="needs a credential"):
        choices("advertiser_id", None)


def test_choices_from_an_authorization_against_the_emulator():
    with Emulator() as emulator, httpx.Client() as session:
        values = {
            "app_id": "7200000000000000001",
            "app_secret": "emulator-secret",
            "api_base_url": emulator.base_url,
        }
        flow = TikTokAuthorization()
        redirect = "http://127.0.0.1:53117/callback"
        redirected = approve(flow.authorization_url(values, redirect, "s"))
        code = parse_qs(urlsplit(redirected).query)["auth_code"][0]
        authorization = flow.exchange(code, values, redirect, session)
        credential = Credential(
            "authorized",
            TikTokCredentialType(),
            {**values, **authorization.secrets},
            facts=authorization.facts,
        )
        advertisers = TikTokAdsEvents.choices("advertiser_id", credential, {}, session)
        event_sets = TikTokAdsEvents.choices(
            "event_set_id", credential, {"advertiser_id": "7000000000000000002"}, session
        )
    assert advertisers == [
        Choice("7000000000000000001", "Emulator advertiser (7000000000000000001)"),
        Choice("7000000000000000002", "Emulator second brand (7000000000000000002)"),
    ]
    assert event_sets == [Choice("7100000000000000002", "Call centre (7100000000000000002)")]
