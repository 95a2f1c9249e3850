"""The Python API's errors say what is wrong in its own terms; the CLI adds the
command to run. No Python API message names a command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import amp_destinations as amp
from amp_destinations._cli_hints import cli_message

sys.path.insert(0, str(Path(__file__).parent))
from oauth_support import CLIENT_SECRET, Browser, app_fields

CLI_WORDING = ("amp-dest", "--")


def api_error(action):
    with pytest.raises(amp.AmpDestError) as caught:
        action()
    message = str(caught.value)
    assert not any(word in message for word in CLI_WORDING), message
    return caught.value


@pytest.fixture
def run(cli):
    runner = CliRunner()

    def invoke(*args, input=None):
        result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        return result.output

    return invoke


def test_a_taken_name_names_the_update_command_in_the_cli_only(ready_host, run):
    error = api_error(
        lambda: ready_host.add_credential("cred", "echo-token", secrets={"token": "t"})
    )
    assert (error.kind, error.name) == ("credential", "cred")
    assert cli_message(error).endswith("; use `amp-dest credentials update cred`")
    error = api_error(lambda: ready_host.add_destination("rec", "recorder", "cred", {}))
    assert cli_message(error).endswith("; use `amp-dest destinations update rec`")
    output = run("destinations", "add", "rec", "--type", "recorder", "--credential", "cred")
    assert "exists; use `amp-dest destinations update rec`" in output


def test_what_is_not_found_names_the_list_command_in_the_cli_only(ready_host, run):
    for action, hint in [
        (lambda: ready_host.credential("nope"), "see `amp-dest credentials list`"),
        (lambda: ready_host.destination("nope"), "see `amp-dest destinations list`"),
        (lambda: ready_host.run(99), "see `amp-dest runs list`"),
        (lambda: ready_host.schema("nope"), "run `amp-dest plugins list` to see what loaded"),
        (lambda: ready_host.send("rec", input="in.xlsx"), "pass --format"),
    ]:
        assert cli_message(api_error(action)).endswith(hint)
    assert run("runs", "show", "99").endswith("no run with id 99; see `amp-dest runs list`\n")


def test_a_failed_connection_test_suggests_no_test_in_the_cli_only(ready_host, run):
    ready_host.update_credential("cred", secrets={"token": "refused"})
    with pytest.raises(amp.ConnectionTestFailed) as caught:
        ready_host.update_destination("rec", {"label": "two"})
    error = caught.value
    assert not error.status.ok
    # The check's hint is the plugin's, for operators; the host's own words end it.
    assert str(error).endswith("; nothing was saved") and "--no-test" not in str(error)
    assert cli_message(error).endswith("nothing was saved (use --no-test to save anyway)")
    output = run("destinations", "update", "rec", "--set", "label=two")
    assert output.rstrip().endswith("(use --no-test to save anyway)")


def test_a_missing_credential_names_the_add_command_in_the_cli_only(host, run):
    error = api_error(lambda: host.add_destination("rec", "recorder", None, {}))
    assert isinstance(error, amp.InvalidFieldsError) and error.needs_credential == "echo-token"
    hint = "(create one with `amp-dest credentials add NAME --type echo-token`)"
    assert cli_message(error).endswith(hint)
    assert run("destinations", "add", "rec", "--type", "recorder").rstrip().endswith(hint)


def test_a_missing_secret_names_the_update_command_in_the_cli_only(ready_host, run, memory_keyring):
    del memory_keyring.entries[("amp-destinations", "cred/token")]
    error = api_error(lambda: ready_host.destination("rec"))
    assert (error.kind, error.name, error.field) == ("secret", "cred", "token")
    assert "AMP_DEST_SECRET_CRED_TOKEN" in str(error)
    expected = (
        "credential 'cred' has no secret 'token': set it with `amp-dest credentials update "
        "cred` or the environment variable AMP_DEST_SECRET_CRED_TOKEN"
    )
    assert cli_message(error) == expected
    assert expected in run("destinations", "test", "rec")


def test_a_url_with_a_password_points_the_cli_at_credentials(host, run):
    host.add_credential("hooks", "bearer-token", secrets={"token": "t"})
    error = api_error(
        lambda: host.add_destination("w", "webhook", "hooks", {"url": "https://u:p@x.example"})
    )
    assert "never in a setting" in str(error)
    assert cli_message(error).endswith("give secrets with `amp-dest credentials add` or `update`")


def test_a_refused_token_names_reauthorize_only_in_the_cli(larch_host, larch):
    larch_host.authorize_credential(
        "larch",
        "larch-oauth",
        app_fields(larch),
        {"client_secret": CLIENT_SECRET},
        browser=Browser(),
    )
    larch.revoke_all()
    settings = {"account_id": "acc-1", "list_id": "L-10"}
    error = api_error(lambda: larch_host.add_destination("ev", "larch-events", "larch", settings))
    assert cli_message(error).endswith(
        "; the remote system refused credential 'larch': renew it with "
        "`amp-dest credentials reauthorize larch`"
    )
    error = api_error(lambda: larch_host.authorize_credential("x", "bearer-token", browser=False))
    assert cli_message(error).endswith(
        "; add one with `amp-dest credentials add NAME --type bearer-token`"
    )
