"""A segment's Bloom filter: it never answers "no" for a digest it was given, rarely
"maybe" for one it was not, and its stored format does not drift."""

from __future__ import annotations

import os
import sqlite3
from hashlib import blake2s

import numpy as np

from amp_destinations._sent_filter import MASKS, SentFilter, halves


def digests(count: int) -> bytes:
    return os.urandom(16 * count)


def test_every_digest_added_is_found_and_few_others_are():
    bloom = SentFilter.sized_for(50_000)
    added = digests(50_000)
    bloom.add(*halves(added))

    assert bloom.maybe(*halves(added)).all()
    assert bloom.maybe(*halves(digests(100_000))).mean() < 0.01  # about 0.5%


def test_it_round_trips_through_its_stored_blob():
    bloom = SentFilter.sized_for(1000)
    added = digests(1000)
    bloom.add(*halves(added))
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (filter BLOB)")
    db.execute("INSERT INTO t VALUES (zeroblob(?))", (8 * len(bloom.words),))
    with db.blobopen("t", "filter", 1) as blob:
        bloom.write(blob)
    with db.blobopen("t", "filter", 1, readonly=True) as blob:
        stored = SentFilter.read(blob)
        size = len(blob)

    assert stored.maybe(*halves(added)).all()
    assert np.array_equal(stored.words, bloom.words)
    assert size == 2 * 1000  # 16 bits a key


def test_the_stored_format_is_pinned():
    """Changing the masks or how a digest picks its word would make every filter stored
    by an earlier release answer "no" for digests it holds: those would be sent again."""
    assert all(bin(int(mask)).count("1") == 8 for mask in MASKS)
    assert blake2s(MASKS.astype("<u8").tobytes()).hexdigest()[:16] == "7bd4181ee32eef28"
    bloom = SentFilter.sized_for(100)  # 25 words
    digest = bytes(range(16))
    bloom.add(*halves(digest))
    word = int.from_bytes(digest[:8], "little") % 25
    mask = int(MASKS[int.from_bytes(digest[8:], "little") >> 52])
    assert np.flatnonzero(bloom.words).tolist() == [word]
    assert int(bloom.words[word]) == mask
