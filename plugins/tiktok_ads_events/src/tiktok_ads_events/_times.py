"""Event timestamps to integer Unix seconds.

Accepted: ISO 8601 as ``datetime.fromisoformat`` reads it on Python 3.11 (with or
without an offset, "Z", a space or "T", fractions, a date alone, basic format); a
value without an offset is UTC, never the machine's local time. Also Unix seconds or
milliseconds, as a number or a string of digits (a fraction allowed), told apart by
magnitude. Native values (Parquet, Python) are read as their text would be: a
``datetime`` with or without a time zone (none means UTC), a ``date`` (midnight UTC),
an int, float or Decimal (Unix time). Checking the age window is the caller's job: it
needs the clock.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

__all__ = ["parse_event_time"]

_from_iso = datetime.fromisoformat
# Subtracting a naive epoch is several times faster than replace(tzinfo=utc).timestamp().
_NAIVE_EPOCH = datetime(1970, 1, 1)
_EPOCH_DAY = date(1970, 1, 1)

# 1e11 seconds is the year 5138 while 1e11 milliseconds is 1973, so the two ranges do
# not overlap for any date an event can have. Beyond 1e14 a value would be
# microseconds or nanoseconds, which are refused rather than guessed at.
_MILLISECONDS_FROM = 1e11
_TOO_LARGE = 1e14


def parse_event_time(value: object) -> int | None:
    """Unix seconds for a timestamp value; None when missing; ValueError when unreadable."""
    if value.__class__ is str:
        text = value.strip()
        if not text:
            return None
        if text.isdigit():
            return _from_unix(int(text))
        try:
            moment = _from_iso(text)
        except ValueError:
            # float() reads "1_700_000_000"; so would no one writing a timestamp.
            if "_" in text:
                raise ValueError("digits grouped with _") from None
            return _from_unix(float(text))
        if moment.tzinfo is None:
            return int((moment - _NAIVE_EPOCH).total_seconds())
        return int(moment.timestamp())
    if value is None:
        return None
    # A datetime is a date too (so is a pandas Timestamp): it is asked first.
    if isinstance(value, datetime):
        return _from_datetime(value)
    if isinstance(value, date):
        return (value - _EPOCH_DAY).days * 86400
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_unix(value)
    if isinstance(value, Decimal):
        # float() of a NaN or an infinity fails the range check, of an sNaN raises.
        return _from_unix(float(value))
    if isinstance(value, str):
        return parse_event_time(str(value))
    raise ValueError("not a timestamp")


def _from_datetime(moment: datetime) -> int:
    # A tzinfo may decline to give an offset: such a datetime is naive, read as UTC.
    if moment.utcoffset() is None:
        return int((moment - _NAIVE_EPOCH).total_seconds())
    return int(moment.timestamp())


def _from_unix(number: int | float) -> int:
    # Written so that NaN, infinities and huge integers all fail the one comparison.
    if not abs(number) < _TOO_LARGE:
        raise ValueError("not Unix seconds or milliseconds")
    if number >= _MILLISECONDS_FROM:
        return int(number // 1000)
    return int(number // 1)
