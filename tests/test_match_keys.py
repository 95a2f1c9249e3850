"""Match quality: how many of its declared match keys each prepared event carries,
counted by the host for any destination, printed by send and runs show, and a warning
when most events carry only one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from marshmallow import Schema

import amp_destinations as amp
from amp_destinations import hookimpl
from amp_destinations._cli import build_cli

sys.path.insert(0, str(Path(__file__).parent))
from send_support import FAST


class Keyed(amp.Destination):
    """Five match keys, one of them two columns, one of them either of two; a row with
    ``bad`` set is rejected by prepare."""

    name = "keyed"
    title = "Keyed (tests)"
    credential_type = None
    settings_schema = Schema
    id_field = "id"
    identifiers = {
        "email": (("email",),),
        "phone": (("phone",),),
        "external_id": (("external_id",),),
        "ip with agent": (("ip", "agent"),),
        "click or cookie": (("click",), ("cookie",)),
    }

    def test_connection(self, session):
        return amp.ConnectionStatus([amp.Check.passed("ready")])

    def prepare(self, row, warnings):
        if row.get("bad"):
            return amp.RecordError("row.bad", None, "a bad row")
        return {"id": row.get("id")}

    def deliver(self, batch, session):
        return amp.BatchOutcome.delivered()


class Keyless(Keyed):
    name = "keyless"
    identifiers: dict = {}


class Plugin:
    @hookimpl
    def register_destinations(self, register):
        register(Keyed)
        register(Keyless)


FULL = {
    "email": "a@example.com",
    "phone": "+15550100",
    "external_id": "x1",
    "ip": "10.0.0.1",
    "agent": "curl",
    "cookie": "c1",
}
# Keys carried: 0, 1 x5, 2 x2, 3, 5; and two rejected rows carrying all five.
KEYED_ROWS = [
    {"email": "", "ip": "10.0.0.1"},  # an ip without its agent is no key
    {"email": "a@example.com"},
    {"phone": "+15550100"},
    {"click": "k1"},
    {"cookie": "c1"},
    {"ip": "10.0.0.1", "agent": "curl"},
    {"email": "a@example.com", "phone": "+15550100"},
    {"external_id": "x1", "click": "k1", "cookie": "c1"},  # either click id: one key
    {"email": "a@example.com", "phone": "+15550100", "external_id": "x1"},
    FULL,
    {**FULL, "bad": "1"},
    {**FULL, "bad": "1"},
]


@pytest.fixture
def host(tmp_path):
    registry = amp.load_plugins(entry_points=False, extra=[Plugin()])
    with amp.Host(tmp_path / "home", registry=registry) as host:
        host.add_destination("keyed", "keyed", settings={})
        host.add_destination("keyless", "keyless", settings={})
        yield host


def keyed_rows():
    return [{"id": f"E{number}", **row} for number, row in enumerate(KEYED_ROWS, 1)]


def test_prepared_rows_are_counted_by_the_keys_they_carry(host):
    result = host.send("keyed", rows=keyed_rows(), retry=FAST)
    s = result.summary
    assert (s["delivered"], s["rejected"]) == (10, 2)
    # The rejected rows are never sent: they are not counted, whatever they carry.
    assert s["match_keys"] == {"0": 1, "1": 5, "2": 2, "3+": 2}
    assert host.run(result.id).summary["match_keys"] == s["match_keys"]


def test_a_destination_without_match_keys_has_no_figures(host):
    assert host.send("keyless", rows=keyed_rows(), retry=FAST).summary["match_keys"] == {}


@pytest.fixture
def run(host, monkeypatch):
    monkeypatch.setenv("AMP_DEST_HOME", str(host.home))
    cli = build_cli(host.registry)

    def invoke(*args):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def write_csv(path, rows):
    columns = ["id", "email", "phone", "external_id", "ip", "agent", "click", "cookie", "bad"]
    lines = [",".join(columns)]
    lines += [",".join(row.get(column, "") for column in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_send_and_runs_show_print_the_shares(run, tmp_path):
    path = write_csv(tmp_path / "in.csv", keyed_rows())
    sent = run("send", "keyed", "--input", path)
    assert "  match keys per event: 0 keys 10%, 1 key 50%, 2 keys 20%, 3+ keys 20%\n" in sent
    assert "warning" not in sent  # half carry one key: not most
    shown = run("runs", "show", "1")
    assert "match_keys: 0 keys 10%, 1 key 50%, 2 keys 20%, 3+ keys 20%\n" in shown
    assert "warning" not in shown


def test_most_events_with_one_key_get_a_warning_naming_the_keys_to_add(run, tmp_path):
    rows = [{"id": f"E{i}", "email": f"u{i}@example.com"} for i in range(1, 8)]
    rows += [{"id": "E8", "email": "u8@example.com", "phone": "+15550100"}]
    sent = run("send", "keyed", "--input", write_csv(tmp_path / "in.csv", rows))
    assert "  match keys per event: 1 key 88%, 2 keys 12%\n" in sent
    advice = (
        "warning: 88% of 8 prepared events carry only one match key: fill or add the "
        "columns of phone, external_id, ip with agent, click or cookie; each further key "
        "an event carries raises the share of events the destination can match to a person"
    )
    assert f"  {advice}\n" in sent
    assert f"\n{advice}\n" in run("runs", "show", "1")


def test_json_gives_the_counts(run, tmp_path):
    path = write_csv(tmp_path / "in.csv", keyed_rows())
    summary = json.loads(run("send", "keyed", "--input", path, "--json"))  # flat
    assert summary["match_keys"] == {"0": 1, "1": 5, "2": 2, "3+": 2}
    shown = json.loads(run("runs", "show", "1", "--json"))
    assert shown["summary"]["match_keys"] == {"0": 1, "1": 5, "2": 2, "3+": 2}
    assert shown["attempts"][0]["match_keys"] == {"0": 1, "1": 5, "2": 2, "3+": 2}


def test_a_destination_without_match_keys_prints_none(run, tmp_path):
    sent = run("send", "keyless", "--input", write_csv(tmp_path / "in.csv", keyed_rows()))
    assert "match keys" not in sent and "warning" not in sent
    assert "match_keys" not in run("runs", "show", "1")
