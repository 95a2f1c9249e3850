"""Input that is odd but real, at the readers: records beyond the size limit, numbers
JSON Lines cannot hold, headers that are not what they seem, and the readers' guesses
at why a file reads badly. Every file is a real one in tmp_path."""

from __future__ import annotations

import gzip

import pytest

import amp_destinations
from amp_destinations import InputError, RecordError
from amp_destinations.builtins._input import CHUNK_SIZE, MAX_RECORD_BYTES

LIMIT = MAX_RECORD_BYTES


@pytest.fixture(scope="module")
def registry():
    return amp_destinations.load_plugins(entry_points=False)


def read(registry, path, format=None, **options):
    reader_cls = registry.reader(format) if format else registry.reader_for(path)
    return list(reader_cls(path, **options))


def codes(records):
    return [record.code if isinstance(record, RecordError) else "row" for record in records]


# -- 17: records beyond the size limit, read in linear time ------------------------------


@pytest.mark.parametrize("name", ["long.csv", "long.csv.gz", "long.tsv"])
def test_a_csv_line_beyond_the_limit_is_rejected_and_the_lines_after_it_are_read(
    registry, write, name
):
    sep = "\t" if ".tsv" in name else ","
    long = "x" * (3 * LIMIT)  # three times the limit, over dozens of read blocks
    path = write(name, f"a{sep}b\n1{sep}2\n{long}{sep}3\n4{sep}5\n6\n")
    records = read(registry, path)
    assert codes(records) == ["row", "input.record_too_large", "row", "input.ragged_row"]
    assert records[1].message == (
        "the record on line 3 is longer than 1 MiB, the limit for one record"
    )
    assert records[2] == {"a": "4", "b": "5"}
    assert records[3].message == "line 5 has 1 field, the header has 2"  # numbering holds


def test_a_csv_line_of_exactly_the_limit_is_read_and_one_more_character_is_not(registry, write):
    exact = "x" * (LIMIT - 2)  # with ",1" the line holds exactly the limit
    path = write("edge.csv", f"a,b\r\n{exact},1\r\n{exact}y,2\r\n3,4\r\n")
    records = read(registry, path)
    assert codes(records) == ["row", "input.record_too_large", "row"]
    assert records[0] == {"a": exact, "b": "1"}
    assert records[1].message.startswith("the record on line 3 ")


def test_a_long_line_inside_a_quoted_value_rejects_its_record_by_its_first_line(registry, write):
    path = write("inside.csv", 'a,b\n1,"start\n' + "x" * (2 * LIMIT) + '\nend"\n2,3\n4\n')
    records = read(registry, path)
    assert codes(records) == ["input.record_too_large", "row", "input.ragged_row"]
    assert records[0].message.startswith("the record on line 2 ")
    assert records[2].message == "line 6 has 1 field, the header has 2"


def test_a_last_csv_line_beyond_the_limit_without_a_line_break(registry, write):
    path = write("tail.csv", "a,b\n1,2\n" + "x" * (LIMIT + CHUNK_SIZE + 7))
    assert codes(read(registry, path)) == ["row", "input.record_too_large"]


def test_a_quoted_csv_value_beyond_the_limit_is_rejected(registry, write):
    # Each line is short; the value, open over many lines, is not.
    value = ("y" * 999 + "\n") * (LIMIT // 1000 + 10)
    path = write("quoted.csv", f'a,b\n1,2\n3,"{value}"\n')
    records = read(registry, path)
    assert codes(records)[:2] == ["row", "input.record_too_large"]
    assert "is inside a quoted value longer than 1 MiB" in records[1].message


def test_a_first_line_beyond_the_limit_is_no_header(registry, write):
    with pytest.raises(InputError, match="first line of .* is longer than 1 MiB"):
        read(registry, write("nolines.csv", "x" * (2 * LIMIT)))


@pytest.mark.parametrize("name", ["long.jsonl", "long.jsonl.gz"])
def test_a_jsonl_line_beyond_the_limit_is_rejected_and_the_lines_after_it_are_read(
    registry, write, name
):
    long = '{"a": "' + "x" * (3 * LIMIT) + '"}'
    path = write(name, f'{{"a": 1}}\n{long}\n{{"a": 2}}\n[]\n')
    records = read(registry, path)
    assert codes(records) == ["row", "input.record_too_large", "row", "input.not_an_object"]
    assert records[1].message == (
        "the record on line 2 is longer than 1 MiB, the limit for one record"
    )
    assert records[3].message.startswith("line 4 ")


def test_a_jsonl_line_of_exactly_the_limit_is_read_and_one_more_byte_is_not(registry, write):
    exact = '{"a": "' + "x" * (LIMIT - 9) + '"}'
    assert len(exact) == LIMIT
    longer = exact[:-2] + 'y"}'
    path = write("edge.jsonl", f"{exact}\n{longer}\n{{}}")
    assert codes(read(registry, path)) == ["row", "input.record_too_large", "row"]


def test_a_last_jsonl_line_beyond_the_limit_without_a_line_break(registry, write):
    path = write("tail.jsonl", '{"a": 1}\n{"a": "' + "x" * (LIMIT + CHUNK_SIZE) + '"}')
    assert codes(read(registry, path)) == ["row", "input.record_too_large"]


# -- 18: numbers JSON Lines cannot hold ----------------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-2.5E+999", "9" * 400, "-" + "1" * 5000])
def test_a_number_beyond_the_float_range_has_a_code_of_its_own(registry, write, number):
    path = write("numbers.jsonl", f'{{"a": 1}}\n{{"email": "alice@example.com", "v": {number}}}\n')
    records = read(registry, path)
    assert codes(records) == ["row", "input.number_out_of_range"]
    message = records[1].message
    assert message.startswith("line 2 holds a number beyond the range of a 64-bit float")
    assert number[:8] not in message and "alice" not in message


@pytest.mark.parametrize("line", ['{"v": 1e400', '{"v": NaN}', '{"v": 1e400,}'])
def test_invalid_json_with_a_huge_number_is_still_invalid_json(registry, write, line):
    assert codes(read(registry, write("bad.jsonl", line + "\n"))) == ["input.invalid_json"]


def test_deeply_nested_json_is_invalid_not_a_crash(registry, write):
    path = write("deep.jsonl", "[" * 5000 + "]" * 5000 + '\n{"a": 1}\n')
    assert codes(read(registry, path)) == ["input.invalid_json", "row"]


# -- headers -------------------------------------------------------------------------------


def test_header_cells_are_trimmed(registry, write):
    path = write("spaced.csv", " email ,\tvalue\n a@example.com ,1\n")
    reader = registry.reader("csv")(path)
    assert reader.columns == ["email", "value"]
    assert list(reader) == [{"email": " a@example.com ", "value": "1"}]  # values are not


@pytest.mark.parametrize(
    "header, named",
    [
        ("Email,value,email", "'Email' and 'email'"),
        ("id,EVENT_ID,event_id", "'EVENT_ID' and 'event_id'"),
    ],
)
def test_header_cells_equal_but_for_case_are_refused_naming_both(registry, write, header, named):
    with pytest.raises(InputError, match=f"names columns {named}, equal but for case"):
        read(registry, write("case.csv", f"{header}\n1,2,3\n"))


def test_header_cells_equal_once_trimmed_are_duplicates(registry, write):
    with pytest.raises(InputError, match="names column 'email' twice"):
        read(registry, write("dup.csv", "email, email\n1,2\n"))


def test_parquet_columns_equal_but_for_case_are_refused(registry, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "case.parquet"
    pq.write_table(pa.table({"Email": ["a"], "email": ["b"]}), path)
    with pytest.raises(InputError, match="names columns 'Email' and 'email', equal but for case"):
        read(registry, str(path))


@pytest.mark.parametrize(
    "data, match",
    [
        (
            "email,value\n".encode("utf-16-le"),
            "NUL bytes, so it looks like UTF-16 text or a binary",
        ),
        ("email,value\n".encode("utf-16"), "it is UTF-16 text: save it as UTF-8"),
        (gzip.compress(b"email,value\n1,2\n"), "it is gzip-compressed: add .gz to its name"),
        (
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
            "a zip archive .*export the data as CSV",
        ),
        (b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00", "use format='parquet'"),
        (b"email,va\x00lue\n1,2\n", "it holds NUL bytes"),
        (b"email,stra\xdfe\n1,2\n", "save the file as UTF-8"),
    ],
)
def test_a_header_that_is_not_text_is_refused_at_open_naming_the_likely_cause(
    registry, write, data, match
):
    with pytest.raises(InputError, match=f"the header of .* is not UTF-8 text: .*{match}"):
        registry.reader("csv")(write("odd.csv", data))


# -- delimiters ------------------------------------------------------------------------------


def test_a_chosen_delimiter_splits_the_fields(registry, write):
    path = write("semi.csv", 'email;note\na@example.com;"x; y"\n')
    assert read(registry, path, delimiter=";") == [{"email": "a@example.com", "note": "x; y"}]


def test_a_backslash_t_delimiter_is_a_tab(registry, write):
    path = write("tabs.csv", "a\tb\n1\t2\n")
    assert read(registry, path, delimiter="\\t") == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n"])
def test_a_delimiter_must_be_one_plain_character(registry, write, delimiter):
    with pytest.raises(InputError, match="delimiter= must be one character"):
        registry.reader("csv")(write("a.csv", "a,b\n"), delimiter=delimiter)


# -- what readers guess when a file reads badly ----------------------------------------------


@pytest.mark.parametrize(
    "header, cause",
    [
        (
            "email;value;note",
            "holding ';', so the fields seem to be separated by it: use delimiter=';'",
        ),
        ("email|value", "holding '|'"),
        ("email\tvalue", "use format='tsv', or delimiter='\\t'"),
    ],
)
def test_csv_guesses_the_delimiter_from_a_one_column_header(registry, write, header, cause):
    reader = registry.reader("csv")(write("one.csv", f"{header}\n1\n"))
    assert cause in reader.likely_cause()


def test_tsv_guesses_csv_from_a_one_column_header(registry, write):
    reader = registry.reader("tsv")(write("one.tsv", "email,value\n1,2\n"))
    assert reader.likely_cause().endswith("use format='csv', or delimiter=','")


def test_csv_guesses_json_lines_from_a_header_that_looks_like_json(registry, write):
    reader = registry.reader("csv")(write("json.csv", '{"id": "E1", "email": "a@b.co"}\n'))
    assert reader.likely_cause() == "its first line looks like JSON: use format='jsonl'"


def test_csv_with_a_plain_header_has_no_guess(registry, write):
    assert registry.reader("csv")(write("fine.csv", "email,value\n1,2\n")).likely_cause() is None


@pytest.mark.parametrize(
    "data, cause",
    [
        (b"email,value\n1,2\n", "it looks like CSV: use format='csv'"),
        (b"email\tvalue\n1\t2\n", "it looks like TSV: use format='tsv'"),
        ('{"a": 1}\n'.encode("utf-16-le"), "NUL bytes, so it looks like UTF-16"),
        (b"PAR1\x15\x04\x15\x10", "it is a Parquet file: use format='parquet'"),
        (b'[\n  {\n    "a": 1\n  }\n]\n', "one JSON document spread over many lines"),
        (b'{"a": 1,}\n', None),
    ],
)
def test_jsonl_guesses_why_its_lines_fail(registry, write, data, cause):
    reader = registry.reader("jsonl")(write("odd.jsonl", data))
    records = list(reader)
    assert records and all(isinstance(record, RecordError) for record in records)
    assert (cause in reader.likely_cause()) if cause else reader.likely_cause() is None
