"""The Python API's errors say what is wrong in its own terms; the CLI adds the
command to run. No Python API message names a command line."""

from __future__ import annotations

import re
import shlex

import click
import pytest
from click.testing import CliRunner

import amp_destinations as amp
from amp_destinations import _cli_support
from amp_destinations._cli_hints import (
    _LISTS,
    _REGISTERED,
    cli_message,
    quoted_commands,
    usage_error,
)
from amp_destinations._userinfo import USERINFO_RULE
from amp_destinations.cli import build_cli
from amp_destinations.testing import refused_commands

CLI_WORDING = ("amp-dest", "--")


def api_error(action):
    with pytest.raises(amp.AmpDestError) as caught:
        action()
    message = str(caught.value)
    assert not any(word in message for word in CLI_WORDING), message
    return caught.value


@pytest.fixture
def fails(cli):
    """``amp-dest ARGS...`` that must exit 1; returns what it printed."""
    runner = CliRunner()

    def invoke(*args, input=None):
        result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        return result.output

    return invoke


def test_a_taken_name_names_the_update_command_in_the_cli_only(ready_host, fails):
    error = api_error(
        lambda: ready_host.add_credential("cred", "echo-token", secrets={"token": "t"})
    )
    assert (error.kind, error.name) == ("credential", "cred")
    assert cli_message(error).endswith("; use `amp-dest credentials update cred`")
    error = api_error(lambda: ready_host.add_destination("rec", "recorder", "cred", {}))
    assert cli_message(error).endswith("; use `amp-dest destinations update rec`")
    output = fails("destinations", "add", "rec", "--type", "recorder", "--credential", "cred")
    assert "exists; use `amp-dest destinations update rec`" in output


def test_what_is_not_found_names_the_list_command_in_the_cli_only(ready_host, fails):
    for action, hint in [
        (lambda: ready_host.credential("nope"), "see `amp-dest credentials list`"),
        (lambda: ready_host.destination("nope"), "see `amp-dest destinations list`"),
        (lambda: ready_host.run(99), "see `amp-dest runs list`"),
        (lambda: ready_host.schema("nope"), "run `amp-dest plugins list` to see what loaded"),
        (lambda: ready_host.send("rec", input="in.xlsx"), "pass --format"),
    ]:
        assert cli_message(api_error(action)).endswith(hint)
    assert fails("runs", "show", "99").endswith("no run with id 99; see `amp-dest runs list`\n")


def test_a_failed_connection_test_suggests_no_test_in_the_cli_only(ready_host, fails):
    ready_host.update_credential("cred", secrets={"token": "refused"})
    with pytest.raises(amp.ConnectionTestFailed) as caught:
        ready_host.update_destination("rec", {"label": "two"})
    error = caught.value
    assert not error.status.ok
    # The check's hint is the plugin's, for operators; the host's own words end it.
    assert str(error).endswith("; nothing was saved") and "--no-test" not in str(error)
    assert cli_message(error).endswith("nothing was saved (use --no-test to save anyway)")
    output = fails("destinations", "update", "rec", "--set", "label=two")
    assert output.rstrip().endswith("(use --no-test to save anyway)")


def test_a_missing_credential_names_the_add_command_in_the_cli_only(host, fails):
    error = api_error(lambda: host.add_destination("rec", "recorder", None, {}))
    assert isinstance(error, amp.InvalidFieldsError) and error.needs_credential == "echo-token"
    hint = "(create one with `amp-dest credentials add NAME --type echo-token`)"
    assert cli_message(error).endswith(hint)
    assert fails("destinations", "add", "rec", "--type", "recorder").rstrip().endswith(hint)


def test_a_missing_secret_names_the_update_command_in_the_cli_only(
    ready_host, fails, memory_keyring
):
    del memory_keyring.entries[("amp-destinations", "cred/token")]
    error = api_error(lambda: ready_host.destination("rec"))
    assert (error.kind, error.name, error.field) == ("secret", "cred", "token")
    assert "AMP_DEST_SECRET_CRED_TOKEN" in str(error)
    expected = (
        "credential 'cred' has no secret 'token': set it with `amp-dest credentials update "
        "cred --secret token` or the environment variable AMP_DEST_SECRET_CRED_TOKEN"
    )
    assert cli_message(error) == expected
    assert expected in fails("destinations", "test", "rec")


def test_a_url_with_a_password_points_the_cli_at_credentials(host, fails):
    host.add_credential("hooks", "bearer-token", secrets={"token": "t"})
    error = api_error(
        lambda: host.add_destination("w", "webhook", "hooks", {"url": "https://u:p@x.example"})
    )
    assert "never in a setting" in str(error)
    assert cli_message(error).endswith(
        "give secrets with `amp-dest credentials add NAME --type TYPE` or "
        "`amp-dest credentials update NAME --secret FIELD`"
    )


# -- every hint the CLI prints is a command it accepts ----------------------------------


def test_usage_error_refuses_what_click_refuses_and_runs_nothing(cli, home, capsys):
    assert usage_error(cli, "amp-dest credentials update cred --secret token") is None
    assert usage_error(cli, "amp-dest credentials --help") is None
    assert capsys.readouterr().out == ""
    assert usage_error(cli, "amp-dest --home /elsewhere runs show 3") is None
    assert usage_error(cli, "amp-dest credentials add") == "Missing argument 'NAME'."
    assert "'--type'" in usage_error(cli, "amp-dest credentials add cred")
    assert "not a valid integer" in usage_error(cli, "amp-dest send --resume RUN_ID")
    assert usage_error(cli, "amp-dest credentials") == "Missing command."
    assert "No such command 'credential'" in usage_error(cli, "amp-dest credential list")
    assert "No such option '--debug'" in usage_error(cli, "amp-dest runs list --debug")
    assert usage_error(cli, "credentials list") == "it does not start with amp-dest"
    assert "No closing quotation" in usage_error(cli, "amp-dest credentials show 'cred")
    assert not home.exists()  # parsed only: nothing opened the database


def test_refused_commands_reads_the_commands_a_text_quotes(cli):
    text = "set it with `amp-dest credentials update cred` or `amp-dest credentials add`"
    assert refused_commands(text, cli) == {"amp-dest credentials add": "Missing argument 'NAME'."}
    assert refused_commands("no command here; use --no-test", cli) == {}


class Crashes:
    """A plugin whose command has a bug, for the internal error's hint."""

    __name__ = "crashes"

    @amp.hookimpl
    def register_commands(self, cli):
        @cli.command("crash")
        @click.argument("what")
        def crash(what):
            raise RuntimeError("a bug")


def table_hints() -> list[str]:
    """cli_message of an error of every kind the hint tables of _cli_hints know."""
    errors: list[amp.AmpDestError] = [
        amp.NotFoundError("not found", kind, "x") for kind in (*_LISTS, *_REGISTERED, "suffix")
    ]
    errors += [
        amp.NotFoundError("no secret", "secret", "cred", "token"),
        amp.AlreadyExistsError("a credential named 'cred' exists", "credential", "cred"),
        amp.AlreadyExistsError("a destination named 'rec' exists", "destination", "rec"),
        amp.InvalidFieldsError("settings for rec", {"label": ["x"]}, needs_credential="echo"),
        amp.InvalidFieldsError("settings for rec", {"url": [USERINFO_RULE]}),
        amp.ConnectionTestFailed("refused; nothing was saved", amp.ConnectionStatus([])),
    ]
    return [cli_message(error) for error in errors]


def help_texts(command: click.Command) -> list[str]:
    """What `--help` prints of a command and of every command under it."""
    texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            texts += help_texts(sub)
    return texts


def printed_hints(run, configure, memory_keyring, tmp_path) -> dict[str, list[str]]:
    """What the CLI prints where it gives a hint, by where it comes from."""
    printed = {"the hint tables": table_hints()}
    printed["empty lists"] = [run("credentials", "list").output, run("destinations", "list").output]
    configure()
    source = tmp_path / "in.csv"
    source.write_text("id,email\nE1,a@example.com\n")
    run("destinations", "update", "rec", "--set", "fatal_after=0")
    printed["failed sends"] = [
        run("send", "rec", "--input", str(source)).output,
        run("send", "rec", "--input", str(source), "--rejects", "/dev/full").output,
    ]
    run("credentials", "update", "cred", "--secrets-stdin", input='{"token": "refused"}')
    refused = run("destinations", "test", "rec").output
    del memory_keyring.entries[("amp-destinations", "cred/token")]
    printed["plugin checks and missing secrets"] = [
        refused,
        run("destinations", "test", "rec").output,
    ]
    return printed


def test_every_hint_the_cli_prints_is_a_command_it_accepts(
    cli, run, configure, memory_keyring, tmp_path
):
    printed = printed_hints(run, configure, memory_keyring, tmp_path)
    printed["help"] = help_texts(cli)
    sources = {source: (cli, texts) for source, texts in printed.items()}
    crashing = build_cli(amp.load_plugins(entry_points=False, extra=[Crashes()]))
    sources["internal errors"] = (crashing, [CliRunner().invoke(crashing, ["crash", "it"]).output])
    for source, (group, texts) in sources.items():
        assert any(quoted_commands(text) for text in texts), f"{source}: no hint found"
        refused = {}
        for text in texts:
            refused.update(refused_commands(text, group))
        assert refused == {}, f"{source} print commands amp-dest refuses"
    # A command named without its program is not one to paste either.
    quoted = [q for text in help_texts(cli) for q in re.findall(r"`([^`]+)`", text)]
    assert [q for q in quoted if q.split()[0] in cli.commands] == []


def test_the_missing_secret_hint_pasted_at_a_terminal_sets_the_secret(
    ready_host, run, memory_keyring, monkeypatch
):
    del memory_keyring.entries[("amp-destinations", "cred/token")]
    (hint,) = quoted_commands(run("destinations", "test", "rec").output)
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    pasted = run(*shlex.split(hint)[1:], input="good\n")
    assert pasted.exit_code == 0, pasted.output
    assert run("destinations", "test", "rec").output.startswith("connection test for rec: passed")


def test_an_internal_error_names_the_command_line_that_shows_its_traceback():
    cli = build_cli(amp.load_plugins(entry_points=False, extra=[Crashes()]))
    result = CliRunner().invoke(cli, ["crash", "it's"])
    assert result.exit_code == 70
    assert result.output == (
        "amp-dest: error: internal error (RuntimeError); to see the traceback, rerun it as "
        "`amp-dest --debug crash 'it'\"'\"'s'`, and report it\n"
    )
    (rerun,) = quoted_commands(result.output)
    pasted = CliRunner().invoke(cli, shlex.split(rerun)[1:])
    assert isinstance(pasted.exception, RuntimeError)
