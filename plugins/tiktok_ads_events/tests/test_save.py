"""Saving an offline destination applies auto tracking to the event set in TikTok."""

from __future__ import annotations

import httpx
import pytest

from amp_destinations import AmpDestError


def event_set(tt, auto_tracking):
    return {
        "event_set_id": tt.EVENT_SET_ID,
        "name": "Store purchases",
        "auto_tracking": auto_tracking,
    }


def answer_lookup(tt, httpx_mock, auto_tracking):
    httpx_mock.add_response(
        method="GET",
        url=tt.OFFLINE_GET_URL,
        json=tt.answer(0, "OK", {"event_set_list": [event_set(tt, auto_tracking)]}),
    )


@pytest.mark.parametrize("flag", [True, False])
def test_nothing_changes_when_tiktok_already_agrees(
    tt, httpx_mock, make_destination, session, flag
):
    answer_lookup(tt, httpx_mock, flag)
    assert make_destination(auto_tracking=flag).on_save(session, None) == []
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("tiktok, wanted, word", [(False, True, "on"), (True, False, "off")])
def test_a_difference_is_applied_with_offline_update(
    tt, httpx_mock, make_destination, session, tiktok, wanted, word
):
    answer_lookup(tt, httpx_mock, tiktok)
    httpx_mock.add_response(method="POST", url=tt.UPDATE_URL, json=tt.answer(0, "OK", {}))
    lines = make_destination(auto_tracking=wanted).on_save(session, {"auto_tracking": tiktok})
    assert lines == [f"auto tracking turned {word} for event set {tt.EVENT_SET_ID}"]
    update = httpx_mock.get_request(method="POST")
    assert update.headers["Access-Token"] == tt.LONG_TERM_TOKEN
    assert update.headers["Content-Type"] == "application/json"
    assert httpx.Response(200, content=update.content).json() == {
        "advertiser_id": tt.ADVERTISER_ID,
        "event_set_id": tt.EVENT_SET_ID,
        "auto_tracking": wanted,
    }


def test_web_destinations_have_nothing_to_apply(make_destination, session):
    assert make_destination(event_source="web").on_save(session, None) == []


def test_a_refused_update_raises_one_actionable_line(tt, httpx_mock, make_destination, session):
    answer_lookup(tt, httpx_mock, False)
    httpx_mock.add_response(
        method="POST", url=tt.UPDATE_URL, json=tt.answer(40001, "No permission")
    )
    with pytest.raises(AmpDestError) as caught:
        make_destination(auto_tracking=True).on_save(session, None)
    message = str(caught.value)
    assert message.startswith(f"auto tracking could not be set for event set {tt.EVENT_SET_ID}")
    assert "Ad Account Operator or Admin" in message
    assert "\n" not in message


def test_a_missing_event_set_raises_with_where_to_find_it(
    tt, httpx_mock, make_destination, session
):
    httpx_mock.add_response(url=tt.OFFLINE_GET_URL, json=tt.answer(0, "OK", {"event_set_list": []}))
    with pytest.raises(AmpDestError, match="Assets > Events > Offline > Manage"):
        make_destination(auto_tracking=True).on_save(session, None)


def test_a_timeout_while_saving_raises(tt, httpx_mock, make_destination, session):
    answer_lookup(tt, httpx_mock, False)
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=tt.UPDATE_URL)
    with pytest.raises(AmpDestError, match="did not answer in time"):
        make_destination(auto_tracking=True).on_save(session, None)


def test_a_failed_lookup_raises(tt, httpx_mock, make_destination, session):
    httpx_mock.add_response(url=tt.OFFLINE_GET_URL, json=tt.answer(40105, "token revoked"))
    with pytest.raises(AmpDestError, match="re-authorize credential prod-tiktok in TikTok"):
        make_destination(auto_tracking=True).on_save(session, None)
