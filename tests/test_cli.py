"""Every amp-dest verb through click's CliRunner, as an operator would type it."""

from __future__ import annotations

import json

import keyring
import pytest
from click.testing import CliRunner
from keyring.backends import fail

from amp_destinations import _cli_support


def write_csv(path, count, bad=()):
    lines = ["id,email"]
    for i in range(1, count + 1):
        lines.append(f"E{i}," + ("" if i in bad else f"user{i}@example.com"))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_plugins_list_shows_builtins_and_test_plugin(run):
    result = run("plugins", "list")
    assert result.exit_code == 0
    assert "webhook  (builtin: amp-destinations" in result.output
    assert "destinations: recorder" in result.output
    data = json.loads(run("plugins", "list", "--json").output)
    assert {p["name"] for p in data} >= {"file", "webhook", "readers", "recorder-plugin"}


def test_credentials_add_prompts_for_secrets_with_hidden_input(run, monkeypatch, memory_keyring):
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    result = run("credentials", "add", "cred", "--type", "echo-token", input="typed-secret\n")
    assert result.exit_code == 0, result.output
    assert "typed-secret" not in result.output
    assert memory_keyring.entries[("amp-destinations", "cred/token")] == "typed-secret"


@pytest.fixture
def no_keyring(monkeypatch):
    """A terminal on a machine without a usable keyring backend (a headless server)."""
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    keyring.set_keyring(fail.Keyring())  # conftest's memory_keyring puts its own back


@pytest.mark.parametrize(
    "args",
    [
        ("credentials", "add", "cred", "--type", "echo-token"),
        ("credentials", "add", "cred", "--type", "echo-token", "--set", "account=acme"),
        ("credentials", "update", "cred", "--secret", "token"),
    ],
)
def test_no_secret_is_asked_for_that_the_keyring_cannot_keep(run, no_keyring, args):
    if args[1] == "update":
        run(
            "credentials",
            "add",
            "cred",
            "--type",
            "echo-token",
            env={"AMP_DEST_SECRET_CRED_TOKEN": "x"},
        )
    result = run(*args, input="typed-secret\n")
    assert result.exit_code == 1
    assert "(hidden)" not in result.output  # no prompt: the operator typed nothing in vain
    assert result.output.startswith("amp-dest: error: no usable keyring backend to store secrets")
    assert "AMP_DEST_SECRET_CRED_TOKEN" in result.output and result.output.count("\n") == 1


def test_without_a_keyring_a_secret_from_the_environment_is_not_asked_for(run, no_keyring):
    env = {"AMP_DEST_SECRET_CRED_TOKEN": "from-env"}
    added = run("credentials", "add", "cred", "--type", "echo-token", env=env)
    assert added.exit_code == 0, added.output
    assert "(hidden)" not in added.output and "token: set (environment)" in added.output


def test_a_taken_name_is_refused_before_the_secret_is_asked_for(configured, monkeypatch):
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    result = configured("credentials", "add", "cred", "--type", "echo-token", input="again\n")
    assert result.exit_code == 1
    assert "(hidden)" not in result.output
    assert result.output == (
        "amp-dest: error: a credential named 'cred' exists; "
        "use `amp-dest credentials update cred`\n"
    )


def test_credentials_add_without_a_terminal_says_how_to_pass_secrets(run):
    result = run("credentials", "add", "cred", "--type", "echo-token")
    assert result.exit_code == 1
    assert result.output.startswith("amp-dest: error: token is a secret")
    assert "--secrets-stdin" in result.output and "AMP_DEST_SECRET_CRED_TOKEN" in result.output


def test_credentials_add_refuses_a_secret_in_argv(run):
    result = run("credentials", "add", "cred", "--type", "echo-token", "--set", "token=leak")
    assert result.exit_code == 1
    assert "token: is secret" in result.output
    assert "leak" not in result.output


def test_credentials_list_show_update_remove(configured):
    run = configured
    listing = run("credentials", "list")
    assert "cred  echo-token  token=keyring" in listing.output
    shown = json.loads(run("credentials", "show", "cred", "--json").output)
    assert shown["fields"] == {"account": "acme"} and shown["secrets"] == {"token": "keyring"}
    updated = run("credentials", "update", "cred", "--set", "account=other", "--json")
    assert json.loads(updated.output)["fields"] == {"account": "other"}
    assert run("destinations", "remove", "rec").exit_code == 0
    assert run("credentials", "remove", "cred").output == "removed credential cred\n"
    assert json.loads(run("credentials", "list", "--json").output) == []


def test_destinations_add_validates_settings_and_saves_nothing(run):
    run(
        "credentials",
        "add",
        "cred",
        "--type",
        "echo-token",
        "--secrets-stdin",
        input='{"token": "good"}',
    )
    result = run(
        "destinations",
        "add",
        "rec",
        "--type",
        "recorder",
        "--credential",
        "cred",
        "--set",
        "retries=many",
    )
    assert result.exit_code == 1
    assert result.output == (
        "amp-dest: error: invalid settings for rec: label: is required; "
        "retries: Not a valid integer\n"
    )
    assert json.loads(run("destinations", "list", "--json").output) == []


def test_destinations_add_unknown_setting_names_the_known_ones(run):
    result = run("destinations", "add", "rec", "--type", "recorder", "--set", "colour=red")
    assert result.exit_code == 1
    assert "colour: unknown setting (known: label, poison" in result.output


def test_a_failing_connection_test_blocks_the_save_unless_no_test(run):
    run(
        "credentials",
        "add",
        "bad",
        "--type",
        "echo-token",
        "--secrets-stdin",
        input='{"token": "wrong"}',
    )
    args = [
        "destinations",
        "add",
        "rec",
        "--type",
        "recorder",
        "--credential",
        "bad",
        "--set",
        "label=x",
    ]
    refused = run(*args)
    assert refused.exit_code == 1
    assert "connection test failed at 'token accepted'" in refused.output
    assert json.loads(run("destinations", "list", "--json").output) == []
    saved = run(*args, "--no-test")
    assert saved.exit_code == 0 and "without testing the connection" in saved.output


def test_on_save_messages_are_shown(run):
    run(
        "credentials",
        "add",
        "cred",
        "--type",
        "echo-token",
        "--secrets-stdin",
        input='{"token": "good"}',
    )
    result = run(
        "destinations",
        "add",
        "rec",
        "--type",
        "recorder",
        "--credential",
        "cred",
        "--set",
        "label=one",
    )
    assert "applied: label set to one" in result.output


def test_set_values_are_typed_by_the_schema(configured):
    run = configured
    run(
        "destinations",
        "update",
        "rec",
        "--set",
        "enabled=false",
        "--set",
        "retries=0",
        "--set",
        'poison=["x@example.com"]',
    )
    shown = json.loads(run("destinations", "show", "rec", "--json").output)
    assert shown["settings"]["enabled"] is False
    assert shown["settings"]["retries"] == 0
    assert shown["settings"]["poison"] == ["x@example.com"]


def test_destinations_test_exit_code_follows_the_checks(configured):
    run = configured
    passed = run("destinations", "test", "rec")
    assert passed.exit_code == 0 and "[ok  ] token accepted" in passed.output
    run("credentials", "update", "cred", "--secrets-stdin", input='{"token": "wrong"}')
    failed = run("destinations", "test", "rec", "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.output)["checks"][0]["failure"] == "auth"


def test_destinations_schema_marks_secrets_write_only(run):
    schema = json.loads(run("destinations", "schema", "recorder", "--json").output)
    assert schema["settings"]["properties"]["retries"] == {
        "type": "integer",
        "default": 0,
        "description": "Answer retry this often.",
    }
    assert schema["settings"]["required"] == ["label"]
    assert schema["credential"]["properties"]["token"]["writeOnly"] is True


def test_send_prints_a_summary_and_records_the_run(configured, tmp_path):
    run = configured
    path = write_csv(tmp_path / "in.csv", 12, bad={3})
    result = run("send", "rec", "--input", str(path))
    assert result.exit_code == 0, result.output
    assert "run 1 succeeded: 12 rows read, 11 delivered, 1 rejected, 0 pending" in result.output
    assert "rejected by reason: email.missing 1" in result.output
    assert "rejects file:" in result.output
    data = json.loads(run("send", "rec", "--input", str(path), "--json").output)
    assert (data["rows_read"], data["delivered"], data["rejected"]) == (12, 11, 1)
    listing = run("runs", "list")
    assert "succeeded" in listing.output and listing.output.count("\n") == 3
    shown = json.loads(run("runs", "show", "1", "--json").output)
    assert shown["summary"]["rejected_by_code"] == {"email.missing": 1}
    assert "status: succeeded" in run("runs", "show", "1").output


def test_send_dry_run(configured, tmp_path):
    run = configured
    path = write_csv(tmp_path / "in.csv", 3)
    result = run(
        "send", "rec", "--input", str(path), "--dry-run", "--output", str(tmp_path / "out")
    )
    assert result.exit_code == 0
    assert "3 would deliver" in result.output
    assert (tmp_path / "out" / "request-000001.json").exists()
    listing = run("runs", "list").output.splitlines()
    assert listing[0].split()[:4] == ["ID", "DESTINATION", "KIND", "STATUS"]
    assert listing[1].split()[:5] == ["1", "rec", "dry", "run", "succeeded"]


def test_a_failed_run_exits_non_zero_with_the_resume_command(configured, tmp_path):
    run = configured
    run("destinations", "update", "rec", "--set", "fatal_after=0")
    result = run("send", "rec", "--input", str(write_csv(tmp_path / "in.csv", 3)))
    assert result.exit_code == 1
    assert "amp-dest send --resume 1" in result.output
    run("destinations", "update", "rec", "--set", "fatal_after=")
    resumed = run("send", "--resume", "1")
    assert resumed.exit_code == 0 and "3 delivered" in resumed.output


def test_errors_are_one_line_without_traceback(run):
    for args in (
        ["destinations", "show", "nope"],
        ["runs", "show", "9"],
        ["credentials", "add", "x", "--type", "nope"],
        ["send", "nope", "--input", "missing.csv"],
        ["send"],
    ):
        result = run(*args)
        assert result.exit_code != 0
        assert result.output.startswith("amp-dest: error: ")
        assert result.output.count("\n") == 1, result.output
        assert "Traceback" not in result.output


def test_debug_shows_the_traceback(cli):
    result = CliRunner().invoke(cli, ["--debug", "destinations", "show", "nope"])
    assert result.exception is not None
    assert type(result.exception).__name__ == "NotFoundError"


def test_module_entry_point_and_console_script_agree():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "amp_destinations", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for verb in ("plugins", "credentials", "destinations", "send", "runs"):
        assert verb in result.stdout
