"""Grouping encoded items into batches under a destination's count and byte limits.

Each key's batch is written straight into the request body as items arrive: an item's
encoded bytes are copied in and dropped at once. Keeping them as objects until the
batch is full would hold a thousand small buffers per batch (orjson's are 4 KB each
whatever the item's size), and far more while batches wait for a slow remote system.
The buffer is kept from one batch to the next, so it grows only while the first
batch fills. (A ``BytesIO`` rather than a ``bytearray``: its writes are the cheapest
way to fill a reused buffer from Python.)
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Callable, Hashable

from ._base import Destination
from ._results import Batch

__all__ = ["Batcher"]


class _Open:
    """One key's batch being filled: the buffer holds the head, then each item followed
    by the separator, ``size`` bytes in all."""

    __slots__ = ("buffer", "write", "size", "separator", "tail", "framing", "spans", "rows", "ids")

    def __init__(self):
        self.buffer = io.BytesIO()
        self.write = self.buffer.write

    def start(self, frame: tuple[bytes, bytes, bytes]) -> None:
        head, self.separator, self.tail = frame
        self.framing = len(head) + len(self.tail)
        self.buffer.seek(0)
        self.write(head)
        self.size = len(head)
        self.spans = array("L")
        self.rows = array("q")
        self.ids: list = []

    def body(self) -> bytes:
        end = self.size - len(self.separator) + len(self.tail)
        self.buffer.seek(self.size - len(self.separator))  # the tail replaces it
        self.write(self.tail)
        with self.buffer.getbuffer() as view:
            return bytes(view[:end])


class Batcher:
    """Collects items per ``batch_key`` and hands a full batch to ``emit``.

    ``add`` returns False when one item alone makes a body larger than the byte cap:
    it can never be sent, and the caller rejects its row.
    """

    def __init__(
        self, destination: Destination, emit: Callable[[Batch], None], max_size: int | None = None
    ):
        self._destination = destination
        self._emit = emit
        # A smaller size may be asked for, never a larger one: the destination's limit
        # is the remote system's (TikTok refuses more than 1,000 events a request).
        limit = destination.max_batch_size
        self.max_size = max(1, min(int(max_size), limit) if max_size else int(limit))
        self.max_bytes = destination.max_batch_bytes or None
        self._open: dict[Hashable, _Open] = {}

    def add(self, key: Hashable, row: int, record_id, part: bytes) -> bool:
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = _Open()
            batch.start(self._destination.batch_frame(key))
        size = len(part)
        # The body with this item: what is written, the item, and the tail in place
        # of the item's separator.
        if self.max_bytes is not None and batch.size + size + len(batch.tail) > self.max_bytes:
            if batch.framing + size > self.max_bytes:
                return False
            self._flush(key, batch)
        start = batch.size
        write = batch.write
        write(part)
        write(batch.separator)
        batch.size = start + size + len(batch.separator)
        spans = batch.spans
        spans.append(start)
        spans.append(start + size)
        rows = batch.rows
        rows.append(row)
        batch.ids.append(record_id)
        if len(rows) >= self.max_size:
            self._flush(key, batch)
        return True

    def fits_alone(self, key: Hashable, part: bytes) -> bool:
        """Whether the item ``part`` fits in a request by itself, under the byte cap."""
        if self.max_bytes is None:
            return True
        head, _, tail = self._destination.batch_frame(key)
        return len(head) + len(part) + len(tail) <= self.max_bytes

    def flush_all(self) -> None:
        for key, batch in self._open.items():
            if batch.rows:
                self._flush(key, batch)
        self._open.clear()

    def _flush(self, key: Hashable, batch: _Open) -> None:
        full = Batch(key, batch.rows, batch.ids, batch.body(), batch.spans)
        batch.start(self._destination.batch_frame(key))
        self._emit(full)
