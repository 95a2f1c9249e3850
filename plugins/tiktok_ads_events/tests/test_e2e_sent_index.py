"""The host's sent-events index with TikTok: events delivered once are not sent again
within TikTok's 28 days, whatever file they come back in, and the database keeps
digests of them, never an event_id. Through the Python API and the emulator on
127.0.0.1. (The kill -9 between TikTok's answer and the commit is in
test_e2e_interrupt.)"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from amp_destinations._sent_index import entries
from amp_destinations._store import Store
from tiktok_ads_events.emulator import Emulator

pytestmark = pytest.mark.e2e

ROWS = 600


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def host(tmp_path, emulator):
    with e2e.new_host(tmp_path / "home") as host:
        e2e.add_tiktok(host, emulator.base_url)
        yield host


def _events(emulator) -> int:
    return emulator.state.event_count(e2e.EVENT_SET_ID)


def test_a_file_sent_again_sends_nothing_and_counts_every_event_as_already_sent(
    host, emulator, tmp_path
):
    path = e2e.write_generated_events(tmp_path / "events.csv", ROWS)
    valid = e2e.valid_rows(e2e.read_rows(path))
    first = host.send("tiktok", input=path)
    assert first.summary["delivered"] == len(valid)
    requests = emulator.state.request_count("/open_api/v1.3/event/track/")

    again = host.send("tiktok", input=path)

    s = again.summary
    assert again.status == "succeeded"
    assert (s["delivered"], s["already_sent"]) == (0, len(valid))
    assert s["rejected"] == first.summary["rejected"]  # invalid rows are rejected again
    e2e.assert_counts_add_up(s)
    assert emulator.state.request_count("/open_api/v1.3/event/track/") == requests
    e2e.assert_stored_once(emulator, set(valid))


def test_an_overlapping_file_sends_only_the_events_it_adds(host, emulator, tmp_path):
    path = e2e.write_generated_events(tmp_path / "events.csv", ROWS)
    rows = e2e.read_rows(path)
    valid = e2e.valid_rows(rows)
    header = list(rows[0])

    def write(name: str, part: list[dict]) -> Path:
        target = tmp_path / name
        with open(target, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, header)
            writer.writeheader()
            writer.writerows(part)
        return target

    host.send("tiktok", input=write("week1.csv", rows[:400]))
    before = _events(emulator)
    second = host.send("tiktok", input=write("week2.csv", rows[200:]))

    new = {r["event_id"] for r in rows[400:]} & set(valid)
    overlap = {r["event_id"] for r in rows[200:400]} & set(valid)
    assert (second.summary["delivered"], second.summary["already_sent"]) == (
        len(new),
        len(overlap),
    )
    assert _events(emulator) == before + len(new)
    assert emulator.state.duplicates == 0  # nothing reached TikTok twice
    e2e.assert_stored_once(emulator, set(valid))


def test_the_event_set_and_event_name_are_part_of_the_key(host, emulator, tmp_path):
    path = e2e.write_generated_events(tmp_path / "events.csv", 100)
    host.send("tiktok", input=path)
    renamed = tmp_path / "renamed.csv"
    text = path.read_text(encoding="utf-8")
    assert "CompletePayment" in text
    renamed.write_text(text.replace("CompletePayment", "Lead"), encoding="utf-8")

    again = host.send("tiktok", input=renamed)

    changed = sum(
        1
        for number, row in enumerate(e2e.read_rows(path), start=1)
        if row["event"] == "CompletePayment" and number not in e2e.make_events.expected_rejects(100)
    )
    assert again.summary["delivered"] == changed > 0


def test_the_database_holds_no_event_id(host, emulator, tmp_path):
    path = e2e.write_generated_events(tmp_path / "events.csv", ROWS)
    valid = e2e.valid_rows(e2e.read_rows(path))
    host.send("tiktok", input=path)
    host.send("tiktok", input=path)
    keys = _indexed(host.home)
    host.close()

    stored = b"".join(path.read_bytes() for path in host.home.glob("amp-destinations.sqlite3*"))
    assert keys == len(valid)
    for event_id in valid:
        assert event_id.encode() not in stored


def _indexed(home: Path) -> int:
    store = Store(home)
    try:
        return sum(1 for _ in entries(store))
    finally:
        store.close()
