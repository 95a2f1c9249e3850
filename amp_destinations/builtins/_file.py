"""The ``file`` destination: appends every record, as one JSON object per line, to a
local file. It is an audit sink and the smallest complete example of a destination:
a settings schema, a read-only connection test, ``prepare``, and ``deliver`` with its
failures classified.

Records are always appended, never overwritten: a resumed run, or a second run,
adds to what is there. Delete or rotate the file yourself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Hashable, Mapping
from typing import Any

import orjson
from marshmallow import Schema, fields, post_load, validate

from amp_destinations import (
    BatchOutcome,
    Check,
    ConnectionStatus,
    Destination,
    FailureType,
    RecordWarning,
)

__all__ = ["FileDestination", "FileSettings"]

# Running out of room is the machine's problem, not a wrong setting.
_SYSTEM_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO}


class FileSettings(Schema):
    path = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "The file to append to; created when missing. "
            "A relative path is taken from the current directory."
        },
    )

    @post_load
    def make_absolute(self, data: dict, **kwargs) -> dict:
        # Store where the file really is, so a later run from elsewhere writes there too.
        data["path"] = os.path.abspath(os.path.expanduser(data["path"]))
        return data


class FileDestination(Destination):
    """Appends records to a JSON Lines file."""

    name = "file"
    title = "JSONL file"
    credential_type = None
    settings_schema = FileSettings
    max_batch_size = 1000

    def __init__(self, settings: Mapping[str, Any], credential=None):
        super().__init__(settings, credential)
        self.path = self.settings["path"]
        # The host may deliver batches from several threads: one write at a time
        # keeps every line whole.
        self._write_lock = threading.Lock()

    def test_connection(self, session) -> ConnectionStatus:
        # Read-only: os.access asks the operating system without creating anything.
        name = "path writable"
        directory = os.path.dirname(self.path) or "."
        if os.path.isdir(self.path):
            return ConnectionStatus(
                [
                    Check.failed(
                        name,
                        f"{self.path} is a directory",
                        "set path to a file name inside it",
                        FailureType.CONFIG,
                    )
                ]
            )
        if not os.path.isdir(directory):
            return ConnectionStatus(
                [
                    Check.failed(
                        name,
                        f"the directory {directory} does not exist",
                        "create the directory, or fix path",
                        FailureType.CONFIG,
                    )
                ]
            )
        target = self.path if os.path.exists(self.path) else directory
        if not os.access(target, os.W_OK):
            return ConnectionStatus(
                [
                    Check.failed(
                        name,
                        f"{target} is not writable by this user",
                        "change its permissions, or choose another path",
                        FailureType.CONFIG,
                    )
                ]
            )
        return ConnectionStatus([Check.passed(name, f"records will be appended to {self.path}")])

    def prepare(self, row: Mapping[str, Any], warnings: list[RecordWarning]) -> dict:
        # An audit sink keeps the row exactly as read, empty values included.
        return row if type(row) is dict else dict(row)

    def encode_item(self, item: dict) -> bytes:
        # Parquet can hand over Decimal and bytes, which JSON lacks: write their text.
        return orjson.dumps(item, default=str)

    def batch_frame(self, key: Hashable) -> tuple[bytes, bytes, bytes]:
        # JSON Lines, not the default JSON array: every record ends with a newline.
        return b"", b"\n", b"\n"

    def deliver(self, batch, session) -> BatchOutcome:
        try:
            with self._write_lock:
                _append_durably(self.path, batch.body)
        except OSError as exc:
            failure = FailureType.SYSTEM if exc.errno in _SYSTEM_ERRNOS else FailureType.CONFIG
            reason = exc.strerror or type(exc).__name__
            return BatchOutcome.fatal(f"cannot write to {self.path}: {reason}", failure)
        return BatchOutcome.delivered()


def _append_durably(path: str, body: bytes) -> None:
    """Append all of ``body`` and fsync, or leave the file as it was.

    Once deliver returns, the host counts the rows as delivered, so they must be on
    disk; and a batch that failed half-way must not leave half a line behind for a
    resumed run to append after.
    """
    # O_BINARY exists on Windows only, where leaving it out would turn \n into \r\n.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o666)
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            remaining = memoryview(body)
            while remaining:
                remaining = remaining[os.write(fd, remaining) :]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):  # not every file can be truncated (/dev/full)
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)
