"""The embedded SQLite database: credentials (non-secret fields), destinations, runs and
the delivery ledger.

It lives at ``$AMP_DEST_HOME/amp-destinations.sqlite3`` (default: the user's data
directory). The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS[i]``
takes version i to i+1, so a later release appends and never edits.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import orjson
import platformdirs

from ._errors import AlreadyExistsError, NotFoundError, StorageError
from ._local_failures import database_failure, os_cause
from ._private_files import make_private_dirs, open_private, prepare_private_database

__all__ = ["Store", "default_home", "HOME_ENV"]

HOME_ENV = "AMP_DEST_HOME"
DB_NAME = "amp-destinations.sqlite3"
# Space kept back beside the database so that a run stopped by a full disk can still
# record that it failed (SQLite needs a few pages of WAL for that): the file is given
# up when the disk is full, and written again at the next open with room for it.
RESERVE_NAME = "amp-destinations.reserve"
RESERVE_BYTES = 256 * 1024

T = TypeVar("T")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE credentials (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        fields TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE destinations (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        credential TEXT REFERENCES credentials(name),
        settings TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        destination TEXT NOT NULL,
        destination_type TEXT NOT NULL,
        input TEXT,
        format TEXT,
        dry_run INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        rows_read INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        pending INTEGER NOT NULL DEFAULT 0,
        rejects_path TEXT,
        output_path TEXT,
        error TEXT,
        pid INTEGER,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_by_destination ON runs(destination, id);
    -- Row ranges whose fate is settled (delivered or rejected). Written only after the
    -- remote system answered, so a resumed run skips exactly these rows.
    CREATE TABLE ledger (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        first_row INTEGER NOT NULL,
        last_row INTEGER NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX ledger_by_run ON ledger(run_id, first_row);
    -- Rejected rows: the rejects file is written from here, so a resumed run rewrites
    -- it exactly. No raw values: a record id, a reason code, a field and a message.
    CREATE TABLE rejects (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        record_id TEXT,
        code TEXT NOT NULL,
        field TEXT,
        message TEXT NOT NULL
    );
    CREATE INDEX rejects_by_run ON rejects(run_id, row);
    """,
    """
    -- One row per attempt of a run (the first send and each resume), updated with every
    -- batch recorded, so that a run's summary adds up its attempts even after a kill -9.
    CREATE TABLE run_attempts (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        pid INTEGER,
        started_at REAL NOT NULL,
        last_seen_at REAL NOT NULL,
        ended_at REAL,
        status TEXT,
        error TEXT,
        rows_read INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        batches INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0,
        retries INTEGER NOT NULL DEFAULT 0,
        warnings TEXT NOT NULL DEFAULT '{}',
        -- rows prepared and identifier coverage counts, recorded when the attempt ends
        prepared INTEGER NOT NULL DEFAULT 0,
        coverage TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, attempt)
    );
    """,
    """
    -- What an authorization said about the account a credential acts for (advertiser
    -- ids, granted scopes): JSON, never a secret (those live in the keyring).
    ALTER TABLE credentials ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';
    """,
    """
    -- Prepared rows by how many match keys (declared identifiers) each carries, bucketed
    -- "0", "1", "2", "3+", recorded when the attempt ends: JSON.
    ALTER TABLE run_attempts ADD COLUMN match_keys TEXT NOT NULL DEFAULT '{}';
    """,
    """
    -- What a run was for: "send", "dry_run" (nothing sent) or "validation" (the input
    -- prepared locally, a sample sent as test events).
    ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'send';
    UPDATE runs SET kind = 'dry_run' WHERE dry_run = 1;
    """,
    """
    -- The sent-events index (see _sent_index): per configured destination, a 16-byte
    -- digest of the idempotency key of each item delivered, never the key itself, with
    -- when it was sent (Unix seconds). A batch's digests are appended to sent_journal,
    -- one row per batch, in the transaction that records the batch delivered; they are
    -- merged into sent_keys, sorted, when a run starts and ends.
    CREATE TABLE sent_indexes (
        id INTEGER PRIMARY KEY,
        destination TEXT NOT NULL UNIQUE,
        pruned_at REAL NOT NULL DEFAULT 0
    );
    CREATE TABLE sent_keys (
        index_id INTEGER NOT NULL REFERENCES sent_indexes(id) ON DELETE CASCADE,
        digest BLOB NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (index_id, digest)
    ) WITHOUT ROWID;
    CREATE TABLE sent_journal (
        index_id INTEGER NOT NULL REFERENCES sent_indexes(id) ON DELETE CASCADE,
        sent_at INTEGER NOT NULL,
        digests BLOB NOT NULL
    );
    -- Rows a run skipped because their item was delivered before (ledger outcome
    -- "already_sent"), and rows re-sent anyway (--resend) by each attempt.
    ALTER TABLE runs ADD COLUMN already_sent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE run_attempts ADD COLUMN already_sent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE run_attempts ADD COLUMN resent INTEGER NOT NULL DEFAULT 0;
    """,
    """
    -- A run sent from Spark: one row per partition of the DataFrame, the latest delivery
    -- of it, keyed by its Spark partition id. ``fingerprint`` (its row count and a hash
    -- of its rows) lets a re-run of the job skip a committed partition whose rows are
    -- the same; ``detail`` holds its figures (JSON, no raw value). Its rejects carry the
    -- partition id, their row numbers counting from 1 within it.
    CREATE TABLE run_partitions (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        partition_id INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        fingerprint TEXT,
        rows_read INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        pending INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, partition_id)
    );
    ALTER TABLE rejects ADD COLUMN partition_id INTEGER;
    """,
    """
    -- The sent-events index in segments (see _sent_segments): sorted runs of 20-byte
    -- records (a digest and when it was sent) in chunks, whose id is the segment's
    -- times 2**32 plus the first 4 bytes of the chunk's first digest; a segment keeps
    -- those prefixes (``fences``, 4 bytes each, big-endian) and its Bloom filter
    -- (little-endian 64-bit words). ``sent_indexes.version`` is one more each time its
    -- segments change. The keys of sent_keys go back to the journal, a row each, for
    -- the next merge to put in a segment.
    CREATE TABLE sent_segments (
        id INTEGER PRIMARY KEY,
        index_id INTEGER NOT NULL REFERENCES sent_indexes(id) ON DELETE CASCADE,
        keys INTEGER NOT NULL,
        oldest INTEGER NOT NULL,
        newest INTEGER NOT NULL,
        fences BLOB NOT NULL,
        filter BLOB NOT NULL
    );
    CREATE INDEX sent_segments_by_index ON sent_segments(index_id);
    CREATE TABLE sent_chunks (id INTEGER PRIMARY KEY, records BLOB NOT NULL);
    ALTER TABLE sent_indexes ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    INSERT INTO sent_journal (index_id, sent_at, digests)
        SELECT index_id, sent_at, digest FROM sent_keys ORDER BY index_id, sent_at;
    DROP TABLE sent_keys;
    """,
]

RUN_COLUMNS = (
    "id",
    "destination",
    "destination_type",
    "input",
    "format",
    "dry_run",
    "kind",
    "status",
    "started_at",
    "ended_at",
    "rows_read",
    "delivered",
    "rejected",
    "already_sent",
    "pending",
    "rejects_path",
    "output_path",
    "error",
    "pid",
    "summary",
)


def default_home() -> Path:
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("amp-destinations", appauthor=False))


def peek_names(home: str | os.PathLike, table: str) -> list[str]:
    """The names in ``table`` ("credentials", "destinations"; "runs" gives ids), read
    without creating or changing anything, for shell completion; [] when unreadable."""
    column = {"credentials": "name", "destinations": "name", "runs": "id"}[table]
    path = Path(home) / DB_NAME
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
        try:
            rows = db.execute(f"SELECT {column} FROM {table} ORDER BY {column}").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
    return [str(row[0]) for row in rows]


def _now() -> float:
    return time.time()


class _Connection(sqlite3.Connection):
    """A connection whose statements fail as a ``StorageError`` naming the file."""

    path: Path

    def execute(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().execute(*args)
        except sqlite3.Error as exc:
            _raise_failure(self.path, exc)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().executemany(*args)
        except sqlite3.Error as exc:
            _raise_failure(self.path, exc)


def _raise_failure(path: Path, exc: sqlite3.Error) -> NoReturn:
    failure = database_failure(path, exc)
    if failure is None:
        raise exc
    raise failure from None


class Store:
    """The database of one home. On a read-only file or file system it opens for
    reading (``read_only``), so that listing runs and destinations still works."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home) if home is not None else default_home()
        self.path = self.home / DB_NAME
        self._reserve = self.home / RESERVE_NAME
        try:
            make_private_dirs(self.home)
        except OSError as exc:
            raise StorageError(
                f"cannot create the amp-destinations home {self.home}: {os_cause(exc)}; "
                f"set {HOME_ENV} to a writable folder",
                kind="path",
            ) from None
        prepare_private_database(self.path)
        self.db = self._open()
        self.read_only = not (os.access(self.path, os.W_OK) and os.access(self.home, os.W_OK))
        self._migrate()
        if not self.read_only:
            self._keep_reserve()

    def _connect(self, target: str, uri: bool = False) -> _Connection:
        try:
            db = sqlite3.connect(
                target, uri=uri, isolation_level=None, check_same_thread=False, factory=_Connection
            )
        except sqlite3.Error as exc:
            _raise_failure(self.path, exc)
        db.path = self.path
        db.row_factory = sqlite3.Row
        return db

    def _open(self) -> _Connection:
        db = self._connect(str(self.path))
        try:
            db.execute("PRAGMA journal_mode=WAL")
        except StorageError:
            db.close()
            if not self.path.is_file() or self.path.with_name(DB_NAME + "-wal").exists():
                raise
            # A read-only file system and a database closed cleanly (no WAL left): SQLite
            # cannot create the shared-memory file that WAL mode reads through, but
            # nothing can change the file either, so it is read as immutable.
            db = self._connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True)
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            return db
        # NORMAL in WAL mode: a committed ledger entry survives a killed process.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _keep_reserve(self) -> None:
        if self._reserve.exists():
            return
        try:
            with open_private(self._reserve, "wb") as file:
                file.write(bytes(RESERVE_BYTES))
        except OSError:  # no room for it now: the next open tries again
            self._reserve.unlink(missing_ok=True)

    def despite_full_disk(self, write: Callable[[], T]) -> T:
        """``write()``; when the disk is full, give up the reserved space and try once
        more. For recording how a run ended, which must not fail for want of space."""
        try:
            return write()
        except StorageError as exc:
            if exc.kind != "full" or not self._reserve.exists():
                raise
            self._reserve.unlink(missing_ok=True)
            return write()

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StorageError(
                f"{self.path} was written by a newer amp-destinations (schema {version}); "
                "upgrade amp-destinations",
                kind="version",
            )
        if self.read_only:  # read as it is: the readers cope with an older schema
            return
        for index in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[index]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {index + 1}")

    def transaction(self):
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()

    def exists(self, table: str, name: str) -> bool:
        assert table in ("credentials", "destinations")
        row = self.db.execute(f"SELECT 1 FROM {table} WHERE name = ?", (name,)).fetchone()
        return row is not None

    def refuse_taken(self, kind: str, name: str) -> None:
        """AlreadyExistsError when the credential or destination (``kind``) ``name`` exists."""
        if self.exists(f"{kind}s", name):
            raise AlreadyExistsError(f"a {kind} named {name!r} exists", kind, name)

    # credentials ------------------------------------------------------------------

    def insert_credential(
        self, name: str, type_name: str, fields: dict, facts: dict | None = None
    ) -> None:
        now = _now()
        try:
            self.db.execute(
                "INSERT INTO credentials (name, type, fields, facts, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, type_name, _dumps(fields), _dumps(facts or {}), now, now),
            )
        except sqlite3.IntegrityError:
            raise AlreadyExistsError(
                f"a credential named {name!r} exists", "credential", name
            ) from None

    def update_credential(self, name: str, fields: dict, facts: dict | None = None) -> None:
        """Replace the credential's fields, and its facts when given (None keeps them)."""
        if facts is None:
            self.db.execute(
                "UPDATE credentials SET fields = ?, updated_at = ? WHERE name = ?",
                (_dumps(fields), _now(), name),
            )
        else:
            self.db.execute(
                "UPDATE credentials SET fields = ?, facts = ?, updated_at = ? WHERE name = ?",
                (_dumps(fields), _dumps(facts), _now(), name),
            )

    def credential(self, name: str) -> dict:
        row = self.db.execute("SELECT * FROM credentials WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no credential named {name!r}", "credential", name)
        return _credential_dict(row)

    def credentials(self) -> list[dict]:
        rows = self.db.execute("SELECT * FROM credentials ORDER BY name").fetchall()
        return [_credential_dict(row) for row in rows]

    def delete_credential(self, name: str) -> None:
        users = [
            row[0]
            for row in self.db.execute(
                "SELECT name FROM destinations WHERE credential = ? ORDER BY name", (name,)
            )
        ]
        if users:
            raise AlreadyExistsError(
                f"credential {name!r} is used by destination(s) {', '.join(users)}; "
                "remove or update them first"
            )
        self.db.execute("DELETE FROM credentials WHERE name = ?", (name,))

    # destinations -----------------------------------------------------------------

    def insert_destination(
        self, name: str, type_name: str, credential: str | None, settings: dict
    ) -> None:
        now = _now()
        try:
            self.db.execute(
                "INSERT INTO destinations VALUES (?, ?, ?, ?, ?, ?)",
                (name, type_name, credential, _dumps(settings), now, now),
            )
        except sqlite3.IntegrityError:
            raise AlreadyExistsError(
                f"a destination named {name!r} exists", "destination", name
            ) from None

    def update_destination(self, name: str, credential: str | None, settings: dict) -> None:
        self.db.execute(
            "UPDATE destinations SET credential = ?, settings = ?, updated_at = ? WHERE name = ?",
            (credential, _dumps(settings), _now(), name),
        )

    def destination(self, name: str) -> dict:
        row = self.db.execute("SELECT * FROM destinations WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no destination named {name!r}", "destination", name)
        return _destination_dict(row)

    def destinations(self) -> list[dict]:
        rows = self.db.execute("SELECT * FROM destinations ORDER BY name").fetchall()
        return [_destination_dict(row) for row in rows]

    def delete_destination(self, name: str) -> None:
        self.destination(name)
        self.db.execute("DELETE FROM destinations WHERE name = ?", (name,))

    # runs -------------------------------------------------------------------------

    def insert_run(self, **values: Any) -> int:
        values.setdefault("started_at", _now())
        values.setdefault("status", "running")
        if "summary" in values:
            values["summary"] = _dumps(values["summary"])
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self.db.execute(
            f"INSERT INTO runs ({columns}) VALUES ({marks})", tuple(values.values())
        )
        run_id = cursor.lastrowid
        assert run_id is not None  # an INSERT into a table with a rowid always sets it
        return run_id

    def update_run(self, run_id: int, **values: Any) -> None:
        if "summary" in values:
            values["summary"] = _dumps(values["summary"])
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*values.values(), run_id))

    def run(self, run_id: int) -> dict:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run with id {run_id}", "run", str(run_id))
        return _run_dict(row)

    def runs(
        self, destination: str | None = None, limit: int = 20, kind: str | None = None
    ) -> list[dict]:
        conditions, values = [], []
        for column, wanted in (("destination", destination), ("kind", kind)):
            if wanted:
                conditions.append(f"{column} = ?")
                values.append(wanted)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        rows = self.db.execute(
            f"SELECT * FROM runs {where}ORDER BY id DESC LIMIT ?", (*values, limit)
        )
        return [_run_dict(row) for row in rows.fetchall()]

    def start_attempt(self, run_id: int, pid: int) -> int:
        """Record a new attempt of the run (the first send or a resume); its number."""
        now = _now()
        with self.transaction():
            row = self.db.execute(
                "SELECT COALESCE(MAX(attempt), 0) FROM run_attempts WHERE run_id = ?", (run_id,)
            ).fetchone()
            attempt = int(row[0]) + 1
            self.db.execute(
                "INSERT INTO run_attempts (run_id, attempt, pid, started_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, attempt, pid, now, now),
            )
        return attempt

    def update_attempt(self, run_id: int, attempt: int, **values: Any) -> None:
        values["last_seen_at"] = _now()
        for column in ("warnings", "coverage", "match_keys"):
            if column in values:
                values[column] = _dumps(values[column])
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.execute(
            f"UPDATE run_attempts SET {assignments} WHERE run_id = ? AND attempt = ?",
            (*values.values(), run_id, attempt),
        )

    def attempts(self, run_id: int) -> list[dict]:
        """The run's attempts, first first. An attempt whose process died shows as
        stopped, ended when it last recorded a batch."""
        if self.schema_version < 2:  # a read-only database from before attempts
            return []
        rows = self.db.execute(
            "SELECT * FROM run_attempts WHERE run_id = ? ORDER BY attempt", (run_id,)
        ).fetchall()
        return [_attempt_dict(row) for row in rows]

    # ledger -----------------------------------------------------------------------

    def add_ledger(self, run_id: int, ranges: Iterable[tuple[int, int, str]]) -> None:
        self.db.executemany(
            "INSERT INTO ledger VALUES (?, ?, ?, ?)",
            ((run_id, first, last, outcome) for first, last, outcome in ranges),
        )

    def add_rejects(
        self, run_id: int, rejects: Iterable[tuple], partition_id: int | None = None
    ) -> None:
        """``rejects`` holds (row, record id, code, field, message) tuples; a Spark
        run's are those of the partition ``partition_id``."""
        self.db.executemany(
            "INSERT INTO rejects (run_id, row, record_id, code, field, message, partition_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((run_id, *reject, partition_id) for reject in rejects),
        )

    def rejects(self, run_id: int) -> list[tuple]:
        rows = self.db.execute(
            "SELECT row, record_id, code, field, message FROM rejects WHERE run_id = ? "
            "ORDER BY row",
            (run_id,),
        )
        return [tuple(row) for row in rows.fetchall()]

    def partition_rejects(self, run_id: int) -> list[tuple]:
        """A Spark run's rejects as (partition, row, record id, code, field, message)."""
        rows = self.db.execute(
            "SELECT partition_id, row, record_id, code, field, message FROM rejects "
            "WHERE run_id = ? ORDER BY partition_id, row",
            (run_id,),
        )
        return [tuple(row) for row in rows.fetchall()]

    def reject_counts(self, run_id: int) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT code, COUNT(*) FROM rejects WHERE run_id = ? GROUP BY code ORDER BY code",
            (run_id,),
        )
        return {code: count for code, count in rows.fetchall()}

    def settled_count(self, run_id: int, outcome: str) -> int:
        """The run's rows the ledger settled with ``outcome`` ("delivered", "already_sent")."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(last_row - first_row + 1), 0) FROM ledger "
            "WHERE run_id = ? AND outcome = ?",
            (run_id, outcome),
        ).fetchone()
        return int(row[0])

    def ledger(self, run_id: int) -> list[tuple[int, int, str]]:
        rows = self.db.execute(
            "SELECT first_row, last_row, outcome FROM ledger WHERE run_id = ? ORDER BY first_row",
            (run_id,),
        )
        return [tuple(row) for row in rows.fetchall()]

    # partitions of a run sent from Spark ------------------------------------------

    def put_partition(self, run_id: int, partition_id: int, **values: Any) -> None:
        """Record the latest delivery of one partition, replacing an earlier one and
        its rejects (the rows it settled are settled again by this one)."""
        values["detail"] = _dumps(values.get("detail", {}))
        self.db.execute(
            "DELETE FROM rejects WHERE run_id = ? AND partition_id = ?", (run_id, partition_id)
        )
        columns = ", ".join(["run_id", "partition_id", *values])
        marks = ", ".join("?" for _ in range(len(values) + 2))
        self.db.execute(
            f"INSERT OR REPLACE INTO run_partitions ({columns}) VALUES ({marks})",
            (run_id, partition_id, *values.values()),
        )

    def partitions(self, run_id: int) -> list[dict]:
        """A Spark run's partitions, by partition id; [] for any other run."""
        if not _has_table(self.db, "run_partitions"):
            return []  # a read-only database from before Spark runs
        rows = self.db.execute(
            "SELECT * FROM run_partitions WHERE run_id = ? ORDER BY partition_id", (run_id,)
        ).fetchall()
        return [{**dict(row), "detail": orjson.loads(row["detail"])} for row in rows]


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
            except StorageError:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")
        return False


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _credential_dict(row: sqlite3.Row) -> dict:
    return {
        "name": row["name"],
        "type": row["type"],
        "fields": orjson.loads(row["fields"]),
        # A read-only database from before facts has no such column. (``in row`` would
        # look among the values: a sqlite3.Row iterates over them.)
        "facts": orjson.loads(row["facts"]) if "facts" in row.keys() else {},  # noqa: SIM118
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _destination_dict(row: sqlite3.Row) -> dict:
    return {
        "name": row["name"],
        "type": row["type"],
        "credential": row["credential"],
        "settings": orjson.loads(row["settings"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def _attempt_dict(row: sqlite3.Row) -> dict:
    data = dict(row)
    data["warnings"] = orjson.loads(data["warnings"] or "{}")
    data["coverage"] = orjson.loads(data["coverage"] or "{}")
    # A database read as it is (read-only) from before schema 4 has no such column.
    data["match_keys"] = orjson.loads(data.get("match_keys") or "{}")
    data.setdefault("already_sent", 0)
    data.setdefault("resent", 0)
    if data["status"] is None:
        if _process_alive(data["pid"]):
            data["status"] = "running"
        else:
            data["status"] = "stopped"
            data["ended_at"] = data["last_seen_at"]
    return data


def _run_dict(row: sqlite3.Row) -> dict:
    names = row.keys()
    data = {column: row[column] for column in RUN_COLUMNS if column in names}
    data["dry_run"] = bool(data["dry_run"])
    data.setdefault("already_sent", 0)  # a read-only database from before the index
    # A read-only database from before run kinds has no such column (see _credential_dict).
    data.setdefault("kind", "dry_run" if data["dry_run"] else "send")
    if data["status"] == "running" and not _process_alive(data["pid"]):
        # The sending process died without recording an end (kill -9, power loss):
        # its ledger is intact and --resume continues it.
        data["status"] = "stopped"
        data["error"] = data["error"] or "the sending process ended without finishing the run"
    data["summary"] = orjson.loads(data["summary"] or "{}")
    return data
