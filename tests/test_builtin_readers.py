"""The built-in input formats: CSV, TSV, JSON Lines, Parquet, each optionally gzipped."""

from __future__ import annotations

import datetime
import decimal
import gc
import gzip
import os
import sys
import tracemalloc
import warnings

import pytest

import amp_destinations
from amp_destinations import InputError, NotFoundError, RecordError

SECRET_VALUE = "alice@example.com"


@pytest.fixture(scope="module")
def registry():
    return amp_destinations.load_plugins(entry_points=False)


def read(registry, path: str, format: str | None = None) -> tuple[list | None, list]:
    """The columns and the records; for a reader that also hands rows over as value
    lists (the host's way), checks that those are the same records."""
    reader_class = registry.reader(format) if format else registry.reader_for(path)
    reader = reader_class(path)
    columns = reader.columns
    records = list(reader)
    if reader_class.values is not amp_destinations.Reader.values:
        as_values = list(reader_class(path).values())
        assert [
            record if isinstance(record, RecordError) else dict(zip(columns, record))
            for record in as_values
        ] == records
        assert all(isinstance(record, (list, RecordError)) for record in as_values)
    return columns, records


def assert_no_raw_value(records):
    for record in records:
        if isinstance(record, RecordError):
            assert SECRET_VALUE not in record.message
            assert "alice" not in record.message


# -- registration -------------------------------------------------------------------


def test_builtin_readers_are_registered_through_the_hook(registry):
    assert set(registry.readers) == {"csv", "tsv", "jsonl", "parquet"}
    info = next(info for info in registry.plugins if info.name == "readers")
    assert info.source == "builtin"
    assert info.registered == {"readers": ["csv", "tsv", "jsonl", "parquet"]}


@pytest.mark.parametrize(
    "path, format",
    [
        ("events.csv", "csv"),
        ("EVENTS.CSV.GZ", "csv"),
        ("events.tsv", "tsv"),
        ("events.jsonl", "jsonl"),
        ("events.ndjson.gz", "jsonl"),
        ("events.parquet", "parquet"),
    ],
)
def test_the_reader_is_chosen_by_suffix(registry, path, format):
    assert registry.reader_for(path).name == format


def test_an_unknown_suffix_asks_for_format(registry):
    with pytest.raises(NotFoundError, match=r"from its name \(formats: csv, jsonl") as caught:
        registry.reader_for("events.xlsx")
    assert (caught.value.kind, caught.value.name) == ("suffix", "events.xlsx")
    assert "--format" not in str(caught.value)  # the CLI adds it (test_cli)


# -- CSV ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["events.csv", "events.csv.gz"])
def test_csv_yields_strings_by_header_column(registry, write, name):
    path = write(name, "email,value,note\r\nalice@example.com,12.5,\r\nbob@example.com,3,hi\r\n")
    columns, records = read(registry, path)
    assert columns == ["email", "value", "note"]
    assert records == [
        {"email": "alice@example.com", "value": "12.5", "note": ""},
        {"email": "bob@example.com", "value": "3", "note": "hi"},
    ]


def test_csv_byte_order_mark_is_not_part_of_the_first_column(registry, write):
    path = write("bom.csv", b"\xef\xbb\xbfemail,city\nbob@example.com,Z\xc3\xbcrich\n")
    columns, records = read(registry, path)
    assert columns == ["email", "city"]
    assert records == [{"email": "bob@example.com", "city": "Zürich"}]


def test_csv_blank_lines_are_not_records_and_quoted_line_breaks_are_kept(registry, write):
    path = write("blank.csv", '\na,b\n\n1,"two\nlines"\n\n3,4')
    _, records = read(registry, path)
    assert records == [{"a": "1", "b": "two\nlines"}, {"a": "3", "b": "4"}]


def test_csv_ragged_rows_are_errors_naming_their_line(registry, write):
    path = write(
        "ragged.csv",
        "email,value,note\n"  # line 1
        "bob@example.com,1,ok\n"  # line 2
        f"{SECRET_VALUE},2\n"  # line 3: too few
        '"x","multi\nline",ok\n'  # lines 4-5
        f"{SECRET_VALUE},3,a,b\n",  # line 6: too many
    )
    _, records = read(registry, path)
    assert len(records) == 4
    assert records[1] == RecordError(
        "input.ragged_row", None, "line 3 has 2 fields, the header has 3"
    )
    assert records[2] == {"email": "x", "value": "multi\nline", "note": "ok"}
    assert records[3] == RecordError(
        "input.ragged_row", None, "line 6 has 4 fields, the header has 3"
    )
    assert_no_raw_value(records)


def test_csv_line_numbers_hold_when_a_crlf_straddles_two_read_blocks(registry, write):
    # The reader decodes 64 KiB at a time; put the 65,536th byte between "\r" and "\n".
    header = "a,b\r\n"
    padded = "x," + "p" * (65_536 - len(header) - len("x,") - 1) + "\r\n"
    path = write("crlf.csv", header + padded + "1,2\r\n" * 3 + "3\r\n")
    _, records = read(registry, path)
    assert len(records) == 5
    assert records[1:4] == [{"a": "1", "b": "2"}] * 3
    assert records[4] == RecordError(
        "input.ragged_row", None, "line 6 has 1 field, the header has 2"
    )


def test_csv_undecodable_bytes_make_that_row_an_error_only(registry, write):
    data = (
        b"email,city\n"
        b"bob@example.com,Z\xc3\xbcrich\n"
        b"alice@example.com,Z\xfcrich\n"  # Latin-1: not UTF-8
        b'"two\nlines",Z\xfc\n'
        b"carol@example.com,Oslo\n"
    )
    _, records = read(registry, write("latin1.csv", data))
    assert records == [
        {"email": "bob@example.com", "city": "Zürich"},
        RecordError("input.undecodable", None, "line 3 is not valid UTF-8"),
        RecordError("input.undecodable", None, "line 4 is not valid UTF-8"),
        {"email": "carol@example.com", "city": "Oslo"},
    ]


def test_csv_a_value_beyond_the_csv_modules_default_field_limit_is_read(registry, write):
    long = "x" * 200_000  # the csv module refuses fields over 131,072 characters by default
    path = write("long.csv", f"a,b\n1,2\n{long},3\n4,5\n")
    _, records = read(registry, path)
    assert records == [{"a": "1", "b": "2"}, {"a": long, "b": "3"}, {"a": "4", "b": "5"}]


@pytest.mark.parametrize("name", ["events.tsv", "events.tsv.gz"])
def test_tsv_splits_on_tabs(registry, write, name):
    columns, records = read(registry, write(name, "email\tnote\nbob@example.com\ta, b\n"))
    assert columns == ["email", "note"]
    assert records == [{"email": "bob@example.com", "note": "a, b"}]


@pytest.mark.parametrize(
    "data, match",
    [
        ("", "is empty: a CSV file needs a header row"),
        ("\n\n\n", "is empty: a CSV file needs a header row"),
        ("email,value,email\n1,2,3\n", "names column 'email' twice"),
        ("email,,value\n1,2,3\n", "column 2 of the header .* has no name"),
        ("email,value,\n1,2,\n", "column 3 of the header .* has no name"),
        (b"email,stra\xdfe\n1,2\n", "header .* is not UTF-8 text: save the file as UTF-8"),
    ],
)
def test_csv_whole_file_problems_stop_before_any_row(registry, write, data, match):
    with pytest.raises(InputError, match=match):
        read(registry, write("bad.csv", data))


# -- JSON Lines -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["events.jsonl", "events.jsonl.gz", "events.ndjson"])
def test_jsonl_yields_objects_with_json_types(registry, write, name):
    path = write(
        name,
        '{"email": "bob@example.com", "value": 12.5, "n": 3, "ok": true, "x": null}\n'
        '{"email": "carol@example.com", "tags": ["a"]}',  # no final newline
    )
    columns, records = read(registry, path)
    assert columns is None  # objects need not share keys
    assert records == [
        {"email": "bob@example.com", "value": 12.5, "n": 3, "ok": True, "x": None},
        {"email": "carol@example.com", "tags": ["a"]},
    ]


def test_jsonl_byte_order_mark_crlf_and_blank_lines(registry, write):
    path = write("crlf.jsonl", b'\xef\xbb\xbf{"a": 1}\r\n\r\n   \r\n{"a": 2}\r\n')
    _, records = read(registry, path)
    assert records == [{"a": 1}, {"a": 2}]


def test_jsonl_bad_lines_are_errors_naming_their_line(registry, write):
    data = (
        b'{"email": "bob@example.com"}\n'  # line 1
        b"\n"  # line 2: blank
        b'{"email": "alice@example.com", \n'  # line 3: cut short
        b'["alice@example.com"]\n'  # line 4: an array
        b'"alice@example.com"\n'  # line 5: a string
        b'{"email": "alice@example.com", "city": "Z\xfcrich"}\n'  # line 6: Latin-1
        b'{"email": "carol@example.com"}\n'  # line 7
    )
    _, records = read(registry, write("bad.jsonl", data))
    assert records == [
        {"email": "bob@example.com"},
        RecordError("input.invalid_json", None, "line 3 is not valid JSON"),
        RecordError("input.not_an_object", None, "line 4 is an array, not a JSON object"),
        RecordError("input.not_an_object", None, "line 5 is a string, not a JSON object"),
        RecordError("input.undecodable", None, "line 6 is not valid UTF-8"),
        {"email": "carol@example.com"},
    ]
    assert_no_raw_value(records)


def test_an_empty_jsonl_file_has_no_records(registry, write):
    assert read(registry, write("empty.jsonl", "")) == (None, [])


# -- Parquet --------------------------------------------------------------------------


@pytest.fixture
def pa():
    return pytest.importorskip("pyarrow")


def write_parquet(path, table) -> str:
    pytest.importorskip("pyarrow.parquet").write_table(table, str(path))
    return str(path)


@pytest.mark.parametrize("gzipped", [False, True])
def test_parquet_yields_python_values_by_schema_column(registry, tmp_path, pa, gzipped):
    table = pa.table(
        {
            "email": ["bob@example.com", None],
            "value": pa.array([decimal.Decimal("12.50"), None]),
            "at": [datetime.datetime(2024, 5, 1, 12, 0), None],
            "n": [1, 2],
        }
    )
    path = write_parquet(tmp_path / "events.parquet", table)
    if gzipped:
        with open(path, "rb") as plain, gzip.open(path + ".gz", "wb") as packed:
            packed.write(plain.read())
        path += ".gz"
    columns, records = read(registry, path)
    assert columns == ["email", "value", "at", "n"]
    assert records == [
        {
            "email": "bob@example.com",
            "value": decimal.Decimal("12.50"),
            "at": datetime.datetime(2024, 5, 1, 12, 0),
            "n": 1,
        },
        {"email": None, "value": None, "at": None, "n": 2},
    ]


def test_parquet_timestamps_in_nanoseconds_are_read_to_the_microsecond(registry, tmp_path, pa):
    # pandas writes nanoseconds; pyarrow alone refuses to make a datetime of them.
    at = 1772362800_123456789
    table = pa.table(
        {
            "utc": pa.array([at, None], pa.timestamp("ns", tz="UTC")),
            "naive": pa.array([at, None], pa.timestamp("ns")),
            "lasted": pa.array([1_500, None], pa.duration("ns")),
        }
    )
    _, records = read(registry, write_parquet(tmp_path / "ns.parquet", table))
    moment = datetime.datetime(2026, 3, 1, 11, 0, 0, 123456)
    assert records[0]["utc"] == moment.replace(tzinfo=datetime.UTC)
    assert records[0]["naive"] == moment and records[0]["naive"].tzinfo is None
    assert records[0]["lasted"] == datetime.timedelta(microseconds=1)
    assert records[1] == {"utc": None, "naive": None, "lasted": None}


def test_parquet_float32_reads_as_the_number_written(registry, tmp_path, pa):
    values = [9.99, 0.1, 123456.79, None, float("inf")]
    table = pa.table({"price": pa.array(values, pa.float32())})
    _, records = read(registry, write_parquet(tmp_path / "f32.parquet", table))
    # Not 9.989999771118164, float32's exact binary value of 9.99.
    assert [record["price"] for record in records] == values


def test_parquet_column_pyarrow_cannot_convert_is_named(registry, tmp_path, pa):
    nested = pa.array([[1772362800_123456789]], pa.list_(pa.timestamp("ns")))
    path = write_parquet(tmp_path / "nested.parquet", pa.table({"when": nested}))
    with pytest.raises(InputError, match="column 'when' of .* holds values of type list"):
        read(registry, path)


def test_parquet_reads_every_batch_in_order(registry, tmp_path, pa):
    path = write_parquet(tmp_path / "many.parquet", pa.table({"n": list(range(10_000))}))
    _, records = read(registry, path)
    assert [record["n"] for record in records] == list(range(10_000))


def test_parquet_whole_file_problems(registry, tmp_path, write, pa):
    with pytest.raises(InputError, match="is empty"):
        read(registry, write("empty.parquet", b""))
    with pytest.raises(InputError, match="is not a Parquet file"):
        read(registry, write("fake.parquet", "email\nbob@example.com\n"))
    duplicate = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["n", "n"])
    with pytest.raises(InputError, match="names column 'n' more than once"):
        read(registry, write_parquet(tmp_path / "dup.parquet", duplicate))


def test_parquet_without_pyarrow_says_what_to_install(registry, write, monkeypatch):
    path = write("events.parquet", b"PAR1 stands in for a Parquet file PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as if not installed
    with pytest.raises(InputError) as caught:
        read(registry, path)
    assert str(caught.value) == (
        "reading Parquet needs pyarrow: pip install 'amp-destinations[parquet]'"
    )


# -- whole-file problems shared by every format -----------------------------------------


@pytest.mark.parametrize("format", ["csv", "jsonl", "parquet"])
def test_a_missing_file_or_a_directory_is_an_input_error(registry, tmp_path, format):
    with pytest.raises(InputError, match="does not exist: check the path"):
        registry.reader(format)(str(tmp_path / "missing.data"))
    with pytest.raises(InputError, match="is a directory: pass the path of a file"):
        registry.reader(format)(str(tmp_path))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_file_is_an_input_error(registry, write):
    path = write("secret.csv", "a\n1\n")
    os.chmod(path, 0)
    with pytest.raises(InputError, match="permission denied"):
        registry.reader_for(path)(path)


@pytest.mark.parametrize("name", ["events.csv.gz", "events.jsonl.gz", "events.parquet.gz"])
def test_a_gz_file_that_is_not_gzip_is_an_input_error(registry, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"email\nbob@example.com\n")
    with pytest.raises(InputError, match="ends in .gz but is not gzip-compressed"):
        registry.reader_for(str(path))(str(path))


@pytest.mark.parametrize("name", ["events.csv.gz", "events.jsonl.gz"])
def test_a_truncated_gzip_file_fails_the_run_when_reached(registry, tmp_path, name):
    rows = "".join(f'{{"n": {n}}}\n' if "jsonl" in name else f"{n}\n" for n in range(50_000))
    packed = gzip.compress(("n\n" if "csv" in name else "").encode() + rows.encode())
    path = tmp_path / name
    path.write_bytes(packed[: len(packed) // 2])
    reader_class = registry.reader_for(str(path))
    with pytest.raises(InputError, match="ends early: its gzip data is cut short"):
        list(reader_class(str(path)))
    if "csv" in name:  # the host reads CSV through values()
        with pytest.raises(InputError, match="ends early: its gzip data is cut short"):
            list(reader_class(str(path)).values())


# -- streaming and closing ----------------------------------------------------------------


@pytest.fixture(scope="module")
def big_inputs(tmp_path_factory):
    """About 10 MB of each text format: 100,000 rows of 12 columns."""
    directory = tmp_path_factory.mktemp("big")
    columns = [f"column_{n}" for n in range(12)]
    rows = [[f"row {row} value {n}" for n in range(12)] for row in range(100_000)]
    csv_text = ",".join(columns) + "\n" + "".join(",".join(row) + "\n" for row in rows)
    jsonl_text = "".join(
        "{" + ",".join(f'"{c}":"{v}"' for c, v in zip(columns, row)) + "}\n" for row in rows
    )
    paths = {}
    for name, text in (("big.csv", csv_text), ("big.jsonl", jsonl_text)):
        (directory / name).write_text(text)
        (directory / (name + ".gz")).write_bytes(gzip.compress(text.encode(), compresslevel=1))
        paths[name] = str(directory / name)
        paths[name + ".gz"] = str(directory / (name + ".gz"))
    return paths


def peak_memory(action) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["big.csv", "big.csv.gz", "big.jsonl", "big.jsonl.gz"])
def test_reading_streams_with_flat_memory(registry, big_inputs, name):
    path = big_inputs[name]
    size = os.path.getsize(path.removesuffix(".gz"))
    assert size > 8_000_000

    def first_record():
        reader = registry.reader_for(path)(path)
        assert next(iter(reader))["column_0"] == "row 0 value 0"
        reader.close()

    def every_record():
        reader = registry.reader_for(path)(path)
        assert sum(1 for _ in reader) == 100_000

    assert peak_memory(first_record) < 1_000_000
    assert peak_memory(every_record) < 2_000_000


@pytest.mark.parametrize("name", ["big.csv", "big.jsonl.gz"])
def test_files_are_closed_when_reading_ends_or_stops(registry, big_inputs, name):
    path = big_inputs[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        list(registry.reader_for(path)(path))  # to the end
        records = iter(registry.reader_for(path)(path))
        next(records)
        del records  # stopped early
        registry.reader_for(path)(path).close()  # never iterated
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
