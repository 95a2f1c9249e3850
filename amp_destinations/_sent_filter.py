"""A blocked Bloom filter over 16-byte digests: one per segment of the sent-events index.

Most items a run looks up were never sent, and a segment's filter says so for a whole
batch in microseconds, in this process, where the stored keys would cost a B-tree probe
per key. It can answer "maybe" for a digest it was never given (about 1 in 200 at 16
bits a key), so a "maybe" is confirmed in the segment's chunk; it never answers "no"
for one it was given.

Each digest sets 8 bits of one 64-bit word ("blocked": one memory access a test). The
digest is random already, so it is its own hash: read as two little-endian 64-bit
halves, the first half modulo the word count chooses the word and the second half's
top 12 bits one of 4,096 fixed 8-bit masks. The masks and that layout are part of the
stored format (a test pins them): change them and every stored filter would answer "no"
for digests it holds, and the index would let them be sent again. numpy does the
arithmetic a batch at a time; per digest in Python it cost 0.4 us a test and as much an
add.
"""

from __future__ import annotations

import math
import sqlite3
import sys
from hashlib import blake2s

import numpy as np

__all__ = ["BITS_PER_KEY", "SentFilter", "halves"]

BITS_PER_KEY = 16
_PIECE = 1 << 20  # bytes read or written at a time


def _masks() -> np.ndarray:
    masks = []
    for index in range(4096):
        seed = blake2s(index.to_bytes(2, "big"), person=b"ampmask").digest()
        bits: list[int] = []
        for byte in seed:
            if byte % 64 not in bits:
                bits.append(byte % 64)
            if len(bits) == 8:
                break
        masks.append(sum(1 << bit for bit in bits))
    return np.array(masks, dtype=np.uint64)


MASKS = _masks()
_MASK_SHIFT = np.uint64(52)


def halves(digests: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The two little-endian 64-bit halves of each 16-byte digest in ``digests``."""
    pairs = np.frombuffer(digests, dtype="<u8").reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


class SentFilter:
    """The filter's words: ``BITS_PER_KEY`` for each key it was sized for, or fewer
    (see ``sized_for``)."""

    def __init__(self, words: np.ndarray):
        self.words = words
        self.count = np.uint64(len(words))

    @classmethod
    def sized_for(cls, keys: int, bits_per_key: float = BITS_PER_KEY) -> SentFilter:
        return cls(np.zeros(max(1, math.ceil(keys * bits_per_key / 64)), dtype=np.uint64))

    @classmethod
    def read(cls, blob: sqlite3.Blob) -> SentFilter:
        """The filter stored in ``blob``, read a piece at a time: no second copy of it."""
        words = np.empty(len(blob) // 8, dtype=np.uint64)
        view = words.data.cast("B")
        for start in range(0, len(view), _PIECE):
            view[start : start + _PIECE] = blob.read(_PIECE)
        if sys.byteorder == "big":
            words.byteswap(inplace=True)  # stored little-endian
        return cls(words)

    def write(self, blob: sqlite3.Blob) -> None:
        """Store the filter in ``blob`` (``zeroblob`` of its size), a piece at a time."""
        words = self.words.astype("<u8", copy=False)
        view = words.data.cast("B")
        for start in range(0, len(view), _PIECE):
            blob.write(view[start : start + _PIECE])

    def add(self, first: np.ndarray, second: np.ndarray) -> None:
        """Add the digests whose halves (see ``halves``) are ``first`` and ``second``."""
        np.bitwise_or.at(self.words, first % self.count, MASKS[second >> _MASK_SHIFT])

    def maybe(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """For each digest (its halves), whether the filter may hold it: true for every
        one it was given, and a few more."""
        bits = MASKS[second >> _MASK_SHIFT]
        return (self.words[first % self.count] & bits) == bits
