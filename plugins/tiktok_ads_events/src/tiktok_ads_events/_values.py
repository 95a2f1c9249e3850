"""Input values as the text TikTok's string fields take, and event ids derived from them.

A CSV cell is text already. Parquet, JSON Lines and Python rows also carry native
values, each written as its text would be: a whole number without a fraction (an int,
or a float or Decimal that is whole: ``991.0`` is "991", as an id column that pandas
turned into floats meant), other numbers in their shortest form, a date or datetime in
ISO 8601. What has no text form an operator would have meant is refused: lists,
objects, booleans, NaN and infinities.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from hashlib import sha256
from operator import itemgetter
from typing import Any

__all__ = ["EVENT_ID_SEPARATOR", "event_id_deriver", "text_of"]

# Joins the values an event id is derived from: the ASCII unit separator, which no
# text field holds, so ("a|b", "c") and ("a", "b|c") cannot give the same id.
EVENT_ID_SEPARATOR = "\x1f"


def text_of(value: Any) -> str:
    """Trimmed text, "" when missing. ValueError for a value without a text form.
    The hot path inlines the plain-string case."""
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError("a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        if value == value.to_integral_value():
            return str(int(value))
        return format(value, "f")
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, numbers.Integral):  # numpy's integers, say
        return str(int(value))
    if isinstance(value, numbers.Real):
        return _float_text(float(value))
    raise ValueError("not text")


def _float_text(number: float) -> str:
    if number.is_integer():  # False for NaN and infinities
        return str(int(number))
    if number - number != 0.0:  # NaN or an infinity
        raise ValueError("not a finite number")
    return repr(number)


def event_id_deriver(positions: Sequence[int]) -> Callable[[tuple], str | None]:
    """A function from a row's values to the event id derived from those at
    ``positions``: the SHA-256 (lower-case hex) of their texts joined by
    ``EVENT_ID_SEPARATOR``, UTF-8 encoded; a missing value is the empty text. None when
    every one of them is missing; ValueError when one has no text form.

    Never salted, and it depends on nothing but the values, so the same rows give the
    same ids in every run: TikTok deduplicates a file sent twice."""
    first = positions[0]

    def pick_one(values: tuple) -> tuple:
        return (values[first],)

    # itemgetter of one position gives the value itself, not a tuple of it.
    pick: Callable[[tuple], Any] = itemgetter(*positions) if len(positions) > 1 else pick_one

    def derive(values: tuple) -> str | None:
        texts = [text_of(value) for value in pick(values)]
        if not any(texts):
            return None
        return sha256(EVENT_ID_SEPARATOR.join(texts).encode()).hexdigest()

    return derive
