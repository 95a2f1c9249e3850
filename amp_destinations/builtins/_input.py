"""What the built-in readers share: opening a file, gzip-compressed or not, with
errors an operator can act on, and closing it when iteration ends.

A reader opens its file, and reads the header when there is one, in ``__init__``: a
file that cannot be read at all fails there, before the host sends anything. A
reader is iterated once; the file is closed when iteration ends, stops early or
``close()`` is called.

No record may be longer than ``MAX_RECORD_BYTES``: a longer one is rejected unread
(``input.record_too_large``) and reading goes on with the next line, so one stray line
(a file without line breaks, a runaway quote) never holds the whole file in memory.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from amp_destinations import InputError, Reader, RecordError

__all__ = [
    "CHUNK_SIZE",
    "MAX_RECORD_BYTES",
    "FileReader",
    "binary_kind",
    "open_input",
    "read_failure",
    "record_too_large",
]

# Readers pull the file in blocks of this size: large enough for the C code to do
# the work, small enough to keep memory flat.
CHUNK_SIZE = 1 << 16

# The longest record a reader takes: 1 MiB, in bytes for JSON Lines and in characters
# for CSV and TSV (they are split after decoding). Far beyond any real customer record,
# and small enough that holding one costs nothing. A reader relies on a block being
# shorter than a record may be: only the line a block ends can outgrow the limit.
MAX_RECORD_BYTES = 1 << 20
assert CHUNK_SIZE < MAX_RECORD_BYTES

# What a file that is not text at all starts with, and what to do about it.
_BINARY_STARTS = (
    (b"\x1f\x8b", "it is gzip-compressed: add .gz to its name"),
    (b"PK\x03\x04", "it is a zip archive (an Excel workbook?): export the data as CSV"),
    (b"PAR1", "it is a Parquet file: use format='parquet'"),
    (codecs.BOM_UTF32_LE, "it is UTF-32 text: save it as UTF-8"),
    (codecs.BOM_UTF32_BE, "it is UTF-32 text: save it as UTF-8"),
    (codecs.BOM_UTF16_LE, "it is UTF-16 text: save it as UTF-8"),
    (codecs.BOM_UTF16_BE, "it is UTF-16 text: save it as UTF-8"),
)

# An open input file: both kinds can ``peek`` at what comes next without consuming it.
InputFile = io.BufferedReader | gzip.GzipFile

# What reading a damaged file raises, from the disk or from the gzip layer.
_READ_ERRORS = (OSError, EOFError, zlib.error)


def open_input(path: str) -> InputFile:
    """Open ``path`` for binary reading, through gzip when it ends in ``.gz``."""
    try:
        if not path.lower().endswith(".gz"):
            return open(path, "rb")
        file = gzip.open(path, "rb")  # noqa: SIM115 - returned open, closed by the reader
        try:
            file.peek(1)  # reads the gzip header: a plain file fails here, not mid-run
        except BaseException:
            file.close()
            raise
        return file
    except gzip.BadGzipFile:
        raise InputError(
            f"{path} ends in .gz but is not gzip-compressed: rename it without .gz, "
            "or compress it with gzip"
        ) from None
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory: pass the path of a file") from None
    except PermissionError:
        raise InputError(
            f"{path} cannot be read: permission denied; check the file's permissions"
        ) from None
    except _READ_ERRORS as exc:
        raise read_failure(path, exc) from exc


def read_failure(path: str, exc: BaseException) -> InputError:
    """The one-line error for a file that broke while being read."""
    if isinstance(exc, EOFError):
        return InputError(f"{path} ends early: its gzip data is cut short; copy or export it again")
    if isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        return InputError(f"{path} is damaged: its gzip data is corrupt; copy or export it again")
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return InputError(f"{path} could not be read: {reason}")


def record_too_large(line: int) -> RecordError:
    """The rejection of the record that starts on ``line`` and holds a line too long."""
    return RecordError(
        "input.record_too_large",
        None,
        f"the record on line {line} is longer than 1 MiB, the limit for one record",
    )


def _regular_file_size(descriptor: int) -> int | None:
    """The size of a regular file; None for a pipe or a device, whose end is not known."""
    status = os.fstat(descriptor)
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def binary_kind(start: bytes) -> str | None:
    """Why a file starting with these bytes cannot be text of any format, and what to
    do; None when nothing says so. NUL bytes are how UTF-16 without a byte-order mark
    shows (every other byte of ASCII text is NUL), and how most binary files do."""
    for magic, advice in _BINARY_STARTS:
        if start.startswith(magic):
            return advice
    if b"\x00" in start:
        return "it holds NUL bytes, so it looks like UTF-16 text or a binary file: save it as UTF-8"
    return None


class FileReader(Reader):
    """A reader over one file. Subclasses implement ``_records`` and, when something
    must be known before the first record (a header), ``_start``."""

    def __init__(self, path: str):
        super().__init__(path)
        self._size: int | None = None  # for progress(): None while unknown
        self._done_at_close: int | None = None
        self._file = open_input(path)
        try:
            self._size = _regular_file_size(self._file.fileno())
            self._start()
        except _READ_ERRORS as exc:
            self.close()
            raise read_failure(path, exc) from exc
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        pass

    def _records(self) -> Iterator[Mapping[str, Any] | RecordError]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Mapping[str, Any] | RecordError]:
        return self._reading(self._records())

    def _reading(self, records: Iterator) -> Iterator:
        """``records``, with read errors turned into one line and the file closed."""
        try:
            yield from records
        except _READ_ERRORS as exc:
            raise read_failure(self.path, exc) from exc
        finally:
            self.close()

    def progress(self) -> tuple[int, int] | None:
        """Bytes of the file read from the disk so far, of its size: where the file's
        descriptor stands, beneath any buffer and the gzip layer, so that a compressed
        file's progress is as exact as a plain one's."""
        if self._size is None:
            return None
        done = self._done_at_close
        if done is None:
            done = os.lseek(self._file.fileno(), 0, os.SEEK_CUR)
        return min(done, self._size), self._size

    def close(self) -> None:
        if self._done_at_close is None and self._size is not None and not self._file.closed:
            self._done_at_close = os.lseek(self._file.fileno(), 0, os.SEEK_CUR)
        self._file.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
