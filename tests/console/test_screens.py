"""The Plugins, Credentials and Destinations screens through Starlette's test client:
what an operator reads and what saving does, on the same Host rules as the CLI."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from oauth_support import CLIENT_SECRET, Browser, app_fields

SECRET = "s3cret-value-never-shown"


def test_plugins_lists_each_plugin_with_what_it_registered(console):
    page = console.get("/plugins").text
    assert "recorder-plugin" in page
    assert "destinations: recorder" in page
    assert "credential types: echo-token" in page


def test_a_credential_added_from_its_schema_form_keeps_its_secret_out_of_every_page(
    console, host, memory_keyring
):
    form = console.get("/credentials/new?type=echo-token").text
    assert 'type="password" id="in-token" name="token"' in form
    assert "Any token; &#39;good&#39; passes tests." in form  # the schema's description
    answer = console.post(
        "/credentials/new",
        {"type": "echo-token", "mode": "add", "name": "cred", "token": SECRET, "account": "acme"},
    )
    assert answer.status_code == 303
    assert host.credential("cred").fields == {"account": "acme"}
    assert host.secrets.get("cred", "token") == SECRET
    page = console.get("/credentials/cred").text
    assert "token: set (keyring)" in page
    assert SECRET not in page and SECRET not in console.get("/credentials").text


def test_an_update_keeps_a_secret_left_empty_and_replaces_a_typed_one(console, host):
    host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": SECRET})
    answer = console.post("/credentials/cred", {"account": "other", "token": ""})
    assert answer.status_code == 303
    assert host.credential("cred").fields == {"account": "other"}
    assert host.secrets.get("cred", "token") == SECRET
    console.post("/credentials/cred", {"account": "other", "token": "new-token-value"})
    assert host.secrets.get("cred", "token") == "new-token-value"


def test_a_refused_credential_shows_the_schema_rule_on_its_field(console, host):
    answer = console.post(
        "/credentials/new", {"type": "echo-token", "mode": "add", "name": "cred", "account": "a"}
    )
    assert answer.status_code == 422
    assert "token: is required" in answer.text
    assert host.credentials() == []


def test_a_credential_in_use_is_not_removed_and_an_unused_one_is(console, ready_host):
    answer = console.post("/credentials/cred/remove")
    assert answer.status_code == 400
    assert "rec" in answer.text
    ready_host.remove_destination("rec")
    assert console.post("/credentials/cred/remove").status_code == 303
    assert ready_host.credentials() == []


def test_authorize_shows_the_providers_page_and_stores_what_it_brings(larch_console, larch):
    console = larch_console
    form = console.get("/credentials/new?type=larch-oauth").text
    assert 'id="authorize-form"' in form
    answer = console.post(
        "/credentials/new",
        {
            "type": "larch-oauth",
            "mode": "authorize",
            "name": "larch",
            "client_secret": CLIENT_SECRET,
            **app_fields(larch),
        },
    )
    assert answer.status_code == 303
    job_page = answer.headers["location"]
    job = console.app.state.console.jobs.get(job_page.removeprefix("/jobs/"))
    job.started.wait(10)
    page = console.get(job_page).text
    url = re.search(r'href="([^"]+)"[^>]*id="authorization-page"', page).group(1)
    Browser()(url.replace("&amp;", "&"))  # the person approves; the listener gets the code
    assert job.done.wait(10)
    assert "Credential larch authorized." in console.get(f"{job_page}/status").text
    with console.app.state.console.open_host() as host:
        assert host.credential("larch").secrets["access_token"] == "keyring"
    page = console.get("/credentials/larch").text
    assert "Reauthorize in a browser" in page
    assert CLIENT_SECRET not in page


def test_the_destination_form_follows_the_settings_schema(console, ready_host):
    page = console.get("/destinations/new?type=recorder").text
    assert re.search(r'for="in-label">label <span class="required"', page)  # required mark
    assert 'type="checkbox" id="in-enabled" name="enabled" value="true" checked' in page  # default
    assert 'type="number" id="in-retries" name="retries" value="0"' in page
    assert "Seconds each answer takes." in page  # description
    assert '<textarea id="in-poison"' in page  # a list


def test_saving_a_destination_tests_its_connection_and_shows_each_check(console, host):
    host.add_credential("cred", "echo-token", {}, {"token": "good"})
    host.add_credential("bad", "echo-token", {}, {"token": "refused-one"})
    answer = console.post(
        "/destinations/new",
        {"type": "recorder", "name": "rec", "credential": "bad", "label": "one"},
    )
    assert answer.status_code == 422
    assert "connection test failed" in answer.text
    assert "the token was refused" in answer.text  # the check's message
    assert "amp-dest credentials update bad --secret token" in answer.text  # its hint
    assert host.destinations() == []
    answer = console.post(
        "/destinations/new",
        {
            "type": "recorder",
            "name": "rec",
            "credential": "cred",
            "label": "one",
            "enabled": "true",
        },
    )
    assert answer.status_code == 200
    assert "Connection OK" in answer.text
    assert "label set to one" in answer.text  # what on_save applied
    # Only what the operator set is stored: the defaults stay defaults.
    assert host.destinations()[0].settings == {"label": "one"}


def test_an_edit_stores_only_what_changed(console, ready_host):
    answer = console.post(
        "/destinations/rec",
        {
            "credential": "cred",
            "label": "two",
            "retries": "0",
            "enabled": "true",
            "fatal_after": "-1",
            "throttle_once": "0.0",
            "delay": "0.0",
        },
    )
    assert answer.status_code == 200, answer.text
    assert ready_host.destinations()[0].settings == {"label": "two"}


def test_the_connection_test_on_demand_shows_a_failed_check_with_its_hint(console, ready_host):
    ready_host.update_credential("cred", secrets={"token": "refused-one"})
    fragment = console.post("/destinations/rec/test").text
    assert "failed (auth)" in fragment
    assert "amp-dest credentials update cred --secret token" in fragment


def test_listed_choices_become_a_select_of_what_the_remote_system_lists(larch_console, larch):
    console = larch_console
    with console.app.state.console.open_host() as host:
        host.authorize_credential(
            "larch",
            "larch-oauth",
            app_fields(larch),
            {"client_secret": CLIENT_SECRET},
            browser=Browser(),
        )
    page = console.get("/destinations/new?type=larch-events&credential=larch").text
    assert 'id="list-account_id"' in page
    fragment = console.post(
        "/destinations/choices/account_id", {"type": "larch-events", "credential": "larch"}
    ).text
    assert '<select id="in-account_id" name="account_id"' in fragment
    accounts = re.findall(r'<option value="([^"]+)"', fragment)
    assert accounts
    fragment = console.post(
        "/destinations/choices/list_id",
        {"type": "larch-events", "credential": "larch", "account_id": accounts[0]},
    ).text
    assert re.findall(r'<option value="([^"]+)"', fragment)


def test_the_destinations_list_shows_each_ones_last_run(console, ready_host):
    assert "never" in console.get("/destinations").text
    run = ready_host.send("rec", rows=[{"id": "E1", "email": "a@example.com"}])
    page = console.get("/destinations").text
    assert f'href="/runs/{run.id}"' in page and "succeeded" in page


def test_an_authorization_redirected_elsewhere_takes_the_pasted_address(larch_console, larch):
    console = larch_console
    answer = console.post(
        "/credentials/new",
        {
            "type": "larch-oauth",
            "mode": "authorize",
            "name": "larch",
            "client_secret": CLIENT_SECRET,
            "redirect_uri": "https://app.example/larch/callback",
            **app_fields(larch),
        },
    )
    job_page = answer.headers["location"]
    job = console.app.state.console.jobs.get(job_page.removeprefix("/jobs/"))
    job.started.wait(10)
    page = console.get(job_page).text
    assert 'id="paste-form"' in page
    assert "every 1s" not in page  # no polling while the operator types
    url = re.search(r'href="([^"]+)"[^>]*id="authorization-page"', page).group(1)
    browser = Browser()
    browser.visit(url.replace("&amp;", "&"))  # nothing listens there: an error page
    answer = console.post(f"{job_page}/redirect", {"redirect": browser.redirected_to})
    assert answer.status_code == 303
    assert job.done.is_set() and job.error is None
    assert "Credential larch authorized." in console.get(f"{job_page}/status").text


def test_reauthorize_renews_the_credential_in_place(larch_console, larch):
    console = larch_console
    with console.app.state.console.open_host() as host:
        host.authorize_credential(
            "larch",
            "larch-oauth",
            app_fields(larch),
            {"client_secret": CLIENT_SECRET},
            browser=Browser(),
        )
        before = host.secrets.get("larch", "access_token")
    page = console.get("/credentials/larch").text
    assert 'type="password" id="renew-client_secret"' in page  # a rotated app secret
    answer = console.post("/credentials/larch/reauthorize")
    job = console.app.state.console.jobs.get(answer.headers["location"].removeprefix("/jobs/"))
    job.started.wait(10)
    Browser()(job.auth_url)
    assert job.done.wait(10) and job.error is None
    with console.app.state.console.open_host() as host:
        assert host.secrets.get("larch", "access_token") not in (None, before)


def test_a_plugin_that_failed_to_load_is_shown_with_its_error(make_console, tmp_path):
    import amp_destinations as amp

    plugins = tmp_path / "plugins"
    plugins.mkdir(mode=0o755)
    (plugins / "broken.py").write_text("raise RuntimeError('no')\n")
    plugins.chmod(0o755)
    console = make_console(amp.load_plugins(entry_points=False, plugins_dir=plugins)).sign_in()
    page = console.get("/plugins").text
    assert "broken" in page and 'class="failed"' in page
