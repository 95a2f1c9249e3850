"""The built-in input formats, registered through the same hook as any plugin's:
CSV, TSV, JSON Lines and Parquet, each optionally gzip-compressed (``.gz``). Each is
imported when a run reads its format."""

from amp_destinations import hookimpl

__all__ = ["register_readers"]

_READERS = {
    "csv": "amp_destinations.builtins._csv:CsvReader",
    "tsv": "amp_destinations.builtins._csv:TsvReader",
    "jsonl": "amp_destinations.builtins._jsonl:JsonlReader",
    "parquet": "amp_destinations.builtins._parquet:ParquetReader",
}


@hookimpl
def register_readers(register):
    for name, path in _READERS.items():
        register(name, path)
