"""Connecting TikTok from the CLI, end to end over real sockets: ``credentials
authorize`` through the loopback listener (the test plays the browser: it follows the
authorization URL, approves on the emulator's page, follows the redirect) and with
``--no-browser`` and a pasted address; each refusal in one line; a destination added
from listed choices; a token revoked mid-way, ``reauthorize``, and a send that works
again. The token and the app secret appear in no output, database byte, file under the
home or argv."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from tiktok_ads_events.emulator import Emulator, approve

pytestmark = pytest.mark.e2e

CREDENTIAL = "tiktok"
SECOND_ADVERTISER = "7000000000000000002"
SECOND_EVENT_SET = "7100000000000000002"
SECRETS_LINE = json.dumps({"app_secret": e2e.APP_SECRET})


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def operator(tmp_path, emulator):
    """One operator's environment, and every command line run in it (for the argv check)."""
    home = tmp_path / "home"
    env = e2e.keyring_env(home, tmp_path / "keyring")
    argv: list[list[str]] = []

    def amp_dest(*args: str):
        argv.append(list(args))
        return e2e.amp_dest(env, *args)

    def authorize(*args: str, respond, first_line=SECRETS_LINE):
        argv.append(list(args))
        return e2e.authorizing(env, *args, respond=respond, first_line=first_line)

    return home, amp_dest, authorize, argv


def authorize_args(emulator, *extra: str, name: str = CREDENTIAL) -> list[str]:
    return [
        "credentials",
        "authorize",
        name,
        "--type",
        e2e.DESTINATION_TYPE,
        "--set",
        f"app_id={e2e.APP_ID}",
        "--set",
        f"api_base_url={emulator.base_url}",
        "--secrets-stdin",
        *extra,
    ]


def play_the_browser(url: str) -> None:
    """Approve on the emulator's page and follow its redirect to the loopback listener."""
    answer = httpx.get(approve(url), timeout=e2e.PROCESS_TIMEOUT)
    assert answer.status_code == 200


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def succeeded(completed) -> str:
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    return completed.stdout


def credential_facts(amp_dest) -> dict:
    shown = json.loads(succeeded(amp_dest("credentials", "show", CREDENTIAL, "--json")))
    return shown["facts"]


def test_authorize_through_the_loopback_listener(operator, emulator):
    _, amp_dest, authorize, _ = operator
    completed = authorize(*authorize_args(emulator), respond=play_the_browser)
    assert f"authorized credential {CREDENTIAL}" in succeeded(completed)
    assert credential_facts(amp_dest) == {
        "advertiser_ids": [e2e.ADVERTISER_ID, SECOND_ADVERTISER],
        "scopes": ["event.report", "offline_event_set.manage", "ad_account.read"],
        "long_term_token": True,
    }
    (token,) = emulator.state.tokens_issued_to(e2e.APP_ID)
    assert token not in completed.stdout + completed.stderr


def test_authorize_with_no_browser_and_the_pasted_address(operator, emulator):
    _, amp_dest, authorize, _ = operator
    completed = authorize(*authorize_args(emulator, "--no-browser"), respond=approve)
    assert f"authorized credential {CREDENTIAL}" in succeeded(completed)
    assert credential_facts(amp_dest)["advertiser_ids"] == [e2e.ADVERTISER_ID, SECOND_ADVERTISER]


def bare_code(url: str) -> str:
    return dict(parse_qsl(urlsplit(approve(url)).query))["auth_code"]


def test_each_refusal_is_one_clear_line_and_stores_nothing(operator, emulator):
    _, amp_dest, authorize, _ = operator
    no_browser = authorize_args(emulator, "--no-browser")

    wrong_state = authorize(*no_browser, respond=lambda url: with_query(approve(url), state="x"))
    assert "state" in e2e.the_error(wrong_state)

    denied = authorize(*no_browser, respond=lambda url: approve(url, deny=True))
    assert "denied" in e2e.the_error(denied)

    wrong_secret = authorize(
        *no_browser, respond=approve, first_line=json.dumps({"app_secret": "not-the-secret"})
    )
    message = e2e.the_error(wrong_secret)
    assert message.startswith(f"TikTok refused app_id {e2e.APP_ID} with this app_secret: ")
    assert "not-the-secret" not in wrong_secret.stdout + wrong_secret.stderr

    def expired(url: str) -> str:
        redirected = approve(url)
        emulator.state.auth_codes.advance(3600)
        return redirected

    message = e2e.the_error(authorize(*no_browser, respond=expired))
    assert message.startswith("the authorization code expired before it was exchanged")

    codes: list[str] = []

    def first_use(url: str) -> str:
        codes.append(bare_code(url))
        return codes[0]

    succeeded(authorize(*authorize_args(emulator, "--no-browser", name="other"), respond=first_use))
    reused = authorize(*no_browser, respond=lambda url: codes[0])
    assert "used already or not valid" in e2e.the_error(reused)

    listed = json.loads(succeeded(amp_dest("credentials", "list", "--json")))
    assert [credential["name"] for credential in listed] == ["other"]


def test_a_destination_added_from_listed_choices_then_revoked_and_reauthorized(
    operator, emulator, tmp_path
):
    home, amp_dest, authorize, argv = operator
    outputs = []

    def run(*args: str):
        completed = amp_dest(*args)
        outputs.append(completed.stdout + completed.stderr)
        return completed

    outputs.append(succeeded(authorize(*authorize_args(emulator), respond=play_the_browser)))
    options = ["destinations", "options", e2e.DESTINATION_TYPE, "--credential", CREDENTIAL]
    advertisers = json.loads(succeeded(run(*options[:3], "advertiser_id", *options[3:], "--json")))
    assert advertisers == [
        {"value": e2e.ADVERTISER_ID, "label": f"Emulator advertiser ({e2e.ADVERTISER_ID})"},
        {"value": SECOND_ADVERTISER, "label": f"Emulator second brand ({SECOND_ADVERTISER})"},
    ]
    chosen_advertiser = advertisers[1]["value"]
    event_sets = json.loads(
        succeeded(
            run(
                *options[:3],
                "event_set_id",
                *options[3:],
                "--set",
                f"advertiser_id={chosen_advertiser}",
                "--json",
            )
        )
    )
    assert event_sets == [{"value": SECOND_EVENT_SET, "label": f"Call centre ({SECOND_EVENT_SET})"}]
    add = [
        "destinations",
        "add",
        "calls",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        CREDENTIAL,
        "--set",
        f"advertiser_id={chosen_advertiser}",
        "--set",
        f"api_base_url={emulator.base_url}",
    ]
    # In a script, a missing choosable setting names the command that lists its values.
    missing = e2e.the_error(run(*add))
    assert "amp-dest destinations options tiktok-offline-events event_set_id" in missing
    added = succeeded(run(*add, "--set", f"event_set_id={event_sets[0]['value']}"))
    assert "[ok  ] advertiser authorized" in added

    events = e2e.write_generated_events(tmp_path / "events.csv", 30)
    expected = set(e2e.valid_rows(e2e.read_rows(events)))
    succeeded(run("send", "calls", "--input", str(events)))
    assert emulator.state.event_count(SECOND_EVENT_SET) == len(expected)

    # The person revokes the app in TikTok: test, send and save each say to reauthorize.
    (first_token,) = emulator.state.tokens_issued_to(e2e.APP_ID)
    assert httpx.post(emulator.url("/_emulator/revoke"), json={"app_id": e2e.APP_ID}).json() == {
        "revoked": 1
    }
    renew = f"`amp-dest credentials reauthorize {CREDENTIAL}`"
    tested = run("destinations", "test", "calls")
    assert tested.returncode != 0
    assert renew in e2e.the_error(tested)
    more = e2e.write_generated_events(tmp_path / "more.csv", 30, seed=8)
    refused_send = run("send", "calls", "--input", str(more))
    assert renew in refused_send.stdout + refused_send.stderr
    saved = run(*add[:2], "calls-again", *add[3:], "--set", f"event_set_id={SECOND_EVENT_SET}")
    assert renew in e2e.the_error(saved)

    completed = authorize(
        "credentials", "reauthorize", CREDENTIAL, "--no-browser", respond=approve, first_line=None
    )
    outputs.append(succeeded(completed))
    assert f"reauthorized credential {CREDENTIAL}" in completed.stdout
    succeeded(run("send", "calls", "--input", str(more)))
    assert emulator.state.event_count(SECOND_EVENT_SET) == len(expected) + len(
        e2e.valid_rows(e2e.read_rows(more))
    )

    # Nothing secret anywhere: outputs, the database and every file under the home, argv.
    secrets = [first_token, *emulator.state.tokens_issued_to(e2e.APP_ID), e2e.APP_SECRET]
    assert len(set(secrets)) == 3
    for secret in secrets:
        assert all(secret not in output for output in outputs)
        for path in home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"a secret is in {path}"
        assert all(secret not in " ".join(args) for args in argv)


def test_the_python_api_authorizes_and_sends_with_no_secret_in_a_log_record(
    emulator, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    with e2e.new_host(tmp_path / "home") as host:
        result = host.authorize_credential(
            CREDENTIAL,
            e2e.DESTINATION_TYPE,
            {"app_id": e2e.APP_ID, "api_base_url": emulator.base_url},
            {"app_secret": e2e.APP_SECRET},
            browser=False,
            read_redirect=approve,
        )
        assert result.warnings == []
        (advertiser, _) = host.choices(e2e.DESTINATION_TYPE, "advertiser_id", CREDENTIAL)
        (event_set,) = host.choices(
            e2e.DESTINATION_TYPE,
            "event_set_id",
            CREDENTIAL,
            {"advertiser_id": advertiser.value},
        )
        host.add_destination(
            "store",
            e2e.DESTINATION_TYPE,
            CREDENTIAL,
            {
                "advertiser_id": advertiser.value,
                "event_set_id": event_set.value,
                "api_base_url": emulator.base_url,
            },
        )
        events = e2e.write_generated_events(tmp_path / "events.csv", 20)
        assert host.send("store", str(events)).ok
    (token,) = emulator.state.tokens_issued_to(e2e.APP_ID)
    assert caplog.records  # httpx logs each request: its URLs were checked too
    for record in caplog.records:
        assert token not in record.getMessage() and e2e.APP_SECRET not in record.getMessage()
