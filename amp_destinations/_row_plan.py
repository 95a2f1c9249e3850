"""How one run's input rows reach ``prepare`` and the run record, worked out once.

A reader hands rows either as mappings or, when its columns are fixed, as lists of
values in column order (``Reader.values``). A destination takes either the row as a
mapping or, when it declares ``fields``, a tuple of those columns' values. Building
a dict per row and looking each column up again costs more than a third of what
reading a CSV line does; picking values out by position is a single C call.

Rows from Python (not a Reader) are promised to be mappings, and nothing else checks
them: each that is not becomes the RecordError ``input.not_an_object``, so that one
stray list is one rejected row rather than a run stopped by an AttributeError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeGuard

from ._base import Destination, Reader
from ._results import RecordError

__all__ = ["RowPlan", "covered", "reads_values"]


def reads_values(rows: Iterable[Any]) -> TypeGuard[Reader]:
    """Whether a run reads ``rows`` through ``Reader.values()``, as lists of values in
    column order, rather than by iterating it for mappings."""
    return (
        isinstance(rows, Reader)
        and rows.columns is not None
        and type(rows).values is not Reader.values
    )


def _mappings_only(rows: Iterable) -> Iterator:
    for number, row in enumerate(rows, 1):
        if type(row) is dict or isinstance(row, (Mapping, RecordError)):
            yield row
        else:
            name = type(row).__name__
            kind = "None" if row is None else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
            yield RecordError("input.not_an_object", None, f"row {number} is {kind}, not a mapping")


def _picker(positions: Sequence[int]) -> Callable[[Sequence], tuple]:
    """A C-level function that picks these positions out of a sequence, as a tuple."""
    if len(positions) == 1:
        position = positions[0]
        return lambda values: (values[position],)
    if not positions:
        return lambda values: ()
    return itemgetter(*positions)


class RowPlan:
    """Compiled for one destination and one input.

    Per row the engine:
      - appends None to a value list when ``pad`` (a column the input lacks is picked
        from that position);
      - passes ``fetch(row)`` to prepare, or the row itself when ``fetch`` is None;
      - reads the record id and identifier coverage from ``refer(row)``, or from what
        prepare received when ``refer`` is None: ``id_index`` and the ``single`` and
        ``combined`` coverage entries hold positions in that tuple.
    """

    def __init__(self, destination: Destination, rows: Iterable[Any]):
        columns = rows.columns if isinstance(rows, Reader) else None
        self.source: Iterable[Any] = rows if isinstance(rows, Reader) else _mappings_only(rows)
        as_values = False
        if reads_values(rows):
            as_values = True
            self.source = rows.values()
        # The columns value lists follow: known whenever the run reads values.
        value_columns: list[str] = columns if columns is not None else []
        fields = destination.fields
        needed = _needed_columns(destination)
        self.fetch: Callable[[Any], Any] | None = None
        self.refer: Callable[[Any], Any] | None = None
        picked: list[int] = []  # positions picked from value lists

        def positions(names: Sequence[str]) -> list[int]:
            # A column the input lacks points one past the end, at the None padded on.
            found = [index.get(name, len(value_columns)) for name in names]
            picked.extend(found)
            return found

        if as_values:
            index = {name: position for position, name in enumerate(value_columns)}
            self.fetch = (
                _picker(positions(fields))
                if fields is not None
                else lambda values: dict(zip(value_columns, values))
            )
        elif fields is not None:
            self.fetch = lambda row: tuple(map(row.get, fields))

        if fields is not None and set(needed) <= set(fields):
            refers_to = list(fields)
        elif not needed:
            refers_to = []
        else:
            refers_to = needed
            if as_values:
                self.refer = _picker(positions(needed))
            else:
                self.refer = lambda row: tuple(map(row.get, needed))
        self.pad = as_values and len(value_columns) in picked
        where = {name: position for position, name in enumerate(refers_to)}
        self.id_index = where[destination.id_field] if destination.id_field else None
        self.single, self.combined = _coverage(destination, columns, where)


def _needed_columns(destination: Destination) -> list[str]:
    """The id column and every identifier column, each once, in a stable order."""
    needed = [destination.id_field] if destination.id_field else []
    for alternatives in destination.identifiers.values():
        for alternative in alternatives:
            for column in alternative:
                if column not in needed:
                    needed.append(column)
    return needed


def _coverage(destination: Destination, columns: Sequence[str] | None, where: Mapping[str, int]):
    """The identifier coverage to count per prepared row, compiled for this input.

    Returns ``(single, combined)``: ``single`` pairs each label covered by exactly one
    column with that column's position (the common case, checked inline);
    ``combined`` keeps the other labels with their alternatives as position tuples. An
    alternative that needs a column the input does not have can never be met, so it
    is dropped, and a label left without any is not checked at all: its coverage is
    zero either way.
    """
    present = None if columns is None else frozenset(columns)
    single, combined = [], []
    for label, alternatives in destination.identifiers.items():
        possible = [
            tuple(where[column] for column in alternative)
            for alternative in alternatives
            if present is None or present.issuperset(alternative)
        ]
        if len(possible) == 1 and len(possible[0]) == 1:
            single.append((label, possible[0][0]))
        elif possible:
            combined.append((label, possible))
    return single, combined


def covered(values: Sequence[Any], alternatives) -> bool:
    for positions in alternatives:
        for position in positions:
            value = values[position]
            if value is None or value == "":
                break
        else:
            return True
    return False
