"""The built-in input formats, registered through the same hook as any plugin's:
CSV, TSV, JSON Lines and Parquet, each optionally gzip-compressed (``.gz``)."""

from __future__ import annotations

from amp_destinations import hookimpl

from ._csv import CsvReader, TsvReader
from ._jsonl import JsonlReader
from ._parquet import ParquetReader

__all__ = ["CsvReader", "TsvReader", "JsonlReader", "ParquetReader", "register_readers"]


@hookimpl
def register_readers(register):
    for reader in (CsvReader, TsvReader, JsonlReader, ParquetReader):
        register(reader)
