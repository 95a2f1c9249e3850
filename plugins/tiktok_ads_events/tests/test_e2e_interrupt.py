"""Sends through the real ``amp-dest`` process: killed with SIGKILL or stopped with
Ctrl-C (SIGINT) mid-run and then resumed, and the progress bar on a terminal.

For the stops, the emulator answers every track request after 0.2 s, so a 20,000-row
send in batches of 500 lasts a few seconds and can be stopped once its ledger shows
delivered rows.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from amp_destinations._sent_gate import key_digest
from amp_destinations._sent_index import entries
from amp_destinations._store import Store
from tiktok_ads_events.emulator import Emulator

pytestmark = pytest.mark.e2e

ROWS = 20_000
# The bar advances every 2,048 rows read: a few steps, and a short run.
PROGRESS_ROWS = 6_000
BATCH_SIZE = 500
CONCURRENCY = 4
SLOW_TRACK = {"slow": {"fraction": 1.0, "seconds": 0.2}}
DESTINATION = "store-sales"
TOKEN_ENV = "AMP_DEST_SECRET_TIKTOK_PROD_REFRESH_TOKEN"


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    return e2e.write_generated_events(tmp_path_factory.mktemp("input") / "events.csv", ROWS)


@pytest.fixture(scope="module")
def big_valid(big_csv):
    return e2e.valid_rows(e2e.read_rows(big_csv))


@pytest.fixture
def slow_emulator():
    with Emulator(faults=SLOW_TRACK) as emu:
        yield emu


def _set_up_operator(home: Path, base_url: str) -> dict:
    """A home with a credential and a destination pointing at the emulator, set up
    through the CLI as an operator would; returns the operator's environment."""
    env = e2e.cli_env(home, **{TOKEN_ENV: e2e.LONG_TERM_TOKEN})
    for args in (
        ("credentials", "add", "tiktok-prod", "--type", e2e.DESTINATION_TYPE),
        (
            "destinations",
            "add",
            DESTINATION,
            "--type",
            e2e.DESTINATION_TYPE,
            "--credential",
            "tiktok-prod",
            "--set",
            f"advertiser_id={e2e.ADVERTISER_ID}",
            "--set",
            f"event_set_id={e2e.EVENT_SET_ID}",
            "--set",
            f"api_base_url={base_url}",
        ),
    ):
        completed = e2e.amp_dest(env, *args)
        assert completed.returncode == 0, completed.stderr
    return env


@pytest.fixture
def operator_env(tmp_path, slow_emulator):
    return _set_up_operator(tmp_path / "home", slow_emulator.base_url)


@pytest.fixture
def processes():
    """Every process a test starts is killed and reaped in teardown."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        e2e.stop_process(process)


@contextlib.contextmanager
def sigint_reaches_children():
    """A child inherits an ignored SIGINT (pytest started as a background job of a
    non-interactive shell), while a handled one is reset to the default at exec: make
    sure it is handled while the child starts."""
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_send(
    env: dict, processes: list, source: Path, *extra: str, batch_size: int = BATCH_SIZE
) -> subprocess.Popen:
    """``amp-dest send`` of ``source`` as a child that a SIGINT reaches, in batches of
    ``batch_size`` with CONCURRENCY requests in flight; stopped in teardown."""
    args = (
        "send",
        DESTINATION,
        "--input",
        str(source),
        *extra,
        "--batch-size",
        str(batch_size),
        "--concurrency",
        str(CONCURRENCY),
    )
    with sigint_reaches_children():
        process = subprocess.Popen(
            e2e.amp_dest_command(*args),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=e2e.REPO,
        )
    processes.append(process)
    return process


def _latest_run(home: Path) -> dict | None:
    """The newest run as the database has it, read without taking any write lock."""
    db_path = home / "amp-destinations.sqlite3"
    if not db_path.exists():
        return None
    db = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        db.row_factory = sqlite3.Row
        row = db.execute(
            "SELECT id, status, rows_read, delivered, rejected, pending "
            "FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return dict(row) if row else None
    except sqlite3.OperationalError:  # the schema is not written yet
        return None
    finally:
        db.close()


def _wait_for_delivered_rows(
    home: Path, process: subprocess.Popen, timeout: float = 30, newer_than: int = 0
) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the send ended before it could be stopped"
        run = _latest_run(home)
        if run and run["id"] > newer_than and run["delivered"] > 0:
            return run
        time.sleep(0.02)
    raise AssertionError(f"no delivered rows in the ledger after {timeout}s")


# A killed process never records the answers to the batches it had in flight (at most
# one per worker and two ready), so those may arrive again. Ctrl-C lets in-flight batches finish and
# records them, so nothing is sent twice.
@pytest.mark.parametrize(
    "stop_signal, exit_code, status_after, max_resent",
    [
        pytest.param(
            signal.SIGKILL, -signal.SIGKILL, "stopped", (CONCURRENCY + 2) * BATCH_SIZE, id="kill-9"
        ),
        pytest.param(signal.SIGINT, 130, "interrupted", 0, id="ctrl-c"),
    ],
)
def test_stopped_send_resumes_and_every_row_arrives_once(
    operator_env,
    slow_emulator,
    big_csv,
    big_valid,
    processes,
    stop_signal,
    exit_code,
    status_after,
    max_resent,
):
    home = Path(operator_env["AMP_DEST_HOME"])
    process = _start_send(operator_env, processes, big_csv)
    _wait_for_delivered_rows(home, process)
    os.kill(process.pid, stop_signal)
    stdout, stderr = process.communicate(timeout=e2e.PROCESS_TIMEOUT)

    assert process.returncode == exit_code, stderr
    stopped = _latest_run(home)
    shown = json.loads(
        e2e.amp_dest(operator_env, "runs", "show", str(stopped["id"]), "--json").stdout
    )
    assert shown["status"] == status_after  # what the operator sees
    assert 0 < stopped["delivered"] < len(big_valid)
    e2e.assert_counts_add_up(stopped)
    if stop_signal == signal.SIGINT:
        assert f"run {stopped['id']} interrupted" in stdout
        assert f"resume with `amp-dest send --resume {stopped['id']}`" in stderr
        assert "Traceback" not in stderr

    slow_emulator.state.configure_faults({})
    resumed = e2e.amp_dest(operator_env, "send", "--resume", str(stopped["id"]), "--json")
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    expected_rejects = e2e.make_events.expected_rejects(ROWS)
    assert result["id"] == stopped["id"]
    assert result["status"] == "succeeded"
    e2e.assert_counts_add_up(result)
    assert (result["rows_read"], result["delivered"], result["rejected"], result["pending"]) == (
        ROWS,
        len(big_valid),
        len(expected_rejects),
        0,
    )

    e2e.assert_stored_once(slow_emulator, set(big_valid))
    assert slow_emulator.state.duplicates <= max_resent
    with open(result["rejects_path"], newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert {int(r["row"]): r["code"] for r in rejects} == expected_rejects
    assert len(rejects) == len(expected_rejects)


def _indexed_digests(home: Path) -> list[bytes]:
    store = Store(home)
    try:
        return [digest for digest, _ in entries(store)]
    finally:
        store.close()


def test_a_kill_between_tiktoks_answer_and_the_commit_loses_and_doubles_no_key(
    operator_env, slow_emulator, big_csv, big_valid, processes
):
    """The test holds the database's write lock, so that the answers TikTok gives from
    then on cannot be recorded, and kills the sender once TikTok has stored events it
    will never hear were recorded. The resume sends those again (TikTok drops them as
    repeats); the index ends with one key per event TikTok took, and a later send of the
    same file sends nothing."""
    home = Path(operator_env["AMP_DEST_HOME"])
    process = _start_send(operator_env, processes, big_csv)
    _wait_for_delivered_rows(home, process)
    lock = sqlite3.connect(home / "amp-destinations.sqlite3", isolation_level=None, timeout=5)
    try:
        lock.execute("BEGIN IMMEDIATE")  # the sender's next commit waits for this
        stored = slow_emulator.state.event_count(e2e.EVENT_SET_ID)
        deadline = time.monotonic() + 2  # well within the sender's 5 s busy timeout
        while slow_emulator.state.event_count(e2e.EVENT_SET_ID) == stored:
            assert time.monotonic() < deadline, "TikTok took no batch while the lock was held"
            time.sleep(0.01)
        time.sleep(0.3)  # TikTok's answer reaches the sender, which waits to record it
        process.kill()
        process.communicate(timeout=e2e.PROCESS_TIMEOUT)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    stopped = _latest_run(home)
    taken = slow_emulator.state.event_count(e2e.EVENT_SET_ID)
    assert stopped["delivered"] < taken  # TikTok took events the ledger does not have

    slow_emulator.state.configure_faults({})
    resumed = e2e.amp_dest(operator_env, "send", "--resume", str(stopped["id"]), "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["delivered"] == len(big_valid)
    assert slow_emulator.state.duplicates > 0  # the unrecorded batches, sent again
    e2e.assert_stored_once(slow_emulator, set(big_valid))
    keys = _indexed_digests(home)
    expected = {
        key_digest((e2e.EVENT_SET_ID, row["event"], event_id))
        for event_id, row in big_valid.items()
    }
    assert len(keys) == len(expected)
    assert set(keys) == expected

    requests = slow_emulator.state.request_count("/open_api/v1.3/event/track/")
    again = e2e.amp_dest(operator_env, "send", DESTINATION, "--input", str(big_csv), "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["delivered"], result["already_sent"]) == (0, len(big_valid))
    assert slow_emulator.state.request_count("/open_api/v1.3/event/track/") == requests


# -- the progress bar ------------------------------------------------------------------


@pytest.fixture(scope="module")
def progress_setup(tmp_path_factory):
    """A fast emulator, an operator's home and a 6,000-row file, shared by the progress
    tests: each of them sends the file as a new run, with --resend (the sent-events
    index would skip every event after the first)."""
    folder = tmp_path_factory.mktemp("progress")
    events_csv = e2e.write_generated_events(folder / "events.csv", PROGRESS_ROWS)
    valid = e2e.valid_rows(e2e.read_rows(events_csv))
    with Emulator() as emulator:
        env = _set_up_operator(folder / "home", emulator.base_url)
        yield env, events_csv, valid


def _send_with_terminal_stderr(env: dict, *args: str) -> tuple[int, str, str]:
    """Run ``amp-dest send`` with stderr on a pseudo-terminal (120 columns), as in an
    operator's shell; return the exit code, stdout and what the terminal showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        process = subprocess.Popen(
            e2e.amp_dest_command("send", *args),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            cwd=e2e.REPO,
        )
    finally:
        os.close(slave)
    shown = bytearray()
    try:
        deadline = time.monotonic() + e2e.PROCESS_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal's last open end
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = process.communicate(timeout=e2e.PROCESS_TIMEOUT)
    finally:
        os.close(master)
        e2e.stop_process(process)
    return process.returncode, stdout.decode(), shown.decode(errors="replace")


@pytest.fixture(scope="module")
def terminal_send(progress_setup):
    env, events_csv, _ = progress_setup
    return _send_with_terminal_stderr(
        env, DESTINATION, "--input", str(events_csv), "--batch-size", str(BATCH_SIZE), "--resend"
    )


_COUNTS = re.compile(r"([\d,]+) delivered, ([\d,]+) rejected")


def test_progress_bar_on_a_terminal_shows_rate_and_counts(terminal_send):
    code, stdout, terminal = terminal_send
    assert code == 0, terminal
    assert f"{PROGRESS_ROWS:,} rows read" in stdout
    assert re.search(r"[\d,]+ rows/s", terminal), terminal
    assert _COUNTS.search(terminal), terminal


def test_progress_bar_of_a_file_shows_percent_done_and_time_left(terminal_send):
    code, _, terminal = terminal_send
    assert code == 0, terminal
    # percent|bar| elapsed<left, by the bytes of the file read so far
    assert re.search(r"\b\d{1,3}%\|[^|]*\| \d\d:\d\d<\d\d:\d\d, ", terminal), terminal
    assert "100%|" in terminal


def test_progress_bar_ends_on_the_runs_final_counts(terminal_send, progress_setup):
    _, _, valid = progress_setup
    code, stdout, terminal = terminal_send
    assert code == 0, terminal
    delivered, rejected = _COUNTS.findall(terminal)[-1]
    assert (delivered, rejected) == (f"{len(valid):,}", f"{PROGRESS_ROWS - len(valid):,}")


def test_progress_bar_counts_every_row_read(terminal_send):
    code, stdout, terminal = terminal_send
    assert code == 0, terminal
    counted = re.findall(r"([\d,]+) rows read", terminal)[-1]
    assert counted == f"{PROGRESS_ROWS:,}"  # with its thousands separator


def test_json_send_on_a_terminal_prints_no_progress(progress_setup):
    env, events_csv, _ = progress_setup
    code, stdout, terminal = _send_with_terminal_stderr(
        env, DESTINATION, "--input", str(events_csv), "--json", "--resend"
    )
    assert code == 0, terminal
    assert terminal == ""
    result = json.loads(stdout)
    assert result["status"] == "succeeded"
    assert result["rows_read"] == PROGRESS_ROWS


def test_piped_stderr_gets_no_progress(progress_setup):
    env, events_csv, _ = progress_setup
    completed = e2e.amp_dest(env, "send", DESTINATION, "--input", str(events_csv), "--resend")
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert f"{PROGRESS_ROWS:,} rows read" in completed.stdout


# -- the rejects file named by the operator, across a kill -9 --------------------------


def test_a_killed_run_resumes_into_the_rejects_file_the_operator_named(
    operator_env, slow_emulator, big_csv, processes, tmp_path
):
    home = Path(operator_env["AMP_DEST_HOME"])
    named = tmp_path / "out" / "my-rejects.csv"
    process = _start_send(operator_env, processes, big_csv, "--rejects", str(named))
    _wait_for_delivered_rows(home, process)
    process.kill()
    process.communicate(timeout=e2e.PROCESS_TIMEOUT)
    stopped = _latest_run(home)

    slow_emulator.state.configure_faults({})
    # From another directory: the run's paths are absolute.
    resumed = subprocess.run(
        e2e.amp_dest_command("send", "--resume", str(stopped["id"]), "--json"),
        env=operator_env,
        capture_output=True,
        text=True,
        timeout=e2e.PROCESS_TIMEOUT,
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["rejects_path"] == str(named)
    expected = e2e.make_events.expected_rejects(ROWS)
    with open(named, newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert {int(r["row"]): r["code"] for r in rejects} == expected
    assert len(rejects) == result["rejected"] == len(expected)
    assert not (home / "runs" / str(stopped["id"]) / "rejects.csv").exists()


# -- Ctrl-C at any moment ----------------------------------------------------------------

SIGINT_ROUNDS = 20
SIGINT_ROWS = 4_000
SIGINT_BATCH = 100


@pytest.fixture(scope="module")
def sigint_csv(tmp_path_factory):
    return e2e.write_generated_events(tmp_path_factory.mktemp("sigint") / "events.csv", SIGINT_ROWS)


def test_ctrl_c_at_twenty_moments_never_leaves_an_accepted_batch_pending(
    tmp_path, sigint_csv, processes
):
    """The window between a worker handing back an accepted batch and the engine
    recording it: SIGINT lands at moments spread over the whole send, start-up and
    wind-down included, and no resume may send an event TikTok already took."""
    valid = set(e2e.valid_rows(e2e.read_rows(sigint_csv)))
    with Emulator(faults={"slow": {"fraction": 1.0, "seconds": 0.03}}) as emulator:
        env = _set_up_operator(tmp_path / "home", emulator.base_url)
        home = Path(env["AMP_DEST_HOME"])
        interrupted = 0
        last_run = 0
        for round_number in range(SIGINT_ROUNDS):
            emulator.state.reset()
            emulator.state.configure_faults({"slow": {"fraction": 1.0, "seconds": 0.03}})
            # Each round sends the file to a TikTok that lost it (reset): --resend.
            process = _start_send(env, processes, sigint_csv, "--resend", batch_size=SIGINT_BATCH)
            last_run = _wait_for_delivered_rows(home, process, newer_than=last_run)["id"]
            time.sleep(0.013 * round_number)  # a different moment each round
            if process.poll() is None:
                os.kill(process.pid, signal.SIGINT)
            stdout, stderr = process.communicate(timeout=e2e.PROCESS_TIMEOUT)
            assert "Traceback" not in stderr, stderr
            run = _latest_run(home)
            e2e.assert_counts_add_up(run)
            if process.returncode == 0:  # the signal came after the end
                assert run["status"] == "succeeded"
            else:
                assert process.returncode == 130, stderr
                interrupted += 1
                before = emulator.state.event_count(e2e.EVENT_SET_ID)
                assert before == run["delivered"], "an accepted batch was left pending"
                resumed = e2e.amp_dest(env, "send", "--resume", str(run["id"]), "--json")
                assert resumed.returncode == 0, resumed.stderr
            assert emulator.state.duplicates == 0, f"round {round_number} re-sent events"
            e2e.assert_stored_once(emulator, valid)
        assert interrupted >= SIGINT_ROUNDS // 2  # most signals landed mid-send


def test_sigterm_stops_the_run_like_ctrl_c(operator_env, slow_emulator, big_csv, processes):
    home = Path(operator_env["AMP_DEST_HOME"])
    process = _start_send(operator_env, processes, big_csv)
    _wait_for_delivered_rows(home, process)
    process.terminate()
    stdout, stderr = process.communicate(timeout=e2e.PROCESS_TIMEOUT)
    assert process.returncode == 143, stderr
    run = _latest_run(home)
    assert run["status"] == "interrupted"
    assert slow_emulator.state.event_count(e2e.EVENT_SET_ID) == run["delivered"]
    assert f"resume with `amp-dest send --resume {run['id']}`" in stderr
