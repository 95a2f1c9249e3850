"""The sent-events index's stored keys: sorted segments of records, in chunks.

A record is a 16-byte digest and when it was last sent (Unix seconds, 4 bytes,
big-endian): 20 bytes. A segment is records sorted by digest, a digest once, written
whole and never changed: merged with others into a new one, then deleted. Its records
are stored in chunks of about 200 (4 KB, a page each), ``sent_chunks.id`` being the
segment's id times 2**32 plus the first 4 bytes of the chunk's first digest. The
segment's row keeps those prefixes (its fences: 4 bytes a chunk) and its Bloom filter
(``_sent_filter``, 2 bytes a key), which a run holds in memory: a lookup tests a batch
against each segment's filter, finds the chunk of each digest that may be there among
the fences, and reads only those chunks, by id.

Chunks never straddle one of 64 slices of the digest space, so merging segments reads
and writes a slice at a time, and memory holds a slice of them, not every key.

Segments are merged by size ("size-tiered"): a segment's tier is the power of 4 its keys
are of 1,024, and four or more of a tier are merged into one, so a key is rewritten
about once per tier it climbs and a lookup tests at most three segments a tier. Merging
drops the keys sent before the window and keeps a key sent twice once, at its latest.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import orjson

from ._sent_filter import BITS_PER_KEY, SentFilter, halves

__all__ = [
    "RECORD",
    "SLICE_BITS",
    "Segment",
    "Writer",
    "compact",
    "digests_of",
    "expired",
    "find",
    "latest_once",
    "listed",
    "load",
    "slice_records",
    "stored",
    "tiers_to_merge",
]

RECORD = np.dtype([("high", ">u8"), ("low", ">u8"), ("sent_at", ">u4")])
RECORD_SIZE = RECORD.itemsize
CHUNK_RECORDS = 200
SLICE_BITS = 6  # 64 slices of the digest space
# The filters of an index's segments take BITS_PER_KEY a key up to this size (16.7
# million keys), and share it beyond: a run's memory stays within it whatever the index
# holds, and past it more lookups read a chunk to find the digest is not there.
FILTER_BUDGET = 32 << 20
FANOUT = 4
_SLICE_SHIFT = np.uint64(64 - SLICE_BITS)
_PREFIX_SHIFT = np.uint64(32)


@dataclass
class Segment:
    """What a run holds of a segment to look keys up in it."""

    id: int
    newest: int
    fences: np.ndarray  # uint32: each chunk's first prefix, ascending
    filter: SentFilter


def _slice_of(records: np.ndarray) -> np.ndarray:
    """Which of the 1 << SLICE_BITS slices of the digest space each record is in."""
    return records["high"] >> _SLICE_SHIFT


def tier(keys: int) -> int:
    return 0 if keys <= 1024 else int(math.log(keys / 1024, FANOUT))


def listed(db: sqlite3.Connection, index_id: int) -> list[tuple[int, int, int, int]]:
    """The index's segments: (id, keys, oldest, newest send time), oldest first."""
    return db.execute(
        "SELECT id, keys, oldest, newest FROM sent_segments WHERE index_id = ? ORDER BY id",
        (index_id,),
    ).fetchall()


def load(db: sqlite3.Connection, index_id: int, held: dict[int, Segment]) -> None:
    """Bring ``held`` up to the index's segments: those merged away let go first, then
    the new ones read."""
    segments = {segment: newest for segment, _, _, newest in listed(db, index_id)}
    for gone in set(held) - set(segments):
        del held[gone]
    for segment, newest in segments.items():
        if segment in held:
            continue
        row = db.execute("SELECT fences FROM sent_segments WHERE id = ?", (segment,)).fetchone()
        if row is None:
            continue  # merged away since it was listed: the next load has what replaced it
        fences = np.frombuffer(row[0], dtype=">u4").astype(np.uint32)
        with db.blobopen("sent_segments", "filter", segment, readonly=True) as blob:
            held[segment] = Segment(segment, newest, fences, SentFilter.read(blob))


def filter_bits(keys: int, index_keys: int) -> float:
    """Bits a key for the filter of a segment of ``keys`` in an index of ``index_keys``."""
    return min(float(BITS_PER_KEY), FILTER_BUDGET * 8 / max(index_keys, keys, 1))


def latest_once(records: np.ndarray) -> np.ndarray:
    """``records`` sorted by digest, a digest once, at its latest send time."""
    high = records["high"].astype(np.uint64)  # native byte order sorts several times faster
    order = np.argsort(high, kind="stable")
    high = high[order]
    if not np.any(high[1:] == high[:-1]):
        return _take(records, order)  # every digest once: the usual case, 1/4 of a lexsort
    high, low = records["high"].astype(np.uint64), records["low"].astype(np.uint64)
    order = np.lexsort((records["sent_at"].astype(np.uint32), low, high))
    high, low = high[order], low[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (high[1:] != high[:-1]) | (low[1:] != low[:-1])
    return _take(records, order[last])


def _take(records: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``records[rows]``, copied as 20-byte blocks: a third of the time numpy takes to
    copy a structured array field by field."""
    return np.take(records.view(f"V{RECORD_SIZE}"), rows).view(records.dtype)


def digests_of(records: np.ndarray) -> bytes:
    """The digests of ``records``, concatenated."""
    raw = np.ascontiguousarray(records).view(np.uint8).reshape(-1, RECORD_SIZE)
    return raw[:, :16].tobytes()


class Writer:
    """A new segment, written a slice at a time: its chunks, fences, filter, figures."""

    def __init__(self, db: sqlite3.Connection, index_id: int, capacity: int, index_keys: int):
        self.db = db
        cursor = db.execute(
            "INSERT INTO sent_segments (index_id, keys, oldest, newest, fences, filter) "
            "VALUES (?, 0, 0, 0, x'', x'')",
            (index_id,),
        )
        assert cursor.lastrowid is not None
        self.id: int = cursor.lastrowid
        self.fences: list[np.ndarray] = []
        self.filter = SentFilter.sized_for(capacity, filter_bits(capacity, index_keys))
        self.keys, self.oldest, self.newest = 0, 2**32, 0

    def write(self, records: np.ndarray) -> None:
        """Chunks of about CHUNK_RECORDS, cut where neither the 4-byte prefix nor the
        slice runs on (two chunks of a segment never start with the same prefix)."""
        if not len(records):
            return
        assert records.dtype == RECORD  # its bytes are what the chunks store
        prefixes = (records["high"] >> _PREFIX_SHIFT).astype(np.uint32)
        slices = _slice_of(records)
        starts = [0]
        end = len(records)
        while starts[-1] < end:
            at = starts[-1]
            slice_end = int(np.searchsorted(slices, slices[at], side="right"))
            cut = min(at + CHUNK_RECORDS, slice_end)
            while cut < slice_end and prefixes[cut] == prefixes[cut - 1]:
                cut += 1
            starts.append(cut)
        base = self.id << 32
        fences = prefixes[starts[:-1]]
        self.db.executemany(
            "INSERT INTO sent_chunks VALUES (?, ?)",
            (
                (base + int(fence), records[first:last].tobytes())
                for fence, first, last in zip(fences, starts, starts[1:])
            ),
        )
        self.fences.append(fences)
        self.filter.add(*halves(digests_of(records)))
        stamps = records["sent_at"]
        self.keys += len(records)
        self.oldest = min(self.oldest, int(stamps.min()))
        self.newest = max(self.newest, int(stamps.max()))

    def close(self) -> int:
        """Record the segment's figures, fences and filter (a segment of no key is
        deleted); how many keys it holds."""
        if not self.keys:
            self.db.execute("DELETE FROM sent_segments WHERE id = ?", (self.id,))
            return 0
        fences = np.concatenate(self.fences).astype(">u4").tobytes()
        self.db.execute(
            "UPDATE sent_segments SET keys = ?, oldest = ?, newest = ?, fences = ?, "
            "filter = zeroblob(?) WHERE id = ?",
            (self.keys, self.oldest, self.newest, fences, 8 * len(self.filter.words), self.id),
        )
        with self.db.blobopen("sent_segments", "filter", self.id) as blob:
            self.filter.write(blob)
        return self.keys


def stored(db: sqlite3.Connection, index_id: int) -> int:
    """The keys the index's segments hold (a key in two segments counts twice)."""
    return db.execute(
        "SELECT coalesce(sum(keys), 0) FROM sent_segments WHERE index_id = ?", (index_id,)
    ).fetchone()[0]


def slice_records(db: sqlite3.Connection, segment_ids: Iterable[int], part: int) -> np.ndarray:
    """The records of ``segment_ids`` in slice ``part`` of the digest space."""
    low, high = part << (32 - SLICE_BITS), (part + 1) << (32 - SLICE_BITS)
    blobs = [
        row[0]
        for segment in segment_ids
        for row in db.execute(
            "SELECT records FROM sent_chunks WHERE id >= ? AND id < ? ORDER BY id",
            ((segment << 32) + low, (segment << 32) + high),
        )
    ]
    return np.frombuffer(b"".join(blobs), dtype=RECORD)


def compact(
    db: sqlite3.Connection, index_id: int, segment_ids: list[int], since: int
) -> tuple[int, int]:
    """Merge ``segment_ids`` into one segment, a slice at a time, leaving out the keys
    last sent before ``since``; delete them. The keys kept, and how many left out."""
    capacity = db.execute(
        "SELECT coalesce(sum(keys), 0) FROM sent_segments WHERE id IN "
        "(SELECT value FROM json_each(?))",
        (orjson.dumps(segment_ids),),
    ).fetchone()[0]
    writer = Writer(db, index_id, capacity, stored(db, index_id))
    removed = 0
    for part in range(1 << SLICE_BITS):
        records = slice_records(db, segment_ids, part)
        if not len(records):
            continue
        records = latest_once(records)
        fresh = _take(records, np.flatnonzero(records["sent_at"] >= since))
        removed += len(records) - len(fresh)
        writer.write(fresh)
    for segment in segment_ids:
        _delete(db, segment)
    return writer.close(), removed


def _delete(db: sqlite3.Connection, segment: int) -> None:
    db.execute(
        "DELETE FROM sent_chunks WHERE id >= ? AND id < ?", (segment << 32, (segment + 1) << 32)
    )
    db.execute("DELETE FROM sent_segments WHERE id = ?", (segment,))


def expired(db: sqlite3.Connection, index_id: int, since: int) -> bool:
    """Delete the segments whose every key was sent before ``since``; whether any."""
    gone = [segment for segment, _, _, newest in listed(db, index_id) if newest < since]
    for segment in gone:
        _delete(db, segment)
    return bool(gone)


def tiers_to_merge(segments: list[tuple[int, int, int, int]]) -> list[int] | None:
    """The ids of the lowest tier with FANOUT segments or more; None when none has."""
    by_tier: dict[int, list[int]] = {}
    for segment, keys, _, _ in segments:
        by_tier.setdefault(tier(keys), []).append(segment)
    for level in sorted(by_tier):
        if len(by_tier[level]) >= FANOUT:
            return by_tier[level]
    return None


def find(
    db: sqlite3.Connection, segments: Iterable[Segment], digests: bytes, since: int
) -> tuple[dict[int, int], bool]:
    """For the 16-byte digests concatenated in ``digests``: the position of each stored
    as sent at or after ``since`` and the latest time it was, from ``segments``; and
    whether a chunk was missing (its segment merged away by another run: load again)."""
    first, second = halves(digests)
    prefixes = np.frombuffer(digests, dtype=">u4")[::4].astype(np.uint32)
    wanted: list[tuple[int, int]] = []  # (position, chunk id) of each "maybe"
    for segment in segments:
        if segment.newest < since:
            continue
        maybe = np.flatnonzero(segment.filter.maybe(first, second))
        if not len(maybe):
            continue
        at = np.searchsorted(segment.fences, prefixes[maybe], side="right") - 1
        inside = at >= 0  # before a segment's first chunk is not in it
        chunks = (segment.id << 32) + segment.fences[at[inside]].astype(np.int64)
        wanted.extend(zip(maybe[inside].tolist(), chunks.tolist()))
    if not wanted:
        return {}, False
    read = dict(
        db.execute(
            "SELECT id, records FROM sent_chunks WHERE id IN (SELECT value FROM json_each(?))",
            (orjson.dumps(sorted({chunk for _, chunk in wanted})),),
        )
    )
    found: dict[int, int] = {}
    missing = False
    for position, chunk in wanted:
        records = read.get(chunk)
        if records is None:
            missing = True
            continue
        digest = digests[16 * position : 16 * position + 16]
        at = records.find(digest)
        while at > 0 and at % RECORD_SIZE:  # the digest's bytes across two records
            at = records.find(digest, at + 1)
        if at >= 0:
            sent_at = int.from_bytes(records[at + 16 : at + RECORD_SIZE], "big")
            if sent_at >= since and sent_at > found.get(position, -1):
                found[position] = sent_at
    return found, missing
