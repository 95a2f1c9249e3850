"""Grouping encoded items into batches under a destination's count and byte limits."""

from __future__ import annotations

from typing import Callable, Hashable

from ._base import Destination
from ._results import Batch

__all__ = ["Batcher", "BODY_RESERVE"]

# Room kept under a byte cap for the envelope that encode_batch wraps around the items.
BODY_RESERVE = 4096


class _Open:
    __slots__ = ("rows", "ids", "parts", "size")

    def __init__(self):
        self.rows: list[int] = []
        self.ids: list = []
        self.parts: list[bytes] = []
        self.size = 0


class Batcher:
    """Collects items per ``batch_key`` and hands a full batch to ``emit``.

    ``add`` returns False when one item alone is larger than the byte cap: it can
    never be sent, and the caller rejects its row.
    """

    def __init__(self, destination: Destination, emit: Callable[[Batch], None],
                 max_size: int | None = None):
        self._destination = destination
        self._emit = emit
        self.max_size = max(1, int(max_size or destination.max_batch_size))
        cap = destination.max_batch_bytes
        self.max_bytes = max(1, cap - BODY_RESERVE) if cap else None
        self._open: dict[Hashable, _Open] = {}

    def add(self, key: Hashable, row: int, record_id, part: bytes) -> bool:
        size = len(part) + 1
        max_bytes = self.max_bytes
        if max_bytes is not None and size > max_bytes:
            return False
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = _Open()
        elif max_bytes is not None and batch.size + size > max_bytes:
            self._flush(key, batch)
            batch = self._open[key] = _Open()
        batch.rows.append(row)
        batch.ids.append(record_id)
        batch.parts.append(part)
        batch.size += size
        if len(batch.parts) >= self.max_size:
            self._flush(key, batch)
        return True

    def flush_all(self) -> None:
        for key, batch in list(self._open.items()):
            self._flush(key, batch)

    def _flush(self, key: Hashable, batch: _Open) -> None:
        del self._open[key]
        if batch.parts:
            self._emit(self.build(key, batch.rows, batch.ids, batch.parts))

    def build(self, key: Hashable, rows: list[int], ids: list, parts: list[bytes]) -> Batch:
        body = self._destination.encode_batch(key, parts)
        return Batch(key=key, rows=rows, ids=ids, parts=parts, body=body)
