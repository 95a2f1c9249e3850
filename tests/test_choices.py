"""Settings chosen from what the remote system lists: Host.choices, ``amp-dest
destinations options``, and ``destinations add`` choosing a missing required setting
(numbered on a terminal; in a script, one line naming the command that lists it),
through the throw-away Larch plugin and its provider on 127.0.0.1."""

from __future__ import annotations

import json
import shlex
import sys
import webbrowser
from pathlib import Path

import pytest
from click.testing import CliRunner

import amp_destinations as amp
from amp_destinations import _cli_choices
from amp_destinations.cli import build_cli

sys.path.insert(0, str(Path(__file__).parent))
from oauth_support import CLIENT_SECRET, Browser, LarchEvents, app_fields


@pytest.fixture
def authorized(larch_host, larch):
    larch_host.authorize_credential(
        "larch",
        "larch-oauth",
        app_fields(larch),
        {"client_secret": CLIENT_SECRET},
        browser=Browser(),
    )
    return larch_host


@pytest.fixture
def amp_dest(authorized, larch_registry):
    cli = build_cli(larch_registry)

    def run(*args, input=None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


def test_choices_are_listed_for_the_credential_and_the_settings_so_far(authorized):
    accounts = authorized.choices("larch-events", "account_id", "larch")
    assert accounts == [
        amp.Choice("acc-1", "Birch Stores (acc-1)"),
        amp.Choice("acc-2", "Cedar Online (acc-2)"),
    ]
    lists = authorized.choices("larch-events", "list_id", "larch", {"account_id": "acc-2"})
    assert lists == [amp.Choice("L-20", "Buyers")]


def test_the_destination_reads_the_facts_of_the_authorization(authorized):
    authorized.store.update_credential(
        "larch", authorized.store.credential("larch")["fields"], {"account_ids": ["acc-2"]}
    )
    assert [c.value for c in authorized.choices("larch-events", "account_id", "larch")] == ["acc-2"]


def test_a_setting_without_choices_is_refused_naming_those_with(authorized):
    with pytest.raises(amp.NotFoundError) as caught:
        authorized.choices("larch-events", "label", "larch")
    assert (caught.value.kind, caught.value.name) == ("choosable setting", "label")
    assert "(settings it lists choices for: account_id, list_id)" in str(caught.value)
    with pytest.raises(amp.NotFoundError, match="choices for: none"):
        authorized.choices("webhook", "url", "larch")


def test_choices_need_the_credential_of_the_destinations_type(authorized):
    with pytest.raises(amp.InvalidFieldsError) as caught:
        authorized.choices("larch-events", "account_id")
    assert caught.value.needs_credential == "larch-oauth"
    authorized.add_credential("hooks", "bearer-token", secrets={"token": "t"})
    with pytest.raises(amp.InvalidFieldsError, match="'hooks' is a bearer-token credential"):
        authorized.choices("larch-events", "account_id", "hooks")


def test_choices_that_are_not_a_list_of_choice_are_the_plugins_error(authorized, monkeypatch):
    monkeypatch.setattr(LarchEvents, "choices", classmethod(lambda cls, *args: ["acc-1"]))
    with pytest.raises(amp.PluginError, match="did not return a list of Choice"):
        authorized.choices("larch-events", "account_id", "larch")


def test_destinations_options_prints_value_and_label(amp_dest):
    result = amp_dest(
        "destinations", "options", "larch-events", "account_id", "--credential", "larch"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "VALUE  LABEL",
        "acc-1  Birch Stores (acc-1)",
        "acc-2  Cedar Online (acc-2)",
    ]
    listed = amp_dest(
        "destinations", "options", "larch-events", "list_id", "--credential", "larch",
        "--set", "account_id=acc-1", "--json",
    )  # fmt: skip
    assert json.loads(listed.output) == [
        {"value": "L-10", "label": "Newsletter"},
        {"value": "L-11", "label": "Loyalty"},
    ]


def test_destinations_options_of_a_setting_without_choices_is_one_line(amp_dest):
    result = amp_dest("destinations", "options", "larch-events", "label", "--credential", "larch")
    assert result.exit_code == 1
    assert result.output == (
        "amp-dest: error: destination type larch-events lists no choices for 'label' "
        "(settings it lists choices for: account_id, list_id)\n"
    )


def test_destinations_add_on_a_terminal_offers_the_listed_choices(
    amp_dest, authorized, monkeypatch
):
    monkeypatch.setattr(_cli_choices, "stdin_is_interactive", lambda: True)
    result = amp_dest(
        "destinations", "add", "events", "--type", "larch-events", "--credential", "larch",
        input="2\n1\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "account_id: choose one of\n  1. Birch Stores (acc-1)\n  2. Cedar Online (acc-2)\n" in (
        result.stderr
    )
    assert "list_id: choose one of\n  1. Buyers\n" in result.stderr  # the lists of acc-2
    assert authorized.destination_info("events").settings["list_id"] == "L-20"


def test_a_choice_out_of_range_is_asked_again(amp_dest, authorized, monkeypatch):
    monkeypatch.setattr(_cli_choices, "stdin_is_interactive", lambda: True)
    result = amp_dest(
        "destinations", "add", "events", "--type", "larch-events", "--credential", "larch",
        "--set", "account_id=acc-1", input="7\n2\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "7 is not in the range 1<=x<=2" in result.stderr
    assert authorized.destination_info("events").settings["list_id"] == "L-11"


def test_the_listing_command_carries_every_setting_given_not_only_the_choosable(amp_dest):
    """What a destination lists may depend on any setting (TikTok lists pixels rather
    than offline event sets when event_source is web)."""
    add = ("destinations", "add", "events", "--type", "larch-events", "--credential", "larch")
    result = amp_dest(*add, "--set", "label=spring sale", "--set", "account_id=acc-1")
    command = (
        "amp-dest destinations options larch-events list_id --credential larch "
        "--set 'label=spring sale' --set account_id=acc-1"
    )
    assert f"`{command}`" in result.output
    assert amp_dest(*shlex.split(command)[1:]).exit_code == 0


def test_destinations_add_in_a_script_names_the_command_that_lists_the_choices(amp_dest):
    add = ("destinations", "add", "events", "--type", "larch-events", "--credential", "larch")
    result = amp_dest(*add, "--set", "account_id=acc-1")
    assert result.exit_code == 1
    command = (
        "amp-dest destinations options larch-events list_id --credential larch "
        "--set account_id=acc-1"
    )
    assert result.output == (
        f"amp-dest: error: list_id is required: see the values it may take with `{command}`, "
        "then give --set list_id=VALUE\n"
    )
    listed = amp_dest(*shlex.split(command)[1:])  # the command works as printed
    assert listed.exit_code == 0 and "L-10   Newsletter" in listed.output
    assert amp_dest(*add, "--set", "account_id=acc-1", "--set", "list_id=L-10").exit_code == 0


def test_without_the_credential_the_hosts_own_error_is_said(amp_dest):
    result = amp_dest("destinations", "add", "events", "--type", "larch-events")
    assert result.exit_code == 1
    assert "credential: is required: larch-events needs a larch-oauth credential" in result.output


def test_a_type_that_lists_nothing_asks_for_nothing(configured):
    result = configured("destinations", "add", "two", "--type", "recorder", "--credential", "cred")
    assert result.exit_code == 1
    assert "label: is required" in result.output


def test_the_prompt_is_on_stderr_so_json_stays_clean(amp_dest, monkeypatch, larch):
    monkeypatch.setattr(_cli_choices, "stdin_is_interactive", lambda: True)
    monkeypatch.setattr(webbrowser, "open", pytest.fail)
    result = amp_dest(
        "destinations", "add", "events", "--type", "larch-events", "--credential", "larch",
        "--set", "account_id=acc-1", "--json", input="1\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "events"
