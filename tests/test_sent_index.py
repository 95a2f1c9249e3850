"""The sent-events index, through a throw-away destination that declares idempotency
keys (its items' ids) and a one-hour window: a file sent twice delivers nothing the
second time, overlaps send only what is new, keys past the window are sent again,
``resend`` and ``forget_sent``, dry and validation runs, resumes, and a database that
holds digests, never the keys. (The TikTok plugin's end-to-end tests are in its suite.)"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import KEYED_WINDOW as WINDOW
from conftest import KeyedPlugin, KeyedRecorder, Recorder, RecorderPlugin
from send_support import FAST, assert_counts_add_up, rows

import amp_destinations as amp
from amp_destinations._sent_gate import key_digest, key_digester
from amp_destinations._sent_index import entries
from amp_destinations._sent_segments import RECORD
from amp_destinations._store import Store


@pytest.fixture
def registry():
    return amp.load_plugins(entry_points=False, extra=[RecorderPlugin(), KeyedPlugin()])


@pytest.fixture
def host(home, registry, script):
    # conftest imported by name here is a second copy of the module pytest loaded:
    # its recorder reports to this test's script too.
    Recorder.script = script
    with amp.Host(home, registry=registry) as host:
        host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "good"})
        host.add_destination("keyed", "keyed-recorder", "cred", {"label": "one"})
        host.add_destination("plain", "recorder", "cred", {"label": "one"})
        yield host


def received_ids(script):
    return [item["id"] for item in script.received]


def indexed_keys(home) -> int:
    store = Store(home)
    try:
        journal = store.db.execute("SELECT COUNT(*) FROM sent_journal").fetchone()[0]
        assert journal == 0  # every run merges its journal when it ends
        return sum(1 for _ in entries(store))
    finally:
        store.close()


def age_index(home, seconds: float) -> None:
    """Time passes for the index: every key was sent ``seconds`` earlier."""
    store = Store(home)
    try:
        aged = []
        for chunk, records in store.db.execute("SELECT id, records FROM sent_chunks"):
            moved = np.frombuffer(records, dtype=RECORD).copy()
            moved["sent_at"] -= int(seconds)
            aged.append((moved.tobytes(), chunk))
        with store.transaction():
            store.db.executemany("UPDATE sent_chunks SET records = ? WHERE id = ?", aged)
            store.db.execute(
                "UPDATE sent_segments SET oldest = oldest - ?1, newest = newest - ?1",
                (int(seconds),),
            )
            store.db.execute("UPDATE sent_indexes SET pruned_at = pruned_at - ?", (seconds,))
    finally:
        store.close()


def test_a_file_sent_twice_delivers_nothing_the_second_time(host, script, tmp_path):
    first = host.send("keyed", rows(25), retry=FAST)
    assert (first.summary["delivered"], first.summary["already_sent"]) == (25, 0)

    again = host.send("keyed", rows(25), retry=FAST)

    assert again.status == "succeeded"
    s = again.summary
    assert (s["rows_read"], s["delivered"], s["already_sent"], s["pending"]) == (25, 0, 25, 0)
    assert s["requests"] == 0
    assert_counts_add_up(again)
    assert sorted(received_ids(script)) == sorted(f"E{i}" for i in range(1, 26))
    shown = host.run(again.id)
    assert (shown.already_sent, shown.pending) == (25, 0)
    assert shown.already_sent_rows == ((1, 25),)
    assert shown.attempts[0].already_sent == 25
    assert indexed_keys(host.home) == 25


def test_an_overlapping_file_sends_only_its_new_rows(host, script):
    host.send("keyed", rows(30)[:20], retry=FAST)
    script.received.clear()

    overlap = host.send("keyed", rows(30)[10:], retry=FAST)  # E11..E30

    assert sorted(received_ids(script), key=lambda i: int(i[1:])) == [
        f"E{i}" for i in range(21, 31)
    ]
    assert (overlap.summary["delivered"], overlap.summary["already_sent"]) == (10, 10)
    assert host.run(overlap.id).already_sent_rows == ((1, 10),)
    assert_counts_add_up(overlap)


def test_a_key_sent_longer_ago_than_the_window_is_sent_again(host, script):
    host.send("keyed", rows(10), retry=FAST)
    age_index(host.home, WINDOW + 60)
    script.received.clear()

    later = host.send("keyed", rows(10), retry=FAST)

    assert (later.summary["delivered"], later.summary["already_sent"]) == (10, 0)
    assert len(script.received) == 10
    # Sent again now: the index has them as new, so the next run skips them.
    assert host.send("keyed", rows(10), retry=FAST).summary["already_sent"] == 10


def test_resend_sends_them_anyway_and_says_how_many(host, script):
    host.send("keyed", rows(10), retry=FAST)
    script.received.clear()

    resent = host.send("keyed", rows(15), retry=FAST, resend=True)

    s = resent.summary
    assert (s["delivered"], s["already_sent"], s["resent"], s["resend"]) == (15, 0, 10, True)
    assert len(script.received) == 15
    assert indexed_keys(host.home) == 15


def test_forget_clears_the_index_or_what_was_sent_before_a_time(host, script):
    host.send("keyed", rows(10), retry=FAST)
    age_index(host.home, 1800)  # E1..E10 half an hour ago
    host.send("keyed", rows(20)[10:], retry=FAST)  # E11..E20 now

    assert host.forget_sent("keyed", before=time.time() - 600) == 10
    script.received.clear()
    again = host.send("keyed", rows(20), retry=FAST)
    assert sorted(received_ids(script), key=lambda i: int(i[1:])) == [f"E{i}" for i in range(1, 11)]
    assert again.summary["already_sent"] == 10

    assert host.forget_sent("keyed") == 20
    assert indexed_keys(host.home) == 0
    with pytest.raises(amp.NotFoundError):
        host.forget_sent("nowhere")


def test_a_dry_run_reports_what_it_would_skip_and_changes_nothing(host, script):
    host.send("keyed", rows(10), retry=FAST)
    script.received.clear()

    dry = host.send("keyed", rows(20), dry_run=True)

    assert (dry.summary["delivered"], dry.summary["already_sent"]) == (10, 10)
    assert indexed_keys(host.home) == 10  # the rows it would deliver are not indexed
    sent = host.send("keyed", rows(20), retry=FAST)
    assert (sent.summary["delivered"], sent.summary["already_sent"]) == (10, 10)


def test_a_validation_run_neither_skips_nor_adds(host, script):
    host.send("keyed", rows(10), retry=FAST)
    script.received.clear()

    checked = host.send("keyed", rows(20), validate=True, sample=20)

    assert checked.summary["already_sent"] == 0
    assert checked.summary["verdict"]["sample"]["accepted"] == 20
    assert indexed_keys(host.home) == 10


def test_items_without_a_key_and_destinations_without_keys_are_always_sent(host, script):
    keyless = [{"email": f"user{i}@example.com"} for i in range(1, 6)]
    host.send("keyed", keyless, retry=FAST)
    assert host.send("keyed", keyless, retry=FAST).summary["delivered"] == 5
    host.send("plain", rows(5), retry=FAST)
    assert host.send("plain", rows(5), retry=FAST).summary["already_sent"] == 0
    assert len(script.received) == 20
    assert indexed_keys(host.home) == 0


def test_a_resume_counts_the_rows_already_sent_once(host, script):
    host.send("keyed", rows(30), retry=FAST)
    host.update_destination("keyed", {"fatal_after": 1})
    script.calls = 0
    script.received.clear()

    stopped = host.send("keyed", rows(60), retry=FAST, concurrency=1)
    assert stopped.status == "failed"
    assert stopped.summary["already_sent"] == 30

    host.update_destination("keyed", {"fatal_after": -1})
    resumed = host.send(rows=rows(60), resume=stopped.id, retry=FAST)

    s = resumed.summary
    assert resumed.status == "succeeded"
    assert (s["rows_read"], s["delivered"], s["already_sent"], s["pending"]) == (60, 30, 30, 0)
    assert_counts_add_up(resumed)
    assert sorted(received_ids(script), key=lambda i: int(i[1:])) == [
        f"E{i}" for i in range(31, 61)
    ]
    assert host.run(stopped.id).already_sent == 30


def test_keys_of_a_batch_that_was_not_recorded_are_not_indexed(host, script, monkeypatch):
    """The disk fails as the first answer is recorded: that batch's keys are lost with
    its ledger entry, so the resume sends it again rather than skip it as sent."""
    from amp_destinations import _run

    original = _run.RunRecorder.commit
    failed = []

    def commit(self, result, *args):
        if result is not None and result.delivered and not failed:
            failed.append(True)
            raise amp.StorageError("disk full (test)", kind="full")
        return original(self, result, *args)

    monkeypatch.setattr(_run.RunRecorder, "commit", commit)
    stopped = host.send("keyed", rows(30), retry=FAST, concurrency=1)
    assert stopped.status == "failed"
    monkeypatch.setattr(_run.RunRecorder, "commit", original)
    assert indexed_keys(host.home) == stopped.summary["delivered"]

    resumed = host.send(rows=rows(30), resume=stopped.id, retry=FAST)

    assert (resumed.summary["delivered"], resumed.summary["already_sent"]) == (30, 0)
    assert indexed_keys(host.home) == 30


def test_a_run_killed_before_its_end_is_known_to_the_next_run(host, script, monkeypatch):
    """A kill -9 leaves the run's keys in the journal, unmerged: the next run merges
    them before it looks anything up, even into an index that had no key yet."""
    from amp_destinations import _sent_index

    merge = _sent_index.SentIndex.merge
    monkeypatch.setattr(_sent_index.SentIndex, "merge", lambda self: None)
    host.send("keyed", rows(10), retry=FAST)
    monkeypatch.setattr(_sent_index.SentIndex, "merge", merge)
    script.received.clear()

    again = host.send("keyed", rows(10), retry=FAST)

    assert (again.summary["delivered"], again.summary["already_sent"]) == (0, 10)
    assert script.received == []


def test_the_database_holds_digests_never_the_keys(host, script):
    marked = [{"id": f"ORDER-SECRET-{i:04d}", "email": f"u{i}@example.com"} for i in range(50)]
    host.send("keyed", marked, retry=FAST)
    host.send("keyed", marked, retry=FAST)
    host.close()

    stored = b"".join(path.read_bytes() for path in host.home.glob("amp-destinations.sqlite3*"))
    assert b"ORDER-SECRET" not in stored
    assert key_digest(("events", "ORDER-SECRET-0001")) in stored


def test_key_parts_cannot_run_into_each_other():
    assert key_digest(("a", "bc")) != key_digest(("ab", "c"))
    assert len(key_digest(("a",))) == 16


def test_the_cli_skips_resends_forgets_and_shows_the_skipped_rows(
    cli, configure, run, tmp_path, script
):
    run = configure()
    added = run(
        "destinations", "add", "keyed", "--type", "keyed-recorder",
        "--credential", "cred", "--set", "label=one",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    path = tmp_path / "in.csv"
    path.write_text("id,email\n" + "".join(f"E{i},u{i}@example.com\n" for i in range(1, 13)))
    assert run("send", "keyed", "--input", str(path)).exit_code == 0

    again = run("send", "keyed", "--input", str(path))
    assert again.exit_code == 0, again.output
    assert "12 rows read, 0 delivered, 0 rejected, 12 already sent (skipped), 0 pending" in (
        again.output
    )
    as_json = json.loads(run("send", "keyed", "--input", str(path), "--json").output)
    assert (as_json["already_sent"], as_json["delivered"]) == (12, 0)
    shown = run("runs", "show", "2").output
    assert "already_sent: 12\n" in shown
    assert "already_sent rows: 1-12\n" in shown
    listing = run("runs", "list").output.splitlines()
    assert listing[0].split()[-3:] == ["REJECTED", "SKIPPED", "PENDING"]
    assert listing[1].split()[-4:] == ["0", "0", "12", "0"]

    resent = run("send", "keyed", "--input", str(path), "--resend")
    assert "resent 12 rows that an earlier run had delivered (--resend)" in resent.output

    forgot = run("destinations", "forget", "keyed", "--before", "2000-01-01")
    assert forgot.output == "forgot 0 sent events sent before 2000-01-01 of keyed\n"
    forgot = run("destinations", "forget", "keyed")
    assert forgot.output == "forgot 12 sent events of keyed\n"
    refused = run("destinations", "forget", "keyed", "--before", "last week")
    assert refused.exit_code != 0
    assert "--before takes a date or time" in refused.output
    assert "Traceback" not in refused.output


def test_the_progress_bar_counts_the_rows_already_sent(host, capsys):
    host.send("keyed", rows(40), retry=FAST, progress=True)
    first = capsys.readouterr().err
    assert "already sent" not in first  # nothing skipped: the bar says nothing of it

    again = host.send("keyed", rows(60), retry=FAST, progress=True)

    assert again.summary["already_sent"] == 40
    last = [line.strip() for line in bar_states(capsys.readouterr().err)][-1]
    assert "60 rows read, 20 delivered, 0 rejected, 40 already sent, " in last


def bar_states(stderr: str) -> list[str]:
    """Each state the bar showed (tqdm rewrites its line with carriage returns)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]


class SetKeyed(KeyedRecorder):
    """Keys that JSON cannot encode: a set, which a plugin author might return."""

    name = "set-keyed"

    def idempotency_key(self, item):
        return {"events", item["id"]}


class SetKeyedPlugin:
    __name__ = "set-keyed-plugin"

    @amp.hookimpl
    def register_destinations(self, register):
        register(SetKeyed)


def test_a_key_the_host_cannot_encode_fails_the_run_as_the_plugins_fault(home, script):
    Recorder.script = script
    registry = amp.load_plugins(entry_points=False, extra=[RecorderPlugin(), SetKeyedPlugin()])
    with amp.Host(home, registry=registry) as host:
        host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "good"})
        host.add_destination("odd", "set-keyed", "cred", {"label": "one"})

        result = host.send("odd", rows(5), retry=FAST)

    assert result.status == "failed"
    assert result.error.startswith("the set-keyed plugin failed while preparing row 1 (TypeError")
    assert "report this to the plugin's authors" in result.error
    assert "user1@example.com" not in result.error
    assert result.summary["delivered"] == 0
    assert_counts_add_up(result)


def test_the_hot_paths_digester_gives_the_stored_digest():
    """Runs digest with ``key_digester``; what the index holds, and every index of an
    earlier release, was digested with ``key_digest``: they must agree."""
    digest = key_digester()
    for parts in (("events", "E1"), ("7100", "CompletePayment", "order-é-1"), (1, None)):
        assert digest(parts) == key_digest(parts)
