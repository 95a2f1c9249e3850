"""TikTok's side of the authorization flow: the authorization URL, the code exchange,
the facts and warnings it returns, and each refusal in one line without a secret.

HTTP goes through pytest-httpx, except the last tests, which run the real emulator."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from amp_destinations import Authorization, AuthorizationRefused, Credential
from tiktok_ads_events import TikTokCredentialType
from tiktok_ads_events._authorization import TikTokAuthorization
from tiktok_ads_events._client import TikTokClient
from tiktok_ads_events._constants import ACCESS_TOKEN_PATH, OFFLINE_GET_PATH
from tiktok_ads_events.emulator import Emulator, approve

CODE = "auth-code-3f9e8d7c6b5a"
REDIRECT = "http://127.0.0.1:53117/callback"
ALL_SCOPES = ["event.report", "offline_event_set.manage", "ad_account.read"]


@pytest.fixture
def flow():
    return TikTokAuthorization()


@pytest.fixture
def values(tt):
    return {"app_id": tt.APP_ID, "app_secret": tt.APP_SECRET, "api_base_url": None}


def exchanged(tt, **data):
    answer = {
        "access_token": tt.LONG_TERM_TOKEN,
        "advertiser_ids": [tt.ADVERTISER_ID],
        "scope": ALL_SCOPES,
        **data,
    }
    return tt.answer(data=answer)


def refused(flow, values, session) -> str:
    with pytest.raises(AuthorizationRefused) as caught:
        flow.exchange(CODE, values, REDIRECT, session)
    return str(caught.value)


def test_the_credential_type_declares_the_flow():
    assert TikTokCredentialType.authorization is TikTokAuthorization
    assert TikTokAuthorization.app_fields == ("app_id", "app_secret")
    assert TikTokAuthorization.code_parameter == "auth_code"
    assert TikTokAuthorization.state_parameter == "state"


def test_the_authorization_url_is_tiktoks_portal_page(flow, values, tt):
    url = flow.authorization_url(values, REDIRECT, "state-123")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "business-api.tiktok.com",
        "/portal/auth",
    )
    assert parse_qs(parts.query) == {
        "app_id": [tt.APP_ID],
        "state": ["state-123"],
        "redirect_uri": [REDIRECT],
    }


def test_the_authorization_host_follows_the_credentials_api_base_url(flow, values):
    url = flow.authorization_url({**values, "api_base_url": "http://127.0.0.1:8765"}, REDIRECT, "s")
    assert url.startswith("http://127.0.0.1:8765/portal/auth?app_id=")


def test_the_exchange_posts_app_id_secret_and_code_and_stores_the_token(
    flow, values, tt, httpx_mock, session
):
    url = tt.BASE + ACCESS_TOKEN_PATH
    httpx_mock.add_response(method="POST", url=url, json=exchanged(tt))
    authorization = flow.exchange(CODE, values, REDIRECT, session)
    sent = httpx_mock.get_request()
    assert json.loads(sent.content) == {
        "app_id": tt.APP_ID,
        "secret": tt.APP_SECRET,
        "auth_code": CODE,
    }
    assert authorization == Authorization(
        secrets={"refresh_token": tt.LONG_TERM_TOKEN, "app_secret": tt.APP_SECRET},
        fields={"app_id": tt.APP_ID},
        facts={
            "advertiser_ids": [tt.ADVERTISER_ID],
            "scopes": ALL_SCOPES,
            "long_term_token": True,
        },
        warnings=[],
    )


def test_advertiser_ids_given_as_numbers_are_kept_as_strings(flow, values, tt, httpx_mock, session):
    httpx_mock.add_response(json=exchanged(tt, advertiser_ids=[7000000000000000001, "x"]))
    facts = flow.exchange(CODE, values, REDIRECT, session).facts
    assert facts["advertiser_ids"] == ["7000000000000000001"]


def test_a_missing_scope_is_a_warning_naming_it_and_what_will_not_work(
    flow, values, tt, httpx_mock, session
):
    httpx_mock.add_response(json=exchanged(tt, scope=["event.report", "ad_account.read"]))
    authorization = flow.exchange(CODE, values, REDIRECT, session)
    assert authorization.facts["scopes"] == ["event.report", "ad_account.read"]
    assert authorization.warnings == [
        "TikTok did not grant the scope offline_event_set.manage (read and manage offline "
        "event sets), so the connection test cannot read offline event sets and saving "
        f"cannot apply auto tracking: add it to app {tt.APP_ID} in TikTok's developer portal "
        "(My Apps), then authorize again"
    ]


def test_without_the_scope_to_report_events_the_authorization_is_refused(
    flow, values, tt, httpx_mock, session
):
    httpx_mock.add_response(json=exchanged(tt, scope=["ad_account.read"]))
    message = refused(flow, values, session)
    assert message == (
        f"TikTok did not grant app {tt.APP_ID} the scope to report conversion events "
        "(event.report), so the credential could not send: add it to the app in TikTok's "
        "developer portal (My Apps), then authorize again"
    )
    assert tt.LONG_TERM_TOKEN not in message


@pytest.mark.parametrize("scope", [[4, 7], [], None])
def test_scopes_that_cannot_be_named_give_one_warning_not_a_refusal(
    flow, values, tt, httpx_mock, session, scope
):
    httpx_mock.add_response(json=exchanged(tt, scope=scope))
    authorization = flow.exchange(CODE, values, REDIRECT, session)
    assert len(authorization.warnings) == 1
    assert authorization.warnings[0].startswith("TikTok reported the scopes granted as ")
    assert "cannot be checked here" in authorization.warnings[0]


@pytest.mark.parametrize(
    "code, message, expected",
    [
        (
            40131,
            "Authorization code is expired.",
            "the authorization code expired before it was exchanged: Authorization code "
            "is expired (code 40131, request id R1); codes are valid for one hour: "
            "authorize again",
        ),
        (
            40110,
            "Auth code has been used.",
            "TikTok refused the authorization code, used already or not valid: Auth code "
            "has been used (code 40110, request id R1); each code works once: authorize again",
        ),
        (
            40101,
            "app_id and secret: no app with this id and secret",
            "TikTok refused app_id 7000000000000000001 with this app_secret: app_id and "
            "secret: no app with this id and secret (code 40101, request id R1); copy both "
            "from the app in TikTok's developer portal (My Apps), then authorize again",
        ),
        (
            50000,
            "Internal service error.",
            "TikTok could not exchange the authorization code right now: Internal service "
            "error (code 50000, request id R1); authorize again in a few minutes",
        ),
        (
            40001,
            "No permission.",
            "TikTok refused the authorization code exchange for app 7000000000000000001: "
            "No permission (code 40001, request id R1); check the app's status in "
            "TikTok's developer portal (My Apps), then authorize again",
        ),
    ],
)
def test_each_refusal_is_one_line_saying_what_to_do(
    flow, values, tt, httpx_mock, session, code, message, expected
):
    httpx_mock.add_response(json=tt.answer(code, message, request_id="R1"))
    assert refused(flow, values, session) == expected


def test_a_refusal_never_echoes_the_secret_or_the_code(flow, values, tt, httpx_mock, session):
    echo = f"secret {tt.APP_SECRET} and code {CODE} refused"
    httpx_mock.add_response(json=tt.answer(40101, echo))
    message = refused(flow, values, session)
    assert tt.APP_SECRET not in message and CODE not in message
    assert "[redacted]" in message


def test_an_answer_without_a_token_or_not_from_tiktok_is_refused(
    flow, values, tt, httpx_mock, session
):
    httpx_mock.add_response(json=tt.answer(data={"advertiser_ids": []}))
    assert refused(flow, values, session).startswith(
        "TikTok's answer to the code exchange holds no access token: OK (code 0"
    )
    httpx_mock.add_response(status_code=404, text="<html>not here</html>")
    assert refused(flow, values, session) == (
        "https://business-api.tiktok.com did not answer like TikTok's API: HTTP 404; check "
        "api_base_url, normally https://business-api.tiktok.com"
    )


def test_an_unreachable_api_is_refused_in_one_line(flow, values, httpx_mock, session):
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    assert refused(flow, values, session) == (
        "could not reach https://business-api.tiktok.com to exchange the authorization code "
        "(ConnectError): check the network and api_base_url, then authorize again"
    )


def test_an_authorized_token_is_used_as_it_is_without_a_refresh_exchange(tt):
    values = {"refresh_token": tt.LONG_TERM_TOKEN, "app_id": tt.APP_ID, "app_secret": tt.APP_SECRET}
    plain = Credential("c", TikTokCredentialType(), values)
    authorized = Credential("c", TikTokCredentialType(), values, facts={"long_term_token": True})
    assert TikTokClient(tt.BASE, plain).tokens.can_refresh
    assert not TikTokClient(tt.BASE, authorized).tokens.can_refresh


# -- against the emulator ------------------------------------------------------------------


@pytest.fixture
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture
def emulator_values(emulator):
    return {
        "app_id": "7200000000000000001",
        "app_secret": "emulator-secret",
        "api_base_url": emulator.base_url,
    }


def approved_code(flow, emulator_values, **kwargs) -> str:
    url = flow.authorization_url(emulator_values, REDIRECT, "state-1")
    query = parse_qs(urlsplit(approve(url, **kwargs)).query)
    assert query["state"] == ["state-1"]
    return query["auth_code"][0]


def test_the_flow_authorizes_against_the_emulator_and_the_token_works(flow, emulator_values):
    with httpx.Client() as session:
        authorization = flow.exchange(
            approved_code(flow, emulator_values), emulator_values, REDIRECT, session
        )
        assert authorization.facts["advertiser_ids"] == [
            "7000000000000000001",
            "7000000000000000002",
        ]
        assert authorization.warnings == []
        credential = Credential(
            "c",
            TikTokCredentialType(),
            {**emulator_values, **authorization.fields, **authorization.secrets},
            facts=authorization.facts,
        )
        client = TikTokClient(emulator_values["api_base_url"], credential)
        params = {"advertiser_id": "7000000000000000002"}
        answer = client.call(session, "GET", OFFLINE_GET_PATH, params=params)
    assert answer.data["event_set_list"][0]["name"] == "Call centre"


def test_a_code_used_twice_or_expired_is_refused_against_the_emulator(
    flow, emulator, emulator_values
):
    with httpx.Client() as session:
        code = approved_code(flow, emulator_values)
        flow.exchange(code, emulator_values, REDIRECT, session)
        with pytest.raises(AuthorizationRefused, match="used already or not valid"):
            flow.exchange(code, emulator_values, REDIRECT, session)
        late = approved_code(flow, emulator_values)
        emulator.state.auth_codes.advance(3600)
        with pytest.raises(AuthorizationRefused, match="^the authorization code expired"):
            flow.exchange(late, emulator_values, REDIRECT, session)
        wrong = {**emulator_values, "app_secret": "not-the-secret"}
        with pytest.raises(AuthorizationRefused, match="with this app_secret"):
            flow.exchange(approved_code(flow, emulator_values), wrong, REDIRECT, session)
