"""The SQLite store: versioned schema, and what it refuses."""

from __future__ import annotations

import sqlite3

import pytest

import amp_destinations as amp
from amp_destinations._store import MIGRATIONS, Store, _credential_dict, _run_dict


def test_a_new_database_is_at_the_latest_schema_version(tmp_path):
    store = Store(tmp_path)
    assert store.schema_version == len(MIGRATIONS)
    tables = {
        row[0] for row in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"credentials", "destinations", "runs", "ledger", "rejects"} <= tables
    store.close()


def test_reopening_keeps_the_data_and_migrates_nothing_twice(tmp_path):
    store = Store(tmp_path)
    store.insert_credential("cred", "echo-token", {"account": "acme"})
    store.close()
    again = Store(tmp_path)
    assert again.credential("cred")["fields"] == {"account": "acme"}
    again.close()


def test_a_database_from_a_newer_release_is_refused(tmp_path):
    Store(tmp_path).close()
    db = sqlite3.connect(tmp_path / "amp-destinations.sqlite3")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(amp.StorageError, match="newer amp-destinations"):
        Store(tmp_path)


def test_home_follows_the_environment(home):
    store = Store()
    assert store.path == home / "amp-destinations.sqlite3"
    store.close()


def test_names_are_unique_and_misses_say_where_to_look(tmp_path):
    store = Store(tmp_path)
    store.insert_destination("d", "file", None, {})
    with pytest.raises(amp.AlreadyExistsError, match="destination named 'd' exists") as taken:
        store.insert_destination("d", "file", None, {})
    assert (taken.value.kind, taken.value.name) == ("destination", "d")
    with pytest.raises(amp.NotFoundError, match="no run with id 42$") as missing:
        store.run(42)
    assert (missing.value.kind, missing.value.name) == ("run", "42")
    store.close()


def _database_at_version(path, version):
    db = sqlite3.connect(path / "amp-destinations.sqlite3")
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version}")
    return db


def test_credentials_stored_before_facts_get_empty_facts(tmp_path):
    db = _database_at_version(tmp_path, 2)
    db.execute("INSERT INTO credentials VALUES ('cred', 'echo-token', '{}', 1.0, 1.0)")
    db.commit()
    db.close()
    store = Store(tmp_path)
    assert store.credential("cred")["facts"] == {}
    store.update_credential("cred", {}, {"account_ids": ["a-1"]})
    assert store.credential("cred")["facts"] == {"account_ids": ["a-1"]}
    store.update_credential("cred", {"account": "x"})  # no facts given: they stay
    assert store.credential("cred")["facts"] == {"account_ids": ["a-1"]}
    store.close()


def test_a_database_read_as_it_is_before_facts_reads_empty_facts(tmp_path):
    """A read-only database is not migrated; its credentials have no facts column."""
    db = _database_at_version(tmp_path, 2)
    db.execute("INSERT INTO credentials VALUES ('cred', 'echo-token', '{}', 1.0, 1.0)")
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT * FROM credentials").fetchone()
    db.close()
    assert _credential_dict(row)["facts"] == {}


def test_attempts_recorded_before_match_keys_read_empty_figures(tmp_path):
    db = _database_at_version(tmp_path, 3)
    db.execute(
        "INSERT INTO runs (destination, destination_type, status, started_at) "
        "VALUES ('d', 'file', 'succeeded', 1.0)"
    )
    db.execute(
        "INSERT INTO run_attempts (run_id, attempt, started_at, last_seen_at, "
        "status) VALUES (1, 1, 1.0, 2.0, 'succeeded')"
    )
    db.commit()
    db.close()
    store = Store(tmp_path)
    assert store.attempts(1)[0]["match_keys"] == {}
    store.close()


def test_runs_recorded_before_kinds_are_sends_or_dry_runs(tmp_path):
    db = _database_at_version(tmp_path, 4)
    for dry_run in (0, 1):
        db.execute(
            "INSERT INTO runs (destination, destination_type, status, started_at, dry_run) "
            "VALUES ('d', 'file', 'succeeded', 1.0, ?)",
            (dry_run,),
        )
    db.commit()
    db.row_factory = sqlite3.Row
    unmigrated = [_run_dict(row)["kind"] for row in db.execute("SELECT * FROM runs")]
    db.close()
    assert unmigrated == ["send", "dry_run"]  # read-only: read as they were
    store = Store(tmp_path)
    assert [run["kind"] for run in store.runs()] == ["dry_run", "send"]
    assert [run["id"] for run in store.runs(kind="dry_run")] == [2]
    store.close()
