"""Host.authorize_credential and reauthorize_credential through a throw-away plugin
whose OAuth provider (Larch, in oauth_support) is a real server on 127.0.0.1: the
loopback listener, a pasted address or bare code, every refusal leaving nothing stored,
the checks made before a browser opens, what a flow returns held to the contract, and a
renewal that the destinations using the credential never notice."""

from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import keyring.backends.fail
import pytest

import amp_destinations as amp
from amp_destinations.testing import MemoryKeyring

sys.path.insert(0, str(Path(__file__).parent))
from oauth_support import ACCOUNTS, CLIENT_SECRET, GRANTED, Browser, LarchFlow, app_fields

APP_SECRET = {"client_secret": CLIENT_SECRET}


def authorize(host, provider, browser=None, name="larch", **options):
    browser = browser if browser is not None else Browser()
    return host.authorize_credential(
        name, "larch-oauth", app_fields(provider), APP_SECRET, browser=browser, **options
    )


def stored_token(backend, name="larch"):
    return backend.entries.get(("amp-destinations", f"{name}/access_token"))


def assert_nothing_stored(host, backend):
    assert host.credentials() == []
    assert backend.entries == {}


def test_authorizing_through_the_loopback_listener_stores_the_token_and_the_facts(
    larch_host, larch, memory_keyring
):
    browser = Browser()
    result = authorize(larch_host, larch, browser)

    credential = result.credential
    assert credential.name == "larch" and credential.type == "larch-oauth"
    assert credential.fields == {"client_id": "larch-app-1", "base_url": larch.url}
    assert credential.secrets == {"client_secret": "keyring", "access_token": "keyring"}
    assert credential.facts == {"account_ids": list(ACCOUNTS), "scopes": GRANTED}
    assert result.warnings == []
    assert stored_token(memory_keyring) in larch.tokens
    # The browser landed on the listener's page, at the redirect URI the exchange named.
    assert browser.landed == 200
    redirect_uri = larch.exchanges[0]["redirect_uri"]
    assert redirect_uri.startswith("http://127.0.0.1:") and redirect_uri.endswith("/callback")
    assert browser.redirected_to.startswith(redirect_uri + "?")
    assert CLIENT_SECRET not in browser.opened[0]


def test_the_listener_is_gone_once_the_authorization_is_done(larch_host, larch):
    browser = Browser()
    authorize(larch_host, larch, browser)
    port = urlsplit(browser.redirected_to).port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_each_authorization_sends_its_own_one_time_state(larch_host, larch):
    first, second = Browser(), Browser()
    authorize(larch_host, larch, first, name="one")
    authorize(larch_host, larch, second, name="two")
    states = [parse_qs(urlsplit(b.opened[0]).query)["state"][0] for b in (first, second)]
    assert states[0] != states[1] and all(len(state) >= 40 for state in states)


def test_a_destination_reads_the_facts_of_its_credential(larch_host, larch):
    authorize(larch_host, larch)
    larch_host.add_destination(
        "events", "larch-events", "larch", {"account_id": "acc-1", "list_id": "L-10"}
    )
    destination = larch_host.destination("events")
    assert destination.credential.facts["account_ids"] == list(ACCOUNTS)


def test_a_pasted_address_is_read_back_when_no_browser_is_used(larch_host, larch):
    person = Browser()
    asked = []

    def read_redirect(url):
        asked.append(url)
        return person.approve(url)  # the address bar, not followed: nothing listens

    result = authorize(larch_host, larch, browser=False, read_redirect=read_redirect)
    assert result.credential.secrets["access_token"] == "keyring"
    assert person.redirected_to.startswith(larch.exchanges[0]["redirect_uri"])
    assert len(asked) == 1


def test_a_bare_code_is_enough(larch_host, larch):
    def read_redirect(url):
        redirected = Browser().approve(url)
        return "  " + parse_qs(urlsplit(redirected).query)["code"][0] + "\n"

    result = authorize(larch_host, larch, browser=False, read_redirect=read_redirect)
    assert result.credential.facts["scopes"] == GRANTED


def test_a_redirect_elsewhere_is_pasted_even_with_a_browser(larch_host, larch):
    person = Browser()
    elsewhere = "https://app.example/callback"

    def read_redirect(url):
        assert person.opened == [url]  # shown in the browser first
        return person.redirected_to

    result = authorize(
        larch_host,
        larch,
        browser=person.visit,
        read_redirect=read_redirect,
        redirect_uri=elsewhere,
    )
    assert larch.exchanges[0]["redirect_uri"] == elsewhere
    assert result.credential.name == "larch"


def test_a_loopback_redirect_uri_of_the_app_is_listened_on_at_its_port(larch_host, larch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redirect_uri = f"http://localhost:{port}/larch/done"
    browser = Browser()
    authorize(larch_host, larch, browser, redirect_uri=redirect_uri)
    assert browser.landed == 200
    assert larch.exchanges[0]["redirect_uri"] == redirect_uri


@pytest.mark.parametrize(
    "browser, refusal",
    [
        (Browser(state="forged-state"), "state does not match"),
        (Browser(decision="deny"), "denied (access_denied: The user said no)"),
    ],
    ids=["wrong state", "denied"],
)
def test_a_refused_redirect_stores_nothing(larch_host, larch, memory_keyring, browser, refusal):
    with pytest.raises(amp.AuthorizationRefused, match=re.escape(refusal)):
        authorize(larch_host, larch, browser)
    assert browser.landed in (200, 400)
    assert larch.exchanges == []
    assert_nothing_stored(larch_host, memory_keyring)


def test_a_pasted_address_with_another_state_is_refused(larch_host, larch, memory_keyring):
    def read_redirect(url):
        return Browser(state="someone-elses").approve(url)

    with pytest.raises(amp.AuthorizationRefused, match="state does not match"):
        authorize(larch_host, larch, browser=False, read_redirect=read_redirect)
    assert_nothing_stored(larch_host, memory_keyring)


def test_a_refused_exchange_says_why_without_the_secret(larch_host, larch, memory_keyring):
    wrong = {"client_secret": "not-the-client-secret"}
    with pytest.raises(amp.AuthorizationRefused) as caught:
        larch_host.authorize_credential(
            "larch", "larch-oauth", app_fields(larch), wrong, browser=Browser()
        )
    assert str(caught.value) == "Larch refused the app's client id or secret"
    assert_nothing_stored(larch_host, memory_keyring)


def test_a_code_used_once_is_refused_the_second_time(larch_host, larch, memory_keyring):
    codes = []

    def read_redirect(url):
        if not codes:
            codes.append(parse_qs(urlsplit(Browser().approve(url)).query)["code"][0])
        return codes[0]

    authorize(larch_host, larch, browser=False, read_redirect=read_redirect, name="one")
    with pytest.raises(amp.AuthorizationRefused, match="invalid_grant"):
        authorize(larch_host, larch, browser=False, read_redirect=read_redirect, name="two")
    assert [c.name for c in larch_host.credentials()] == ["one"]


def test_a_refusal_quoting_the_secret_is_shown_without_it(larch_host, larch):
    class Quoting(LarchFlow):
        def exchange(self, code, values, redirect_uri, session):
            raise amp.AuthorizationRefused(f"bad secret {values['client_secret']} for {code}")

    larch_host.registry.credential_types["larch-oauth"].authorization = Quoting
    try:
        with pytest.raises(amp.AuthorizationRefused) as caught:
            authorize(larch_host, larch)
    finally:
        larch_host.registry.credential_types["larch-oauth"].authorization = LarchFlow
    assert str(caught.value) == "bad secret [secret] for [secret]"


def test_no_answer_in_time_gives_up_and_frees_the_port(larch_host, larch, memory_keyring):
    opened = []
    with pytest.raises(
        amp.AuthorizationRefused, match="no authorization arrived within 0.2 seconds"
    ):
        authorize(larch_host, larch, browser=opened.append, timeout=0.2)
    port = int(parse_qs(urlsplit(opened[0]).query)["redirect_uri"][0].split(":")[2].split("/")[0])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    assert_nothing_stored(larch_host, memory_keyring)


def test_a_paste_after_the_time_limit_is_not_exchanged(larch_host, larch):
    def slow_paste(url):
        redirected = Browser().approve(url)
        time.sleep(0.1)
        return redirected

    with pytest.raises(amp.AuthorizationRefused, match="within 0.05 seconds"):
        authorize(larch_host, larch, browser=False, read_redirect=slow_paste, timeout=0.05)
    assert larch.exchanges == []


def never_opened(url):
    raise AssertionError("the browser opened before the checks")


@pytest.mark.parametrize(
    "name, type_name, fields, error, kind",
    [
        ("bad name!", "larch-oauth", None, amp.InvalidFieldsError, None),
        ("larch", "no-such-type", None, amp.NotFoundError, "credential type"),
        ("larch", "bearer-token", None, amp.NotFoundError, "authorization flow"),
        ("larch", "larch-oauth", {"base_url": "http://127.0.0.1:9"}, amp.InvalidFieldsError, None),
    ],
    ids=["bad name", "no such type", "no flow", "no client id"],
)
def test_what_is_wrong_is_said_before_a_browser_opens(
    larch_host, name, type_name, fields, error, kind, memory_keyring
):
    with pytest.raises(error) as caught:
        larch_host.authorize_credential(name, type_name, fields, APP_SECRET, browser=never_opened)
    assert getattr(caught.value, "kind", None) == kind
    assert_nothing_stored(larch_host, memory_keyring)


def test_a_missing_app_field_is_named(larch_host):
    with pytest.raises(amp.InvalidFieldsError) as caught:
        larch_host.authorize_credential("larch", "larch-oauth", {}, {}, browser=never_opened)
    rule = ["is required to authorize with LarchFlow."]
    assert caught.value.errors == {"client_id": rule, "client_secret": rule}


def test_a_taken_name_is_refused_before_a_browser_opens(larch_host, larch):
    authorize(larch_host, larch)
    with pytest.raises(amp.AlreadyExistsError):
        authorize(larch_host, larch, never_opened)


def test_no_usable_keyring_is_said_before_a_browser_opens(home, larch_registry, larch):
    secrets = amp.SecretStore(keyring.backends.fail.Keyring(), environ={})
    with amp.Host(home, registry=larch_registry, secrets=secrets) as host:
        with pytest.raises(amp.SecretStoreError, match="no usable keyring backend"):
            authorize(host, larch, never_opened)
        assert host.credentials() == []


class RefusesTokens(MemoryKeyring):
    """A keyring that refuses to keep one field, as a locked one refuses everything."""

    def set_password(self, service, username, password):
        if username.endswith("/access_token"):
            raise keyring.errors.PasswordSetError("locked")
        super().set_password(service, username, password)


def test_a_keyring_that_refuses_the_token_leaves_no_app_secret_behind(home, larch_registry, larch):
    backend = RefusesTokens()
    with amp.Host(home, registry=larch_registry, secrets=amp.SecretStore(backend)) as host:
        with pytest.raises(amp.SecretStoreError, match="refused to store larch/access_token"):
            authorize(host, larch)
        assert_nothing_stored(host, backend)


def test_a_name_taken_while_the_person_approved_leaves_no_secret_behind(
    larch_host, larch, memory_keyring
):
    person = Browser()

    def slow_person(url):
        larch_host.add_credential("larch", "bearer-token", secrets={"token": "t"})
        person(url)

    with pytest.raises(amp.AlreadyExistsError):
        authorize(larch_host, larch, slow_person)
    assert [c.type for c in larch_host.credentials()] == ["bearer-token"]
    assert stored_token(memory_keyring) is None
    assert ("amp-destinations", "larch/client_secret") not in memory_keyring.entries


def test_warnings_of_the_flow_are_returned(larch_host, larch):
    larch.scopes = ["accounts:read"]
    result = authorize(larch_host, larch)
    assert result.warnings == ["Larch did not grant events:write"]
    assert result.to_dict()["warnings"] == result.warnings
    assert result.to_dict()["credential"]["facts"]["scopes"] == ["accounts:read"]


# -- flows that break the contract ------------------------------------------------------


class FactsWithTheToken(LarchFlow):
    def exchange(self, code, values, redirect_uri, session):
        authorization = super().exchange(code, values, redirect_uri, session)
        token = authorization.secrets["access_token"]
        return amp.Authorization(authorization.secrets, facts={"debug": f"token={token}"})


class SecretAsField(LarchFlow):
    def exchange(self, code, values, redirect_uri, session):
        authorization = super().exchange(code, values, redirect_uri, session)
        return amp.Authorization({}, fields={"access_token": authorization.secrets["access_token"]})


class FactsNotJson(LarchFlow):
    def exchange(self, code, values, redirect_uri, session):
        authorization = super().exchange(code, values, redirect_uri, session)
        return amp.Authorization(authorization.secrets, facts={"when": object()})


class NotAnAuthorization(LarchFlow):
    def exchange(self, code, values, redirect_uri, session):
        return {"access_token": "x"}


class SecretInTheUrl(LarchFlow):
    def authorization_url(self, values, redirect_uri, state):
        return super().authorization_url(values, redirect_uri, state) + (
            f"&client_secret={values['client_secret']}"
        )


@pytest.mark.parametrize(
    "flow, message",
    [
        (FactsWithTheToken, "put a secret in its facts or fields"),
        (SecretAsField, "'access_token' in the wrong place"),
        (FactsNotJson, "facts or fields that are not JSON"),
        (NotAnAuthorization, "returned dict, not an Authorization"),
        (SecretInTheUrl, "put a secret in the URL"),
    ],
)
def test_a_flow_that_breaks_the_contract_stores_nothing(
    larch_host, larch, memory_keyring, flow, message
):
    credential_type = larch_host.registry.credential_types["larch-oauth"]
    credential_type.authorization = flow
    browser = Browser()
    try:
        with pytest.raises(amp.PluginError, match=message):
            authorize(larch_host, larch, browser)
    finally:
        credential_type.authorization = LarchFlow
    assert_nothing_stored(larch_host, memory_keyring)
    if flow is SecretInTheUrl:
        assert browser.opened == []


# -- reauthorizing ---------------------------------------------------------------------


def authorized_destination(host, provider):
    authorize(host, provider)
    host.add_destination(
        "events", "larch-events", "larch", {"account_id": "acc-1", "list_id": "L-10"}
    )


def test_reauthorizing_renews_the_token_and_every_destination_keeps_working(
    larch_host, larch, memory_keyring
):
    authorized_destination(larch_host, larch)
    assert larch_host.send("events", rows=[{"id": "1"}]).status == "succeeded"
    before = larch_host.credential("larch")
    old_token = stored_token(memory_keyring)

    larch.revoke_all()
    failed = larch_host.send("events", rows=[{"id": "2"}])
    assert failed.status == "failed" and failed.summary["failure"] == "auth"
    assert larch_host.test_destination("events").failure is amp.FailureType.AUTH

    larch.scopes = ["events:write"]
    result = larch_host.reauthorize_credential("larch", browser=Browser())
    assert stored_token(memory_keyring) not in (None, old_token)
    assert result.credential.facts["scopes"] == ["events:write"]
    assert result.warnings == ["Larch did not grant accounts:read"]
    after = larch_host.credential("larch")
    assert (after.fields, after.created_at) == (before.fields, before.created_at)
    assert after.updated_at >= before.updated_at
    assert larch_host.test_destination("events").ok
    resumed = larch_host.send(resume=failed.id, rows=[{"id": "2"}])
    assert resumed.status == "succeeded"
    assert [event["id"] for event in larch.events] == ["1", "2"]


def test_reauthorizing_keeps_the_app_secret_unless_given_and_may_change_a_field(
    larch_host, larch, memory_keyring
):
    authorize(larch_host, larch)
    larch_host.reauthorize_credential("larch", {"base_url": larch.url}, browser=Browser())
    assert larch.exchanges[-1]["client_secret"] == CLIENT_SECRET
    with pytest.raises(amp.AuthorizationRefused, match="client id or secret"):
        larch_host.reauthorize_credential(
            "larch", secrets={"client_secret": "rotated-wrongly"}, browser=Browser()
        )
    secret = memory_keyring.entries[("amp-destinations", "larch/client_secret")]
    assert secret == CLIENT_SECRET


def test_a_refused_reauthorization_leaves_the_credential_as_it_was(
    larch_host, larch, memory_keyring
):
    authorized_destination(larch_host, larch)
    token, before = stored_token(memory_keyring), larch_host.credential("larch")
    with pytest.raises(amp.AuthorizationRefused, match="denied"):
        larch_host.reauthorize_credential("larch", browser=Browser(decision="deny"))
    assert stored_token(memory_keyring) == token
    assert larch_host.credential("larch") == before


def test_reauthorizing_warns_when_an_environment_variable_overrides_the_token(
    larch_host, larch, monkeypatch
):
    authorize(larch_host, larch)
    monkeypatch.setenv("AMP_DEST_SECRET_LARCH_ACCESS_TOKEN", "from-ci")
    result = larch_host.reauthorize_credential("larch", browser=Browser())
    assert result.warnings == [
        "access_token comes from the environment variable AMP_DEST_SECRET_LARCH_ACCESS_TOKEN, "
        "which wins over the new value stored in the keyring: update or unset it"
    ]


def test_reauthorizing_what_has_no_flow_or_does_not_exist_is_refused(host):
    host.add_credential("cred", "echo-token", secrets={"token": "good"})
    with pytest.raises(amp.NotFoundError) as caught:
        host.reauthorize_credential("cred", browser=never_opened)
    assert (caught.value.kind, caught.value.name) == ("authorization flow", "echo-token")
    with pytest.raises(amp.NotFoundError) as caught:
        host.reauthorize_credential("nobody", browser=never_opened)
    assert caught.value.kind == "credential"


def test_a_refused_token_at_save_names_the_credential_and_that_it_can_be_renewed(
    larch_host, larch, host
):
    authorize(larch_host, larch)
    larch.revoke_all()
    with pytest.raises(amp.ConnectionTestFailed) as caught:
        larch_host.add_destination(
            "events", "larch-events", "larch", {"account_id": "acc-1", "list_id": "L-10"}
        )
    error = caught.value
    assert (error.status.failure, error.credential, error.renewable) == ("auth", "larch", True)
    host.add_credential("cred", "echo-token", secrets={"token": "refused"})
    with pytest.raises(amp.ConnectionTestFailed) as caught:
        host.add_destination("rec", "recorder", "cred", {"label": "x"})
    assert (caught.value.credential, caught.value.renewable) == ("cred", False)
