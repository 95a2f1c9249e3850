"""From the authorization URL to the code, for any provider: what a person may paste
(the address, its query, the bare code), the flow's own parameter names, and the ways
the redirect cannot be received, each said before anything is shown."""

from __future__ import annotations

import socket
import webbrowser

import pytest

import amp_destinations as amp
from amp_destinations._redirect import code_from_pasted, receive_code

STATE = "s-123"


class Plain(amp.AuthorizationFlow):
    def authorization_url(self, values, redirect_uri, state):
        return f"https://provider.example/auth?state={state}&redirect_uri={redirect_uri}"


class Renamed(Plain):
    """A provider with its own names, as TikTok has (auth_code)."""

    code_parameter = "auth_code"
    state_parameter = "st"
    error_parameter = "failure"


class NoLoopback(Plain):
    loopback_redirect = False


@pytest.mark.parametrize(
    "pasted",
    [
        f"http://127.0.0.1:5/callback?code=c-1&state={STATE}",
        f"  https://app.example/cb?state={STATE}&code=c-1&extra=  \n",
        f"code=c-1&state={STATE}",
        f"?code=c-1&state={STATE}",
    ],
)
def test_the_address_or_its_query_gives_the_code(pasted):
    assert code_from_pasted(pasted, Plain(), STATE) == "c-1"


@pytest.mark.parametrize("code", ["c-1", "YWJjZA==", "4/0AX4XfWh_x.y~z"])
def test_a_bare_code_is_taken_as_it_is(code):
    assert code_from_pasted(f" {code}\n", Plain(), STATE) == code


def test_a_flow_names_its_own_parameters():
    pasted = f"https://app.example/cb?auth_code=c-9&st={STATE}"
    assert code_from_pasted(pasted, Renamed(), STATE) == "c-9"
    with pytest.raises(amp.AuthorizationRefused, match="carries no 'auth_code'"):
        code_from_pasted(f"https://app.example/cb?code=c-9&state={STATE}", Renamed(), STATE)
    with pytest.raises(amp.AuthorizationRefused, match=r"denied \(nope\)"):
        code_from_pasted(f"failure=nope&st={STATE}", Renamed(), STATE)


@pytest.mark.parametrize(
    "pasted, refusal",
    [
        ("", "nothing was pasted"),
        ("two words", "neither the address the browser was sent to nor a code"),
        ("c\x1b[2J", "neither the address"),
        ("https://app.example/cb", "carries no 'code'"),
        ("https://app.example/cb?code=c-1", "state does not match"),
        ("https://app.example/cb?code=c-1&state=other", "state does not match"),
        # The state is checked first: a forged error proves nothing either.
        ("https://app.example/cb?error=access_denied&state=other", "state does not match"),
        (f"https://app.example/cb?error=&state={STATE}", "denied (no reason given)"),
        (
            f"https://app.example/cb?error=access_denied&error_description=No+thanks&state={STATE}",
            "denied (access_denied: No thanks)",
        ),
    ],
)
def test_what_cannot_be_used_is_refused_saying_why(pasted, refusal):
    with pytest.raises(amp.AuthorizationRefused) as caught:
        code_from_pasted(pasted, Plain(), STATE)
    assert refusal in str(caught.value)


def test_a_long_description_from_the_provider_is_cut_short():
    pasted = f"error=x&error_description={'y' * 5000}&state={STATE}"
    with pytest.raises(amp.AuthorizationRefused) as caught:
        code_from_pasted(pasted, Plain(), STATE)
    assert len(str(caught.value)) < 300


def receive(flow, **options):
    defaults = {"redirect_uri": None, "browser": False, "read_redirect": None, "time_limit": 5}
    return receive_code(flow, {}, **{**defaults, **options})


def test_without_a_browser_the_pasted_address_is_read_back_for_a_loopback_uri():
    asked = []

    def read_redirect(url):
        asked.append(url)
        state = url.split("state=")[1].split("&")[0]
        return f"http://127.0.0.1:1/callback?code=c-7&state={state}"

    code, uri = receive(Plain(), read_redirect=read_redirect)
    assert code == "c-7"
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/callback")
    assert f"redirect_uri={uri}" in asked[0]


def test_the_system_browser_opens_when_asked(monkeypatch):
    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    code, uri = receive(NoLoopback(), redirect_uri="https://app.example/cb", browser=True,
                        read_redirect=lambda url: "c-8")  # fmt: skip
    assert (code, uri) == ("c-8", "https://app.example/cb")
    assert opened and opened[0].startswith("https://provider.example/auth?state=")


@pytest.mark.parametrize(
    "flow, options, refusal",
    [
        (Plain(), {}, "give read_redirect"),
        (NoLoopback(), {"read_redirect": str}, "takes no loopback redirect: give the redirect URI"),
        (
            Plain(),
            {"redirect_uri": "https://app.example/cb", "browser": True},
            "give read_redirect",
        ),
    ],
    ids=["nothing shows the page", "no redirect uri", "redirect elsewhere"],
)
def test_a_redirect_that_cannot_be_received_is_said_first(flow, options, refusal, monkeypatch):
    monkeypatch.setattr(webbrowser, "open", pytest.fail)
    with pytest.raises(amp.AmpDestError, match=refusal):
        receive(flow, **options)


def test_a_taken_port_of_a_loopback_redirect_uri_is_said_first():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(amp.AmpDestError, match=f"cannot listen on 127.0.0.1:{port}"):
            receive(Plain(), redirect_uri=f"http://127.0.0.1:{port}/cb", browser=pytest.fail)
