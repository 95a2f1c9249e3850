"""Credential and destination names follow one rule, in the Host API and the CLI;
records stored before it stay listable and removable, and print escaped."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import amp_destinations as amp

# Clears the screen, sets the window title, rings the bell, fakes a second line, and
# reverses what follows (bidi override); \x9b is a one-byte CSI for some terminals.
HOSTILE = "x\x1b[2J\x1b]0;owned\x07\nFAKE LINE\r\u202eevil\x9b31m\x7f"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\x9b", "\x7f")

BAD_NAMES = [
    "",
    "a" * 65,
    "-lead",
    ".lead",
    "_lead",
    "with space",
    "a/b",
    "a\nb",
    "ok\n",
    "ok\x1b[2J",
    "tab\tname",
    "caf\u00e9",
    "\u202ename",
    "semi;colon",
    None,
    42,
]
GOOD_NAMES = ["a", "7", "A1._-z", "x" * 64, "store-sales.v2_eu"]


def assert_printable(text: str) -> None:
    for char in RAW:
        assert char not in text, f"raw {char!r} in {text!r}"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_by_the_host_with_the_rule(host, name):
    for add in (
        lambda: host.add_credential(name, "echo-token", secrets={"token": "t"}),
        lambda: host.add_destination(name, "recorder", None, {"label": "x"}, test=False),
    ):
        with pytest.raises(amp.InvalidFieldsError) as caught:
            add()
        message = str(caught.value)
        assert message.endswith(
            "name: must be 1 to 64 characters of letters, digits, '.', "
            "'_' and '-', starting with a letter or digit"
        )
        assert_printable(message)
    assert host.credentials() == [] and host.destinations() == []


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_names_are_accepted(host, name):
    host.add_credential(name, "echo-token", secrets={"token": "good"})
    host.add_destination(name, "recorder", name, {"label": "x"})
    assert host.credential(name).name == name


def test_the_cli_refuses_a_bad_name_before_asking_for_secrets(cli):
    result = CliRunner().invoke(cli, ["credentials", "add", "bad name", "--type", "echo-token"])
    assert result.exit_code == 1
    assert result.output.startswith("amp-dest: error: invalid credential: name: must be 1 to 64")
    assert result.output.count("\n") == 1


def test_records_with_odd_names_stay_listable_and_removable_and_print_escaped(cli, host):
    odd = "old\x1b[2Jname\n"
    host.store.insert_credential(odd, "echo-token", {})
    host.store.insert_credential("", "echo-token", {})
    host.store.insert_destination(odd, "recorder", None, {"label": HOSTILE})
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, args).output
        for args in (
            ["credentials", "list"],
            ["credentials", "show", odd],
            ["destinations", "list"],
            ["destinations", "show", odd],
        )
    ]
    for output in outputs:
        assert_printable(output)
    assert "old\\x1b[2Jname\\n  echo-token" in outputs[0]
    assert (
        "    label: x\\x1b[2J\\x1b]0;owned\\x07\\nFAKE LINE\\r\\u202eevil\\x9b31m\\x7f"
        in outputs[3]
    )
    assert "FAKE LINE" not in "".join(line[:9] for line in outputs[3].splitlines())
    for args in (
        ["destinations", "remove", odd],
        ["credentials", "remove", odd],
        ["credentials", "remove", ""],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert_printable(result.output)
    assert host.credentials() == [] and host.destinations() == []
