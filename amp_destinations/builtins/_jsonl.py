"""JSON Lines input: one JSON object per line, decoded by orjson.

Blank lines are skipped. Objects need not share their keys, so ``columns`` is None:
the reader cannot know every column before reading every line.

A line longer than ``MAX_RECORD_BYTES`` is dropped as it is read, and the marker
``_CUT`` takes its place, which ``_records`` turns into ``input.record_too_large``.
"""

from __future__ import annotations

import codecs
import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import orjson

from amp_destinations import RecordError

from ._input import CHUNK_SIZE, MAX_RECORD_BYTES, FileReader, binary_kind, record_too_large

__all__ = ["JsonlReader"]

_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}
# Stands in for a line dropped for its length: not bytes, so it is no line of the file.
_CUT = None
# How much of the first line that fails to decode is kept, to guess why.
_SAMPLE_BYTES = 4096


class JsonlReader(FileReader):
    """JSON Lines (``.jsonl``, ``.ndjson``), UTF-8, optionally gzipped.

    A line that is not valid JSON, not an object or not UTF-8 is yielded as a
    ``RecordError`` naming its line number.
    """

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    def _start(self) -> None:
        self._sample: bytes | None = None  # the start of the first line that failed

    def _line_blocks(self) -> Iterator[list[bytes | None]]:
        """The file's lines, a block at a time, split on ``\\n`` only: JSON escapes every
        other line break, and orjson ignores the ``\\r`` of a CRLF ending.

        The start of a line that a block does not end is kept as a list of pieces and
        joined once when the line ends, so a line is copied once whatever its length;
        one that outgrows the limit is dropped piece by piece, and ``_CUT`` stands in."""
        limit = MAX_RECORD_BYTES
        head: list[bytes] = []  # the start of a line no block has ended yet
        held = 0  # its length, or -1 while the rest of a too long line is dropped
        first = True
        while data := self._file.read(CHUNK_SIZE):
            if first:
                data, first = data.removeprefix(codecs.BOM_UTF8), False
            if held < 0:
                end = data.find(b"\n")
                if end < 0:
                    continue
                data, held = data[end + 1 :], 0
                yield [_CUT]
            parts = data.split(b"\n")
            # The same list, as what it is once _CUT may stand in for its first line
            # (never the tail, which is popped from ``parts`` as bytes).
            lines = cast("list[bytes | None]", parts)
            if len(parts) > 1 and head:
                if held + len(parts[0]) > limit:
                    lines[0] = _CUT
                else:
                    head.append(parts[0])
                    parts[0] = b"".join(head)
                head, held = [], 0
            tail = parts.pop()
            if tail:
                held += len(tail)
                if held > limit:
                    head, held = [], -1
                else:
                    head.append(tail)
            yield lines
        yield [_CUT] if held < 0 else [b"".join(head)]

    def _records(self) -> Iterator[Mapping[str, Any] | RecordError]:
        # _CUT (None) is handed to loads too: it raises, which spares a check per line.
        loads: Callable[[Any], Any] = orjson.loads
        decode_error = orjson.JSONDecodeError
        lines = itertools.chain.from_iterable(self._line_blocks())
        for number, line in enumerate(lines, 1):
            try:
                record = loads(line)
            except decode_error:
                if line is _CUT:
                    yield record_too_large(number)
                elif line.strip():  # a blank line is not a record
                    if self._sample is None:
                        self._sample = line[:_SAMPLE_BYTES]
                    yield _unreadable(line, number)
                continue
            if type(record) is dict:
                yield record
            else:
                kind = _JSON_KINDS.get(type(record), "not an object")
                yield RecordError(
                    "input.not_an_object", None, f"line {number} is {kind}, not a JSON object"
                )

    def likely_cause(self) -> str | None:
        sample = self._sample
        if sample is None:
            return None
        binary = binary_kind(sample)
        if binary:
            return binary
        text = sample.strip()
        if text in (b"[", b"{"):
            return (
                "it looks like one JSON document spread over many lines: JSON Lines "
                "needs one object per line"
            )
        if not text.startswith((b"{", b"[")):
            if b"\t" in text:
                return "it looks like TSV: use format='tsv'"
            if b"," in text or b";" in text:
                return "it looks like CSV: use format='csv'"
        return None


def _unreadable(line: bytes, number: int) -> RecordError:
    """Why orjson refused a line: bytes that are not UTF-8, a number beyond what it
    reads (valid JSON, so asked of the stdlib parser, on this line only), or not JSON."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return RecordError("input.undecodable", None, f"line {number} is not valid UTF-8")
    beyond: list[str] = []

    def out_of_range(literal: str) -> int:
        # float() of a literal too large for a double is inf, never an error, and it
        # builds no int (Python refuses to beyond 4,300 digits).
        if math.isinf(float(literal)):
            beyond.append(literal)
        return 0

    try:
        json.loads(text, parse_int=out_of_range, parse_float=out_of_range)
    except (ValueError, RecursionError):
        beyond.clear()
    if beyond:
        return RecordError(
            "input.number_out_of_range",
            None,
            f"line {number} holds a number beyond the range of a 64-bit float "
            "(an integer of more than 308 digits, or an exponent too large); "
            "write it as a string if it is an id",
        )
    return RecordError("input.invalid_json", None, f"line {number} is not valid JSON")
