"""The emulator's OAuth flow: the authorization page, its form, the code exchange, the
advertiser list, revoking and the codes' clock, through real sockets on 127.0.0.1."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from tiktok_ads_events._constants import (
    ACCESS_TOKEN_PATH,
    ADVERTISER_GET_PATH,
    OFFLINE_GET_PATH,
    PIXEL_LIST_PATH,
    PORTAL_AUTH_PATH,
    TRACK_PATH,
)
from tiktok_ads_events.emulator import ApprovalFailed, Emulator, EmulatorConfigError, approve
from tiktok_ads_events.emulator._approve import approve_command

ADVERTISER = "7000000000000000001"
SECOND_ADVERTISER = "7000000000000000002"
OUTSIDE_ADVERTISER = "7000000000000000003"
EVENT_SET = "7100000000000000001"
PIXEL = "C0AMPDESTPIXEL000001"
APP_ID = "7200000000000000001"
APP_SECRET = "app-secret-not-for-messages"
OTHER_APP_ID = "7200000000000000002"
OTHER_APP_SECRET = "other-secret-not-for-messages"
REDIRECT = "https://app.example.com/tiktok/callback"
LOOPBACK = "http://127.0.0.1/callback"

SEED = {
    "apps": [
        {
            "app_id": APP_ID,
            "secret": APP_SECRET,
            "redirect_uris": [REDIRECT, LOOPBACK],
            "scopes": ["event.report", "ad_account.read"],
        },
        {"app_id": OTHER_APP_ID, "secret": OTHER_APP_SECRET, "redirect_uris": [REDIRECT]},
    ],
    "advertisers": [
        {
            "advertiser_id": ADVERTISER,
            "name": "Main <brand>",
            "event_sets": [{"event_set_id": EVENT_SET, "name": "Store sales"}],
            "pixels": [{"code": PIXEL, "name": "Shop"}],
        },
        {"advertiser_id": SECOND_ADVERTISER, "name": "Second brand"},
        {"advertiser_id": OUTSIDE_ADVERTISER, "name": "Someone else's"},
    ],
    "portal_user": {
        "name": "Ops person",
        "role": "operator",
        "advertiser_ids": [ADVERTISER, SECOND_ADVERTISER],
    },
}


@pytest.fixture
def emu():
    with Emulator(SEED) as running:
        yield running


@pytest.fixture
def client(emu):
    with httpx.Client(base_url=emu.base_url) as http:
        yield http


def authorization_url(emu, *, app_id=APP_ID, redirect_uri=REDIRECT, state="st-1") -> str:
    query = {"app_id": app_id, "state": state, "redirect_uri": redirect_uri}
    return emu.url(PORTAL_AUTH_PATH) + "?" + urlencode(query)


def post_form(client, **fields):
    form = {"app_id": APP_ID, "state": "st-1", "redirect_uri": REDIRECT, **fields}
    return client.post(PORTAL_AUTH_PATH, data=form)


def redirect_query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def code_for(emu, **kwargs) -> str:
    return redirect_query(approve(authorization_url(emu), **kwargs))["auth_code"]


def exchange(client, code, *, app_id=APP_ID, secret=APP_SECRET):
    body = {"app_id": app_id, "secret": secret, "auth_code": code}
    return client.post(ACCESS_TOKEN_PATH, json=body).json()


def advertisers(client, token, *, app_id=APP_ID, secret=APP_SECRET):
    params = {"app_id": app_id, "secret": secret}
    return client.get(ADVERTISER_GET_PATH, params=params, headers={"Access-Token": token}).json()


# -- the authorization page ---------------------------------------------------------------


def test_the_page_lists_the_persons_ad_accounts_with_authorize_and_deny(client, emu):
    page = client.get(authorization_url(emu))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "Ops person" in text
    assert f"Main &lt;brand&gt; ({ADVERTISER})" in text  # names are escaped
    assert f"Second brand ({SECOND_ADVERTISER})" in text
    assert OUTSIDE_ADVERTISER not in text
    assert 'value="authorize">Authorize</button>' in text
    assert 'value="deny">Deny</button>' in text
    assert "event.report" in text


def test_authorize_redirects_with_a_code_and_the_state(client):
    answer = post_form(client, action="authorize")
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = redirect_query(location)
    assert query.keys() == {"auth_code", "state"}
    assert query["state"] == "st-1"


def test_deny_redirects_with_access_denied_and_the_state(client):
    answer = post_form(client, action="deny")
    assert answer.status_code == 302
    assert redirect_query(answer.headers["location"]) == {
        "error": "access_denied",
        "error_description": "The user denied the authorization.",
        "state": "st-1",
    }


def test_a_redirect_uri_with_a_query_keeps_it(emu):
    seed = {**SEED, "apps": [{**SEED["apps"][0], "redirect_uris": [REDIRECT + "?tenant=7"]}]}
    with Emulator(seed) as other:
        location = approve(authorization_url(other, redirect_uri=REDIRECT + "?tenant=7"))
    assert redirect_query(location).keys() == {"tenant", "auth_code", "state"}


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://127.0.0.1:53117/callback", "http://127.0.0.1:8/callback"],
)
def test_a_registered_loopback_url_without_a_port_takes_any_port(emu, redirect_uri):
    location = approve(authorization_url(emu, redirect_uri=redirect_uri))
    assert location.startswith(redirect_uri + "?auth_code=")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"app_id": "7299999999999999999"}, "app_id: no app with this id."),
        ({"app_id": ""}, "app_id: no app with this id."),
        ({"redirect_uri": ""}, "redirect_uri: required."),
        (
            {"redirect_uri": "https://evil.example.com/callback"},
            "redirect_uri: not one of the app's advertiser redirect URLs.",
        ),
        (
            {"redirect_uri": "http://127.0.0.1:53117/other"},
            "redirect_uri: not one of the app's advertiser redirect URLs.",
        ),
        (
            {"redirect_uri": "http://localhost:53117/callback"},
            "redirect_uri: not one of the app's advertiser redirect URLs.",
        ),
    ],
)
def test_an_unknown_app_or_redirect_is_a_400_page_never_a_redirect(client, emu, change, message):
    query = {"app_id": APP_ID, "state": "s", "redirect_uri": REDIRECT, **change}
    page = client.get(PORTAL_AUTH_PATH, params=query)
    assert page.status_code == 400
    assert message in page.text.replace("&#x27;", "'")
    answer = post_form(client, action="authorize", **change)
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_the_form_checks_its_action_and_accounts(client):
    assert post_form(client, action="maybe").status_code == 400
    assert post_form(client).status_code == 400
    outside = post_form(client, action="authorize", advertiser_id=OUTSIDE_ADVERTISER)
    assert outside.status_code == 400
    assert "advertiser_id: not an ad account of Ops person." in outside.text
    as_json = client.post(PORTAL_AUTH_PATH, json={"app_id": APP_ID, "action": "authorize"})
    assert as_json.status_code == 400


def test_the_page_answers_get_and_post_only(client):
    answer = client.put(PORTAL_AUTH_PATH)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"


def test_approve_reports_the_pages_refusal_in_one_line(emu):
    with pytest.raises(ApprovalFailed, match="^app_id: no app with this id.$"):
        approve(authorization_url(emu, app_id="7299999999999999999"))
    with pytest.raises(ApprovalFailed, match="not the local emulator's authorization page"):
        approve("https://business-api.tiktok.com/portal/auth?app_id=1")


def test_the_approve_command_prints_the_redirected_url(emu):
    url = authorization_url(emu)
    approved = CliRunner().invoke(approve_command, [url, "--advertiser-id", SECOND_ADVERTISER])
    assert approved.exit_code == 0
    assert approved.output.startswith(REDIRECT + "?auth_code=")
    denied = CliRunner().invoke(approve_command, [url, "--deny"])
    assert redirect_query(denied.output.strip())["error"] == "access_denied"


def test_the_approve_command_fails_in_one_line(emu):
    refused = CliRunner().invoke(approve_command, [authorization_url(emu, app_id="7")])
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: the authorization page refused: app_id: no app with this id.\n"
    )
    url = authorization_url(emu)
    emu.stop()
    unreachable = CliRunner().invoke(approve_command, [url])
    assert unreachable.exit_code == 1
    assert unreachable.output == (
        "Error: could not open the authorization page (ConnectError): is the emulator "
        "running at that address?\n"
    )


# -- the code exchange --------------------------------------------------------------------


def test_a_code_exchanges_once_for_a_long_term_token_with_accounts_and_scopes(client, emu):
    answer = exchange(client, code_for(emu))
    assert answer["code"] == 0
    assert answer["message"] == "OK"
    assert answer["request_id"]
    data = answer["data"]
    assert data.keys() == {"access_token", "advertiser_ids", "scope"}
    assert data["advertiser_ids"] == [ADVERTISER, SECOND_ADVERTISER]
    assert data["scope"] == ["event.report", "ad_account.read"]


def test_only_the_ad_accounts_chosen_on_the_page_are_granted(client, emu):
    data = exchange(client, code_for(emu, advertiser_ids=[SECOND_ADVERTISER]))["data"]
    assert data["advertiser_ids"] == [SECOND_ADVERTISER]


def test_a_used_code_is_40110(client, emu):
    code = code_for(emu)
    assert exchange(client, code)["code"] == 0
    again = exchange(client, code)
    assert (again["code"], again["message"]) == (40110, "Auth code has been used.")


def test_an_unknown_code_or_one_issued_to_another_app_is_40110(client, emu):
    assert exchange(client, "no-such-code")["code"] == 40110
    code = code_for(emu)
    other = exchange(client, code, app_id=OTHER_APP_ID, secret=OTHER_APP_SECRET)
    assert (other["code"], other["message"]) == (40110, "Auth code is invalid.")
    assert exchange(client, code)["code"] == 0  # not used up by the other app


def test_a_code_expires_after_an_hour_of_the_emulators_clock(client, emu):
    early, late = code_for(emu), code_for(emu)
    moved = client.post("/_emulator/clock", json={"advance_seconds": 3599})
    assert moved.json() == {"ahead_seconds": 3599}
    assert exchange(client, early)["code"] == 0
    emu.state.auth_codes.advance(1)
    answer = exchange(client, late)
    assert (answer["code"], answer["message"]) == (40131, "Authorization code is expired.")


@pytest.mark.parametrize("change", [{"secret": "wrong-secret"}, {"app_id": "7299999999999999999"}])
def test_a_wrong_app_id_or_secret_is_40101_and_leaves_the_code_unused(client, emu, change):
    code = code_for(emu)
    answer = exchange(client, code, **change)
    assert (answer["code"], answer["message"]) == (
        40101,
        "app_id and secret: no app with this id and secret",
    )
    assert "wrong-secret" not in str(answer) and code not in str(answer)
    assert exchange(client, code)["code"] == 0


def test_the_exchange_checks_its_fields(client):
    missing = client.post(ACCESS_TOKEN_PATH, json={"app_id": APP_ID, "secret": APP_SECRET})
    assert (missing.json()["code"], missing.json()["message"]) == (40002, "auth_code: required")
    extra = {"app_id": APP_ID, "secret": APP_SECRET, "auth_code": "c", "grant_type": "x"}
    assert client.post(ACCESS_TOKEN_PATH, json=extra).json()["message"] == (
        "grant_type: unknown field"
    )
    assert client.get(ACCESS_TOKEN_PATH).status_code == 405


# -- what the issued token can do ---------------------------------------------------------


def test_an_issued_token_works_on_the_existing_endpoints_for_its_accounts(client, emu):
    token = exchange(client, code_for(emu))["data"]["access_token"]
    headers = {"Access-Token": token}
    params = {"advertiser_id": ADVERTISER, "event_set_ids": f'["{EVENT_SET}"]'}
    assert client.get(OFFLINE_GET_PATH, params=params, headers=headers).json()["code"] == 0
    pixels = client.get(PIXEL_LIST_PATH, params={"advertiser_id": ADVERTISER}, headers=headers)
    assert pixels.json()["data"]["pixels"][0]["pixel_code"] == PIXEL
    outside = {"advertiser_id": OUTSIDE_ADVERTISER}
    assert client.get(PIXEL_LIST_PATH, params=outside, headers=headers).json()["code"] == 40300


@pytest.mark.parametrize("role, code", [("operator", 0), ("analyst", 40106)])
def test_an_issued_token_carries_the_persons_role(role, code):
    seed = {**SEED, "portal_user": {**SEED["portal_user"], "role": role}}
    event = {
        "event": "Purchase",
        "event_id": "e-1",
        "event_time": int(time.time()),
        "user": {"email": "a" * 64},
    }
    body = {"event_source": "offline", "event_source_id": EVENT_SET, "data": [event]}
    with Emulator(seed) as role_emu, httpx.Client(base_url=role_emu.base_url) as http:
        token = exchange(http, code_for(role_emu))["data"]["access_token"]
        answer = http.post(TRACK_PATH, json=body, headers={"Access-Token": token}).json()
    assert answer["code"] == code


def test_advertiser_get_lists_the_tokens_accounts_with_names(client, emu):
    token = exchange(client, code_for(emu))["data"]["access_token"]
    answer = advertisers(client, token)
    assert answer["code"] == 0
    assert answer["data"]["list"] == [
        {"advertiser_id": ADVERTISER, "advertiser_name": "Main <brand>"},
        {"advertiser_id": SECOND_ADVERTISER, "advertiser_name": "Second brand"},
    ]


def test_advertiser_get_checks_the_app_and_the_token(client, emu):
    token = exchange(client, code_for(emu))["data"]["access_token"]
    assert advertisers(client, token, secret="wrong-secret")["code"] == 40101
    other = advertisers(client, token, app_id=OTHER_APP_ID, secret=OTHER_APP_SECRET)
    assert other["code"] == 40001
    assert advertisers(client, "no-such-token")["code"] == 40105
    no_secret = client.get(
        ADVERTISER_GET_PATH, params={"app_id": APP_ID}, headers={"Access-Token": token}
    )
    assert no_secret.json()["message"] == "secret: required"


# -- revoking -----------------------------------------------------------------------------


def test_revoking_the_app_ends_its_tokens_and_a_new_authorization_works(client, emu):
    first = exchange(client, code_for(emu))["data"]["access_token"]
    answer = client.post("/_emulator/revoke", json={"app_id": APP_ID})
    assert answer.json() == {"revoked": 1}
    assert advertisers(client, first)["code"] == 40105
    second = exchange(client, code_for(emu))["data"]["access_token"]
    assert advertisers(client, second)["code"] == 0
    assert client.post("/_emulator/revoke", json={"token": second}).json() == {"revoked": 1}
    assert advertisers(client, second)["code"] == 40105


@pytest.mark.parametrize(
    "path, body",
    [
        ("/_emulator/revoke", {}),
        ("/_emulator/revoke", {"app_id": APP_ID, "token": "t"}),
        ("/_emulator/revoke", {"app_id": 7}),
        ("/_emulator/clock", {"advance_seconds": -1}),
        ("/_emulator/clock", {"advance_seconds": True}),
        ("/_emulator/clock", {"seconds": 5}),
        ("/_emulator/clock", [5]),
    ],
)
def test_the_admin_endpoints_refuse_a_malformed_body(client, path, body):
    answer = client.post(path, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]


def test_reset_forgets_codes_tokens_and_the_clock(client, emu):
    code = code_for(emu)
    token = exchange(client, code_for(emu))["data"]["access_token"]
    emu.state.auth_codes.advance(10)
    client.post("/_emulator/reset")
    assert exchange(client, code)["code"] == 40110
    assert advertisers(client, token)["code"] == 40105
    assert emu.state.auth_codes.advance(0) == 0


# -- seeds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed, error",
    [
        (
            {"apps": [{"app_id": "a", "secret": "s", "redirect_uris": ["ftp://x/cb"]}]},
            "seed.apps[0].redirect_uris[0]: must be an http or https URL without a fragment",
        ),
        (
            {"apps": [{"app_id": "a", "secret": "s", "scopes": [""]}]},
            "seed.apps[0].scopes[0]: must be a non-empty string",
        ),
        ({"portal_user": {"role": "owner"}}, "seed.portal_user.role: must be one of"),
        ({"portal_user": {"email": "x"}}, "seed.portal_user.email: unknown field"),
    ],
)
def test_a_bad_oauth_seed_is_refused_naming_the_field(seed, error):
    with pytest.raises(EmulatorConfigError, match="^" + re.escape(error)):
        Emulator(seed)
