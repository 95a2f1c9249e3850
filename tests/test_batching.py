"""Batches: request bodies written as items arrive, count and byte limits, memory held."""

from __future__ import annotations

import gc
import tracemalloc

import orjson
import pytest

import amp_destinations as amp
from amp_destinations._batching import Batcher


class JsonArray(amp.Destination):
    name = "json-array"
    max_batch_size = 4


class JsonLines(amp.Destination):
    name = "json-lines"
    max_batch_size = 1000

    def batch_frame(self, key):
        return b"", b"\n", b"\n"


class Keyed(amp.Destination):
    name = "keyed"
    max_batch_size = 3

    def batch_frame(self, key):
        return b'{"set":' + orjson.dumps(key) + b',"data":[', b",", b"]}"


def collect(destination, max_size=None):
    emitted: list[amp.Batch] = []
    return Batcher(destination, emitted.append, max_size), emitted


def items(count: int, width: int = 10) -> list[bytes]:
    return [orjson.dumps({"n": n, "pad": "x" * width}) for n in range(count)]


@pytest.mark.parametrize(
    "destination",
    [JsonArray({}), JsonLines({}), Keyed({})],
    ids=lambda destination: destination.name,
)
def test_bodies_written_as_items_arrive_match_the_frame_byte_for_byte(destination):
    batcher, emitted = collect(destination)
    parts = items(10)
    for row, part in enumerate(parts, 1):
        assert batcher.add("set-1", row, f"id-{row}", part)
    batcher.flush_all()
    size = destination.max_batch_size
    assert [len(batch) for batch in emitted] == [
        min(size, 10 - start) for start in range(0, 10, size)
    ]
    for start, batch in zip(range(0, 10, size), emitted):
        chunk = parts[start : start + size]
        expected = amp.Batch.from_parts(destination, "set-1", chunk)
        assert batch.body == expected.body
        assert batch.parts == chunk
        assert list(batch.rows) == list(range(start + 1, start + len(chunk) + 1))
        assert list(batch.ids) == [f"id-{row}" for row in batch.rows]


def test_a_smaller_batch_after_a_larger_one_carries_nothing_of_it():
    batcher, emitted = collect(JsonArray({}))
    for row, part in enumerate(items(4, width=500) + items(2, width=1), 1):
        batcher.add(None, row, None, part)
    batcher.flush_all()
    assert [orjson.loads(batch.body) for batch in emitted] == [
        [{"n": n, "pad": "x" * 500} for n in range(4)],
        [{"n": n, "pad": "x"} for n in range(2)],
    ]


def test_items_with_different_keys_never_share_a_batch():
    batcher, emitted = collect(Keyed({}))
    for row in range(1, 8):
        batcher.add("odd" if row % 2 else "even", row, None, b"%d" % row)
    batcher.flush_all()
    bodies = sorted(
        orjson.loads(batch.body)["set"] + str(orjson.loads(batch.body)["data"]) for batch in emitted
    )
    assert bodies == ["even[2, 4, 6]", "odd[1, 3, 5]", "odd[7]"]


def byte_capped(cap: int) -> amp.Destination:
    class Capped(Keyed):
        max_batch_size = 1000
        max_batch_bytes = cap

    return Capped({})


def test_the_byte_cap_counts_the_frame_and_allows_a_body_of_exactly_the_cap():
    frame = Keyed({}).batch_frame("k")
    part = b'"' + b"x" * 98 + b'"'  # 100 bytes
    exact = len(frame[0]) + 3 * len(part) + 2 * len(frame[1]) + len(frame[2])
    batcher, emitted = collect(byte_capped(exact))
    for row in range(1, 5):
        assert batcher.add("k", row, None, part)
    batcher.flush_all()
    assert [len(batch.body) for batch in emitted] == [exact, exact - 2 * len(part) - 2]
    assert [list(batch.rows) for batch in emitted] == [[1, 2, 3], [4]]

    batcher, emitted = collect(byte_capped(exact - 1))  # one byte less: two items fit
    for row in range(1, 5):
        batcher.add("k", row, None, part)
    batcher.flush_all()
    assert [list(batch.rows) for batch in emitted] == [[1, 2], [3, 4]]
    assert all(len(batch.body) <= exact - 1 for batch in emitted)


def test_an_item_too_large_for_any_body_is_refused_and_the_batch_goes_on():
    frame = Keyed({}).batch_frame("k")
    cap = len(frame[0]) + len(frame[2]) + 50
    batcher, emitted = collect(byte_capped(cap))
    assert batcher.add("k", 1, None, b"1" * 50)
    assert not batcher.add("k", 2, None, b"2" * 51)  # 50 fits the frame, 51 never will
    assert batcher.add("k", 3, None, b"3")
    batcher.flush_all()
    assert [list(batch.rows) for batch in emitted] == [[1], [3]]
    assert all(len(batch.body) <= cap for batch in emitted)


def test_a_waiting_batch_holds_about_its_body_not_an_object_per_item():
    # orjson hands back every item in a 4 KB buffer: kept per item, a batch of 1,000
    # ~300-byte items held 4 MB while it waited for a slow remote system.
    destination = type("WideJsonArray", (JsonArray,), {"max_batch_size": 1000})({})
    batcher, emitted = collect(destination)
    events = [
        {"event": "Purchase", "event_id": f"{n:032d}", "user": {"email": "e" * 64}}
        for n in range(1000)
    ]
    gc.collect()
    tracemalloc.start()
    try:
        for row, event in enumerate(events, 1):
            batcher.add(None, row, None, orjson.dumps(event))
        batcher.flush_all()
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (batch,) = emitted
    assert len(batch) == 1000
    assert held < 1.5 * len(batch.body) + 64 * 1024


def test_a_batch_built_from_parts_cuts_them_back_out_of_its_body():
    parts = items(3)
    batch = amp.Batch.from_parts(JsonLines({}), None, parts, rows=[5, 7, 9], ids=["a", "b", "c"])
    assert batch.body == b"\n".join(parts) + b"\n"
    assert (batch.parts, len(batch), batch.rows, batch.ids) == (
        parts,
        3,
        [5, 7, 9],
        ["a", "b", "c"],
    )
    empty = amp.Batch.from_parts(JsonArray({}), None, [])
    assert (empty.body, empty.parts, len(empty)) == (b"[]", [], 0)


def test_a_requested_batch_size_never_exceeds_the_destinations_limit():
    destination = JsonArray({})
    emitted = []
    batcher = Batcher(destination, emitted.append, destination.max_batch_size * 10)
    for row in range(1, destination.max_batch_size * 2 + 1):
        assert batcher.add(None, row, None, b"{}")
    batcher.flush_all()
    assert [len(batch) for batch in emitted] == [destination.max_batch_size] * 2
