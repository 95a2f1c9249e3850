"""A corpus of odd but real input files, each sent through ``amp-dest send``: every one
must end either in a refusal of one line that says what to fix (nothing sent, no run
recorded) or in a run whose counts add up with nothing left pending, and nowhere may
a raw value show in a message or the rejects file."""

from __future__ import annotations

import codecs
import csv
import gzip
import json

import pytest

from amp_destinations.builtins._input import MAX_RECORD_BYTES

SECRET = "alice@example.com"
GOOD = f"E1,{SECRET}\nE2,bob@example.com\n"
LONG = "x" * (MAX_RECORD_BYTES + 10)


def _csv_cases():
    header = "id,email\n"
    yield "empty", b"", {}
    yield "bom only", codecs.BOM_UTF8, {}
    yield "header only", header, {}
    yield "header no newline", "id,email", {}
    yield "blank lines", "\n\n" + header + "\n\n" + GOOD + "\n\n", {}
    yield "crlf", (header + GOOD).replace("\n", "\r\n"), {}
    yield "cr only", (header + GOOD).replace("\n", "\r"), {}
    yield "mixed endings", "id,email\r\nE1,a@b.co\rE2,c@d.co\nE3,e@f.co\r\n", {}
    yield "bom crlf", codecs.BOM_UTF8 + (header + GOOD).replace("\n", "\r\n").encode(), {}
    yield "no final newline", header + GOOD.rstrip("\n"), {}
    yield "trailing delimiter in header", "id,email,\nE1,a@b.co,\n", {}
    yield "empty header cell", "id,,email\nE1,x,a@b.co\n", {}
    yield "spaces in header", " id , email \n" + GOOD, {}
    yield "whitespace header", "   \n" + GOOD, {}
    yield "duplicate header", "id,email,email\nE1,a,b\n", {}
    yield "case twins", "id,Email,email\nE1,a,b\n", {}
    yield "ragged rows", header + f"E1\nE2,{SECRET},extra\nE3,c@d.co\n", {}
    yield "latin-1 rows", header.encode() + b"E1,Z\xfcrich@b.co\nE2,ok@b.co\n", {}
    yield "latin-1 header", b"id,stra\xdfe\nE1,x\n", {}
    yield "quoted line breaks", header + f'"E\n1","{SECRET}"\nE2,b@c.co\n', {}
    yield "unclosed quote", header + f'E1,"{SECRET}\nE2,b@c.co\n', {}
    yield "quote in the middle", header + 'E1,ali"ce@example.com\n', {}
    yield "nul in value", header + "E1,a\x00b@c.co\nE2,b@c.co\n", {}
    yield "nul in header", "id,em\x00ail\nE1,a\n", {}
    yield "control characters", header + "E1,\x01\x02\x1b@c.co\n", {}
    yield "four-byte utf-8", header + "E1,\U0001f600@c.co\n", {}
    yield "utf-16 le", (header + GOOD).encode("utf-16-le"), {}
    yield "utf-16 be", (header + GOOD).encode("utf-16-be"), {}
    yield "utf-16 bom", (header + GOOD).encode("utf-16"), {}
    yield "utf-32", (header + GOOD).encode("utf-32"), {}
    yield "gzip without .gz", gzip.compress((header + GOOD).encode()), {}
    yield "zip archive", b"PK\x03\x04" + b"\x00" * 40, {}
    yield "parquet as csv", b"PAR1" + b"\x00\x15\x02" * 20, {}
    yield "long line in the middle", header + f"E1,{LONG}\nE2,b@c.co\n", {}
    yield "long line at the end", header + "E1,b@c.co\nE2," + LONG, {}
    yield "long header", LONG + "\nE1\n", {}
    yield "long quoted value", header + 'E1,"' + ("y" * 1000 + "\n") * 1100 + '"\nE2,b@c.co\n', {}
    yield "semicolons", "id;email\nE1;a@b.co\n", {}
    yield "semicolons with delimiter", "id;email\nE1;a@b.co\n", {"delimiter": ";"}
    yield "pipes with delimiter", "id|email\nE1|a@b.co\n", {"delimiter": "|"}
    yield "tabs as csv", "id\temail\nE1\ta@b.co\n", {}
    yield "tab delimiter typed", "id\temail\nE1\ta@b.co\n", {"delimiter": "\\t"}
    yield "bad delimiter", header + GOOD, {"delimiter": "ab"}
    yield "one column", "email\na@b.co\n", {}
    yield "wide header", ",".join(f"c{i}" for i in range(10_000)) + "\n" + "x," * 9999 + "x\n", {}
    yield "many blank lines", header + "\n" * 100_000 + GOOD, {}
    yield "three thousand rows", header + "".join(f"E{i},u{i}@b.co\n" for i in range(3000)), {}
    yield "json as csv", '{"id": "E1", "email": "a@b.co"}\n', {}
    yield "csv as jsonl", header + GOOD * 600, {"format": "jsonl"}
    yield (
        "split utf-8 at a block edge",
        header.encode() + b"E1," + b"a" * 65_523 + "é\n".encode(),
        {},
    )
    yield "escaped quotes", header + '"E""1","a@b.co"\n', {}
    yield "quoted header", '"id","email"\n' + GOOD, {}
    yield "line break in a header name", '"i\nd",email\n' + GOOD, {}
    yield "only delimiters", ",,,\n,,,\n", {}
    yield "bom mid-file", header + "\ufeffE1,a@b.co\n", {}
    yield "windows-1252 quotes", header.encode() + b"E1,\x93a@b.co\x94\n", {}
    yield "emoji header", "id,\U0001f600\nE1,x\n", {}
    yield "value just under the limit", header + "E1," + "y" * (MAX_RECORD_BYTES - 10) + "\n", {}
    yield "rows wider than the header", header + "E1,a@b.co,,,,\n", {}
    yield "utf-8 bom then utf-16", codecs.BOM_UTF8 + "id,email\n".encode("utf-16-le"), {}


def _jsonl_cases():
    good = f'{{"id": "E1", "email": "{SECRET}"}}\n{{"id": "E2", "email": "b@c.co"}}\n'
    yield "empty", b"", {}
    yield "blank lines only", "\n \n\t\n", {}
    yield "bom", codecs.BOM_UTF8 + good.encode(), {}
    yield "crlf", good.replace("\n", "\r\n"), {}
    yield "no final newline", good.rstrip("\n"), {}
    yield "arrays", '["E1", "a@b.co"]\n[1, 2]\n', {}
    yield "scalars", '"a@b.co"\n1\ntrue\nnull\n', {}
    yield "mixed bad and good", "[1]\n" + good + "nope\n", {}
    yield "empty objects", "{}\n{}\n", {}
    yield "nested values", '{"id": {"a": 1}, "email": ["x"]}\n', {}
    yield "deep nesting", "[" * 3000 + "]" * 3000 + "\n" + good, {}
    yield "huge float", '{"id": "E1", "email": "a@b.co", "v": 1e400}\n' + good, {}
    yield "huge integer", '{"id": "E1", "v": %s}\n' % ("9" * 5000) + good, {}
    yield "big integer", '{"id": 123456789012345678901234567890, "email": "a@b.co"}\n', {}
    yield "nan", '{"id": "E1", "v": NaN}\n' + good, {}
    yield "duplicate keys", '{"id": "E1", "id": "E2", "email": "a@b.co"}\n', {}
    yield "unicode escapes", '{"id": "\\u00e9", "email": "\\ud83d\\ude00@b.co"}\n', {}
    yield "lone surrogate escape", '{"id": "\\ud800", "email": "a@b.co"}\n' + good, {}
    yield "latin-1 line", b'{"id": "E1", "email": "Z\xfcrich@b.co"}\n' + good.encode(), {}
    yield "trailing comma", '{"id": "E1",}\n' + good, {}
    yield "pretty printed", '[\n  {\n    "id": "E1"\n  }\n]\n', {}
    yield "one array document", '[{"id": "E1"}, {"id": "E2"}]\n', {}
    yield "long line", f'{{"id": "E1"}}\n{{"v": "{LONG}"}}\n{{"id": "E2"}}\n', {}
    yield "long last line", f'{{"id": "E1"}}\n{{"v": "{LONG}"}}', {}
    yield "no line breaks at all", LONG * 3, {}
    yield "utf-16", good.encode("utf-16-le"), {}
    yield "utf-16 bom", good.encode("utf-16"), {}
    yield "gzip without .gz", gzip.compress(good.encode()), {}
    yield "tsv as jsonl", "id\temail\nE1\ta@b.co\n", {}
    yield "case variants", '{"ID": "E1", "Email": "a@b.co"}\n', {}
    yield "numbers as strings", '{"id": 1, "email": 2}\n', {}
    yield "null values", '{"id": null, "email": null}\n', {}
    yield "a thousand bad then good", "x\n" * 1000 + good, {}
    yield "delimiter given", good, {"delimiter": ";"}
    yield "parquet as jsonl", b"PAR1" + b"\x00\x15\x02" * 20, {}
    yield "two objects on a line", '{"id": "E1"} {"id": "E2"}\n' + good, {}
    yield "cr separated", good.replace("\n", "\r"), {}
    yield "empty key", '{"": "x", "id": "E1", "email": "a@b.co"}\n', {}
    yield "ten thousand keys", json.dumps({f"k{i}": i for i in range(10_000)}) + "\n" + good, {}
    yield "garbage after object", '{"id": "E1"}xyz\n' + good, {}
    yield "bom mid-file", good + "\ufeff" + good, {}
    yield "only whitespace and nul", "\x00\n\x00\n", {}


def _other_cases():
    yield "tsv", ".tsv", "id\temail\nE1\ta@b.co\n", {}
    yield "tsv with commas", ".tsv", "id,email\nE1,a@b.co\n", {}
    yield "tsv semicolons", ".tsv", "id;email\nE1;a@b.co\n", {}
    yield "gz not gzip", ".csv.gz", None, {}  # written as plain text below
    rows = "".join(f"E{i},user{i * 7919}@b.co\n" for i in range(5000)).encode()
    yield "truncated gzip", ".csv.gz", gzip.compress(b"id,email\n" + rows)[:20_000], {}
    yield "gzip jsonl", ".jsonl.gz", gzip.compress(b'{"id": "E1", "email": "a@b.co"}\n'), {}
    yield "empty parquet", ".parquet", b"", {}
    yield "garbage parquet", ".parquet", b"not parquet at all", {}
    yield "parquet with delimiter", ".parquet", b"PAR1", {"delimiter": ";"}
    yield "csv as parquet", ".parquet", "id,email\nE1,a@b.co\n", {}
    yield "unknown suffix", ".txt", "id,email\nE1,a@b.co\n", {}
    yield from _parquet_cases()


def _parquet_cases():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # the [parquet] extra is not installed
        return

    def parquet(table):
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()

    people = {"id": ["E1", "E2"], "email": [SECRET, "b@c.co"]}
    yield "parquet", ".parquet", parquet(pa.table(people)), {}
    yield "parquet no rows", ".parquet", parquet(pa.table({"id": pa.array([], pa.string())})), {}
    yield "parquet no columns", ".parquet", parquet(pa.table({})), {}
    nulls = pa.table({"id": [None, "E2"], "email": [None, None]})
    yield "parquet nulls", ".parquet", parquet(nulls), {}
    yield "parquet nested", ".parquet", parquet(pa.table({"id": [{"a": 1}], "email": [[1, 2]]})), {}
    yield "parquet numbers", ".parquet", parquet(pa.table({"id": [1, 2], "email": [1.5, None]})), {}
    yield "parquet case twins", ".parquet", parquet(pa.table({"id": ["E1"], "ID": ["E1"]})), {}
    yield "parquet as csv", ".csv", parquet(pa.table(people)), {}
    yield "parquet as jsonl", ".jsonl", parquet(pa.table(people)), {}
    yield "parquet gzipped", ".parquet.gz", gzip.compress(parquet(pa.table(people))), {}
    yield "parquet cut short", ".parquet", parquet(pa.table(people))[:-20], {}


CASES = (
    [(f"csv: {name}", ".csv", data, options) for name, data, options in _csv_cases()]
    + [(f"jsonl: {name}", ".jsonl", data, options) for name, data, options in _jsonl_cases()]
    + [(f"other: {name}", suffix, data, options) for name, suffix, data, options in _other_cases()]
)


# The cases that cannot be what the operator meant: refused before anything is sent.
# Every other case runs.
REFUSED = {
    "csv: empty",
    "csv: bom only",
    "csv: trailing delimiter in header",
    "csv: empty header cell",
    "csv: whitespace header",
    "csv: duplicate header",
    "csv: case twins",
    "csv: latin-1 header",
    "csv: nul in header",
    "csv: utf-16 le",
    "csv: utf-16 be",
    "csv: utf-16 bom",
    "csv: utf-32",
    "csv: gzip without .gz",
    "csv: zip archive",
    "csv: parquet as csv",
    "csv: long header",
    "csv: long quoted value",
    "csv: bad delimiter",
    "csv: only delimiters",
    "csv: csv as jsonl",
    "csv: windows-1252 quotes",
    "csv: rows wider than the header",
    "csv: utf-8 bom then utf-16",
    "jsonl: arrays",
    "jsonl: scalars",
    "jsonl: pretty printed",
    "jsonl: one array document",
    "jsonl: no line breaks at all",
    "jsonl: utf-16",
    "jsonl: utf-16 bom",
    "jsonl: gzip without .gz",
    "jsonl: tsv as jsonl",
    "jsonl: a thousand bad then good",
    "jsonl: delimiter given",
    "jsonl: parquet as jsonl",
    "jsonl: cr separated",
    "jsonl: only whitespace and nul",
    "other: gz not gzip",
    "other: truncated gzip",
    "other: empty parquet",
    "other: garbage parquet",
    "other: parquet with delimiter",
    "other: csv as parquet",
    "other: unknown suffix",
    "other: parquet case twins",
    "other: parquet as csv",
    "other: parquet as jsonl",
    "other: parquet cut short",
}


def test_the_corpus_is_large_enough_and_names_real_cases():
    assert len(CASES) >= 120
    assert {case[0] for case in CASES} >= REFUSED


@pytest.mark.parametrize("case, suffix, data, options", CASES, ids=[case[0] for case in CASES])
def test_an_odd_input_ends_in_a_clear_refusal_or_a_run_that_adds_up(
    configured, tmp_path, case, suffix, data, options
):
    path = tmp_path / f"input{suffix}"
    if data is None:
        data = "id,email\nE1,a@b.co\n"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    args = ["send", "rec", "--input", str(path), "--json", "--no-progress"]
    for option, value in options.items():
        args += [f"--{option}", value]
    result = configured(*args)
    output = result.output
    assert SECRET not in output and "alice" not in output
    assert "Traceback" not in output and "internal error" not in output
    if case in REFUSED:
        assert result.exit_code == 1, output
        assert output.startswith("amp-dest: error: ") and output.count("\n") == 1, output
        assert "--resume" not in output  # nothing ran, there is nothing to resume
        return
    assert result.exit_code == 0, output
    summary = json.loads(output)
    assert summary["status"] == "succeeded", summary
    assert summary["rows_read"] == summary["delivered"] + summary["rejected"]
    assert summary["pending"] == 0
    with open(summary["rejects_path"], newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert len(rejects) == summary["rejected"]
    assert all(SECRET not in row["message"] and row["code"] for row in rejects)
