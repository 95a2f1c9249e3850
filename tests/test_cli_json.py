"""``--json`` on every command that prints data, with one JSON document on stdout, so
that a script never has to read the text a person reads."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

# Commands that print no data, only that they did what was asked: their exit code is
# the answer, as for gh's and git's delete commands.
# (console serves pages until stopped: it prints only its address, to stderr.)
NO_DATA = {"credentials remove", "destinations remove", "console"}
# Commands that need a credential type with an authorization flow, which this home's
# plugins lack: their --json is checked with the Larch plugin, in the files named.
JSON_CHECKED_ELSEWHERE = {
    "credentials authorize": "test_cli_authorize.py",
    "credentials reauthorize": "test_cli_authorize.py",
    "destinations options": "test_choices.py",
}


def leaf_commands(group: click.Group, prefix: str = ""):
    """Every command of ``group`` and its subgroups, by its path ("runs show")."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from leaf_commands(command, f"{path} ")
        else:
            yield path, command


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,email\nE1,a@example.com\nE2,\n")
    return path


def invocations(csv_path):
    """Arguments for each command that prints data, in an order that works in the home
    ``configured`` set up (send before runs show 1)."""
    return {
        "plugins list": ([], None),
        "credentials add": (["other", "--type", "echo-token", "--secrets-stdin"], '{"token": "t"}'),
        "credentials update": (["cred", "--set", "account=else"], None),
        "credentials list": ([], None),
        "credentials show": (["cred"], None),
        "destinations add": (
            ["rec2", "--type", "recorder", "--credential", "cred", "--set", "label=x"],
            None,
        ),
        "destinations update": (["rec", "--set", "label=two"], None),
        "destinations list": ([], None),
        "destinations show": (["rec"], None),
        "destinations test": (["rec"], None),
        "destinations schema": (["recorder"], None),
        "destinations forget": (["rec", "--before", "2026-01-01"], None),
        "send": (["rec", "--input", str(csv_path)], None),
        "runs list": ([], None),
        "runs show": (["1"], None),
    }


def test_every_command_that_prints_data_takes_json_and_prints_json(configured, cli, csv_path, home):
    commands = dict(leaf_commands(cli))
    calls = invocations(csv_path)
    # A new command must say here whether it prints data.
    assert set(commands) == set(calls) | NO_DATA | set(JSON_CHECKED_ELSEWHERE)
    runner = CliRunner()
    for path, (args, stdin) in calls.items():
        assert "as_json" in {param.name for param in commands[path].params}, path
        result = runner.invoke(cli, [*path.split(), *args, "--json"], input=stdin)
        assert result.exit_code == 0, (path, result.output)
        json.loads(result.stdout)  # one document, nothing else on stdout


def test_send_json_names_the_destination_as_runs_list_does(configured, csv_path):
    run = configured
    sent = json.loads(run("send", "rec", "--input", str(csv_path), "--json").stdout)
    [listed] = json.loads(run("runs", "list", "--json").stdout)
    assert sent["destination"] == listed["destination"] == "rec"  # not its type, recorder
    assert listed["destination_type"] == "recorder"


def test_schema_is_for_a_person_and_json_schema_with_json(run, host):
    text = run("destinations", "schema", "recorder").output
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert text.startswith("recorder: Recorder (tests)\n")
    assert "  label " in text and "A label.  [string; required]" in text
    assert "Answer retry this often.  [integer; default: 0]" in text
    assert "Credential fields (type echo-token):" in text
    assert "[secret; string; required]" in text
    document = json.loads(run("destinations", "schema", "recorder", "--json").output)
    assert document == host.schema("recorder")
