"""The files the host writes are its owner's alone: 0600 files in 0700 folders, whatever
the umask. Real files, modes read with os.stat."""

from __future__ import annotations

import os
import stat

import pytest

import amp_destinations as amp
from amp_destinations._private_files import make_private_dirs, open_private


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def loose_umask(request):
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def write_csv(path, count):
    lines = ["id,email"] + [
        f"E{i}," + ("" if i == 2 else f"u{i}@example.com") for i in range(1, count + 1)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_home_database_wal_and_shm_are_private(loose_umask, tmp_path, registry, script):
    home = tmp_path / "a" / "b" / "home"
    with amp.Host(home, registry=registry) as host:
        host.add_credential("cred", "echo-token", secrets={"token": "good"})
        db = host.store.path
        wal, shm = f"{db}-wal", f"{db}-shm"
        assert os.path.exists(wal) and os.path.exists(shm)  # open connection, after a write
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        for folder in (tmp_path / "a", tmp_path / "a" / "b", home):  # all created here
            assert mode(folder) == 0o700, folder


def test_an_existing_home_is_left_as_it_is_and_an_old_database_is_tightened(
    loose_umask, tmp_path, registry
):
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    db = home / "amp-destinations.sqlite3"
    amp.Host(home, registry=registry).close()
    os.chmod(db, 0o644)  # as an older release left it
    with amp.Host(home, registry=registry) as host:
        host.add_credential("cred", "echo-token", secrets={"token": "good"})
        assert mode(db) == 0o600
        assert mode(f"{db}-wal") == 0o600
    assert mode(home) == 0o755


def test_rejects_file_and_run_folder_are_private(loose_umask, ready_host, tmp_path):
    result = ready_host.send("rec", input=write_csv(tmp_path / "in.csv", 3))
    assert result.summary["rejected"] == 1
    rejects = ready_host.home / "runs" / str(result.id) / "rejects.csv"
    assert result.rejects_path == str(rejects)
    assert mode(rejects) == 0o600
    assert mode(rejects.parent) == 0o700 and mode(rejects.parent.parent) == 0o700


def test_a_rejects_path_the_operator_names_is_private(loose_umask, ready_host, tmp_path):
    named = tmp_path / "new" / "deeper" / "rejects.csv"
    ready_host.send("rec", input=write_csv(tmp_path / "in.csv", 3), rejects=named)
    assert mode(named) == 0o600
    assert mode(named.parent) == 0o700 and mode(named.parent.parent) == 0o700
    # An existing file is rewritten 0600 too: it now holds this run's rejects.
    existing = tmp_path / "old-rejects.csv"
    existing.write_text("stale\n")
    os.chmod(existing, 0o644)
    ready_host.send("rec", input=write_csv(tmp_path / "in.csv", 3), rejects=existing)
    assert mode(existing) == 0o600
    assert existing.read_text().startswith("row,record_id,code")


@pytest.mark.parametrize("named_output", [False, True])
def test_dry_run_request_bodies_are_private(loose_umask, ready_host, tmp_path, named_output):
    output = tmp_path / "out" / "bodies" if named_output else None
    result = ready_host.send(
        "rec", input=write_csv(tmp_path / "in.csv", 3), dry_run=True, output=output
    )
    folder = output or ready_host.home / "runs" / str(result.id) / "requests"
    assert str(folder) == result.output_path
    bodies = sorted(folder.iterdir())
    assert bodies and all(mode(body) == 0o600 for body in bodies)
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700


def test_helpers_leave_what_belongs_to_others_and_append_without_truncating(tmp_path):
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    make_private_dirs(existing / "mine")
    assert mode(existing) == 0o755 and mode(existing / "mine") == 0o700
    log = existing / "mine" / "log"
    with open_private(log, "a") as file:
        file.write("one\n")
    with open_private(log, "a") as file:
        file.write("two\n")
    assert log.read_text() == "one\ntwo\n" and mode(log) == 0o600
