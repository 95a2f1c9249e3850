"""The record of one run: counts, the ledger, the rejects file and the summary.

Only the engine's thread calls this. A batch's fate is committed to SQLite in one
transaction (ledger ranges, rejected rows, counters, this attempt's figures) after the
remote system answered; the rejects file is appended after the commit and rewritten
from the database when a run resumes, so it always matches the ledger exactly.

A run may take several attempts (the first send, then each ``--resume``). Its summary
adds them up: rows a resume re-reads are counted once, and a warning counts once, for
the row it was given to, when that row is settled, so a row prepared again after a
stop is not warned about twice.

Rows skipped because their item was delivered before (the sent-events index, see
``_sent_index``) are settled as ``already_sent`` ledger ranges; the digests of a
batch's delivered items are journaled in the transaction that records it delivered.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ._delivery import BatchResult
from ._errors import StorageError
from ._local_failures import file_failure
from ._match_keys import BUCKETS
from ._private_files import make_private_dirs, open_private
from ._store import Store

if TYPE_CHECKING:
    from _csv import Writer

    from ._sent_index import SentIndex

__all__ = ["RunRecorder", "SettledRows", "REJECTS_HEADER"]

REJECTS_HEADER = ("row", "record_id", "code", "field", "message")
# Prepared-row rejects and rows already sent are buffered and committed with the next
# batch, or at this size.
_REJECT_BUFFER = 2000
# Between commits, the rows read so far are recorded at most this often (seconds), so
# that a live run's record counts them before their batches are answered.
HEARTBEAT_SECONDS = 1.0


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
    def __init__(
        self,
        store: Store,
        run_id: int,
        attempt: int,
        rejects_path: Path | None,
        resumed: bool,
        index: SentIndex | None = None,
    ):
        self.store = store
        self.index = index  # where delivered items' digests go; None: nowhere
        self.run_id = run_id
        self.attempt = attempt
        self.rejects_path = rejects_path
        self.started = time.monotonic()
        self.rows_read = 0
        self.delivered = store.settled_count(run_id, "delivered") if resumed else 0
        self.already_sent = store.settled_count(run_id, "already_sent") if resumed else 0
        self.resent = 0  # rows this attempt delivered although sent before (resending)
        self.rejected_by_code: Counter[str] = Counter(
            store.reject_counts(run_id) if resumed else {}
        )
        self._delivered_before = self.delivered
        self._rejected_before = self.rejected
        self._already_sent_before = self.already_sent
        self.warnings_by_code: Counter[str] = Counter()  # settled rows', this attempt
        self._row_warnings: dict[int, Sequence[str]] = {}  # prepared rows not yet settled
        self.retries = 0
        self.batches = 0
        self.requests = 0
        self.notes: list[str] = []
        self.coverage: Counter[str] = Counter()
        self.prepared = 0
        # A validation run's valid rows left out of its sample: settled, never sent.
        self.held = 0
        self.match_keys: dict[str, int] = {}  # prepared rows by bucket, see _match_keys
        self.earlier = [a for a in store.attempts(run_id) if a["attempt"] != attempt]
        # An attempt that recorded its end counted (prepared, coverage, match keys) every
        # row it read, settled or not; a resume prepares its unsettled rows again and
        # must not count them twice. One that died recorded no counts at all.
        self.counted_upto = max(
            (a["rows_read"] for a in self.earlier if a["status"] not in ("running", "stopped")),
            default=0,
        )
        self._buffer: list[tuple] = []
        self._skipped: list[int] = []  # rows already sent, not yet committed
        self._resumed = resumed
        self._file: IO[str] | None = None
        self._writer: Writer | None = None  # set while the rejects file is writable
        self._recorded_at = time.monotonic()  # when the run's counts were last written

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_code.values())

    @property
    def pending(self) -> int:
        return self.rows_read - self.delivered - self.rejected - self.already_sent - self.held

    def _rejects_failure(self, path: Path, exc: OSError) -> StorageError:
        self._writer = None  # the database keeps every reject: a resume writes the file
        return file_failure("the rejects file", path, exc)

    def open_rejects(self) -> None:
        """Start the rejects file; a resumed run's is written again from the database."""
        path = self.rejects_path
        if path is None:
            return
        try:
            make_private_dirs(path.parent)
            self._file = file = open_private(path, "w", newline="", encoding="utf-8")
            self._writer = writer = csv.writer(file)
            writer.writerow(REJECTS_HEADER)
            if self._resumed:
                writer.writerows(self.store.rejects(self.run_id))
            file.flush()
        except OSError as exc:
            raise self._rejects_failure(path, exc) from None

    def warned(self, row: int, codes: Sequence[str]) -> None:
        """``prepare`` gave row ``row`` these warnings; they count once it is settled."""
        self._row_warnings[row] = codes

    def reject_prepared(
        self, row: int, record_id, code: str, field: str | None, message: str
    ) -> None:
        self._buffer.append(
            (row, None if record_id is None else str(record_id), code, field, message)
        )
        if len(self._buffer) >= _REJECT_BUFFER:
            self.commit(None)

    def skip(self, rows: list[int]) -> None:
        """These rows' items were delivered before: settled without being sent."""
        self._skipped.extend(rows)
        if len(self._skipped) >= _REJECT_BUFFER:
            self.commit(None)

    def commit(
        self, result: BatchResult | None, sent: Sequence[bytes] = (), resent: int = 0
    ) -> None:
        """Settle a batch's rows (and any buffered prepared-row rejects and rows already
        sent) in one transaction, with ``sent``, the digests of its delivered items, into
        the index; ``resent`` of them were sent before. If it fails, those rows stay
        pending: a resume sends them again."""
        rejects = self._buffer
        self._buffer = []
        skipped = self._skipped
        self._skipped = []
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
        if not rejects and not delivered and not skipped and result is None:
            return
        ledger = [(first, last, "delivered") for first, last in to_ranges(delivered)]
        ledger += [(first, last, "rejected") for first, last in to_ranges(r[0] for r in rejects)]
        ledger += [(first, last, "already_sent") for first, last in to_ranges(skipped)]
        delivered_total = self.delivered + len(delivered)
        already_sent = self.already_sent + len(skipped)
        by_code = self.rejected_by_code.copy()
        by_code.update(reject[2] for reject in rejects)
        rejected_total = sum(by_code.values())
        warnings = self._settle_warnings(itertools.chain(delivered, skipped), rejects)
        with self.store.transaction():
            if ledger:
                self.store.add_ledger(self.run_id, ledger)
                self.store.add_rejects(self.run_id, rejects)
            if sent and self.index is not None:
                self.index.journal(sent)
            self._record_counts(delivered_total, rejected_total, already_sent)
            self._record_attempt(
                delivered_total, rejected_total, warnings, already_sent, self.resent + resent
            )
        self.delivered = delivered_total
        self.already_sent = already_sent
        self.resent += resent
        self.rejected_by_code = by_code
        self.warnings_by_code = warnings
        writer, file, path = self._writer, self._file, self.rejects_path
        if writer is not None and file is not None and path is not None and rejects:
            try:
                writer.writerows(sorted(rejects))
                file.flush()
            except OSError as exc:
                raise self._rejects_failure(path, exc) from None

    def heartbeat(self) -> None:
        """Record the rows read so far, when no commit did for ``HEARTBEAT_SECONDS``:
        ``runs list`` and ``runs show`` then count a live run's rows as it reads them,
        not only once a batch of them is answered."""
        if time.monotonic() - self._recorded_at < HEARTBEAT_SECONDS:
            return
        with self.store.transaction():
            self._record_counts(self.delivered, self.rejected, self.already_sent)
            self.store.update_attempt(self.run_id, self.attempt, rows_read=self.rows_read)

    def _record_counts(self, delivered: int, rejected: int, already_sent: int) -> None:
        """The run's counts as they stand. A resume counts its rows read from the first
        again while the rows settled before are counted already, so until it has read
        past them, the run has read at least those."""
        settled = delivered + rejected + already_sent
        rows_read = max(self.rows_read, settled)
        self.store.update_run(
            self.run_id,
            rows_read=rows_read,
            delivered=delivered,
            rejected=rejected,
            already_sent=already_sent,
            pending=rows_read - settled - self.held,
        )
        self._recorded_at = time.monotonic()

    def _settle_warnings(self, settled: Iterable[int], rejects: list[tuple]) -> Counter[str]:
        """This attempt's warnings once these rows are settled: a new counter, so that
        the current one stands if the transaction fails."""
        if not self._row_warnings:
            return self.warnings_by_code
        warnings = self.warnings_by_code.copy()
        pop = self._row_warnings.pop
        for row in itertools.chain(settled, (reject[0] for reject in rejects)):
            codes = pop(row, None)
            if codes:
                warnings.update(codes)
        return warnings

    def _record_attempt(
        self,
        delivered: int,
        rejected: int,
        warnings: Counter[str],
        already_sent: int,
        resent: int,
        **end,
    ) -> None:
        self.store.update_attempt(
            self.run_id,
            self.attempt,
            rows_read=self.rows_read,
            delivered=delivered - self._delivered_before,
            rejected=rejected - self._rejected_before,
            already_sent=already_sent - self._already_sent_before,
            resent=resent,
            batches=self.batches,
            requests=self.requests,
            retries=self.retries,
            warnings=dict(warnings),
            **end,
        )

    def end_attempt(self, status: str, error: str | None) -> None:
        self._record_attempt(
            self.delivered,
            self.rejected,
            self.warnings_by_code,
            self.already_sent,
            self.resent,
            status=status,
            error=error,
            ended_at=time.time(),
            prepared=self.prepared,
            coverage=dict(self.coverage),
            match_keys=self.match_keys,
        )

    def summary(self, identifiers: Iterable[str], extra: dict | None = None) -> dict:
        """The whole run's figures: this attempt added to the earlier ones."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        warnings = self.warnings_by_code.copy()
        coverage = self.coverage.copy()
        match_keys = Counter(self.match_keys)
        prepared = self.prepared
        retries, batches, requests = self.retries, self.batches, self.requests
        resent = self.resent
        for attempt in self.earlier:
            resent += attempt["resent"]
            warnings.update(attempt["warnings"])
            coverage.update(attempt["coverage"])
            match_keys.update(attempt["match_keys"])
            prepared += attempt["prepared"]
            retries += attempt["retries"]
            batches += attempt["batches"]
            requests += attempt["requests"]
            elapsed += max(
                0.0, (attempt["ended_at"] or attempt["last_seen_at"]) - attempt["started_at"]
            )
        summary = {
            "rows_read": self.rows_read,
            "delivered": self.delivered,
            "rejected": self.rejected,
            "already_sent": self.already_sent,
            "resent": resent,
            "pending": self.pending,
            "rejected_by_code": dict(sorted(self.rejected_by_code.items())),
            "warnings_by_code": dict(sorted(warnings.items())),
            "retries": retries,
            "batches": batches,
            "requests": requests,
            "attempts": len(self.earlier) + 1,
            "elapsed_seconds": round(elapsed, 3),
            "rows_per_second": round(self.rows_read / elapsed, 1),
            "identifier_coverage": {
                label: round(coverage[label] / prepared, 4) if prepared else 0.0
                for label in identifiers
            },
            # Only for a destination that declares match keys: otherwise every row
            # would carry none, which says nothing about the input.
            "match_keys": {bucket: match_keys[bucket] for bucket in BUCKETS} if identifiers else {},
            "remote_notes": self.notes,
        }
        if extra:
            summary.update(extra)
        return summary

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:  # a write that failed already said so
                pass
            self._file = None
