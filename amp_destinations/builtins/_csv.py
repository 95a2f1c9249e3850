"""CSV and TSV input: the first row names the columns, every value is a string.

The stdlib ``csv`` module does the parsing in C. The bytes are decoded here, in
blocks, with ``surrogateescape``: a byte that is not UTF-8 becomes one lone surrogate
character instead of stopping the run. Each block is checked once for such
characters (nearly free when there are none), and rows are checked one by one only
while some are known to be still ahead, so a clean file pays nothing per row.

A line longer than ``MAX_RECORD_BYTES`` characters is dropped as it is read and a
marker line takes its place, which the row checks turn into ``input.record_too_large``;
a quoted field that grows beyond the limit over several lines is stopped by the csv
module's field size limit, set to the same.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Iterator, Mapping
from io import StringIO
from typing import Any, ClassVar

from amp_destinations import InputError, RecordError

from ._input import CHUNK_SIZE, MAX_RECORD_BYTES, FileReader, binary_kind, record_too_large

__all__ = ["CsvReader", "TsvReader"]

_SURROGATE = re.compile("[\udc80-\udcff]")
# Stands in for a line dropped for its length. No decoded text can hold it:
# surrogateescape makes U+DC80 to U+DCFF only, and UTF-8 never decodes to a surrogate.
_CUT = "\udc00"
# A header cell that is a number is data: the file has no header row.
_NUMBER = re.compile(r"[+-]?[0-9][0-9.,:/ -]*")
# What the csv module says when a field outgrows csv.field_size_limit().
_FIELD_LIMIT_ERROR = "field larger than field limit"
# Separators a one-column header may hold instead of the delimiter, with the advice.
_OTHER_SEPARATORS = (
    (",", "format='csv', or delimiter=','"),
    ("\t", "format='tsv', or delimiter='\\t'"),
    (";", "delimiter=';'"),
    ("|", "delimiter='|'"),
)


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


def _line_break(text: str) -> tuple[int, int]:
    """Where the first line break of ``text`` starts and ends, or (-1, -1) when it has
    none. ``text`` never ends in a "\\r" whose "\\n" may follow."""
    newline, ret = text.find("\n"), text.find("\r")
    if ret < 0 or 0 <= newline < ret:
        return (newline, newline + 1) if newline >= 0 else (-1, -1)
    return (ret, ret + 2) if text.startswith("\n", ret + 1) else (ret, ret + 1)


def _one_character(delimiter: str) -> str:
    """The delimiter an operator gave; ``\\t`` (typed as two characters) is a tab."""
    delimiter = "\t" if delimiter == "\\t" else delimiter
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise InputError(
            f"delimiter= must be one character other than a quote or a line break, "
            f"not {delimiter!r}"
        )
    return delimiter


class CsvReader(FileReader):
    """Comma-separated values, UTF-8 (a byte-order mark is fine), optionally gzipped.

    Blank lines are skipped. A row with more or fewer fields than the header, or with
    bytes that are not UTF-8, is yielded as a ``RecordError`` naming its line. ``values()``
    yields each row as the csv module's own list, with no dict built for it.
    """

    name = "csv"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    dialect = "excel"
    delimited = True

    def __init__(self, path: str, delimiter: str | None = None):
        self.delimiter = (
            _one_character(delimiter)
            if delimiter is not None
            else csv.get_dialect(self.dialect).delimiter
        )
        super().__init__(path)

    def _start(self) -> None:
        # Characters that make their row an error, decoded but not yet met in a row:
        # undecodable bytes, and the markers of lines dropped for their length.
        self._flagged = 0
        # A field may grow as long as a record may; the limit is the csv module's,
        # for the whole process, and only ever raised here.
        csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))
        start = self._file.peek(64)[:64]
        self._rows = csv.reader(
            itertools.chain.from_iterable(self._text_blocks()),
            self.dialect,
            delimiter=self.delimiter,
        )
        try:
            header = next((row for row in self._rows if row), None)
        except csv.Error as exc:
            raise InputError(f"the header of {self.path} is not valid CSV: {exc}") from None
        if header is None:
            raise InputError(
                f"{self.path} is empty: a CSV file needs a header row naming its columns"
            )
        if any(_CUT in name for name in header):
            raise InputError(
                f"the first line of {self.path} is longer than 1 MiB, so it is no header: "
                "check that the file is CSV"
            )
        if any(_count_surrogates(name) or "\x00" in name for name in header):
            cause = binary_kind(start) or "save the file as UTF-8"
            raise InputError(f"the header of {self.path} is not UTF-8 text: {cause}")
        self._header = [name.strip() for name in header]
        self._check_header(self._header)

    def _check_header(self, header: list[str]) -> None:
        seen: dict[str, str] = {}  # lower-cased name -> the name as the header has it
        for position, name in enumerate(header, 1):
            if not name:
                raise InputError(
                    f"column {position} of the header of {self.path} has no name: "
                    "name it, or remove the empty column (a trailing delimiter?)"
                )
            twin = seen.get(name.lower())
            if twin == name:
                raise InputError(
                    f"the header of {self.path} names column {name!r} twice: rename one"
                )
            if twin is not None:
                raise InputError(
                    f"the header of {self.path} names columns {twin!r} and {name!r}, "
                    "equal but for case: rename or remove one"
                )
            seen[name.lower()] = name

    def likely_cause(self) -> str | None:
        if self._header[0].startswith(("{", "[")):
            return "its first line looks like JSON: use format='jsonl'"
        if any("@" in name or _NUMBER.fullmatch(name) for name in self._header):
            return (
                "its first line looks like data (an address or a number where a column "
                "name should be): the file needs a header row naming its columns"
            )
        if len(self._header) == 1:
            for separator, advice in _OTHER_SEPARATORS:
                if separator != self.delimiter and separator in self._header[0]:
                    shown = "\\t" if separator == "\t" else separator
                    return (
                        f"its header is one column holding '{shown}', so the fields "
                        f"seem to be separated by it: use {advice}"
                    )
        return None

    @property
    def columns(self) -> list[str]:
        return list(self._header)

    def _text_blocks(self) -> Iterator[StringIO]:
        """The file as decoded text, one block of whole lines at a time.

        Lines are left for ``StringIO(newline="")`` to split, which splits exactly
        as ``open(newline="")`` would, as the csv module expects. The start of a line
        that a block does not end is kept as a list of pieces, joined once when the
        line ends: a line is copied once whatever its length, and each block is
        searched once. A line that outgrows the limit is dropped piece by piece, and
        the marker line ``_CUT`` takes its place.
        """
        limit = MAX_RECORD_BYTES
        head: list[str] = []  # the start of a line no block has ended yet
        held = 0  # its length, or -1 while the rest of a too long line is dropped
        for text, last in self._decoded():
            if held < 0:
                _, end = _line_break(text)
                if end < 0 and not last:
                    continue
                text = text[end:] if end >= 0 else ""
                held = 0
                yield self._cut_line()
            cut = len(text) if last else max(text.rfind("\n"), text.rfind("\r")) + 1
            if cut and held + cut > limit:
                # Only the line the held start belongs to can be too long: any other
                # line of the block is shorter than the block.
                stop, end = _line_break(text)
                if stop < 0:  # the end of the file ends it
                    stop = end = cut
                if held + stop > limit:
                    head, held = [], 0
                    text, cut = text[end:], cut - end
                    yield self._cut_line()
            if cut or last:  # the end of the file ends a line too
                block = text[:cut]
                if head:
                    block = "".join(head) + block
                    head, held = [], 0
                self._flagged += _count_surrogates(block)
                yield StringIO(block, newline="")
            if cut < len(text):
                held += len(text) - cut
                if held > limit:
                    head, held = [], -1
                else:
                    head.append(text[cut:])

    def _decoded(self) -> Iterator[tuple[str, bool]]:
        """``(text, last)`` a block at a time. A final "\\r" is held back for the next
        block, which may start with its "\\n": split apart, they would count as two
        line breaks."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape")
        held_back = ""
        while True:
            data = self._file.read(CHUNK_SIZE)
            text = held_back + decoder.decode(data, final=not data)
            if not data:
                yield text, True
                return
            held_back = ""
            if text.endswith("\r"):
                text, held_back = text[:-1], "\r"
            yield text, False

    def _cut_line(self) -> StringIO:
        self._flagged += 1
        return StringIO(_CUT + "\n", newline="")

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
                    if len(row) == width and not self._flagged:
                        yield row
                    elif row:  # an empty row is a blank line: not a record
                        yield self._checked(row)
                return
            except csv.Error as exc:
                # The csv reader carries on with the next line after an error.
                if str(exc).startswith(_FIELD_LIMIT_ERROR):
                    yield RecordError(
                        "input.record_too_large",
                        None,
                        f"line {rows.line_num} is inside a quoted value longer than 1 MiB, "
                        "the limit for one record (a quote left open?)",
                    )
                    continue
                yield RecordError(
                    "input.malformed_csv", None, f"line {rows.line_num} is not valid CSV: {exc}"
                )

    def _checked(self, row: list[str]) -> list[str] | RecordError:
        """The slow path: a row of the wrong width, or one that may hold undecodable
        bytes or stand for a line dropped for its length."""
        if self._flagged:
            cut = sum(value.count(_CUT) for value in row)
            undecoded = sum(_count_surrogates(value) for value in row)
            if cut or undecoded:
                self._flagged -= cut + undecoded
                if cut:
                    return record_too_large(self._first_line(row))
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
