"""How rows reach prepare: a tuple of the declared fields or the whole mapping, whatever
the input format, with the record id and identifier coverage read from the right place."""

from __future__ import annotations

import csv

import orjson
import pytest
from marshmallow import Schema

import amp_destinations as amp
from amp_destinations import hookimpl

COLUMNS = ["id", "email", "plan", "phone"]
SOURCES = ["csv", "jsonl", "parquet", "python"]
ROWS = [
    {"id": "r1", "email": "a@example.com", "plan": "pro", "phone": "+15550100"},
    {"id": "r2", "email": "", "plan": "free", "phone": ""},
    {"id": "r3", "email": "c@example.com", "plan": "", "phone": "+15550102"},
]


SEEN: list = []  # what prepare was handed, in order (it runs on the engine's thread)


class Capture(amp.Destination):
    """Keeps what prepare was handed; rejects rows without an email."""

    title = "Capture (tests)"
    credential_type = None
    settings_schema = Schema
    max_batch_size = 2

    def test_connection(self, session):
        return amp.ConnectionStatus([amp.Check.passed("ready")])

    def prepare(self, row, warnings):
        SEEN.append(row)
        email = row[1] if self.fields else row.get("email")
        if not email:
            return amp.RecordError("email.missing", "email", "email is required")
        return {"email": email}

    def deliver(self, batch, session):
        return amp.BatchOutcome.delivered()


class Fielded(Capture):
    name = "fielded"
    fields = ("plan", "email", "country", "id", "phone")  # country is in no input
    id_field = "id"
    identifiers = {"email": (("email",),), "phone with plan": (("phone", "plan"),)}


class Whole(Capture):
    name = "whole"
    id_field = "id"
    identifiers = {"email": (("email",),)}


class OutsideFields(Capture):
    """The id and an identifier come from columns prepare does not read."""

    name = "outside-fields"
    fields = ("plan", "email")
    id_field = "id"
    identifiers = {"phone": (("phone",),)}


class Plugin:
    @hookimpl
    def register_destinations(self, register):
        for destination in (Fielded, Whole, OutsideFields):
            register(destination)


@pytest.fixture
def host(tmp_path):
    SEEN.clear()
    registry = amp.load_plugins(entry_points=False, extra=[Plugin()])
    with amp.Host(tmp_path / "home", registry=registry) as host:
        for name in ("fielded", "whole", "outside-fields"):
            host.add_destination(name, name, settings={})
        yield host


@pytest.fixture
def inputs(tmp_path):
    with open(tmp_path / "rows.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(ROWS)
    (tmp_path / "rows.jsonl").write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in ROWS))
    paths = {"csv": str(tmp_path / "rows.csv"), "jsonl": str(tmp_path / "rows.jsonl")}
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:  # the [parquet] extra is not installed
        return paths
    table = pyarrow.table({column: [row[column] for row in ROWS] for column in COLUMNS})
    pyarrow.parquet.write_table(table, str(tmp_path / "rows.parquet"))
    paths["parquet"] = str(tmp_path / "rows.parquet")
    return paths


def send(host, name, source, inputs):
    if source not in inputs and source != "python":
        pytest.skip(f"no {source} input without its optional reader")
    if source == "python":
        return host.send(name, rows=[dict(row) for row in ROWS])
    return host.send(name, input=inputs[source])


def rejects(result):
    with open(result.rejects_path, newline="") as handle:
        return [(row["row"], row["record_id"], row["code"]) for row in csv.DictReader(handle)]


@pytest.mark.parametrize("source", SOURCES)
def test_a_destination_with_fields_gets_their_values_in_its_order(host, inputs, source):
    result = send(host, "fielded", source, inputs)
    assert [tuple(values) for values in SEEN] == [
        ("pro", "a@example.com", None, "r1", "+15550100"),
        ("free", "", None, "r2", ""),
        ("", "c@example.com", None, "r3", "+15550102"),
    ]
    assert result.summary["delivered"] == 2
    assert rejects(result) == [("2", "r2", "email.missing")]
    assert result.summary["identifier_coverage"] == {"email": 1.0, "phone with plan": 0.5}


@pytest.mark.parametrize("source", SOURCES)
def test_a_destination_without_fields_gets_the_whole_row(host, inputs, source):
    result = send(host, "whole", source, inputs)
    assert [dict(row) for row in SEEN] == ROWS
    assert rejects(result) == [("2", "r2", "email.missing")]
    assert result.summary["identifier_coverage"] == {"email": 1.0}


@pytest.mark.parametrize("source", SOURCES)
def test_the_id_and_identifiers_may_lie_outside_the_fields(host, inputs, source):
    result = send(host, "outside-fields", source, inputs)
    assert [tuple(values) for values in SEEN] == [
        ("pro", "a@example.com"),
        ("free", ""),
        ("", "c@example.com"),
    ]
    assert rejects(result) == [("2", "r2", "email.missing")]
    assert result.summary["identifier_coverage"] == {"phone": 1.0}


def test_a_ragged_csv_row_is_still_rejected_by_line(host, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("id,email,plan,phone\nr1,a@example.com,pro,+15550100\nr2,b@example.com\n")
    result = host.send("fielded", input=str(path))
    assert (result.summary["delivered"], result.summary["rejected_by_code"]) == (
        1,
        {"input.ragged_row": 1},
    )
