"""The Access-Token: the refresh exchange, caching, rotation persisted by the host, the
long-term fallback, one renewal on a refused token, and no token in any message."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from amp_destinations import AmpDestError, FailureType, SecretStoreError
from amp_destinations.testing import refused_commands

NEW_REFRESH_TOKEN = "rt-token-rotated-ffeeddccbbaa"
SECOND_ACCESS_TOKEN = "at-token-second-11112222"


def exchanged(tt, access_token=None, expire_in=86400, refresh_token=NEW_REFRESH_TOKEN):
    data = {
        "access_token": access_token or tt.ACCESS_TOKEN,
        "access_token_expire_in": expire_in,
        "refresh_token": refresh_token,
        "refresh_token_expire_in": 31536000,
    }
    return tt.answer(0, "OK", data)


def track_tokens(tt, httpx_mock):
    return [r.headers["Access-Token"] for r in httpx_mock.get_requests(url=tt.TRACK_URL)]


def test_the_exchange_sends_the_app_credentials_and_uses_the_access_token(
    tt, httpx_mock, make_destination, make_batch, session, persisted
):
    httpx_mock.add_response(method="POST", url=tt.REFRESH_URL, json=exchanged(tt))
    httpx_mock.add_response(method="POST", url=tt.TRACK_URL, json=tt.answer())
    destination = make_destination(app=True)
    assert destination.deliver(make_batch(destination), session).kind == "delivered"
    exchange = httpx_mock.get_request(url=tt.REFRESH_URL)
    assert httpx.Response(200, content=exchange.content).json() == {
        "app_id": tt.APP_ID,
        "secret": tt.APP_SECRET,
        "refresh_token": tt.REFRESH_TOKEN,
        "grant_type": "refresh_token",
    }
    assert "Access-Token" not in exchange.headers
    assert track_tokens(tt, httpx_mock) == [tt.ACCESS_TOKEN]


def test_a_rotated_refresh_token_is_handed_to_the_host_to_persist(
    tt, httpx_mock, make_destination, make_batch, session, persisted
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer())
    destination = make_destination(app=True)
    destination.deliver(make_batch(destination), session)
    assert persisted == [(tt.CREDENTIAL_NAME, {"refresh_token": NEW_REFRESH_TOKEN})]
    assert destination.credential["refresh_token"] == NEW_REFRESH_TOKEN


def test_an_unchanged_refresh_token_is_not_persisted(
    tt, httpx_mock, make_destination, make_batch, session, persisted
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt, refresh_token=tt.REFRESH_TOKEN))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer())
    destination = make_destination(app=True)
    destination.deliver(make_batch(destination), session)
    assert persisted == []


def test_the_access_token_is_cached_until_it_nears_expiry(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(), is_reusable=True)
    destination = make_destination(app=True)
    for _ in range(3):
        destination.deliver(make_batch(destination), session)
    assert len(httpx_mock.get_requests(url=tt.REFRESH_URL)) == 1
    assert track_tokens(tt, httpx_mock) == [tt.ACCESS_TOKEN] * 3


def test_a_token_about_to_expire_is_exchanged_again(
    tt, httpx_mock, make_destination, make_batch, session, persisted
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt, expire_in=60))
    httpx_mock.add_response(
        url=tt.REFRESH_URL,
        json=exchanged(
            tt, access_token=SECOND_ACCESS_TOKEN, expire_in=60, refresh_token=NEW_REFRESH_TOKEN
        ),
    )
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(), is_reusable=True)
    destination = make_destination(app=True)
    destination.deliver(make_batch(destination), session)
    destination.deliver(make_batch(destination), session)
    assert track_tokens(tt, httpx_mock) == [tt.ACCESS_TOKEN, SECOND_ACCESS_TOKEN]
    second = httpx.Response(200, content=httpx_mock.get_requests(url=tt.REFRESH_URL)[1].content)
    assert second.json()["refresh_token"] == NEW_REFRESH_TOKEN


def test_a_long_term_token_is_used_directly_and_never_exchanged_again(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=tt.answer(40107, "cannot be refreshed"))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(), is_reusable=True)
    destination = make_destination(app=True)
    destination.deliver(make_batch(destination), session)
    destination.deliver(make_batch(destination), session)
    assert len(httpx_mock.get_requests(url=tt.REFRESH_URL)) == 1
    assert track_tokens(tt, httpx_mock) == [tt.REFRESH_TOKEN] * 2


def test_without_app_credentials_the_refresh_token_is_the_access_token(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer())
    destination = make_destination()
    destination.deliver(make_batch(destination), session)
    assert track_tokens(tt, httpx_mock) == [tt.LONG_TERM_TOKEN]


def test_a_refused_access_token_is_renewed_once_and_the_batch_sent_again(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(40102, "Access token expired"))
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt, SECOND_ACCESS_TOKEN))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer())
    destination = make_destination(app=True)
    batch = make_batch(destination)
    assert destination.deliver(batch, session).kind == "delivered"
    assert track_tokens(tt, httpx_mock) == [tt.ACCESS_TOKEN, SECOND_ACCESS_TOKEN]
    assert all(r.content == batch.body for r in httpx_mock.get_requests(url=tt.TRACK_URL))


def test_a_token_refused_again_after_renewal_stops_the_run(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt), is_reusable=True)
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(40105, "revoked"), is_reusable=True)
    destination = make_destination(app=True)
    outcome = destination.deliver(make_batch(destination), session)
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.AUTH)
    assert f"re-authorize credential {tt.CREDENTIAL_NAME} in TikTok" in outcome.message
    assert len(httpx_mock.get_requests(url=tt.REFRESH_URL)) == 2
    assert len(httpx_mock.get_requests(url=tt.TRACK_URL)) == 2


def test_a_40107_on_track_switches_to_the_long_term_token(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(40107, "long-term token"))
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer())
    destination = make_destination(app=True)
    assert destination.deliver(make_batch(destination), session).kind == "delivered"
    # the refresh token TikTok rotated to in the exchange is the one now in force
    assert track_tokens(tt, httpx_mock) == [tt.ACCESS_TOKEN, NEW_REFRESH_TOKEN]


@pytest.mark.parametrize(
    "answer, kind, failure, words",
    [
        (
            {"code": 40105, "message": "refresh token revoked"},
            "fatal",
            FailureType.AUTH,
            "re-authorize credential prod-tiktok in TikTok",
        ),
        (
            {"code": 40001, "message": "app secret invalid"},
            "fatal",
            FailureType.AUTH,
            "check credential prod-tiktok's app_id and app_secret",
        ),
        ({"code": 50000, "message": "system busy"}, "retry", None, "right now"),
        ({"code": 40100, "message": "too many requests"}, "retry", None, "right now"),
        (
            {"code": 0, "message": "OK", "data": {}},
            "fatal",
            FailureType.SYSTEM,
            "not what it documents",
        ),
    ],
)
def test_a_failed_exchange_is_classified(
    tt, httpx_mock, make_destination, make_batch, session, answer, kind, failure, words
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=answer)
    destination = make_destination(app=True)
    outcome = destination.deliver(make_batch(destination), session)
    assert (outcome.kind, outcome.failure) == (kind, failure)
    assert words in outcome.message
    assert outcome.throttled is (answer["code"] == 40100)
    assert refused_commands(outcome.message) == {}  # each command it names works when pasted


def test_a_timeout_during_the_exchange_is_retried(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_exception(httpx.ConnectTimeout("slow"), url=tt.REFRESH_URL)
    destination = make_destination(app=True)
    assert destination.deliver(make_batch(destination), session).kind == "retry"


def test_a_rotation_the_host_cannot_store_stops_the_run(
    tt, httpx_mock, make_credential, make_destination, make_batch, session
):
    def refuse(name, secrets):
        raise SecretStoreError("the keyring refused the write; see `amp-dest credentials --help`")

    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt))
    destination = make_destination(credential=make_credential(app=True, persist=refuse))
    outcome = destination.deliver(make_batch(destination), session)
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.SYSTEM)
    assert "could not be stored" in outcome.message
    assert NEW_REFRESH_TOKEN not in outcome.message


def test_concurrent_deliveries_share_one_exchange(
    tt, httpx_mock, make_destination, make_batch, session
):
    def slow_exchange(request):
        time.sleep(0.05)  # widen the window in which other threads ask for a token
        return httpx.Response(200, json=exchanged(tt))

    httpx_mock.add_callback(slow_exchange, url=tt.REFRESH_URL, is_reusable=True)
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(), is_reusable=True)
    destination = make_destination(app=True)
    batch = make_batch(destination)
    outcomes = []
    start = threading.Barrier(8)

    def deliver():
        start.wait()
        outcomes.append(destination.deliver(batch, session).kind)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["delivered"] * 8
    assert len(httpx_mock.get_requests(url=tt.REFRESH_URL)) == 1
    assert set(track_tokens(tt, httpx_mock)) == {tt.ACCESS_TOKEN}


# -- no token in any message -----------------------------------------------------------------


def secrets(tt):
    return [tt.LONG_TERM_TOKEN, tt.REFRESH_TOKEN, tt.APP_SECRET, tt.ACCESS_TOKEN, NEW_REFRESH_TOKEN]


def assert_no_secret(tt, *texts):
    for text in texts:
        for secret in secrets(tt):
            assert secret not in text


@pytest.mark.parametrize("code", [40002, 40001, 40300, 40105, 40100, 50000, 41234, 20001])
def test_a_token_echoed_by_tiktok_never_reaches_an_outcome(
    tt, httpx_mock, make_destination, make_batch, session, code
):
    echo = f"bad token {tt.LONG_TERM_TOKEN} for app"
    errors = [{"index": 0, "message": echo}]
    httpx_mock.add_response(url=tt.TRACK_URL, json=tt.answer(code, echo, {"errors": errors}))
    destination = make_destination()
    outcome = destination.deliver(make_batch(destination), session)
    assert_no_secret(tt, repr(outcome), outcome.message, outcome.note)
    assert "[redacted]" in repr(outcome)


def test_an_access_token_echoed_after_an_exchange_is_redacted(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(url=tt.REFRESH_URL, json=exchanged(tt))
    httpx_mock.add_response(
        url=tt.TRACK_URL,
        json=tt.answer(
            40002, f"token {tt.ACCESS_TOKEN} secret {tt.APP_SECRET} refresh {NEW_REFRESH_TOKEN}"
        ),
    )
    destination = make_destination(app=True)
    outcome = destination.deliver(make_batch(destination), session)
    assert_no_secret(tt, repr(outcome))


def test_an_exchange_refusal_echoing_the_secret_is_redacted(
    tt, httpx_mock, make_destination, make_batch, session
):
    httpx_mock.add_response(
        url=tt.REFRESH_URL,
        json=tt.answer(
            40001, f"secret {tt.APP_SECRET} does not match refresh token {tt.REFRESH_TOKEN}"
        ),
    )
    destination = make_destination(app=True)
    outcome = destination.deliver(make_batch(destination), session)
    assert_no_secret(tt, repr(outcome))


def test_checks_and_save_errors_never_show_a_token(tt, httpx_mock, make_destination, session):
    echo = tt.answer(40105, f"token {tt.LONG_TERM_TOKEN} revoked")
    httpx_mock.add_response(url=tt.OFFLINE_GET_URL, json=echo, is_reusable=True)
    destination = make_destination(auto_tracking=True)
    status = destination.test_connection(session)
    assert_no_secret(tt, repr(status.to_dict()))
    with pytest.raises(AmpDestError) as caught:
        destination.on_save(session, None)
    assert_no_secret(tt, str(caught.value), repr(caught.value))
    assert_no_secret(tt, repr(destination), repr(destination.credential))
