"""What a run's input must pass before a run is recorded and anything is sent.

An input that cannot be what the operator meant stops here with one line saying what
to fix, instead of a run that "succeeds" with every row rejected:

- the columns the destination requires (``Destination.required_columns``) must be
  there: in the header when the reader knows its columns, otherwise among the keys of
  the leading records (up to ``HEAD_RECORDS``);
- the leading records (up to ``HEAD_RECORDS``) must not all fail to decode: a CSV file
  read as JSON Lines, a UTF-16 file, a file of JSON arrays. The reader is asked for
  the likely cause.

Records are read ahead only until the checks are settled, which for a good file is the
first record, and handed out again first: nothing is read twice, and the engine's loop
is unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._base import Destination, Reader
from ._errors import InputError
from ._results import RecordError
from ._row_plan import reads_values

__all__ = ["HEAD_RECORDS", "checked_input", "open_reader"]

# How many leading records the checks look at, at most: enough that a few bad lines
# at the top of a good file never stop it.
HEAD_RECORDS = 1000

# What to suggest when every leading record failed the same way and the reader has
# no better guess.
_ADVICE_BY_CODE = {
    "input.undecodable": "it is not UTF-8 text: save it as UTF-8",
    "input.invalid_json": "check that it is JSON Lines (one object per line), or give its format=",
    "input.not_an_object": "JSON Lines needs one object ({...}) per line",
    "input.ragged_row": "check the delimiter (delimiter=) and the quoting",
    "input.record_too_large": "check that it has line breaks, and that format= is right",
}
_ADVICE = "check that it is the file you meant, and its format="


def open_reader(reader_cls: type[Reader], path: str, delimiter: str | None) -> Reader:
    """``reader_cls`` opened on ``path``; a delimiter only for a format that takes one."""
    if delimiter is None:
        return reader_cls(path)
    if not reader_cls.delimited:
        raise InputError(
            f"delimiter= applies to CSV and TSV input only, not to {reader_cls.name}: leave it out"
        )
    # A delimited reader's __init__ takes delimiter= (see Reader), which Reader's own
    # signature cannot say.
    opened: Callable[..., Reader] = reader_cls
    return opened(path, delimiter=delimiter)


def checked_input(destination: Destination, rows: Iterable, name: str) -> Iterable:
    """What to send in place of ``rows`` (a Reader, or Python rows) once they passed
    the checks. Raises InputError when they do not, having closed a reader; ``name``
    is the configured destination's, for the message."""
    reader = rows if isinstance(rows, Reader) else None
    needs = f"which destination {name} ({destination.title}) needs"
    try:
        required = [tuple(group) for group in destination.required_columns()]
        columns = reader.columns if reader is not None else None
        if reader is not None and columns is not None:
            missing = _missing(required, set(columns))
            if missing:
                raise InputError(_lacking(f"{reader.path} lacks", missing, columns, needs, reader))
            required = []
        head, replay, unmet = _read_ahead(rows, required, reader is not None)
        if reader is not None and head and all(isinstance(record, RecordError) for record in head):
            raise InputError(_unreadable(reader, head))
        keys = {key for record in head if isinstance(record, Mapping) for key in record}
        if unmet and keys:  # with no mapping there is no evidence either way
            where = f"records of {reader.path}" if reader is not None else "rows"
            raise InputError(
                _lacking(
                    f"none of {_leading(len(head))} {where} has", unmet, sorted(keys), needs, reader
                )
            )
    except BaseException:
        if reader is not None:
            reader.close()
        raise
    return replay


def _read_ahead(rows: Iterable, required: list[tuple[str, ...]], decoded: bool):
    """Read the leading records until the checks are settled: a record that decoded
    (when ``decoded``: the input comes from a reader) and every group of ``required``
    met by some record's keys, or ``HEAD_RECORDS`` read. Returns the records read,
    what to send instead of ``rows`` (those records again, then the rest) and the
    groups no record met."""
    iterator: Iterator[Any]
    if reads_values(rows):
        as_values, iterator = True, iter(rows.values())
    else:
        as_values, iterator = False, iter(rows)
    head: list[Any] = []
    unmet = required
    settled = not decoded  # Python rows are not decoded: nothing to wait for
    for record in iterator:
        head.append(record)
        if not isinstance(record, RecordError):
            settled = True
            if unmet and isinstance(record, Mapping):
                unmet = [group for group in unmet if record.keys().isdisjoint(group)]
        if settled and not unmet or len(head) == HEAD_RECORDS:
            break
    if not isinstance(rows, Reader):
        return head, itertools.chain(head, iterator), unmet
    replay_cls = _ReadAheadValues if as_values else _ReadAhead
    return head, replay_cls(rows, head, iterator), unmet


class _ReadAhead(Reader):
    """A reader whose leading records were read for the checks: they come first."""

    def __init__(self, reader: Reader, head: list, rest: Iterator):
        super().__init__(reader.path)
        self._reader = reader
        self._records = itertools.chain(head, rest)

    @property
    def columns(self) -> list[str] | None:
        return self._reader.columns

    def progress(self) -> tuple[int, int] | None:
        return self._reader.progress()

    def __iter__(self) -> Iterator[Mapping[str, Any] | RecordError]:
        return self._records

    def close(self) -> None:
        self._reader.close()


class _ReadAheadValues(_ReadAhead):
    """As ``_ReadAhead``, for a reader the run reads through ``values()``."""

    def values(self) -> Iterator[list | RecordError]:
        return self._records


def _missing(required: Sequence[tuple[str, ...]], present: set[str]) -> list[tuple[str, ...]]:
    return [group for group in required if present.isdisjoint(group)]


def _leading(count: int) -> str:
    return f"the first {count:,}" if count == HEAD_RECORDS else f"the {count:,}"


def _lacking(
    subject: str,
    missing: Sequence[tuple[str, ...]],
    present: Sequence[str],
    needs: str,
    reader: Reader | None,
) -> str:
    """The message for required columns that are not there, with a hint for a column
    that differs only in case and the reader's guess at the cause. The columns there
    are not listed: in a file without a header they are its first row's values."""
    wanted = ", ".join(
        group[0] if len(group) == 1 else f"one of {' or '.join(group)}" for group in missing
    )
    message = f"nothing was sent: {subject} {wanted}, {needs}"
    by_case = {column.lower(): column for column in present}
    near = [
        f"{by_case[column.lower()]!r} differs from {column!r} only in case"
        for group in missing
        for column in group
        if column.lower() in by_case
    ]
    if near:
        message += "; " + ", ".join(near) + ": rename it"
    cause = reader.likely_cause() if reader is not None else None
    return f"{message}; {cause}" if cause else message


def _unreadable(reader: Reader, head: list[RecordError]) -> str:
    first = head[0]
    cause = reader.likely_cause()
    if cause is None:
        same = all(record.code == first.code for record in head)
        cause = _ADVICE_BY_CODE.get(first.code, _ADVICE) if same else _ADVICE
    which = "the only record" if len(head) == 1 else f"{_leading(len(head))} records"
    return (
        f"nothing was sent: {which} of {reader.path} cannot be read as {reader.name} "
        f"({first.code}: {first.message}); {cause}"
    )
