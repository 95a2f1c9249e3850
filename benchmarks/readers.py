"""Time each built-in reader over a generated file of 12 columns.

    python benchmarks/readers.py [--rows 200000] [--repeat 3]

Prints rows per second and microseconds per row for CSV, gzipped CSV, JSON Lines,
gzipped JSON Lines and, when pyarrow is installed, Parquet; for readers that also hand
rows over as value lists (CSV), ``values()`` too, which is how the host reads them. The
"csv module alone" line is the floor: the stdlib parser with no dicts, no checks. Best
of --repeat runs.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import os
import tempfile
import time

import orjson

import amp_destinations

COLUMNS = [
    "event_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "state",
    "zip",
    "country",
    "value",
    "currency",
    "event_time",
]


def sample_rows(count: int):
    for n in range(count):
        yield [
            f"ev-{n:08d}",
            f"user{n}@example.com",
            f"+1555{n % 10_000_000:07d}",
            "Zoë",
            "Smith",
            "Springfield",
            "IL",
            "62701",
            "US",
            f"{n % 100}.99",
            "USD",
            "2024-05-01T12:00:00Z",
        ]


def write_inputs(directory: str, count: int) -> dict[str, str]:
    paths = {
        name: os.path.join(directory, name)
        for name in ("events.csv", "events.csv.gz", "events.jsonl", "events.jsonl.gz")
    }
    with open(paths["events.csv"], "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(sample_rows(count))
    with open(paths["events.jsonl"], "wb") as out:
        for row in sample_rows(count):
            out.write(orjson.dumps(dict(zip(COLUMNS, row))) + b"\n")
    for plain in ("events.csv", "events.jsonl"):
        with open(paths[plain], "rb") as source, gzip.open(paths[plain + ".gz"], "wb", 6) as out:
            while block := source.read(1 << 20):
                out.write(block)
    if importlib.util.find_spec("pyarrow"):
        import pyarrow.csv
        import pyarrow.parquet

        table = pyarrow.csv.read_csv(
            paths["events.csv"],
            convert_options=pyarrow.csv.ConvertOptions(
                column_types={name: pyarrow.string() for name in COLUMNS}
            ),
        )
        paths["events.parquet"] = os.path.join(directory, "events.parquet")
        pyarrow.parquet.write_table(table, paths["events.parquet"])
    return paths


def best_time(run, repeat: int) -> tuple[float, int]:
    results = []
    for _ in range(repeat):
        started = time.perf_counter()
        count = run()
        results.append((time.perf_counter() - started, count))
    return min(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    registry = amp_destinations.load_plugins(entry_points=False)

    with tempfile.TemporaryDirectory() as directory:
        paths = write_inputs(directory, options.rows)

        def csv_module_alone() -> int:
            with open(paths["events.csv"], newline="", encoding="utf-8") as source:
                return sum(1 for _ in csv.reader(source)) - 1

        timings = {"csv module alone": best_time(csv_module_alone, options.repeat)}
        for name, path in paths.items():
            reader_class = registry.reader_for(path)

            def through_reader(path=path, reader_class=reader_class) -> int:
                return sum(1 for _ in reader_class(path))

            def through_values(path=path, reader_class=reader_class) -> int:
                return sum(1 for _ in reader_class(path).values())

            timings[name] = best_time(through_reader, options.repeat)
            # The host reads through values() when a reader has it (see _row_plan).
            if reader_class.values is not amp_destinations.Reader.values:
                timings[f"{name} values()"] = best_time(through_values, options.repeat)

    print(f"{options.rows:,} rows of {len(COLUMNS)} columns, best of {options.repeat}")
    for name, (seconds, count) in timings.items():
        assert count == options.rows, (name, count)
        print(f"  {name:27} {count / seconds:>12,.0f} rows/s {seconds / count * 1e6:8.2f} µs/row")


if __name__ == "__main__":
    main()
