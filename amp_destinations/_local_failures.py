"""The local machine failing, said in one line: a full disk, a read-only file system,
a damaged database, a path that is a folder. Turns ``OSError`` and ``sqlite3.Error``
into ``StorageError`` messages that name the path, the cause and what to do."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from ._errors import StorageError

__all__ = ["database_failure", "file_failure", "os_cause"]

_OS_CAUSES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "it is a directory",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.ENOENT: "its folder does not exist",
    errno.EIO: "an input/output error (a failing disk?)",
}

_DO_ABOUT = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space",
    errno.EROFS: "choose a writable location",
    errno.EACCES: "fix its permissions or choose a writable location",
    errno.EPERM: "fix its permissions or choose a writable location",
    errno.EISDIR: "name a file, not a folder",
    errno.ENOTDIR: "check the path",
    errno.ENOENT: "create the folder or check the path",
    errno.EIO: "check the disk",
}


_OS_KINDS = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "read-only",
    errno.EACCES: "read-only",
    errno.EPERM: "read-only",
}


def os_cause(exc: OSError) -> str:
    return _OS_CAUSES.get(exc.errno or 0) or (exc.strerror or type(exc).__name__).lower()


def file_failure(what: str, path: str | Path, exc: OSError) -> StorageError:
    """``what`` names the file ("the rejects file"); the caller adds how to go on."""
    advice = _DO_ABOUT.get(exc.errno or 0, "check the path")
    return StorageError(
        f"cannot write {what} {path}: {os_cause(exc)}; {advice}",
        kind=_OS_KINDS.get(exc.errno or 0, "path"),
    )


_DAMAGED = "restore it from a backup, or move it aside to start afresh"
_LOCKED = "wait for that process to finish, then try again"
# SQLite's primary result code -> (kind, cause, what to do)
_SQLITE_CAUSES = {
    "SQLITE_FULL": ("full", "no space left on its disk", "free some space"),
    "SQLITE_READONLY": (
        "read-only",
        "it is read-only",
        "make it and its folder writable, or set AMP_DEST_HOME to a writable "
        "folder (read-only commands such as `runs list` still work)",
    ),
    "SQLITE_CANTOPEN": (
        "path",
        "it cannot be opened or created",
        "check that its folder exists and is writable, or set AMP_DEST_HOME",
    ),
    "SQLITE_NOTADB": ("damaged", "it is not a database (damaged or overwritten)", _DAMAGED),
    "SQLITE_CORRUPT": ("damaged", "it is damaged", _DAMAGED),
    "SQLITE_IOERR": ("other", "an input/output error (a failing or full disk?)", "check the disk"),
    "SQLITE_BUSY": ("locked", "another amp-dest process holds it locked", _LOCKED),
    "SQLITE_LOCKED": ("locked", "another amp-dest process holds it locked", _LOCKED),
    "SQLITE_PERM": ("read-only", "permission denied", "fix its permissions, or set AMP_DEST_HOME"),
}


def database_failure(path: Path, exc: sqlite3.Error) -> StorageError | None:
    """The StorageError for a failure of the machine; None for any other error (a
    mistake in a statement is a bug, and must not pass for a disk problem)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    primary = "_".join(name.split("_", 2)[:2])  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
    if primary not in _SQLITE_CAUSES:
        return None
    kind, cause, advice = _SQLITE_CAUSES[primary]
    return StorageError(f"the database {path} failed: {cause}; {advice}", kind=kind)
