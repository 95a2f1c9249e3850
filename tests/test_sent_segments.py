"""The sent-events index's storage, through ``SentIndex`` on a real database with a
clock the test moves: segments merged by size, keys found across chunks and segments,
a key sent twice kept once at its latest time, the expired dropped, what another run
merged seen at once, and an index from the release that kept one B-tree migrated."""

from __future__ import annotations

import os
import sqlite3

import pytest

from amp_destinations import _sent_index
from amp_destinations import _sent_segments as segments
from amp_destinations._errors import StorageError
from amp_destinations._sent_index import SentIndex, entries, forget
from amp_destinations._store import MIGRATIONS, Store

WINDOW = 28 * 86400
DAY = 86400.0


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path)
    yield store
    store.close()


@pytest.fixture
def clock():
    return Clock()


def keys(count: int) -> list[bytes]:
    return [os.urandom(16) for _ in range(count)]


def deliver(index: SentIndex, digests: list[bytes]) -> None:
    """As a run does: journal each batch as it is recorded, then merge."""
    for start in range(0, len(digests), 1000):
        with index.store.transaction():
            index.journal(digests[start : start + 1000])
    index.merge()


def stored(store: Store) -> dict[bytes, int]:
    return dict(entries(store, "dest"))


def test_keys_are_found_across_many_chunks_and_others_are_not(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    sent = keys(20_000)  # a hundred chunks and more
    deliver(index, sent)

    assert index.sent(sent[:1000]) == set(sent[:1000])
    assert index.sent(sent[-1000:]) == set(sent[-1000:])
    assert index.sent(keys(1000)) == set()
    mixed = sent[5000:5500] + keys(500)
    assert index.sent(mixed) == set(sent[5000:5500])


def test_segments_of_a_size_are_merged_so_a_lookup_probes_few(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    sent = []
    for _ in range(40):  # forty runs of 2,000 keys
        batch = keys(2000)
        deliver(index, batch)
        sent += batch
        clock.now += 60

    listed = segments.listed(store.db, index.id)
    by_tier: dict[int, int] = {}
    for _, count, _, _ in listed:
        by_tier[segments.tier(count)] = by_tier.get(segments.tier(count), 0) + 1
    assert all(count < segments.FANOUT for count in by_tier.values())
    assert len(listed) < 10
    assert sum(count for _, count, _, _ in listed) == 80_000
    assert index.sent(sent[::80]) == set(sent[::80])


def test_a_key_sent_twice_is_kept_once_at_its_latest_time(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    first = keys(3000)
    deliver(index, first)
    clock.now += 3600
    deliver(index, first[:1000])  # resent an hour later
    for _ in range(2):  # two more segments of the tier, so the four are merged
        deliver(index, keys(3000))

    held = stored(store)
    assert len(held) == 9000
    assert {held[key] for key in first[:1000]} == {int(clock.now)}
    assert {held[key] for key in first[1000:]} == {int(clock.now) - 3600}
    assert sum(count for _, count, _, _ in segments.listed(store.db, index.id)) == 9000


def test_keys_past_the_window_are_not_found_and_are_dropped(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    old = keys(2000)
    deliver(index, old)
    clock.now += 20 * DAY
    recent = keys(2000)
    deliver(index, recent)
    clock.now += 10 * DAY  # old was sent 30 days ago, recent 10

    assert index.sent(old + recent) == set(recent)
    index.merge()  # a day since the last prune: the expired are deleted

    assert set(stored(store)) == set(recent)


def test_the_daily_prune_drops_expired_keys_from_a_segment_it_keeps(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    old = keys(500)
    for start in range(0, 500, 100):  # one merge, a journal spanning two weeks
        with store.transaction():
            index.journal(old[start : start + 100])
        clock.now += 3 * DAY
    index.merge()
    clock.now += 17 * DAY  # the first batches are past the window, the last are not

    index.merge()

    held = stored(store)
    assert 0 < len(held) < 500
    assert min(held.values()) >= clock.now - WINDOW


def test_a_run_sees_what_another_run_merged_while_it_ran(store, clock, tmp_path):
    running = SentIndex(store, "dest", WINDOW, clock)
    running.merge()
    other_store = Store(tmp_path)
    try:
        other = SentIndex(other_store, "dest", WINDOW, clock)
        sent = keys(1500)
        deliver(other, sent)
    finally:
        other_store.close()

    assert running.sent(sent) == set(sent)


def test_forget_removes_every_key_or_those_sent_before_a_time(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    early = keys(1200)
    deliver(index, early)
    clock.now += 3600
    late = keys(800)
    deliver(index, late)
    deliver(index, early[:100])  # resent: no longer sent before the cut

    assert forget(store, "dest", before=clock.now - 1800) == 1100
    assert set(stored(store)) == set(late) | set(early[:100])
    index.merge()
    assert index.sent(early) == set(early[:100])

    assert forget(store, "dest") == 900
    assert stored(store) == {}
    index.merge()
    assert index.empty()


def test_an_index_kept_in_one_btree_is_migrated_into_segments(tmp_path, clock):
    """The release before this one kept ``sent_keys``: its keys go to the journal, and
    the first merge puts them in a segment, found as before."""
    version = next(i for i, script in enumerate(MIGRATIONS) if "sent_segments" in script)
    db = sqlite3.connect(tmp_path / "amp-destinations.sqlite3")
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO sent_indexes (id, destination) VALUES (1, 'dest')")
    old = keys(3000)
    db.executemany("INSERT INTO sent_keys VALUES (1, ?, ?)", [(key, int(clock.now)) for key in old])
    db.commit()
    db.close()

    store = Store(tmp_path)
    try:
        index = SentIndex(store, "dest", WINDOW, clock)
        index.merge()
        assert index.sent(old[:1000] + keys(1000)) == set(old[:1000])
        assert stored(store) == {key: int(clock.now) for key in old}
    finally:
        store.close()


def test_past_the_filter_budget_filters_share_it_and_every_key_is_still_found(
    store, clock, monkeypatch
):
    """A run holds the segments' filters in memory: past the budget they get fewer bits
    a key, so memory stays within it whatever the index holds; a lookup then reads more
    chunks, and still finds exactly what was sent."""
    monkeypatch.setattr(segments, "FILTER_BUDGET", 8 << 10)  # 8 KiB: 4,096 keys at 16 bits
    index = SentIndex(store, "dest", WINDOW, clock)
    sent = []
    for _ in range(3):
        batch = keys(6000)
        deliver(index, batch)
        sent += batch

    filters = store.db.execute("SELECT sum(length(filter)) FROM sent_segments").fetchone()[0]
    assert filters < 2 * (8 << 10)  # 2 bytes a key would be 36 KiB
    assert index.sent(sent[::7]) == set(sent[::7])
    assert index.sent(keys(2000)) == set()


def test_a_journal_larger_than_a_merge_holds_still_makes_one_segment(store, clock, monkeypatch):
    """A long run's (or a killed one's) journal is read a range of slices at a time, so
    memory holds a part of it; the merge still writes one segment, every key in it."""
    monkeypatch.setattr(_sent_index, "MERGE_KEYS", 1000)
    index = SentIndex(store, "dest", WINDOW, clock)
    sent = keys(7000)
    deliver(index, sent)

    assert len(segments.listed(store.db, index.id)) == 1
    assert len(stored(store)) == 7000
    assert index.sent(sent) == set(sent)


def test_a_damaged_index_is_a_clear_error_not_a_hang(store, clock):
    index = SentIndex(store, "dest", WINDOW, clock)
    sent = keys(2000)
    deliver(index, sent)
    with store.transaction():
        store.db.execute("DELETE FROM sent_chunks")

    with pytest.raises(StorageError, match="destinations forget dest"):
        index.sent(sent[:10])
