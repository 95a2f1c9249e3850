"""Shell completion: commands, and the names an operator would otherwise look up."""

from __future__ import annotations

from click.shell_completion import ShellComplete


def completions(cli, line: str) -> list[str]:
    words = line.split(" ")
    complete = ShellComplete(cli, {}, "amp-dest", "_AMP_DEST_COMPLETE")
    return [item.value for item in complete.get_completions(words[:-1], words[-1])]


def test_commands_complete(cli):
    assert "destinations" in completions(cli, "")
    assert completions(cli, "runs s") == ["show"]


def test_stored_names_complete(cli, ready_host):
    ready_host.add_credential("cred-2", "echo-token", secrets={"token": "good"})
    ready_host.send("rec", [{"id": "1", "email": "a@example.com"}])
    assert completions(cli, "destinations show ") == ["rec"]
    assert completions(cli, "send r") == ["rec"]
    assert completions(cli, "credentials update c") == ["cred", "cred-2"]
    assert completions(cli, "destinations add x --credential cred-") == ["cred-2"]
    assert completions(cli, "runs show ") == ["1"]
    assert completions(cli, "send --resume ") == ["1"]


def test_types_complete_from_the_loaded_plugins(cli):
    assert "recorder" in completions(cli, "destinations add x --type ")
    assert completions(cli, "destinations schema rec") == ["recorder"]
    assert completions(cli, "credentials add x --type echo") == ["echo-token"]


def test_completion_on_a_fresh_machine_creates_nothing(cli, home):
    assert completions(cli, "destinations show ") == []
    assert not home.exists()


def test_input_formats_complete_from_the_loaded_plugins(cli):
    assert completions(cli, "send x --format ") == ["csv", "jsonl", "parquet", "tsv"]
    assert completions(cli, "send x --format j") == ["jsonl"]
