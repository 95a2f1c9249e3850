"""Match quality: how many of a destination's match keys each prepared event carries.

A destination declares its match keys (``Destination.identifiers``); the engine counts,
per prepared row, the keys whose columns are filled (the same test as identifier
coverage, in the same pass), and the run summary keeps the rows per bucket:
``match_keys = {"0": n, "1": n, "2": n, "3+": n}``. Counts, not shares, so that the
attempts of a resumed run add up. Rows rejected by ``prepare`` are not counted: they
are never sent. An ad platform matches an event to a person by these keys, and an
event with one key is matched far less often than one with two or three; "most events
carry one key" is the figure an operator can act on, so it gets a warning.

It imports nothing heavy: the CLI prints these figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import _display as fmt

__all__ = ["BUCKETS", "buckets", "shares", "warning"]

BUCKETS = ("0", "1", "2", "3+")


def buckets(by_count: Sequence[int]) -> dict[str, int]:
    """``by_count[n]``, the rows carrying n keys, as rows per bucket (three or more
    share one)."""
    counted = dict.fromkeys(BUCKETS, 0)
    for keys, rows in enumerate(by_count):
        counted[BUCKETS[min(keys, 3)]] += rows
    return counted


def shares(counted: Mapping[str, int]) -> str:
    """``1 key 60%, 2 keys 30%, 3+ keys 10%``: the buckets that hold any rows."""
    total = sum(counted.values())
    if not total:
        return "no event prepared"
    return ", ".join(
        f"{bucket} {'key' if bucket == '1' else 'keys'} {fmt.share(rows / total)}"
        for bucket, rows in counted.items()
        if rows
    )


def warning(summary: Mapping) -> str | None:
    """What to do when more than half of the counted events carry exactly one key;
    None otherwise. Names the keys most events lack, from the summary's coverage."""
    counted = summary.get("match_keys") or {}
    total = sum(counted.values())
    if not total or counted.get("1", 0) * 2 <= total:
        return None
    lacking = [
        label
        for label, fraction in (summary.get("identifier_coverage") or {}).items()
        if fraction < 0.5
    ]
    more = (
        f"fill or add the columns of {', '.join(lacking)}"
        if lacking
        else "fill more of the keys in each row"
    )
    return (
        f"{fmt.share(counted['1'] / total)} of {fmt.counted(total, 'prepared event')} "
        f"carry only one match key: {more}; each further key an event carries raises "
        "the share of events the destination can match to a person"
    )
