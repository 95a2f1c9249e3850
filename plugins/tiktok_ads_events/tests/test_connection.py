"""The connection test: read-only, one named check per step, the first failure last,
and a hint that says where to look in TikTok."""

from __future__ import annotations

import httpx
import pytest

from amp_destinations import Credential, FailureType
from tiktok_ads_events import TikTokCredentialType
from tiktok_ads_events._constants import RATE_LIMITED, SERVER_ERROR, TOKEN_INVALID, TRACK_PATH

OFFLINE_CHECKS = [
    "api reachable",
    "token accepted",
    "advertiser reachable",
    "event set found",
    "auto tracking state",
]


def event_set(tt, event_set_id=None, name="Store purchases", auto_tracking=False):
    return {
        "event_set_id": event_set_id or tt.EVENT_SET_ID,
        "name": name,
        "advertiser_id": tt.ADVERTISER_ID,
        "auto_tracking": auto_tracking,
    }


def pixel(tt, code=None, name="Website pixel"):
    return {
        "pixel_id": "7300000000000000001",
        "pixel_code": code or tt.PIXEL_CODE,
        "pixel_name": name,
    }


@pytest.fixture
def check_offline(tt, httpx_mock, make_destination, session):
    """Test the connection of an offline destination against one offline/get answer."""

    def check(*, settings=None, app=False, **response):
        httpx_mock.add_response(method="GET", url=tt.OFFLINE_GET_URL, **response)
        status = make_destination(app=app, **(settings or {})).test_connection(session)
        assert not any(r.url.path == TRACK_PATH for r in httpx_mock.get_requests())
        return status

    return check


def names(status):
    return [check.name for check in status.checks]


def test_an_offline_event_set_that_exists_passes_every_check(tt, httpx_mock, check_offline):
    status = check_offline(json=tt.answer(0, "OK", {"event_set_list": [event_set(tt)]}))
    assert status.ok, status.to_dict()
    assert names(status) == OFFLINE_CHECKS
    request = httpx_mock.get_request()
    assert request.method == "GET"
    assert request.url.path == "/open_api/v1.3/offline/get/"
    assert dict(request.url.params) == {
        "advertiser_id": tt.ADVERTISER_ID,
        "event_set_ids": f'["{tt.EVENT_SET_ID}"]',
    }
    assert request.headers["Access-Token"] == tt.LONG_TERM_TOKEN
    assert "Store purchases" in status.checks[3].message


def test_an_event_set_id_answered_as_a_number_is_found(tt, check_offline):
    entry = event_set(tt, event_set_id=int(tt.EVENT_SET_ID))
    assert check_offline(json=tt.answer(0, "OK", {"event_set_list": [entry]})).ok


def test_a_missing_event_set_fails_with_where_to_find_the_id(tt, check_offline):
    other = event_set(tt, event_set_id="7999999999999999999")
    status = check_offline(json=tt.answer(0, "OK", {"event_set_list": [other]}))
    assert names(status) == OFFLINE_CHECKS[:4]
    failed = status.first_failure
    assert (failed.name, failed.failure) == ("event set found", FailureType.CONFIG)
    assert tt.EVENT_SET_ID in failed.message and tt.ADVERTISER_ID in failed.message
    assert "Assets > Events > Offline > Manage" in failed.hint


def test_an_empty_answer_means_no_event_set(tt, check_offline):
    status = check_offline(json=tt.answer(0, "OK", {}))
    assert status.first_failure.name == "event set found"


def test_an_unreadable_event_set_list_is_a_system_failure(tt, check_offline):
    status = check_offline(json=tt.answer(0, "OK", {"event_set_list": "oops"}))
    assert (status.first_failure.name, status.failure) == ("event set found", FailureType.SYSTEM)


def test_a_matching_name_passes(tt, check_offline):
    status = check_offline(
        settings={"event_set_name": "Store purchases"},
        json=tt.answer(0, "OK", {"event_set_list": [event_set(tt)]}),
    )
    assert status.ok
    assert names(status) == OFFLINE_CHECKS[:4] + ["name matches", "auto tracking state"]


def test_a_different_name_fails_naming_both(tt, check_offline):
    status = check_offline(
        settings={"event_set_name": "Web purchases"},
        json=tt.answer(0, "OK", {"event_set_list": [event_set(tt)]}),
    )
    failed = status.first_failure
    assert (failed.name, failed.failure) == ("name matches", FailureType.CONFIG)
    assert "'Store purchases'" in failed.message and "'Web purchases'" in failed.message
    assert "event_set_name" in failed.hint
    assert names(status)[-1] == "name matches"


@pytest.mark.parametrize("tiktok, wanted", [(True, True), (False, False)])
def test_auto_tracking_that_matches_is_reported(tt, check_offline, tiktok, wanted):
    status = check_offline(
        settings={"auto_tracking": wanted},
        json=tt.answer(0, "OK", {"event_set_list": [event_set(tt, auto_tracking=tiktok)]}),
    )
    check = status.checks[-1]
    assert check.ok and "as set" in check.message


def test_an_auto_tracking_mismatch_is_reported_but_saving_will_fix_it(tt, check_offline):
    status = check_offline(
        settings={"auto_tracking": True},
        json=tt.answer(0, "OK", {"event_set_list": [event_set(tt, auto_tracking=False)]}),
    )
    assert status.ok
    check = status.checks[-1]
    assert check.name == "auto tracking state"
    assert "off on the event set in TikTok but on in the settings" in check.message
    assert "saving the destination turns it on" in check.message


# -- web ------------------------------------------------------------------------------


def test_a_web_pixel_that_exists_passes(tt, httpx_mock, make_destination, session):
    httpx_mock.add_response(
        method="GET", url=tt.PIXEL_LIST_URL, json=tt.answer(0, "OK", {"pixels": [pixel(tt)]})
    )
    destination = make_destination(event_source="web", event_set_name="Website pixel")
    status = destination.test_connection(session)
    assert status.ok, status.to_dict()
    assert names(status) == [
        "api reachable",
        "token accepted",
        "advertiser reachable",
        "pixel found",
        "name matches",
    ]
    request = httpx_mock.get_request()
    assert request.url.path == "/open_api/v1.3/pixel/list/"
    assert dict(request.url.params) == {"advertiser_id": tt.ADVERTISER_ID, "code": tt.PIXEL_CODE}


def test_a_missing_pixel_fails_with_where_to_find_the_code(
    tt, httpx_mock, make_destination, session
):
    httpx_mock.add_response(url=tt.PIXEL_LIST_URL, json=tt.answer(0, "OK", {"pixels": []}))
    status = make_destination(event_source="web").test_connection(session)
    failed = status.first_failure
    assert (failed.name, failed.failure) == ("pixel found", FailureType.CONFIG)
    assert "pixel code" in failed.hint


def test_a_web_pixel_with_another_name_fails(tt, httpx_mock, make_destination, session):
    httpx_mock.add_response(
        url=tt.PIXEL_LIST_URL, json=tt.answer(0, "OK", {"pixels": [pixel(tt, name="Old")]})
    )
    status = make_destination(event_source="web", event_set_name="New").test_connection(session)
    assert status.first_failure.name == "name matches"


# -- every answer of the table ----------------------------------------------------------

ROLE = "Ad Account Operator or Admin role on this ad account (Analyst cannot send)"

TABLE = [
    *[
        (code, "token accepted", FailureType.AUTH, "re-authorize credential prod-tiktok")
        for code in sorted(TOKEN_INVALID) + [40107]
    ],
    (40001, "advertiser reachable", FailureType.AUTH, ROLE),
    (40106, "advertiser reachable", FailureType.AUTH, ROLE),
    (40300, "advertiser reachable", FailureType.CONFIG, "check advertiser_id"),
    (40301, "advertiser reachable", FailureType.CONFIG, "check advertiser_id"),
    *[
        (code, "api reachable", FailureType.TRANSIENT, "try again")
        for code in sorted(RATE_LIMITED) + [40202] + sorted(SERVER_ERROR) + [50001]
    ],
    (40050, "api reachable", FailureType.SYSTEM, "request id"),
    (20001, "api reachable", FailureType.SYSTEM, "request id"),
    (41234, "api reachable", FailureType.SYSTEM, "request id"),
]


@pytest.mark.parametrize("code, check, failure, hint", TABLE)
def test_each_answer_code_fails_the_right_check(tt, check_offline, code, check, failure, hint):
    status = check_offline(json=tt.answer(code, "TikTok says no"))
    failed = status.first_failure
    assert (failed.name, failed.failure) == (check, failure)
    assert hint in failed.hint
    assert f": TikTok says no (code {code}, request id " in failed.message
    assert failed.message.count("(") == 1, failed.message  # nothing nests in the host's words
    # the checks before the failed one passed; the ones after it are left out
    assert names(status) == OFFLINE_CHECKS[: OFFLINE_CHECKS.index(check) + 1]
    assert all(c.ok for c in status.checks[:-1])


@pytest.mark.parametrize(
    "message, check, hint",
    [
        ("event_set_ids: invalid id", "event set found", "Assets > Events > Offline > Manage"),
        ("advertiser_id: invalid", "advertiser reachable", "check advertiser_id"),
    ],
)
@pytest.mark.parametrize("code", [40000, 40002])
def test_an_invalid_parameter_points_at_the_setting_tiktok_names(
    tt, check_offline, code, message, check, hint
):
    status = check_offline(json=tt.answer(code, message))
    failed = status.first_failure
    assert (failed.name, failed.failure) == (check, FailureType.CONFIG)
    assert hint in failed.hint


@pytest.mark.parametrize(
    "response, failure",
    [
        ({"status_code": 429, "headers": {"Retry-After": "3"}}, FailureType.TRANSIENT),
        ({"status_code": 500, "text": "oops"}, FailureType.TRANSIENT),
        ({"status_code": 503, "text": "maintenance"}, FailureType.TRANSIENT),
        ({"text": "<html>proxy login</html>"}, FailureType.SYSTEM),
        ({"status_code": 404, "text": "Not Found"}, FailureType.SYSTEM),
    ],
)
def test_http_failures_fail_the_first_check(tt, check_offline, response, failure):
    status = check_offline(**response)
    assert names(status) == ["api reachable"]
    assert status.failure is failure


def test_a_non_json_answer_points_at_the_base_url(tt, check_offline):
    failed = check_offline(text="<html>proxy login</html>").first_failure
    assert "api_base_url" in failed.hint


@pytest.mark.parametrize("exception", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_timeouts_and_connection_errors_are_transient(
    tt, httpx_mock, make_destination, session, exception
):
    httpx_mock.add_exception(exception, url=tt.OFFLINE_GET_URL)
    status = make_destination().test_connection(session)
    assert names(status) == ["api reachable"]
    assert status.failure is FailureType.TRANSIENT
    assert "api_base_url" in status.first_failure.hint


# -- with app credentials ------------------------------------------------------------------


def test_app_credentials_exchange_the_token_first(tt, httpx_mock, check_offline):
    httpx_mock.add_response(
        method="POST",
        url=tt.REFRESH_URL,
        json=tt.answer(
            0,
            "OK",
            {
                "access_token": tt.ACCESS_TOKEN,
                "access_token_expire_in": 86400,
                "refresh_token": tt.REFRESH_TOKEN,
            },
        ),
    )
    status = check_offline(app=True, json=tt.answer(0, "OK", {"event_set_list": [event_set(tt)]}))
    assert status.ok
    assert "exchanged from the refresh token" in status.checks[1].message
    get = httpx_mock.get_request(url=tt.OFFLINE_GET_URL)
    assert get.headers["Access-Token"] == tt.ACCESS_TOKEN


def test_a_refused_exchange_fails_the_token_check(tt, httpx_mock, make_destination, session):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=tt.answer(40105, "refresh token revoked"))
    status = make_destination(app=True).test_connection(session)
    assert names(status) == ["api reachable", "token accepted"]
    failed = status.first_failure
    assert failed.failure is FailureType.AUTH
    assert "re-authorize credential prod-tiktok in TikTok" in failed.hint


def test_an_exchange_tiktok_cannot_do_now_is_transient(tt, httpx_mock, make_destination, session):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=tt.answer(50002, "maintenance"))
    status = make_destination(app=True).test_connection(session)
    assert names(status) == ["api reachable"]
    assert status.failure is FailureType.TRANSIENT


def test_a_long_term_token_answer_to_the_exchange_uses_the_token_directly(
    tt, httpx_mock, check_offline
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=tt.answer(40107, "cannot be refreshed"))
    status = check_offline(app=True, json=tt.answer(0, "OK", {"event_set_list": [event_set(tt)]}))
    assert status.ok
    get = httpx_mock.get_request(url=tt.OFFLINE_GET_URL)
    assert get.headers["Access-Token"] == tt.REFRESH_TOKEN


def test_the_connection_test_never_sends_an_event(tt, httpx_mock, make_destination, session):
    httpx_mock.add_response(
        url=tt.REFRESH_URL,
        json=tt.answer(0, "OK", {"access_token": tt.ACCESS_TOKEN, "access_token_expire_in": 86400}),
    )
    httpx_mock.add_response(
        url=tt.OFFLINE_GET_URL,
        json=tt.answer(0, "OK", {"event_set_list": [event_set(tt, auto_tracking=False)]}),
    )
    httpx_mock.add_response(url=tt.PIXEL_LIST_URL, json=tt.answer(0, "OK", {"pixels": [pixel(tt)]}))
    make_destination(app=True, auto_tracking=True).test_connection(session)
    make_destination(event_source="web").test_connection(session)
    paths = [request.url.path for request in httpx_mock.get_requests()]
    assert TRACK_PATH not in paths
    assert "/open_api/v1.3/offline/update/" not in paths
    assert [r.method for r in httpx_mock.get_requests()] == ["POST", "GET", "GET"]


# -- a credential authorized here knows its advertisers -----------------------------------


def authorized_credential(tt, advertiser_ids):
    return Credential(
        tt.CREDENTIAL_NAME,
        TikTokCredentialType(),
        {"refresh_token": tt.LONG_TERM_TOKEN, "app_id": tt.APP_ID, "app_secret": tt.APP_SECRET},
        facts={"advertiser_ids": advertiser_ids, "long_term_token": True},
    )


def test_an_authorized_advertiser_is_checked_first_then_tiktok(
    tt, httpx_mock, make_destination, session
):
    httpx_mock.add_response(
        url=tt.OFFLINE_GET_URL, json=tt.answer(data={"event_set_list": [event_set(tt)]})
    )
    credential = authorized_credential(tt, ["7000000000000000009", tt.ADVERTISER_ID])
    status = make_destination(credential=credential).test_connection(session)
    assert status.ok
    assert names(status) == ["advertiser authorized", *OFFLINE_CHECKS]
    assert status.checks[0].message == (
        f"credential {tt.CREDENTIAL_NAME} was authorized for advertiser {tt.ADVERTISER_ID}"
    )
    # The authorized token is used as it is: no refresh exchange before the lookup.
    assert [request.url.path for request in httpx_mock.get_requests()] == [tt.OFFLINE_GET_URL.path]


def test_an_advertiser_the_authorization_did_not_name_fails_without_asking_tiktok(
    tt, make_destination, session
):
    credential = authorized_credential(tt, ["7000000000000000009", "7000000000000000008"])
    status = make_destination(credential=credential).test_connection(session)
    assert names(status) == ["advertiser authorized"]
    failed = status.first_failure
    assert failed.failure is FailureType.CONFIG
    assert failed.message == (
        f"credential {tt.CREDENTIAL_NAME} was not authorized for advertiser {tt.ADVERTISER_ID} "
        "(it may act for 7000000000000000009, 7000000000000000008)"
    )
    assert failed.hint.startswith("set advertiser_id to one it may act for (its listed choices)")
