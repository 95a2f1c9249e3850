"""The local machine failing under a run: a full disk, a read-only or damaged
database, an unwritable home, a rejects path that cannot take a file. Each ends with
one line naming the path, the cause and what to do, exit 1, and the run recorded as
failed; rows already delivered stay delivered and a resume finishes the rest.

A full or read-only file system is a real tmpfs mounted for the test (root only;
skipped with the reason otherwise); a read-only file is made immutable with chattr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest


class SmallDisk:
    """A tmpfs of a given size at ``path``."""

    def __init__(self, path: Path):
        self.path = path

    def mount(self, size: str) -> None:
        self.path.mkdir(exist_ok=True)
        _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(self.path))

    def remount(self, options: str) -> None:
        _mount("-o", f"remount,{options}", str(self.path))


def _mount(*args: str) -> None:
    completed = subprocess.run(["mount", *args], capture_output=True, text=True)
    if completed.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {completed.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real full or read-only file system needs root to mount a tmpfs")
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    subprocess.run(["umount", "-l", str(disk.path)], capture_output=True)


def write_csv(path: Path, count: int, every_bad: int = 2) -> Path:
    lines = ["id,email"]
    for i in range(1, count + 1):
        lines.append(f"E{i}," + ("" if i % every_bad == 0 else f"user{i}@example.com"))
    path.write_text("\n".join(lines) + "\n")
    return path


def one_line_error(result) -> str:
    """The error an operator sees: exactly one line on stderr, no traceback."""
    lines = [line for line in result.output.splitlines() if line.startswith("amp-dest:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return lines[0]


def shown(run, run_id: int, env=None) -> dict:
    result = run("runs", "show", str(run_id), "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def assert_counts_add_up(record: dict) -> None:
    assert record["rows_read"] == record["delivered"] + record["rejected"] + record["pending"]


def assert_each_row_delivered(script, count: int, every_bad: int = 2, resent: int = 0) -> None:
    """Every good row arrived, and at most ``resent`` of them twice."""
    ids = [item["id"] for item in script.received]
    assert len(ids) - len(set(ids)) <= resent
    assert set(ids) == {f"E{i}" for i in range(1, count + 1) if i % every_bad}


# -- the rejects file ---------------------------------------------------------------------


def test_a_full_disk_under_the_rejects_file_fails_the_run_and_a_resume_finishes(
    run, configure, home, small_disk, tmp_path, script
):
    configure(env={"AMP_DEST_HOME": str(home)})
    small_disk.mount("64k")
    rejects = small_disk.path / "rejects.csv"
    source = write_csv(tmp_path / "in.csv", 6000)
    result = run("send", "rec", "--input", str(source), "--rejects", str(rejects))
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(rejects) in line and "no space left" in line
    assert "amp-dest send --resume 1 --rejects" in line
    record = shown(run, 1)
    assert record["status"] == "failed"
    assert_counts_add_up(record)
    assert record["delivered"] == len(script.received) > 0  # what went out stays counted

    elsewhere = tmp_path / "rejects.csv"
    resumed = run("send", "--resume", "1", "--rejects", str(elsewhere), "--json")
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.output)
    assert (summary["delivered"], summary["rejected"], summary["pending"]) == (3000, 3000, 0)
    assert len(elsewhere.read_text().splitlines()) == 3001
    assert_each_row_delivered(script, 6000)


def test_a_rejects_file_on_dev_full_fails_before_anything_is_sent(
    run, configure, home, tmp_path, script
):
    configure(env={"AMP_DEST_HOME": str(home)})
    mode = os.stat("/dev/full").st_mode
    result = run(
        "send", "rec", "--input", str(write_csv(tmp_path / "in.csv", 10)), "--rejects", "/dev/full"
    )
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "/dev/full" in line and "no space left" in line
    assert script.calls == 0
    assert shown(run, 1)["status"] == "failed"
    assert os.stat("/dev/full").st_mode == mode  # a device is never made "private"


def test_a_rejects_path_that_is_a_directory_is_one_clear_line(
    run, configure, home, tmp_path, script
):
    configure(env={"AMP_DEST_HOME": str(home)})
    result = run(
        "send",
        "rec",
        "--input",
        str(write_csv(tmp_path / "in.csv", 10)),
        "--rejects",
        str(tmp_path),
    )
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(tmp_path) in line and "is a directory" in line and "name a file" in line
    assert script.calls == 0


# -- the home and its database -------------------------------------------------------------


def test_a_full_disk_under_the_home_fails_the_run_records_it_and_resume_finishes(
    run, configure, small_disk, tmp_path, script
):
    small_disk.mount("1m")
    home = small_disk.path / "home"
    env = {"AMP_DEST_HOME": str(home)}
    configure(env={"AMP_DEST_HOME": str(home)})
    source = write_csv(tmp_path / "in.csv", 20_000)
    result = run("send", "rec", "--input", str(source), env=env)
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "no space left" in line and str(home) in line
    assert "amp-dest send --resume 1" in line
    record = shown(run, 1, env)
    assert record["status"] == "failed"  # recorded, not left running
    assert_counts_add_up(record)
    assert record["delivered"] > 0

    small_disk.remount("size=16m")
    resumed = run("send", "--resume", "1", "--json", env=env)
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.output)
    assert (summary["delivered"], summary["rejected"], summary["pending"]) == (10_000, 10_000, 0)
    # A batch the remote system took while the disk was full could not be recorded, so
    # the resume sends it again: at most the batches in flight (24 + 2, of 10 rows).
    assert_each_row_delivered(script, 20_000, resent=26 * 10)


READ_ONLY_COMMANDS = [
    ("runs", "list"),
    ("runs", "show", "1"),
    ("runs", "list", "--json"),
    ("destinations", "list"),
    ("destinations", "show", "rec"),
    ("credentials", "list"),
    ("credentials", "show", "cred"),
    ("plugins", "list"),
]


def _reads_work_and_writes_say_read_only(run, home: Path, tmp_path: Path) -> None:
    env = {"AMP_DEST_HOME": str(home)}
    for command in READ_ONLY_COMMANDS:
        result = run(*command, env=env)
        assert result.exit_code == 0, (command, result.output)
    assert "succeeded" in run("runs", "list", env=env).output
    refused = run("send", "rec", "--input", str(write_csv(tmp_path / "again.csv", 3)), env=env)
    assert refused.exit_code == 1
    line = one_line_error(refused)
    assert "read-only" in line and str(home) in line


def test_read_only_commands_work_on_a_read_only_file_system(run, configure, small_disk, tmp_path):
    small_disk.mount("4m")
    home = small_disk.path / "home"
    configure(env={"AMP_DEST_HOME": str(home)})
    sent = run(
        "send",
        "rec",
        "--input",
        str(write_csv(tmp_path / "in.csv", 5)),
        env={"AMP_DEST_HOME": str(home)},
    )
    assert sent.exit_code == 0, sent.output
    small_disk.remount("ro")
    _reads_work_and_writes_say_read_only(run, home, tmp_path)


def test_read_only_commands_work_on_a_read_only_database_file(run, configure, home, tmp_path):
    configure(env={"AMP_DEST_HOME": str(home)})
    sent = run("send", "rec", "--input", str(write_csv(tmp_path / "in.csv", 5)))
    assert sent.exit_code == 0, sent.output
    database = home / "amp-destinations.sqlite3"
    if os.geteuid() == 0:
        if (
            shutil.which("chattr") is None
            or subprocess.run(["chattr", "+i", str(database)], capture_output=True).returncode != 0
        ):
            pytest.skip("root ignores file modes, and this file system has no immutable flag")
        undo = ["chattr", "-i", str(database)]
    else:
        database.chmod(0o400)
        undo = ["chmod", "600", str(database)]
    try:
        _reads_work_and_writes_say_read_only(run, home, tmp_path)
    finally:
        subprocess.run(undo, check=True)


def test_a_damaged_database_is_named_with_what_to_do(run, configure, home):
    configure(env={"AMP_DEST_HOME": str(home)})
    database = home / "amp-destinations.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 500)
    result = run("runs", "list")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(database) in line and "not a database" in line and "move it aside" in line


def test_an_unwritable_home_is_named_with_what_to_do(run, small_disk):
    small_disk.mount("64k")
    small_disk.remount("ro")
    home = small_disk.path / "home"
    result = run("destinations", "list", env={"AMP_DEST_HOME": str(home)})
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(home) in line and "read-only" in line and "AMP_DEST_HOME" in line
