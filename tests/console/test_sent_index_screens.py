"""The sent-events index on the console's screens: a second send of the same file
skips what the first delivered and says so (figures, history, the skipped rows), and
the Send form's resend box sends it anyway."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import KeyedPlugin, RecorderPlugin

import amp_destinations as amp

from .test_send_runs import write_input


@pytest.fixture
def registry():
    return amp.load_plugins(entry_points=False, extra=[RecorderPlugin(), KeyedPlugin()])


@pytest.fixture
def keyed(host):
    host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "good"})
    host.add_destination("keyed", "keyed-recorder", "cred", {"label": "one"})
    return host


def send(console, path, **fields):
    form = {"destination": "keyed", "input": str(path), "action": "send", **fields}
    return console.wait_for(console.run_id(console.post("/send", form)))


def test_a_file_sent_again_is_skipped_and_the_screens_say_so(console, keyed, tmp_path):
    path = write_input(tmp_path, count=30, bad=(4, 9))
    first = send(console, path)
    assert (first.delivered, first.rejected, first.already_sent) == (28, 2, 0)
    again = send(console, path)
    assert (again.delivered, again.rejected, again.already_sent) == (0, 2, 28)
    page = console.get(f"/runs/{again.id}").text
    assert "28 already sent" in page
    assert "<dt>Already sent</dt>" in page
    assert "1-3, 5-8, 10-30" in page  # the skipped rows, as runs show lists them
    history = console.get("/runs").text
    assert "<th>Already sent</th>" in history


def test_the_resend_box_sends_what_an_earlier_run_delivered(console, keyed, tmp_path):
    path = write_input(tmp_path, count=10, bad=())
    send(console, path)
    again = send(console, path, resend="true")
    assert (again.delivered, again.already_sent) == (10, 0)
    assert again.summary["resent"] == 10
    assert "<dt>Re-sent</dt><dd>10 rows an earlier run had delivered</dd>" in (
        console.get(f"/runs/{again.id}").text
    )
    assert 'name="resend"' in console.get("/send").text
