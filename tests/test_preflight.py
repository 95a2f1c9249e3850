"""What an input must pass before a run is recorded: the columns a destination requires,
leading records that decode, and rows that are mappings. Through ``Host.send`` and the
CLI, with real files; a refused input leaves no run behind and sends nothing."""

from __future__ import annotations

import csv
import json

import orjson
import pytest
from marshmallow import Schema, fields

import amp_destinations as amp
from amp_destinations import InputError, hookimpl
from amp_destinations._preflight import HEAD_RECORDS

FAST = amp.RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.01)
RECEIVED: list = []


class StrictSettings(Schema):
    fixed_kind = fields.String(
        load_default=None, allow_none=True, metadata={"description": "When set, rows need no kind."}
    )


class Strict(amp.Destination):
    """Requires id, kind (unless fixed_kind) and email or phone."""

    name = "strict"
    title = "Strict (tests)"
    settings_schema = StrictSettings
    max_batch_size = 100
    id_field = "id"

    def required_columns(self):
        required = [("id",), ("email", "phone")]
        return required if self.settings["fixed_kind"] else [("kind",)] + required

    def test_connection(self, session):
        return amp.ConnectionStatus([amp.Check.passed("ready")])

    def prepare(self, row, warnings):
        if not row.get("id"):
            return amp.RecordError("id.missing", "id", "id is required")
        return {"id": row["id"]}

    def deliver(self, batch, session):
        RECEIVED.extend(orjson.loads(batch.body))
        return amp.BatchOutcome.delivered()


class StrictPlugin:
    @hookimpl
    def register_destinations(self, register):
        register(Strict)


@pytest.fixture
def strict(tmp_path):
    RECEIVED.clear()
    registry = amp.load_plugins(entry_points=False, extra=[StrictPlugin()])
    with amp.Host(tmp_path / "home", registry=registry) as host:
        host.add_destination("audit", "strict", settings={})
        host.add_destination("fixed", "strict", settings={"fixed_kind": "signup"})
        yield host


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_jsonl(path, records):
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return str(path)


def people(count):
    return [[f"id{i}", "signup", f"user{i}@example.com"] for i in range(1, count + 1)]


def assert_refused(host, match, **send):
    with pytest.raises(InputError, match=match) as refused:
        host.send(**send)
    message = str(refused.value)
    assert message.startswith("nothing was sent: ") and "\n" not in message
    assert "example.com" not in message
    assert host.runs() == [] and RECEIVED == []
    return message


def assert_counts_add_up(result):
    s = result.summary
    assert s["rows_read"] == s["delivered"] + s["rejected"] + s["pending"]


# -- 16: the columns a destination requires ------------------------------------------------


def test_a_csv_without_a_required_column_stops_naming_it(strict, tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "email"], [["id1", "a@example.com"]])
    assert_refused(
        strict,
        name="audit",
        input=path,
        match=r"in.csv lacks kind, which destination audit \(Strict \(tests\)\) "
        "needs$",
    )


def test_a_file_without_a_header_is_told_so_without_quoting_its_first_row(strict, tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id1", "signup", "first@example.com"], people(2))
    message = assert_refused(strict, name="audit", input=path, match="lacks kind, id, ")
    assert message.endswith("the file needs a header row naming its columns")
    assert "first@" not in message and "id1" not in message


def test_a_group_of_alternatives_is_named_as_one(strict, tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "kind", "name"], [["id1", "x", "Al"]])
    assert_refused(strict, name="audit", input=path, match="lacks one of email or phone,")


def test_a_setting_can_make_a_column_optional(strict, tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "phone"], [["id1", "+15550100"]])
    result = strict.send("fixed", input=path)
    assert result.status == "succeeded" and result.summary["delivered"] == 1


def test_a_column_that_differs_only_in_case_is_pointed_at(strict, tmp_path):
    path = write_csv(tmp_path / "in.csv", ["ID", "kind", "email"], [["id1", "x", "a@b.co"]])
    assert_refused(
        strict,
        name="audit",
        input=path,
        match="lacks id, .*; 'ID' differs from 'id' only in case: rename it",
    )


def test_a_semicolon_file_stops_with_the_delimiter_to_use_and_then_sends(strict, tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "kind", "email"], people(3), delimiter=";")
    assert_refused(
        strict,
        name="audit",
        input=path,
        match="lacks kind, id, one of email or phone, .*use delimiter=';'$",
    )
    result = strict.send("audit", input=path, delimiter=";")
    assert result.status == "succeeded" and result.summary["delivered"] == 3
    assert strict.run(result.id).summary["delimiter"] == ";"


@pytest.mark.parametrize("present_at", [1, 7, HEAD_RECORDS])
def test_jsonl_keys_are_looked_for_in_the_leading_records(strict, tmp_path, present_at):
    records = [{"id": f"id{i}", "kind": "x"} for i in range(1, HEAD_RECORDS + 50)]
    records[present_at - 1]["phone"] = "+15550100"
    result = strict.send("audit", input=write_jsonl(tmp_path / "in.jsonl", records))
    assert result.summary["delivered"] == len(records)


def test_jsonl_without_a_required_key_in_the_leading_records_stops(strict, tmp_path):
    records = [{"id": f"id{i}", "kind": "x"} for i in range(1, HEAD_RECORDS + 50)]
    records[HEAD_RECORDS]["email"] = "late@example.com"  # record 1,001: too late to count
    assert_refused(
        strict,
        name="audit",
        input=write_jsonl(tmp_path / "in.jsonl", records),
        match="none of the first 1,000 records of .*in.jsonl has one of email or phone",
    )


def test_python_rows_without_a_required_key_stop(strict):
    rows = [{"id": "1", "kind": "x", "Email": "a@example.com"}, {"id": "2", "kind": "x"}]
    assert_refused(
        strict,
        name="audit",
        rows=rows,
        match="none of the 2 rows has one of email or phone, .*"
        "'Email' differs from 'email' only in case",
    )


def test_rows_that_are_no_mappings_at_all_are_rejected_one_by_one_not_refused(strict):
    result = strict.send("audit", rows=[["id1", "x"], ("id2",)])
    assert result.summary["rejected_by_code"] == {"input.not_an_object": 2}


# -- 15: leading records that all fail to decode -----------------------------------------


def csv_lines(count):
    return "id,email\n" + "".join(f"E{i},user{i}@example.com\n" for i in range(1, count))


def test_a_csv_sent_as_jsonl_stops_before_anything_is_sent(ready_host, script, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(csv_lines(3001))  # 3,001 lines: a header and 3,000 rows
    message = assert_refused(
        ready_host,
        name="rec",
        input=path,
        format="jsonl",
        match="the first 1,000 records of .*events.csv cannot be read as jsonl",
    )
    assert message.endswith("it looks like CSV: use format='csv'")
    assert "(input.invalid_json: line 1 is not valid JSON)" in message
    assert script.received == []


def test_a_short_file_whose_every_record_fails_stops_too(ready_host, tmp_path):
    path = tmp_path / "arrays.jsonl"
    path.write_text('["a@example.com"]\n[1]\n')
    assert_refused(
        ready_host,
        name="rec",
        input=path,
        match="the 2 records of .* cannot be read as jsonl .*"
        r"JSON Lines needs one object \(\{...\}\) per line",
    )


def test_a_latin1_csv_whose_every_row_fails_says_to_save_as_utf8(ready_host, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,city\nE1,Z\xfcrich\n")
    assert_refused(
        ready_host,
        name="rec",
        input=path,
        match="the only record of .* cannot be read as csv .*save it as UTF-8",
    )


def test_a_utf16_csv_without_a_byte_order_mark_is_refused_at_open(ready_host, tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes(csv_lines(5).encode("utf-16-le"))
    with pytest.raises(InputError, match="looks like UTF-16 text or a binary file"):
        ready_host.send("rec", input=path)
    assert ready_host.runs() == []


def test_bad_leading_lines_do_not_stop_a_file_with_one_good_record_among_the_first(
    ready_host, script, tmp_path
):
    path = tmp_path / "mixed.jsonl"
    bad = "not json\n" * (HEAD_RECORDS - 1)
    path.write_text(bad + '{"id": "E1", "email": "a@example.com"}\n' + bad)
    result = ready_host.send("rec", input=path, retry=FAST)
    assert result.status == "succeeded"
    assert result.summary["delivered"] == 1
    assert result.summary["rejected_by_code"] == {"input.invalid_json": 2 * HEAD_RECORDS - 2}
    assert_counts_add_up(result)


def test_a_thousand_bad_leading_lines_stop_even_with_good_ones_after(ready_host, tmp_path):
    path = tmp_path / "late.jsonl"
    path.write_text("not json\n" * HEAD_RECORDS + '{"id": "E1", "email": "a@example.com"}\n')
    assert_refused(ready_host, name="rec", input=path, match="the first 1,000 records")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", "python"])
def test_the_records_read_ahead_are_sent_once_in_order(ready_host, script, tmp_path, suffix):
    count = 2500
    rows = [{"id": f"E{i}", "email": f"user{i}@example.com"} for i in range(1, count + 1)]
    if suffix == "python":
        result = ready_host.send("rec", rows=iter(rows), retry=FAST)
    else:
        path = tmp_path / f"in{suffix}"
        if suffix == ".csv":
            write_csv(path, ["id", "email"], [[row["id"], row["email"]] for row in rows])
        elif suffix == ".jsonl":
            write_jsonl(path, rows)
        else:
            pa = pytest.importorskip("pyarrow")
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), path)
        result = ready_host.send("rec", input=path, retry=FAST)
    assert result.summary["rows_read"] == count == result.summary["delivered"]
    assert sorted(item["id"] for item in script.received) == sorted(row["id"] for row in rows)


# -- 19: Python rows that are not mappings --------------------------------------------------


def test_python_rows_that_are_not_mappings_are_rejected_and_the_run_goes_on(ready_host, script):
    rows = [
        {"id": "E1", "email": "a@example.com"},
        ["E2", "b@example.com"],
        None,
        "c@example.com",
        7,
        {"id": "E6", "email": "f@example.com"},
    ]
    result = ready_host.send("rec", rows=rows, retry=FAST)
    assert result.status == "succeeded"
    assert result.summary["delivered"] == 2
    assert result.summary["rejected_by_code"] == {"input.not_an_object": 4}
    with open(result.rejects_path, newline="") as handle:
        messages = [row["message"] for row in csv.DictReader(handle)]
    assert messages == [
        "row 2 is a list, not a mapping",
        "row 3 is None, not a mapping",
        "row 4 is a str, not a mapping",
        "row 5 is an int, not a mapping",
    ]
    assert_counts_add_up(result)


# -- --delimiter -------------------------------------------------------------------------------


def test_a_delimiter_is_refused_for_a_format_without_one(ready_host, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "E1"}])
    with pytest.raises(
        InputError, match="delimiter= applies to CSV and TSV input only, not to jsonl"
    ):
        ready_host.send("rec", input=path, delimiter=";")
    with pytest.raises(amp.AmpDestError, match="applies to an input file, not to rows"):
        ready_host.send("rec", rows=[{"id": "E1"}], delimiter=";")


def test_a_resumed_run_reads_with_the_delimiter_it_started_with(ready_host, script, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;email\n" + "".join(f"E{i};user{i}@example.com\n" for i in range(1, 6)))
    ready_host.update_destination("rec", {"fatal_after": 0})
    first = ready_host.send("rec", input=path, delimiter=";", retry=FAST)
    assert first.status == "failed"
    ready_host.update_destination("rec", {"fatal_after": -1})
    resumed = ready_host.send(resume=first.id, retry=FAST)
    assert resumed.status == "succeeded"
    assert resumed.summary["delivered"] == 5 and resumed.summary["rejected"] == 0
    assert resumed.summary["delimiter"] == ";"


# -- the CLI -------------------------------------------------------------------------------


def test_cli_a_csv_sent_as_jsonl_is_one_line_and_a_failing_exit(configured, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(csv_lines(3001))
    result = configured("send", "rec", "--input", str(path), "--format", "jsonl")
    assert result.exit_code == 1
    assert result.output.startswith("amp-dest: error: nothing was sent: ")
    assert result.output.count("\n") == 1 and "--resume" not in result.output
    assert result.output.rstrip().endswith("use --format csv")  # the API says format='csv'
    assert configured("runs", "list").output == "no runs yet\n"


def test_cli_delimiter(configured, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;email\nE1;a@example.com\nE2;b@example.com\n")
    result = configured("send", "rec", "--input", str(path), "--delimiter", ";", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["delivered"] == 2
    refused = configured("send", "rec", "--input", str(path), "--delimiter", ";;")
    assert refused.exit_code == 1
    assert refused.output == (
        "amp-dest: error: --delimiter must be one character other than "
        "a quote or a line break, not ';;'\n"
    )
