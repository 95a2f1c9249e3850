"""The loopback redirect listener: it answers the one redirect that carries a code or an
error, refuses what carries another state, ignores everything else, quotes nothing,
logs nothing, and lets go of its port."""

from __future__ import annotations

import socket

import httpx
import pytest

from amp_destinations._loopback import RedirectListener

STATE = "the-one-time-state"


@pytest.fixture
def listener():
    with RedirectListener(STATE) as listening:
        yield listening


def get(listener, query="", path="/callback"):
    return httpx.get(f"http://127.0.0.1:{listener.port}{path}{query}")


def test_it_listens_on_loopback_at_a_free_port(listener):
    assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"
    assert listener.port > 0


def test_the_redirect_with_the_state_is_answered_and_ends_the_wait(listener):
    answer = get(listener, f"?code=c0de&state={STATE}")
    assert answer.status_code == 200
    assert "You can close this tab." in answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    redirect = listener.wait(5)
    assert redirect.values == {"code": "c0de", "state": STATE}
    assert redirect.state_matches


def test_anything_else_is_ignored_and_the_wait_goes_on(listener):
    assert get(listener, path="/favicon.ico").status_code == 404
    assert get(listener).status_code == 400  # the right path, but no code or error
    assert get(listener, "?state=" + STATE).status_code == 400
    assert listener.wait(0.05) is None
    assert get(listener, f"?code=c0de&state={STATE}").status_code == 200
    assert listener.wait(5).values["code"] == "c0de"


def test_another_state_is_refused_and_ends_the_wait(listener):
    answer = get(listener, "?code=c0de&state=forged")
    assert answer.status_code == 400
    assert "does not belong to the authorization" in answer.text
    assert listener.wait(5).state_matches is False


def test_a_state_that_is_not_ascii_is_refused_not_crashed_on(listener):
    assert get(listener, "?code=c0de&state=%C3%A9t%C3%A9").status_code == 400
    assert listener.wait(5).state_matches is False


def test_the_first_redirect_counts(listener):
    assert get(listener, f"?error=access_denied&state={STATE}").status_code == 200
    assert get(listener, f"?code=c0de&state={STATE}").status_code == 410
    assert listener.wait(5).values == {"error": "access_denied", "state": STATE}


def test_its_pages_quote_nothing_from_the_request(listener):
    answer = get(listener, "?code=%3Cscript%3Ealert(1)%3C/script%3E&state=forged")
    assert "script" not in answer.text and "forged" not in answer.text


def test_it_logs_nothing_not_even_the_request_line(listener, capfd):
    get(listener, path="/favicon.ico")
    get(listener, f"?code=c0de&state={STATE}")
    listener.wait(5)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_connection_that_sends_nothing_does_not_hold_up_the_redirect(listener):
    with socket.create_connection(("127.0.0.1", listener.port)):  # a browser's preconnect
        assert get(listener, f"?code=c0de&state={STATE}").status_code == 200
    assert listener.wait(5).state_matches


def test_a_path_of_the_apps_own_is_the_one_listened_on():
    with RedirectListener(STATE, path="/larch/done", code_parameter="auth_code") as listener:
        assert get(listener, f"?auth_code=c0de&state={STATE}").status_code == 404
        assert (
            get(listener, f"?auth_code=c0de&state={STATE}", path="/larch/done").status_code == 200
        )
        assert listener.wait(5).values["auth_code"] == "c0de"


def test_closing_frees_the_port():
    listener = RedirectListener(STATE).start()
    port = listener.port
    listener.close()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    with RedirectListener(STATE, port=port) as again:  # free to be taken again
        assert again.port == port
