"""CSV and TSV input: the first row names the columns, every value is a string.

The stdlib ``csv`` module does the parsing in C. The bytes are decoded here, in
blocks, with ``surrogateescape``: a byte that is not UTF-8 becomes one lone surrogate
character instead of stopping the run. Each block is checked once for such
characters (nearly free when there are none), and rows are checked one by one only
while some are known to be still ahead, so a clean file pays nothing per row.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from io import StringIO
from typing import Any, Iterator, Mapping

from amp_destinations import InputError, RecordError

from ._input import CHUNK_SIZE, FileReader

__all__ = ["CsvReader", "TsvReader"]

_SURROGATE = re.compile("[\udc80-\udcff]")


def _count_surrogates(text: str) -> int:
    if text.isascii():
        return 0
    try:
        text.encode("utf-8")  # fails only on a lone surrogate: faster than a search
    except UnicodeEncodeError:
        return len(_SURROGATE.findall(text))
    return 0


def _fields(count: int) -> str:
    return "1 field" if count == 1 else f"{count} fields"


class CsvReader(FileReader):
    """Comma-separated values, UTF-8 (a byte-order mark is fine), optionally gzipped.

    Blank lines are skipped. A row with more or fewer fields than the header, or with
    bytes that are not UTF-8, is yielded as a ``RecordError`` naming its line. ``values()``
    yields each row as the csv module's own list, with no dict built for it.
    """

    name = "csv"
    suffixes = (".csv",)
    dialect = "excel"

    def _start(self) -> None:
        self._undecoded = 0  # undecodable characters decoded but not yet met in a row
        self._rows = csv.reader(itertools.chain.from_iterable(self._text_blocks()), self.dialect)
        try:
            header = next((row for row in self._rows if row), None)
        except csv.Error as exc:
            raise InputError(f"the header of {self.path} is not valid CSV: {exc}") from None
        if header is None:
            raise InputError(
                f"{self.path} is empty: a CSV file needs a header row naming its columns"
            )
        if any(_count_surrogates(name) for name in header):
            raise InputError(
                f"the header of {self.path} is not valid UTF-8: save the file as UTF-8"
            )
        self._check_header(header)
        self._header = header

    def _check_header(self, header: list[str]) -> None:
        seen: set[str] = set()
        for position, name in enumerate(header, 1):
            if not name:
                raise InputError(
                    f"column {position} of the header of {self.path} has no name: "
                    "name it, or remove the empty column (a trailing delimiter?)"
                )
            if name in seen:
                raise InputError(
                    f"the header of {self.path} names column {name!r} twice: rename one"
                )
            seen.add(name)

    @property
    def columns(self) -> list[str]:
        return list(self._header)

    def _text_blocks(self) -> Iterator[StringIO]:
        """The file as decoded text, one block of whole lines at a time.

        Lines are left for ``StringIO(newline="")`` to split, which splits exactly
        as ``open(newline="")`` would, as the csv module expects.
        """
        decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape")
        pending = ""
        while True:
            data = self._file.read(CHUNK_SIZE)
            text = pending + decoder.decode(data, final=not data)
            if data:
                # Hold back a partial last line for the next block, and a final "\r"
                # too: its "\n" may start the next block.
                cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1
                text, pending = text[:cut], text[cut:]
            self._undecoded += _count_surrogates(text)
            yield StringIO(text, newline="")
            if not data:
                return

    def values(self) -> Iterator[list[str] | RecordError]:
        return self._reading(self._value_lists())

    def _records(self) -> Iterator[Mapping[str, Any] | RecordError]:
        header = self._header
        for row in self._value_lists():
            yield row if isinstance(row, RecordError) else dict(zip(header, row))

    def _value_lists(self) -> Iterator[list[str] | RecordError]:
        rows, width = self._rows, len(self._header)
        while True:
            try:
                for row in rows:
                    if len(row) == width and not self._undecoded:
                        yield row
                    elif row:  # an empty row is a blank line: not a record
                        yield self._checked(row)
                return
            except csv.Error as exc:
                # The csv reader carries on with the next line after an error.
                yield RecordError(
                    "input.malformed_csv", None, f"line {rows.line_num} is not valid CSV: {exc}"
                )

    def _checked(self, row: list[str]) -> list[str] | RecordError:
        """The slow path: a row of the wrong width, or one that may hold undecodable bytes."""
        if self._undecoded:
            undecoded = sum(_count_surrogates(value) for value in row)
            if undecoded:
                self._undecoded -= undecoded
                return RecordError(
                    "input.undecodable", None, f"line {self._first_line(row)} is not valid UTF-8"
                )
        if len(row) != len(self._header):
            return RecordError(
                "input.ragged_row",
                None,
                f"line {self._first_line(row)} has {_fields(len(row))}, "
                f"the header has {len(self._header)}",
            )
        return row

    def _first_line(self, row: list[str]) -> int:
        """The line a row started on. ``line_num`` counts lines read so far, which is
        the row's last line; quoted values keep their line breaks, so count those back
        rather than tracking every row's start on the fast path."""
        breaks = sum(v.count("\n") + v.count("\r") - v.count("\r\n") for v in row)
        return self._rows.line_num - breaks


class TsvReader(CsvReader):
    """Tab-separated values; otherwise as ``csv``."""

    name = "tsv"
    suffixes = (".tsv", ".tab")
    dialect = "excel-tab"
