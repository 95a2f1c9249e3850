"""Files only their owner may read: the database, rejects files, dry-run request bodies.

They hold configuration, record ids and the exact bodies a destination would send
(PII before hashing, for some destinations), so they are created 0600 in folders
created 0700, whatever the umask. ``os.open`` gives the mode at creation, so there is
no moment when another user could open the file; folders are chmodded after
``mkdir`` because the umask may have taken bits away. A file or folder that already
exists and is ours is tightened (an older release left 0644 files behind); one that
belongs to someone else is left as it is, since only its owner may chmod it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

__all__ = ["make_private_dirs", "open_private", "write_private_bytes", "prepare_private_database"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dirs(path: Path) -> None:
    """``mkdir -p`` where every folder it creates is 0700. Folders that exist are left
    alone: the operator may keep runs under a shared folder on purpose."""
    missing = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile: not ours to chmod
            continue
        os.chmod(folder, DIR_MODE)


def _tighten(fd: int) -> None:
    if os.name == "nt":  # no such mode bits: the profile folder's ACLs keep files private
        return
    info = os.fstat(fd)
    # Regular files only: a rejects path may be /dev/full or a FIFO, not ours to chmod.
    if (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.geteuid()
        and stat.S_IMODE(info.st_mode) & 0o077
    ):
        os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~0o077)


def _open_fd(path: Path, flags: int) -> int:
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        _tighten(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for writing ("w", "a", "wb", "ab"), the file 0600."""
    flags = os.O_WRONLY | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    # Windows only: without O_BINARY the descriptor itself would turn \n into \r\n,
    # under whatever newline handling ``mode`` asks for.
    flags |= getattr(os, "O_BINARY", 0)
    return os.fdopen(_open_fd(path, flags), mode, **kwargs)


def write_private_bytes(path: Path, data: bytes) -> None:
    with open_private(path, "wb") as file:
        file.write(data)


def prepare_private_database(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite opens it. SQLite gives the -wal and
    -shm files it creates the database file's mode, so they follow; any left over by
    an older release (after a crash) are tightened here. A file that cannot be opened
    is skipped: SQLite then reports the problem in its own words, as before."""
    for candidate, flags in (
        (path, os.O_CREAT),
        (Path(f"{path}-wal"), 0),
        (Path(f"{path}-shm"), 0),
    ):
        try:
            fd = os.open(candidate, os.O_RDONLY | flags, FILE_MODE)
        except OSError:
            continue
        try:
            _tighten(fd)
        except OSError:  # a read-only file or file system: nobody can loosen it either
            pass
        finally:
            os.close(fd)
