"""The same rows through Spark and through one process, to the TikTok emulator.

    .venv/bin/python benchmarks/spark_send.py [--rows 1000000] [--cores 2]
        [--partitions N] [--concurrency 24] [--json]

The input is send.py's CSV (``examples/make_events.py`` rows, 3.6% bad on purpose),
sent twice to one emulator process (reset in between, ``store_events`` off):

- one process: ``Host.send(input=CSV)`` in its own process pinned to core 0, as
  send.py measures it;
- Spark: ``amp_destinations.spark.send`` of ``spark.read.csv(CSV)`` (every column a
  string, as the CSV reader gives them), repartitioned into ``--partitions``
  (default: twice the cores), on ``local[--cores]``, which needs the ``[spark]`` extra
  and Java 17.

Events/s is rows read divided by the wall time of the send. For Spark the session is
started before the clock does, but reading the CSV, Spark's tasks and their Python
workers are inside it. Spark's workers share the machine's cores with the emulator,
unlike the pinned single process: on a machine with more cores, raise ``--cores``
to see how the Spark run scales. Nothing is asserted; everything talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import send as single  # the single-process benchmark's input, emulator and host

from amp_destinations._defaults import DEFAULT_CONCURRENCY


def spark_run(spec: dict, cores: int, partitions: int) -> dict:
    """Start ``local[cores]``, then time one Spark send of the CSV."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ[single.TOKEN_VARIABLE] = single.TOKEN  # before Spark starts: its workers inherit it
    from pyspark.sql import SparkSession

    from amp_destinations import spark as amp_spark

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("amp-destinations-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        with single.open_host(spec) as host:
            started = time.perf_counter()
            df = session.read.option("header", True).csv(spec["csv"]).repartition(partitions)
            result = amp_spark.send(
                df, single.DESTINATION, host=host, concurrency=spec["concurrency"]
            )
            seconds = time.perf_counter() - started
    finally:
        session.stop()
    summary = result.summary
    return {
        "status": str(result.status),
        "rows": summary["rows_read"],
        "delivered": summary["delivered"],
        "rejected": summary["rejected"],
        "pending": summary["pending"],
        "seconds": seconds,
        "events_per_second": summary["rows_read"] / seconds,
        "cores": cores,
        "partitions": len(summary["partitions"]),
    }


def report(results: dict) -> None:
    print(f"{results['rows']:,} rows from {results['csv']}")
    for label, r in (
        ("one process", results["single"]),
        (results["spark_label"], results["spark"]),
    ):
        print(
            f"{label:<24} {r['events_per_second']:>8,.0f} ev/s {r['seconds']:>6.1f} s  "
            f"delivered {r['delivered']:,} rejected {r['rejected']:,} pending {r['pending']} "
            f"({r['status']})  emulator accepted {r['emulator_accepted']:,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default 1,000,000)")
    parser.add_argument("--cores", type=int, default=2, help="Spark's local[N] (default 2)")
    parser.add_argument("--partitions", type=int, help="partitions (default: twice the cores)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight, for the whole Spark job too (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    partitions = args.partitions or 2 * args.cores

    csv_path = single.input_csv(args.rows)
    results: dict = {
        "date": date.today().isoformat(),
        "rows": args.rows,
        "csv": str(csv_path),
        "spark_label": f"spark local[{args.cores}], {partitions} partitions",
    }
    with (
        tempfile.TemporaryDirectory(prefix="amp-dest-bench-") as work,
        single.EmulatorProcess(Path(work)) as emulator,
    ):
        spec = {
            "csv": str(csv_path),
            "base_url": emulator.base_url,
            "concurrency": args.concurrency,
            # As shipped: the single process with its sent-events index (empty at first).
            "sent_index": "on",
        }
        emulator.reset()
        results["single"] = single.run_client("host", {**spec, "home": f"{work}/home-single"})
        results["single"]["emulator_accepted"] = emulator.accepted()
        emulator.reset()
        results["spark"] = spark_run({**spec, "home": f"{work}/home-spark"}, args.cores, partitions)
        results["spark"]["emulator_accepted"] = emulator.accepted()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)


if __name__ == "__main__":
    main()
