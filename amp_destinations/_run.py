"""The record of one run: counts, the ledger, the rejects file and the summary.

Only the engine's thread calls this. A batch's fate is committed to SQLite in one
transaction (ledger ranges, rejected rows, counters) after the remote system answered;
the rejects file is appended after the commit and rewritten from the database when a
run resumes, so it always matches the ledger exactly.
"""

from __future__ import annotations

import bisect
import csv
import time
from collections import Counter
from pathlib import Path
from typing import Iterable

from ._delivery import BatchResult
from ._private_files import make_private_dirs, open_private
from ._store import Store

__all__ = ["RunRecorder", "SettledRows", "REJECTS_HEADER"]

REJECTS_HEADER = ("row", "record_id", "code", "field", "message")
# Prepared-row rejects are buffered and committed with the next batch, or at this size.
_REJECT_BUFFER = 2000


def to_ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for row in sorted(rows):
        if ranges and row == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], row)
        else:
            ranges.append((row, row))
    return ranges


class SettledRows:
    """Rows a resumed run must skip. Rows arrive in ascending order, so membership is a
    pointer walk over sorted, merged ranges: O(1) per row."""

    def __init__(self, ranges: Iterable[tuple[int, int]]):
        merged: list[list[int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._firsts = [first for first, _ in merged]
        self._ranges = merged
        self.count = sum(last - first + 1 for first, last in merged)

    def __contains__(self, row: int) -> bool:
        index = bisect.bisect_right(self._firsts, row) - 1
        return index >= 0 and row <= self._ranges[index][1]

    def __bool__(self) -> bool:
        return bool(self._ranges)


class RunRecorder:
    def __init__(self, store: Store, run_id: int, rejects_path: Path | None, resumed: bool):
        self.store = store
        self.run_id = run_id
        self.rejects_path = rejects_path
        self.started = time.monotonic()
        self.rows_read = 0
        self.delivered = store.delivered_count(run_id) if resumed else 0
        self.rejected_by_code: Counter[str] = Counter(
            store.reject_counts(run_id) if resumed else {}
        )
        self.warnings_by_code: Counter[str] = Counter()
        self.retries = 0
        self.batches = 0
        self.requests = 0
        self.notes: list[str] = []
        self.coverage: Counter[str] = Counter()
        self.prepared = 0
        self._buffer: list[tuple] = []
        self._file = None
        self._writer = None
        if rejects_path is not None:
            self._open_rejects(resumed)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_code.values())

    @property
    def pending(self) -> int:
        return self.rows_read - self.delivered - self.rejected

    def _open_rejects(self, resumed: bool) -> None:
        make_private_dirs(self.rejects_path.parent)
        self._file = open_private(self.rejects_path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(REJECTS_HEADER)
        if resumed:
            self._writer.writerows(self.store.rejects(self.run_id))
        self._file.flush()

    def reject_prepared(self, row: int, record_id, code: str, field: str | None,
                        message: str) -> None:
        self._buffer.append((row, None if record_id is None else str(record_id), code, field,
                             message))
        if len(self._buffer) >= _REJECT_BUFFER:
            self.commit(None)

    def commit(self, result: BatchResult | None) -> None:
        """Settle a batch's rows (and any buffered prepared-row rejects) in one transaction."""
        rejects = self._buffer
        self._buffer = []
        delivered: list[int] = []
        if result is not None:
            delivered = result.delivered
            rejects.extend(
                (row, None if rid is None else str(rid), code, None, message)
                for row, rid, code, message in result.rejected
            )
            self.retries += result.retries
            self.requests += result.requests
            self.batches += 1
            for note in result.notes:
                if len(self.notes) < 20 and note not in self.notes:
                    self.notes.append(note)
        if not rejects and not delivered:
            return
        ledger = [(first, last, "delivered") for first, last in to_ranges(delivered)]
        ledger += [(first, last, "rejected") for first, last in to_ranges(r[0] for r in rejects)]
        delivered_total = self.delivered + len(delivered)
        by_code = self.rejected_by_code.copy()
        by_code.update(reject[2] for reject in rejects)
        with self.store.transaction():
            self.store.add_ledger(self.run_id, ledger)
            self.store.add_rejects(self.run_id, rejects)
            self.store.update_run(
                self.run_id,
                rows_read=self.rows_read,
                delivered=delivered_total,
                rejected=sum(by_code.values()),
                pending=self.rows_read - delivered_total - sum(by_code.values()),
            )
        self.delivered = delivered_total
        self.rejected_by_code = by_code
        if self._writer is not None and rejects:
            self._writer.writerows(sorted(rejects))
            self._file.flush()

    def summary(self, identifiers: Iterable[str], extra: dict | None = None) -> dict:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        prepared = self.prepared
        summary = {
            "rows_read": self.rows_read,
            "delivered": self.delivered,
            "rejected": self.rejected,
            "pending": self.pending,
            "rejected_by_code": dict(sorted(self.rejected_by_code.items())),
            "warnings_by_code": dict(sorted(self.warnings_by_code.items())),
            "retries": self.retries,
            "batches": self.batches,
            "requests": self.requests,
            "elapsed_seconds": round(elapsed, 3),
            "rows_per_second": round(self.rows_read / elapsed, 1),
            "identifier_coverage": {
                label: round(self.coverage[label] / prepared, 4) if prepared else 0.0
                for label in identifiers
            },
            "remote_notes": self.notes,
        }
        if extra:
            summary.update(extra)
        return summary

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
