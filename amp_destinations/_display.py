"""How a value is shown to a person, in one place so that the CLI's commands and the
progress bar say it alike: a boolean as ``true``/``false`` (the words ``--set`` takes),
a missing value as ``-``, a list or mapping as JSON (what ``--set`` takes for them), a
count with thousands separators, a share as a percentage and a noun in the singular
for one.

``--json`` prints the values themselves; this is only for the text a person reads.
It imports nothing heavy: the CLI loads it on every start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MISSING", "count", "counted", "counts", "ranges", "share", "value", "when"]

MISSING = "-"


def value(item: Any) -> str:
    """A setting's or a field's value as an operator would type it back."""
    if item is None:
        return MISSING
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (list, tuple, dict)):
        return json.dumps(item, ensure_ascii=False, default=str)
    if item == "":
        return '""'  # shown, so that an empty value is not mistaken for no line at all
    return str(item)


def count(number: int) -> str:
    return f"{number:,}"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,000 rows``; ``plural`` when it is not noun + s."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def counts(by_name: Mapping[str, int]) -> str:
    """``email.missing 1,200, value.invalid 3``: counts by reason code or label."""
    return ", ".join(f"{name} {number:,}" for name, number in by_name.items())


# The ranges of rows a listing shows (runs show, the console); the rest are counted.
SHOWN_RANGES = 20


def ranges(spans: Sequence[tuple[int, int]]) -> str:
    """``1-500, 812, 900-1,000``, and how many more ranges past the first few."""
    shown = ", ".join(
        count(first) if first == last else f"{count(first)}-{count(last)}"
        for first, last in spans[:SHOWN_RANGES]
    )
    more = len(spans) - SHOWN_RANGES
    return shown + (f" and {counted(more, 'range')} more" if more > 0 else "")


def share(fraction: float) -> str:
    """0.7192 as ``72%``."""
    return f"{fraction:.0%}"


def when(timestamp: float | None) -> str:
    """Seconds since the epoch as local time, to the second; ``-`` when unknown."""
    if not timestamp:
        return MISSING
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
