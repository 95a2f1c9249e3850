"""Parquet input, read a record batch at a time through pyarrow (an optional extra).

Values come as pyarrow turns them into Python: int, float, str, bool, None,
datetime (with its time zone, or naive), date, Decimal, bytes, lists and dicts. Two
column types are converted first, so that no value is lost or changed on the way:

- timestamps (and times, durations) in nanoseconds, pandas' default, are truncated
  to microseconds: pyarrow refuses to make a datetime of a value with nanoseconds,
  which would stop the run, and no destination needs them;
- 32-bit floats become the 64-bit float of their shortest decimal form: a price
  written as float32 9.99 reads 9.99, not 9.989999771118164 (its exact binary value).

A gzipped Parquet file works but is slow, because Parquet reads its footer first and
gzip cannot seek cheaply; Parquet compresses its own pages, so there is rarely a
reason to gzip it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from amp_destinations import InputError, RecordError

from ._input import FileReader

__all__ = ["ParquetReader"]

# Rows converted to Python at a time: memory stays flat, and the per-batch cost of
# pyarrow's conversion is spread over many rows.
BATCH_ROWS = 4096

PYARROW_MISSING = "reading Parquet needs pyarrow: pip install 'amp-destinations[parquet]'"


class ParquetReader(FileReader):
    """Parquet files; ``columns`` are the schema's field names. ``values()`` yields each
    row as a list in that order."""

    name = "parquet"
    suffixes = (".parquet",)

    def _start(self) -> None:
        try:
            import pyarrow
            import pyarrow.parquet
        except ImportError:
            raise InputError(PYARROW_MISSING) from None
        self._arrow_error = pyarrow.ArrowException
        if not self._file.peek(1):
            raise InputError(f"{self.path} is empty: a Parquet file holds at least its schema")
        try:
            self._parquet = pyarrow.parquet.ParquetFile(self._file)
        except pyarrow.ArrowException:
            raise InputError(
                f"{self.path} is not a Parquet file, or it is damaged: export it again"
            ) from None
        names = self._parquet.schema_arrow.names
        twice = sorted(name for name, count in Counter(names).items() if count > 1)
        if twice:
            raise InputError(
                f"the schema of {self.path} names column {twice[0]!r} more than once: "
                "rename the duplicates"
            )
        seen: dict[str, str] = {}
        for name in names:
            twin = seen.setdefault(name.lower(), name)
            if twin != name:
                raise InputError(
                    f"the schema of {self.path} names columns {twin!r} and {name!r}, "
                    "equal but for case: rename or remove one"
                )
        self._columns = names
        self._rows_done = 0
        self._converters = [_converter(pyarrow, field.type) for field in self._parquet.schema_arrow]

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def progress(self) -> tuple[int, int] | None:
        """Rows converted so far, of the rows the file's footer counts: pyarrow seeks
        about the file, so where it stands says little."""
        return self._rows_done, self._parquet.metadata.num_rows

    def values(self) -> Iterator[list]:
        return self._reading(self._value_lists())

    def _records(self) -> Iterator[Mapping[str, Any] | RecordError]:
        columns = self._columns
        for values in self._value_lists():
            yield dict(zip(columns, values))

    def _value_lists(self) -> Iterator[list]:
        try:
            for batch in self._parquet.iter_batches(batch_size=BATCH_ROWS):
                self._rows_done += batch.num_rows
                if not batch.num_columns:
                    yield from ([] for _ in range(batch.num_rows))
                    continue
                # A column at a time, then row lists: no dict per row.
                columns = [
                    self._python_values(convert, column, name)
                    for convert, column, name in zip(self._converters, batch.columns, self._columns)
                ]
                yield from map(list, zip(*columns))
        except self._arrow_error:
            raise InputError(
                f"{self.path} is damaged: a part of it cannot be read as Parquet; export it again"
            ) from None

    def _python_values(self, convert: Callable, column: Any, name: str) -> list:
        try:
            return convert(column)
        except ValueError:
            # A type pyarrow cannot make Python values of (nanoseconds inside a list, say).
            raise InputError(
                f"column {name!r} of {self.path} holds values of type {column.type} that "
                "cannot be read as Python values: export it with a simpler type"
            ) from None

    def close(self) -> None:
        parquet = getattr(self, "_parquet", None)
        if parquet is not None:
            parquet.close()
        super().close()


def _to_pylist(column: Any) -> list:
    return column.to_pylist()


def _converter(pyarrow: Any, arrow_type: Any) -> Callable[[Any], list]:
    """How a column of ``arrow_type`` becomes Python values (see the module's docstring)."""
    types = pyarrow.types
    unit = getattr(arrow_type, "unit", None)
    if unit == "ns" and (
        types.is_timestamp(arrow_type)
        or types.is_time64(arrow_type)
        or types.is_duration(arrow_type)
    ):
        if types.is_timestamp(arrow_type):
            micro = pyarrow.timestamp("us", arrow_type.tz)
        elif types.is_time64(arrow_type):
            micro = pyarrow.time64("us")
        else:
            micro = pyarrow.duration("us")
        return lambda column: column.cast(micro, safe=False).to_pylist()
    if types.is_float32(arrow_type):
        string, float64 = pyarrow.string(), pyarrow.float64()
        # Arrow writes a float32 as the shortest text that reads back as that float32.
        return lambda column: column.cast(string).cast(float64).to_pylist()
    return _to_pylist
