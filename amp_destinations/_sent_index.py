"""The sent-events index: never deliver an item twice within the remote system's window.

A destination that declares ``idempotency_key`` and ``idempotency_window`` (see
``Destination``) gets, per configured destination, an index of the items delivered: a
16-byte BLAKE2s digest of each item's key (never the key: an event id may carry PII)
and when it was sent. A run looks each batch up before it is sent and takes out the
items delivered within the window (``already_sent``), unless it resends.

Storage, in the run database so that one transaction covers a batch's ledger entry and
its keys:

- ``sent_journal``: one row per delivered batch, its digests concatenated, appended in
  the transaction that records the batch delivered (a page or two a batch).
- segments (``_sent_segments``): the index proper, sorted runs of 20-byte records
  written whole, each with a Bloom filter of its keys and the first digest of each of
  its chunks. The journal is merged into a new segment when a run starts (which takes
  in a run that was killed) and when it ends, and segments of a size are merged into
  one. Merging into one B-tree instead cost 1.8 us a key into an empty index and 11 us
  at 10 million keys, as every run rewrote the tree page by page.

A lookup tests a batch's digests against each segment's filter, in this process, and
reads the chunk of the few that may be there, one query a batch. It reads what was
merged (by any run: segments another run merged are read as they appear), so a run does
not see the keys it delivered itself: repeats within one run are left to the remote
system's own deduplication (TikTok's covers 48 hours). A key older than the window is
ignored by the lookup and dropped when its segment is merged, or deleted with it. Memory
holds the segments' filters and fences (about 2 bytes a key), a 64th of the segments
being merged, and the digests of the batches being filled and in flight; never every key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from . import _sent_segments as segments
from ._errors import StorageError
from ._sent_gate import DIGEST_SIZE
from ._store import Store

__all__ = ["SentIndex", "entries", "forget"]

# Keys past the window are looked for and dropped in every segment at most once a day.
PRUNE_EVERY = 86400.0
# About the journal keys a merge holds in memory at once (see _take_journal).
MERGE_KEYS = 100_000
_MAX_DIGESTS = 1000
_NEVER = 2**32  # later than any send time a record holds
_FIRST_BYTE_SHIFT = 8 - segments.SLICE_BITS  # a digest's slice from its first byte


class SentIndex:
    """One configured destination's index in ``store``, and what a run holds of its
    segments to look keys up: their filters and fences (see ``_sent_segments``)."""

    def __init__(
        self,
        store: Store,
        destination: str,
        window: float,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.db = store.db
        self.destination = destination
        self.window = window
        self.clock = clock
        index_id = _index_id(store, destination, create=True)
        assert index_id is not None  # just created, or there already
        self.id: int = index_id
        self.segments: dict[int, segments.Segment] = {}
        self.version = -1

    def merge(self) -> None:
        """Move the journal into a segment; merge segments of a size; once a day, drop
        the keys past the window from every segment."""
        self.segments.clear()  # their filters are read again after: not twice in memory
        self.version = -1
        with self.store.transaction():
            version, pruned_at = self.db.execute(
                "SELECT version, pruned_at FROM sent_indexes WHERE id = ?", (self.id,)
            ).fetchone()
            now = self.clock()
            since = int(now - self.window)
            changed = _take_journal(self.db, self.id)
            changed = segments.expired(self.db, self.id, since) or changed
            while group := segments.tiers_to_merge(segments.listed(self.db, self.id)):
                segments.compact(self.db, self.id, group, since)
                changed = True
            if now - pruned_at >= PRUNE_EVERY:
                pruned_at = now
                for segment, _, oldest, _ in segments.listed(self.db, self.id):
                    if oldest < since:
                        segments.compact(self.db, self.id, [segment], since)
                        changed = True
            self.db.execute(
                "UPDATE sent_indexes SET version = ?, pruned_at = ? WHERE id = ?",
                (version + changed, pruned_at, self.id),
            )
        self._refresh()

    def empty(self) -> bool:
        """Whether the index had no key when it was last read."""
        return not self.segments

    def _refresh(self) -> None:
        """Read the segments again if a merge (this run's or another's) changed them."""
        version = self.db.execute(
            "SELECT version FROM sent_indexes WHERE id = ?", (self.id,)
        ).fetchone()[0]
        if version != self.version:
            segments.load(self.db, self.id, self.segments)
            self.version = version

    def sent(self, digests: Sequence[bytes]) -> set[bytes]:
        """Those of ``digests`` delivered within the window, as merged so far (by any
        run: what another run merged since is read first)."""
        if not digests:
            return set()
        joined = b"".join(digests)
        since = int(self.clock() - self.window)
        for _ in range(3):  # a chunk missing: another run merged its segment away
            self._refresh()
            found, missing = segments.find(self.db, self.segments.values(), joined, since)
            if not missing:
                return {digests[position] for position in found}
            self.segments.clear()
            self.version = -1  # read every segment again
        raise StorageError(
            f"the sent-events index of {self.destination!r} is damaged (a segment's chunk "
            f"is missing); clear it with `amp-dest destinations forget {self.destination}`",
            kind="damaged",
        )

    def journal(self, digests: Sequence[bytes]) -> None:
        """Record ``digests`` as sent now; inside the caller's transaction."""
        for start in range(0, len(digests), _MAX_DIGESTS):
            self.db.execute(
                "INSERT INTO sent_journal VALUES (?, ?, ?)",
                (self.id, int(self.clock()), b"".join(digests[start : start + _MAX_DIGESTS])),
            )


def forget(store: Store, destination: str, before: float | None = None) -> int:
    """Remove the keys of ``destination`` sent before ``before`` (all of them when None);
    how many were removed. NotFoundError when it has no index and is not configured."""
    index_id = _index_id(store, destination, create=False)
    if index_id is None:
        store.destination(destination)  # NotFoundError when there is no such destination
        return 0
    since = _NEVER if before is None else math.ceil(before)
    with store.transaction():
        _take_journal(store.db, index_id)
        held = [segment for segment, *_ in segments.listed(store.db, index_id)]
        _, removed = segments.compact(store.db, index_id, held, since)
        store.db.execute("UPDATE sent_indexes SET version = version + 1 WHERE id = ?", (index_id,))
    return removed


def entries(store: Store, destination: str | None = None) -> Iterator[tuple[bytes, int]]:
    """Each key merged into ``destination``'s index (every index's when None): its
    digest and when it was last sent. For tests and benchmarks: a run never reads
    every key."""
    if destination is None:
        ids = [row[0] for row in store.db.execute("SELECT id FROM sent_indexes")]
    else:
        ids = [_index_id(store, destination, create=False)]
    for index_id in ids:
        held = [segment for segment, *_ in segments.listed(store.db, index_id)]
        for part in range(1 << segments.SLICE_BITS):
            records = segments.latest_once(segments.slice_records(store.db, held, part))
            digests = segments.digests_of(records)
            for at, sent_at in enumerate(records["sent_at"].tolist()):
                yield digests[16 * at : 16 * at + 16], sent_at


def _take_journal(db, index_id: int) -> bool:
    """The journal's digests into one new segment, the journal emptied; whether it held
    any. A journal of more than ``MERGE_KEYS`` (a long run, a killed one's) is read once
    per range of slices of the digest space, so that memory holds about that many
    records, and a merge still writes one segment, not several to merge again."""
    journaled = (
        db.execute(
            "SELECT coalesce(sum(length(digests)), 0) FROM sent_journal WHERE index_id = ?",
            (index_id,),
        ).fetchone()[0]
        // DIGEST_SIZE
    )
    if not journaled:
        return False
    slices = 1 << segments.SLICE_BITS
    passes = min(slices, math.ceil(journaled / MERGE_KEYS))
    bounds = [part * slices // passes for part in range(passes + 1)]
    writer = segments.Writer(db, index_id, journaled, segments.stored(db, index_id) + journaled)
    for first, last in zip(bounds, bounds[1:]):
        picked = []
        rows = db.execute(
            "SELECT sent_at, digests FROM sent_journal WHERE index_id = ? ORDER BY rowid",
            (index_id,),
        )
        for sent_at, digests in rows:
            halves = np.frombuffer(digests, dtype=">u8").reshape(-1, 2)
            if passes > 1:  # the digests of this pass's slices, by their first byte
                part = np.frombuffer(digests, dtype=np.uint8)[::DIGEST_SIZE] >> _FIRST_BYTE_SHIFT
                halves = halves[(part >= first) & (part < last)]
            records = np.empty(len(halves), dtype=segments.RECORD)
            records["high"], records["low"] = halves[:, 0], halves[:, 1]
            records["sent_at"] = min(max(sent_at, 0), _NEVER - 1)
            picked.append(records)
        # concatenate() gives native byte order; a chunk stores the bytes RECORD says.
        records = np.concatenate(picked).astype(segments.RECORD, copy=False)
        picked.clear()  # each copy let go before the next is made: a pass's peak is less
        records = segments.latest_once(records)
        writer.write(records)
    writer.close()
    db.execute("DELETE FROM sent_journal WHERE index_id = ?", (index_id,))
    return True


def _index_id(store: Store, destination: str, *, create: bool) -> int | None:
    if create:
        store.db.execute(
            "INSERT INTO sent_indexes (destination) VALUES (?) ON CONFLICT DO NOTHING",
            (destination,),
        )
    row = store.db.execute(
        "SELECT id FROM sent_indexes WHERE destination = ?", (destination,)
    ).fetchone()
    return None if row is None else int(row[0])
