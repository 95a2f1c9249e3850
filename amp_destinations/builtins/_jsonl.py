"""JSON Lines input: one JSON object per line, decoded by orjson.

Blank lines are skipped. Objects need not share their keys, so ``columns`` is None:
the reader cannot know every column before reading every line.
"""

from __future__ import annotations

import codecs
import itertools
from typing import Any, Iterator, Mapping

import orjson

from amp_destinations import RecordError

from ._input import CHUNK_SIZE, FileReader

__all__ = ["JsonlReader"]

_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


class JsonlReader(FileReader):
    """JSON Lines (``.jsonl``, ``.ndjson``), UTF-8, optionally gzipped.

    A line that is not valid JSON, not an object or not UTF-8 is yielded as a
    ``RecordError`` naming its line number.
    """

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    def _line_blocks(self) -> Iterator[list[bytes]]:
        """The file's lines, a block at a time, split on ``\\n`` only: JSON escapes every
        other line break, and orjson ignores the ``\\r`` of a CRLF ending."""
        pending = b""
        first = True
        while data := self._file.read(CHUNK_SIZE):
            if first:
                data, first = data.removeprefix(codecs.BOM_UTF8), False
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            yield lines
        yield [pending]

    def _records(self) -> Iterator[Mapping[str, Any] | RecordError]:
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        lines = itertools.chain.from_iterable(self._line_blocks())
        for number, line in enumerate(lines, 1):
            try:
                record = loads(line)
            except decode_error:
                if line.strip():  # a blank line is not a record
                    yield _undecodable_or_invalid(line, number)
                continue
            if type(record) is dict:
                yield record
            else:
                kind = _JSON_KINDS.get(type(record), "not an object")
                yield RecordError(
                    "input.not_an_object", None, f"line {number} is {kind}, not a JSON object"
                )


def _undecodable_or_invalid(line: bytes, number: int) -> RecordError:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return RecordError("input.undecodable", None, f"line {number} is not valid UTF-8")
    return RecordError("input.invalid_json", None, f"line {number} is not valid JSON")
