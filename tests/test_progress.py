"""How far a run has come, as an operator follows it: the progress bar (percent done
and time left when the input's size is known, every count with thousands separators)
and the run's record, which counts a live run's rows as they are read."""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time

import pytest
from click.testing import CliRunner
from marshmallow import Schema

import amp_destinations as amp
from amp_destinations._cli import build_cli

# percent|bar| elapsed<left, then the counts
WITH_TOTAL = re.compile(r"(\d{1,3})%\|[^|]*\| \d\d:\d\d<(\d\d:\d\d|\?), (.*)")


def bar_lines(stderr: str) -> list[str]:
    """Each state the bar showed (tqdm rewrites its line with carriage returns)."""
    return [line.strip() for line in re.split(r"[\r\n]", stderr) if line.strip()]


def csv_text(count: int) -> str:
    """``count`` rows with an email each, and a column of noise so that a gzipped
    copy stays large enough to be read in several blocks."""
    noise = random.Random(7)
    lines = ["id,email,noise"]
    lines += [f"E{i},user{i}@example.com,{noise.getrandbits(64):x}" for i in range(1, count + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz"])
def test_the_bar_of_a_file_shows_percent_done_time_left_and_counts(ready_host, write, capsys, name):
    path = write(name, csv_text(3000))
    result = ready_host.send("rec", input=path, progress=True)
    assert result.ok
    shown = bar_lines(capsys.readouterr().err)
    states = [WITH_TOTAL.fullmatch(line) for line in shown]
    assert all(states), shown
    assert states[-1][1] == "100" and states[-1][2] == "00:00"
    assert states[-1][3].startswith("3,000 rows read, 3,000 delivered, 0 rejected, ")
    assert states[-1][3].endswith(" rows/s")


def test_the_bar_of_rows_given_as_a_list_counts_them_against_their_number(ready_host, capsys):
    rows = [{"id": f"E{i}", "email": f"u{i}@example.com"} for i in range(1, 1201)]
    assert ready_host.send("rec", rows, progress=True).ok
    last = WITH_TOTAL.fullmatch(bar_lines(capsys.readouterr().err)[-1])
    assert last and last[1] == "100"
    assert last[3].startswith("1,200 rows read, 1,200 delivered, 0 rejected")


def test_the_bar_of_rows_of_unknown_number_shows_no_percent(ready_host, capsys):
    rows = ({"id": f"E{i}", "email": f"u{i}@example.com"} for i in range(1, 1201))
    assert ready_host.send("rec", rows, progress=True).ok
    shown = bar_lines(capsys.readouterr().err)
    assert not any("%" in line for line in shown), shown
    assert re.fullmatch(r"\d\d:\d\d, 1,200 rows read, 1,200 delivered, 0 rejected, .*", shown[-1])


def test_one_row_read_is_a_row(ready_host, capsys):
    assert ready_host.send("rec", [{"id": "E1", "email": "u@example.com"}], progress=True).ok
    assert "1 row read, 1 delivered" in capsys.readouterr().err


# -- what a reader says of its own progress ---------------------------------------


@pytest.mark.parametrize("name", ["big.csv", "big.csv.gz", "big.tsv", "big.jsonl.gz"])
def test_a_reader_counts_the_bytes_of_the_file_on_disk(registry, write, name):
    if ".jsonl" in name:
        text = "".join(
            json.dumps({"id": i, "noise": f"{i * 7919:x}" * 9}) + "\n" for i in range(40_000)
        )
    else:
        text = csv_text(40_000)
        text = text.replace(",", "\t") if ".tsv" in name else text
    path = write(name, text)
    size = os.path.getsize(path)
    reader = registry.reader_for(path)(path)
    records = iter(reader)
    next(records)
    done, total = reader.progress()
    assert total == size and 0 < done < size  # a first block read, not the whole file
    assert sum(1 for _ in records) == 40_000 - 1
    assert reader.progress() == (size, size)  # closed once read to the end


def test_a_parquet_reader_counts_rows(registry, tmp_path):
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "many.parquet"
    pytest.importorskip("pyarrow.parquet").write_table(
        pa.table({"n": list(range(10_000))}), str(path), row_group_size=1000
    )
    reader = registry.reader("parquet")(str(path))
    records = iter(reader)
    next(records)
    done, total = reader.progress()
    assert total == 10_000 and 0 < done < 10_000
    assert sum(1 for _ in records) == 9_999
    assert reader.progress() == (10_000, 10_000)


def test_a_pipe_has_no_known_size(registry, tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as pipe:
            pipe.write("id,email\nE1,a@example.com\n")

    feeder = threading.Thread(target=feed)
    feeder.start()
    reader = registry.reader("csv")(str(fifo))
    try:
        assert reader.progress() is None
        assert len(list(reader)) == 1
    finally:
        feeder.join()


# -- a live run's record -------------------------------------------------------------


class Gate:
    """Holds every batch's answer until the test opens it."""

    open = threading.Event()
    entered = threading.Event()


class Gated(amp.Destination):
    name = "gated"
    title = "Gated (tests)"
    settings_schema = Schema
    max_batch_size = 10

    def test_connection(self, session):
        return amp.ConnectionStatus([amp.Check.passed("ok")])

    def prepare(self, row, warnings):
        return dict(row)

    def deliver(self, batch, session):
        Gate.entered.set()
        Gate.open.wait(30)
        return amp.BatchOutcome.delivered()


class GatedPlugin:
    __name__ = "gated-plugin"

    @amp.hookimpl
    def register_destinations(self, register):
        register(Gated)


def test_runs_list_and_show_count_a_live_runs_rows_before_any_answer(home, tmp_path):
    registry = amp.load_plugins(entry_points=False, extra=[GatedPlugin()])
    Gate.open.clear()
    Gate.entered.clear()
    path = tmp_path / "in.csv"
    path.write_text(csv_text(100))
    sender = amp.Host(home, registry=registry)
    sender.add_destination("g", "gated", test=False)
    finished = []
    thread = threading.Thread(
        target=lambda: finished.append(sender.send("g", input=str(path), concurrency=2))
    )
    thread.start()
    cli, runner = build_cli(registry), CliRunner()
    try:
        assert Gate.entered.wait(30)
        deadline = time.monotonic() + 30  # a bound on waiting, not a timing asserted
        listed = {}
        while time.monotonic() < deadline:
            [listed] = json.loads(runner.invoke(cli, ["runs", "list", "--json"]).stdout)
            if listed["rows_read"]:
                break
            time.sleep(0.05)
        # Batches of 10, 2 sending and 2 waiting, a fifth filled: read, none answered.
        read = listed["rows_read"]
        assert listed["status"] == "running" and 40 <= read < 100
        assert (listed["delivered"], listed["rejected"], listed["pending"]) == (0, 0, read)
        table = runner.invoke(cli, ["runs", "list"]).output.splitlines()[1].split()
        assert table[2:4] == ["send", "running"] and table[-5:] == [
            str(read),
            "0",
            "0",
            "0",
            str(read),
        ]
        shown = runner.invoke(cli, ["runs", "show", "1"]).output
        assert f"rows_read: {read}\n" in shown and f"pending: {read}\n" in shown
    finally:
        Gate.open.set()
        thread.join(30)
        sender.close()
    assert finished[0].ok and finished[0].summary["delivered"] == 100
