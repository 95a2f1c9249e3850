"""The ``file`` destination: records appended to a JSON Lines file."""

from __future__ import annotations

import decimal
import os
import threading

import orjson
import pytest
from marshmallow import ValidationError

import amp_destinations
import amp_destinations.builtins.file
from amp_destinations import FailureType
from amp_destinations.builtins._file import FileDestination
from amp_destinations.testing import DestinationTests, make_batch


@pytest.fixture(scope="module")
def registry():
    return amp_destinations.load_plugins(entry_points=False)


def make_destination(path) -> FileDestination:
    settings = FileDestination.settings_schema().load({"path": str(path)})
    return FileDestination(settings)


def read_lines(path) -> list[dict]:
    with open(path, "rb") as file:
        return [orjson.loads(line) for line in file]


def test_file_is_registered_without_a_credential(registry):
    destination = registry.destination("file")
    assert destination is FileDestination
    assert destination.title == "JSONL file"
    assert destination.credential_type is None


def test_settings_need_a_path_and_make_it_absolute(tmp_path, monkeypatch):
    schema = FileDestination.settings_schema()
    with pytest.raises(ValidationError) as caught:
        schema.load({})
    assert "path" in caught.value.messages
    monkeypatch.chdir(tmp_path)
    assert schema.load({"path": "out/events.jsonl"}) == {
        "path": str(tmp_path / "out" / "events.jsonl")
    }


def test_batches_are_appended_one_json_object_per_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"earlier": "run"}\n')
    destination = make_destination(path)
    rows = [
        {"email": "bob@example.com", "value": "12.5", "note": ""},
        {"email": "carol@example.com", "value": "", "note": None},
    ]
    first = destination.deliver(make_batch(destination, rows), session=None)
    second = destination.deliver(make_batch(destination, rows[:1]), session=None)
    assert first.kind == second.kind == "delivered"
    # Kept exactly as given, empty values included: this is an audit trail.
    assert read_lines(path) == [{"earlier": "run"}, *rows, rows[0]]
    assert path.read_bytes().endswith(b"}\n")


def test_values_json_lacks_are_written_as_text(tmp_path):
    path = tmp_path / "events.jsonl"
    destination = make_destination(path)
    destination.deliver(make_batch(destination, [{"value": decimal.Decimal("12.50")}]), None)
    assert read_lines(path) == [{"value": "12.50"}]


def test_batches_delivered_from_threads_stay_whole_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    destination = make_destination(path)
    rows = [{"n": n, "padding": "x" * 2000} for n in range(50)]
    batches = [make_batch(destination, rows) for _ in range(8)]
    threads = [threading.Thread(target=destination.deliver, args=(b, None)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(line["n"] for line in read_lines(path)) == sorted(list(range(50)) * 8)


def test_connection_test_passes_for_a_writable_directory_and_creates_nothing(tmp_path):
    status = make_destination(tmp_path / "events.jsonl").test_connection(session=None)
    assert status.ok
    assert [check.name for check in status.checks] == ["path writable"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "relative, message, hint",
    [
        ("missing/events.jsonl", "does not exist", "create the directory"),
        (".", "is a directory", "a file name inside it"),
    ],
)
def test_connection_test_names_a_wrong_path(tmp_path, relative, message, hint):
    status = make_destination(tmp_path / relative).test_connection(session=None)
    assert not status.ok
    assert status.failure is FailureType.CONFIG
    assert message in status.first_failure.message
    assert hint in status.first_failure.hint


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_connection_test_finds_a_read_only_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    status = make_destination(locked / "events.jsonl").test_connection(session=None)
    assert status.failure is FailureType.CONFIG
    assert "not writable" in status.first_failure.message


def test_writing_to_a_missing_directory_stops_the_run_naming_the_path(tmp_path):
    path = tmp_path / "missing" / "events.jsonl"
    destination = make_destination(path)
    outcome = destination.deliver(make_batch(destination, [{"n": 1}]), session=None)
    assert outcome.kind == "fatal"
    assert outcome.failure is FailureType.CONFIG
    assert str(path) in outcome.message


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_stops_the_run_as_a_system_failure():
    destination = FileDestination({"path": "/dev/full"})
    outcome = destination.deliver(make_batch(destination, [{"n": 1}]), session=None)
    assert outcome.kind == "fatal"
    assert outcome.failure is FailureType.SYSTEM
    assert outcome.message.startswith("cannot write to /dev/full: ")


def test_rows_read_from_csv_arrive_in_the_file_as_read(registry, tmp_path):
    source = tmp_path / "events.csv"
    source.write_text("email,value\nbob@example.com,12.5\ncarol@example.com,\n")
    reader = registry.reader_for(str(source))(str(source))
    destination = make_destination(tmp_path / "events.jsonl")
    destination.start_run(reader.columns)
    rows = list(reader)
    assert destination.deliver(make_batch(destination, rows), session=None).kind == "delivered"
    assert read_lines(tmp_path / "events.jsonl") == [
        {"email": "bob@example.com", "value": "12.5"},
        {"email": "carol@example.com", "value": ""},
    ]


# -- the standard suite ----------------------------------------------------------------


class TestFileDestinationContract(DestinationTests):
    """The contract every destination keeps, checked by amp_destinations.testing. The
    file destination makes no HTTP request: the suite checks that it makes none."""

    destination_class = FileDestination
    plugin = amp_destinations.builtins.file
    sends_http = False
    good_rows = (
        {"email": "ada@example.com", "plan": "pro", "seats": 3},
        {"email": "grace@example.com", "note": "line one\nline two", "empty": ""},
    )

    def destination_settings(self):
        return {"path": str(self.tmp_path / "records.jsonl")}
