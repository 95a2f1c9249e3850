"""Resuming a run: where its rejects go, what a resume may and may not change, and a
summary that covers every attempt."""

from __future__ import annotations

import csv
import sys
import threading
from pathlib import Path

import pytest

import amp_destinations as amp

sys.path.insert(0, str(Path(__file__).parent))
from send_support import FAST, rows


def write_csv(path, count, bad=(), extra=()):
    lines = ["id,email,extra"]
    for i in range(1, count + 1):
        email = "" if i in bad else f"user{i}@example.com"
        lines.append(f"E{i},{email}," + ("x" if i in extra else ""))
    path.write_text("\n".join(lines) + "\n")
    return path


def reject_rows(path):
    with open(path, newline="") as handle:
        return sorted(int(row["row"]) for row in csv.DictReader(handle))


@pytest.fixture
def failed_file_run(ready_host, tmp_path):
    """A run of a 60-row file stopped by a fatal answer after two batches of ten."""
    ready_host.update_destination("rec", {"fatal_after": 2})
    path = write_csv(tmp_path / "in.csv", 60, bad={3, 45}, extra={5, 35, 36})
    first = ready_host.send("rec", input=path, retry=FAST, concurrency=1)
    assert first.status == "failed"
    ready_host.update_destination("rec", {"fatal_after": -1})
    return first, path


def test_the_run_records_its_paths_absolute_when_it_starts(ready_host, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "in.csv", 3)
    seen = {}
    original = type(ready_host.destination("rec")).deliver

    def deliver(self, batch, session):
        seen.update(ready_host.store.run(ready_host.runs()[0].id))
        return original(self, batch, session)

    monkeypatch.setattr(type(ready_host.destination("rec")), "deliver", deliver)
    result = ready_host.send("rec", input="in.csv", rejects="mine.csv", retry=FAST)
    assert result.status == "succeeded"
    # Recorded while the run was still sending: a crash at that point resumes into them.
    assert seen["status"] == "running"
    assert seen["input"] == str(tmp_path / "in.csv")
    assert seen["rejects_path"] == str(tmp_path / "mine.csv")


def test_a_resume_from_another_directory_reads_the_same_input(ready_host, tmp_path, monkeypatch):
    ready_host.update_destination("rec", {"fatal_after": 0})
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "in.csv", 5)
    first = ready_host.send("rec", input="in.csv", retry=FAST)
    ready_host.update_destination("rec", {"fatal_after": -1})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    resumed = ready_host.send(resume=first.id, retry=FAST)
    assert resumed.status == "succeeded" and resumed.summary["delivered"] == 5


def test_a_resume_may_move_the_rejects_file_and_writes_every_reject_there(
    ready_host, failed_file_run, tmp_path
):
    first, _ = failed_file_run
    moved = tmp_path / "moved" / "rejects.csv"
    resumed = ready_host.send(resume=first.id, rejects=moved, retry=FAST)
    assert resumed.status == "succeeded"
    assert resumed.rejects_path == str(moved)
    assert reject_rows(moved) == [3, 45]
    assert ready_host.run(first.id).rejects_path == str(moved)


def test_a_resume_writes_into_the_rejects_file_the_run_started_with(ready_host, tmp_path):
    ready_host.update_destination("rec", {"fatal_after": 2})
    named = tmp_path / "named.csv"
    path = write_csv(tmp_path / "in.csv", 60, bad={3, 45})
    first = ready_host.send("rec", input=path, rejects=named, retry=FAST, concurrency=1)
    ready_host.update_destination("rec", {"fatal_after": -1})
    resumed = ready_host.send(resume=first.id, retry=FAST)
    assert resumed.rejects_path == str(named)
    assert reject_rows(named) == [3, 45]


@pytest.mark.parametrize(
    "change, refusal",
    [
        ({"name": "other"}, "it sends to rec, not other"),
        ({"format": "tsv"}, "its input format is csv"),
        ({"dry_run": True}, "it is not a dry run"),
        ({"rows": [{"id": "E1"}]}, "not rows from Python"),
    ],
)
def test_a_resume_refuses_to_change_what_the_run_is(ready_host, failed_file_run, change, refusal):
    first, _ = failed_file_run
    with pytest.raises(amp.AmpDestError, match=refusal):
        ready_host.send(resume=first.id, **change)


def test_a_resume_refuses_another_input_file(ready_host, failed_file_run, tmp_path):
    first, _ = failed_file_run
    other = write_csv(tmp_path / "other.csv", 2)
    with pytest.raises(amp.AmpDestError, match="cannot be resumed that way: it reads "):
        ready_host.send(resume=first.id, input=other)


def test_a_run_fed_rows_from_python_says_how_to_resume_it(ready_host):
    ready_host.update_destination("rec", {"fatal_after": 0})
    first = ready_host.send("rec", rows(3), retry=FAST)
    with pytest.raises(amp.AmpDestError) as caught:
        ready_host.send(resume=first.id)
    message = str(caught.value)
    assert f"host.send(rows=<the same rows>, resume={first.id})" in message
    assert "\n" not in message
    assert ready_host.run(first.id).input is None


def test_a_resumed_summary_adds_up_every_attempt(ready_host, failed_file_run, script):
    first, _ = failed_file_run
    resumed = ready_host.send(resume=first.id, retry=FAST, concurrency=1)
    s, f = resumed.summary, first.summary
    assert resumed.status == "succeeded"
    assert s["attempts"] == 2
    assert s["batches"] == f["batches"] + 4  # 58 rows left after 20 delivered: 38 in 4
    assert s["requests"] == f["requests"] + 4
    assert s["elapsed_seconds"] >= f["elapsed_seconds"]
    # elapsed_seconds is rounded to the millisecond, which on a run this short moves
    # the rate by more than 1%: the rate must lie within what that rounding allows.
    elapsed = s["elapsed_seconds"]
    slowest, fastest = s["rows_read"] / (elapsed + 0.0005), s["rows_read"] / (elapsed - 0.0005)
    assert slowest - 0.05 <= s["rows_per_second"] <= fastest + 0.05
    # Rows 35 and 36 were prepared in the first attempt too, but never settled there:
    # every row's warning counts once.
    assert s["warnings_by_code"] == {"extra.ignored": 3}
    assert (s["delivered"], s["rejected"], s["pending"]) == (58, 2, 0)
    assert s["identifier_coverage"]["email"] == pytest.approx(58 / 58)
    # Every prepared row carries its email alone (the file has no phone column), and
    # counts once: the first attempt read all 60 rows and counted the 58 it prepared,
    # the resume prepares the 38 left unsettled again without counting them twice.
    assert f["match_keys"] == {"0": 0, "1": 58, "2": 0, "3+": 0}
    assert s["match_keys"] == {"0": 0, "1": 58, "2": 0, "3+": 0}
    assert [a.prepared for a in ready_host.run(first.id).attempts] == [58, 0]


def test_a_resume_after_a_killed_attempt_counts_what_that_attempt_left(ready_host, failed_file_run):
    """An attempt whose process died recorded no match keys: the resume counts its rows."""
    first, _ = failed_file_run
    ready_host.store.db.execute(
        "UPDATE run_attempts SET status = NULL, ended_at = NULL, prepared = 0, "
        "coverage = '{}', match_keys = '{}', pid = NULL WHERE run_id = ?",
        (first.id,),
    )
    ready_host.store.db.execute("UPDATE runs SET status = 'running', pid = NULL")
    ready_host.store.db.commit()
    resumed = ready_host.send(resume=first.id, retry=FAST, concurrency=1)
    assert resumed.status == "succeeded"
    # The 20 rows the dead attempt delivered are skipped; the 38 it left are counted.
    assert resumed.summary["match_keys"] == {"0": 0, "1": 38, "2": 0, "3+": 0}


def test_runs_show_lists_each_attempt(ready_host, failed_file_run):
    first, _ = failed_file_run
    ready_host.send(resume=first.id, retry=FAST, concurrency=1)
    attempts = ready_host.run(first.id).attempts
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed"), (2, "succeeded")]
    assert all(isinstance(a.status, amp.RunStatus) for a in attempts)
    assert attempts[0].error == "the account was suspended"
    assert attempts[0].delivered == 20 and attempts[1].delivered == 38
    assert sum(a.rejected for a in attempts) == 2


def test_an_attempt_killed_mid_run_shows_as_stopped_with_its_figures(ready_host, tmp_path):
    path = write_csv(tmp_path / "in.csv", 30)
    result = ready_host.send("rec", input=path, retry=FAST)
    # What a kill -9 leaves: an attempt that never recorded its end, its process gone.
    ready_host.store.update_attempt(result.id, 1, status=None, ended_at=None, pid=2**22 + 1)
    attempt = ready_host.run(result.id).attempts[0]
    assert attempt.status == "stopped"
    assert attempt.ended_at == attempt.last_seen_at
    assert attempt.batches == 3


def test_rows_that_raise_midway_fail_the_run_and_the_error_reaches_the_caller(ready_host):
    def broken_rows():
        yield from rows(25)
        raise ValueError("user99@example.com is not a row")

    with pytest.raises(ValueError):
        ready_host.send("rec", broken_rows(), retry=FAST)
    record = ready_host.runs()[0]
    assert record.status == "failed"  # recorded, not left running
    assert record.error.startswith("the run stopped on ValueError at test_resume.py:")
    assert "@example.com" not in record.error
    assert record.rows_read == record.delivered + record.rejected + record.pending
    resumed = ready_host.send(rows=rows(30), resume=record.id, retry=FAST)
    assert resumed.status == "succeeded" and resumed.summary["delivered"] == 30


def test_a_stop_from_another_thread_ends_the_run_interrupted_and_a_resume_sends_the_rest(
    ready_host, tmp_path, script
):
    """The console's Stop button: no signal, an event set while the run goes."""
    path = write_csv(tmp_path / "in.csv", 5000)
    stop = threading.Event()
    started: list[int] = []

    def on_start(run_id: int) -> None:
        started.append(run_id)
        stop.set()  # before the first row: the run stops at its first check

    first = ready_host.send("rec", input=path, retry=FAST, stop=stop, started=on_start)
    assert started == [first.id]
    assert first.status == "interrupted"
    assert first.error == "stopped by the operator"
    counts = first.summary
    assert counts["rows_read"] < 5000
    assert counts["rows_read"] == counts["delivered"] + counts["rejected"] + counts["pending"]
    second = ready_host.send(resume=first.id, retry=FAST)
    assert second.status == "succeeded"
    assert second.summary["delivered"] == 5000
    assert len({item["id"] for item in script.received}) == len(script.received) == 5000
