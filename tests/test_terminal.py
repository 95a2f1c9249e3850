"""Nothing from input, settings, names or a remote answer reaches the terminal with its
control characters unescaped, in text or in --json."""

from __future__ import annotations

import json

from click.testing import CliRunner
from marshmallow import Schema, fields

import amp_destinations as amp
from amp_destinations._cli import build_cli
from amp_destinations._terminal import printable

# Clears the screen, sets the window title, rings the bell, fakes a second line, and
# reverses what follows (bidi override); \x9b is a one-byte CSI for some terminals.
HOSTILE = "x\x1b[2J\x1b]0;owned\x07\nFAKE LINE\r\u202eevil\x9b31m\x7f"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\x9b", "\x7f")


def assert_printable(text: str) -> None:
    for char in RAW:
        assert char not in text, f"raw {char!r} in {text!r}"


def test_json_output_escapes_what_json_itself_leaves_raw(cli, host):
    host.add_credential("cred", "echo-token", secrets={"token": "good"})
    host.add_destination("rec", "recorder", "cred", {"label": HOSTILE})
    output = CliRunner().invoke(cli, ["destinations", "show", "rec", "--json"]).output
    assert_printable(output)
    assert "\\u009b31m\\u007f" in output and "\\u202e" in output
    assert json.loads(output)["settings"]["label"] == HOSTILE  # the same value, escaped


class EchoSettings(Schema):
    said = fields.String(required=True)


class Parrot(amp.Destination):
    """Repeats its setting as a remote system would repeat what it was sent."""

    name = "parrot"
    title = "Parrot (tests)"
    settings_schema = EchoSettings

    def test_connection(self, session):
        said = self.settings["said"]
        return amp.ConnectionStatus([amp.Check.failed(said, said, said, amp.FailureType.CONFIG)])

    def prepare(self, row, warnings):
        return dict(row)

    def deliver(self, batch, session):
        if b"fatal" in batch.body:
            return amp.BatchOutcome.fatal(self.settings["said"], amp.FailureType.CONFIG)
        return amp.BatchOutcome.delivered(note=self.settings["said"])


class ParrotPlugin:
    __name__ = "parrot-plugin"

    @amp.hookimpl
    def register_destinations(self, register):
        register(Parrot)


def test_remote_answers_and_run_records_print_escaped(home, tmp_path):
    registry = amp.load_plugins(entry_points=False, extra=[ParrotPlugin()])
    cli = build_cli(registry)
    runner = CliRunner()
    with amp.Host(home, registry=registry) as host:
        host.add_destination("p", "parrot", None, {"said": HOSTILE}, test=False)
    ok = tmp_path / "ok\x1b]0;owned\x07.csv"  # the input's path is printed too
    ok.write_text("id,e\n1,a\n")
    (tmp_path / "bad.csv").write_text("id,e\n1,fatal\n")
    (tmp_path / "twice.csv").write_text("id,e\x1b[2J,e\x1b[2J\n1,a,b\n")
    outputs = [
        runner.invoke(cli, args)
        for args in (
            ["destinations", "test", "p"],
            ["destinations", "add", "q", "--type", "parrot", "--set", "said=" + HOSTILE],
            ["send", "p", "--input", str(ok)],
            ["send", "p", "--input", str(tmp_path / "bad.csv")],
            ["send", "p", "--input", str(tmp_path / "twice.csv")],  # a column name in the error
            ["runs", "list"],
            ["runs", "show", "1"],
            ["runs", "show", "2"],
            ["runs", "show", "2", "--json"],
        )
    ]
    assert [result.exit_code for result in outputs] == [1, 1, 0, 1, 1, 0, 0, 0, 0]
    for result in outputs:
        assert_printable(result.output)
    assert "remote said: x\\x1b[2J" in outputs[2].output
    assert "run 2 failed: x\\x1b[2J" in outputs[3].output
    assert "names column 'e\\x1b[2J' twice" in outputs[4].output
    assert "ok\\x1b]0;owned\\x07.csv" in outputs[6].output


def test_a_plugin_file_with_escapes_in_its_name_is_reported_escaped(tmp_path, capsys):
    folder = tmp_path / "p"
    folder.mkdir(mode=0o755)
    (folder / "evil\x1b[2J.py").write_text("raise ImportError('lost\\x1b]0;owned\\x07')\n")
    (folder / "evil\x1b[2J.py").chmod(0o644)
    registry = amp.load_plugins(entry_points=False, plugins_dir=folder)
    err = capsys.readouterr().err
    output = CliRunner().invoke(build_cli(registry), ["plugins", "list"]).output
    for text in (err, output):
        assert_printable(text)
        assert "evil\\x1b[2J" in text and "lost\\x1b]0;owned\\x07" in text


def test_printable_escapes_like_repr_and_is_idempotent():
    assert printable("a\tb\nc\x00\x1b\x7f\x85\u2028\u202e\u2067ok é") == (
        "a\\tb\\nc\\x00\\x1b\\x7f\\x85\\u2028\\u202e\\u2067ok é"
    )
    assert printable(printable(HOSTILE)) == printable(HOSTILE)
