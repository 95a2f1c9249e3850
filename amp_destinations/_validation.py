"""A validation run's sample and its verdict.

A validation run prepares every row as a send would, but keeps the valid rows' encoded
items in a ``Sample`` instead of batching them. Once the input is read, the sample is
sent one item per request, as test events, so that each answer belongs to one row; the
verdict then says what a full send would deliver and reject, and how the sample fared.

The sample is spread across the input without knowing its length: every ``stride``-th
valid row is kept, and when four times the wanted size is kept, every other one is
dropped and the stride doubled. What is kept is then evenly spaced over the valid rows
read so far, at least twice as many as wanted, so that the rows chosen from it are
spaced alike within one stride: they come from the start, the middle and the end of the
file alike, the same rows on every run of the same input, with at most four times the
sample in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

from ._batching import Batcher
from ._delivery import BatchResult

__all__ = ["Sample"]

_Item = tuple[Hashable, int, Any, bytes]  # batch key, row number, record id, encoded item


class Sample:
    """Up to ``size`` valid rows, evenly spread across the input, and their fate."""

    def __init__(self, size: int, batcher: Batcher):
        self.size = size
        self.valid = 0  # every valid row offered, kept or not
        self._fits = batcher.fits_alone
        self._kept: list[_Item] = []
        self._stride = 1
        self._outcomes: dict[int, dict[str, Any]] = {}
        self.chosen: list[_Item] = []

    def add(self, key: Hashable, row: int, record_id: Any, part: bytes) -> bool:
        """Offer one valid row; False when its item alone is too large to send, as
        ``Batcher.add`` answers (a full send would reject it)."""
        if not self._fits(key, part):
            return False
        if self.valid % self._stride == 0:
            kept = self._kept
            kept.append((key, row, record_id, part))
            if len(kept) >= 4 * self.size:
                del kept[1::2]
                self._stride *= 2
        self.valid += 1
        return True

    def choose(self) -> list[_Item]:
        """The rows to send: ``size`` of those kept, evenly spaced, in input order."""
        kept = self._kept
        if len(kept) > self.size:
            kept = [kept[index * len(kept) // self.size] for index in range(self.size)]
        self.chosen = kept
        self._kept = []
        return kept

    def record(self, result: BatchResult) -> None:
        """What the remote system said of sample rows (one row per request)."""
        for row in result.delivered:
            self._outcomes[row] = {"outcome": "accepted", "code": None, "message": None}
        for row, _, code, message in result.rejected:
            self._outcomes[row] = {"outcome": "refused", "code": code, "message": message}

    def refused_by_code(self) -> Counter[str]:
        return Counter(
            outcome["code"] for outcome in self._outcomes.values() if outcome["code"] is not None
        )

    def verdict(self, rejected_by_code: Counter[str], completed: bool) -> dict[str, Any]:
        """What a full send of this input would do, and how the sample fared row by row.

        ``rejected_by_code`` is every reject of the run, the sample's refusals among
        them; ``completed`` is whether the run ended without an error."""
        unanswered = {"outcome": "unanswered", "code": None, "message": None}
        rows = [
            {
                "row": row,
                "record_id": None if record_id is None else str(record_id),
                **self._outcomes.get(row, unanswered),
            }
            for _, row, record_id, _ in self.chosen
        ]
        outcomes = Counter(row["outcome"] for row in rows)
        local = rejected_by_code - self.refused_by_code()
        return {
            "would_deliver": self.valid,
            "would_reject": sum(local.values()),
            "rejected_by_code": dict(sorted(local.items())),
            "sample": {
                "requested": self.size,
                "sent": len(rows),
                "accepted": outcomes["accepted"],
                "refused": outcomes["refused"],
                "unanswered": outcomes["unanswered"],
                "rows": rows,
            },
            # Ready for a full send: every test event was accepted, and there was one.
            "ready": completed and bool(rows) and outcomes["accepted"] == len(rows),
        }
