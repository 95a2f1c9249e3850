"""The sent-events index at size: bytes per key on disk, the cost of each stage, and
memory, for an index that grows to 10,000,000 keys.

    .venv/bin/python benchmarks/sent_index.py [--keys 10000000] [--runs 10] [--json]

The keys arrive as ``--runs`` runs would deliver them: each run journals its share in
batches of 1,000 (one transaction each, as a run commits a batch), then merges the
journal into the index, as a run does when it ends. After each run, 50 batches of
1,000 keys it did not send are looked up, as the next run's batches would be. At the end: the
database file's size after a checkpoint (bytes per key), one prune scan over every
key, and this process's peak memory (VmHWM), which stays flat: nothing holds the keys.

It runs in a temporary home, through the host's own ``SentIndex``, in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from amp_destinations._sent_index import SentIndex, key_digest
from amp_destinations._store import DB_NAME, Store

BATCH = 1000  # keys a batch journals, and a batch looks up
LOOKUPS = 50  # batches looked up after each run
WINDOW = 28 * 86400 + 300


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    per_run = args.keys // args.runs
    results: dict = {"keys": per_run * args.runs, "runs": []}
    with tempfile.TemporaryDirectory(prefix="amp-dest-index-") as home:
        store = Store(home)
        index = SentIndex(store, "bench", WINDOW)
        sent = 0
        for run in range(args.runs):
            started = time.perf_counter()
            for first in range(sent, sent + per_run, BATCH):
                digests = [
                    key_digest(("7100000000000000001", "CompletePayment", f"order-{n}"))
                    for n in range(first, min(first + BATCH, sent + per_run))
                ]
                with store.transaction():
                    index.journal(digests)
            journaled = time.perf_counter()
            index.merge()
            merged = time.perf_counter()
            sent += per_run
            unsent = [
                key_digest(("7100000000000000001", "CompletePayment", f"new-{run}-{n}"))
                for n in range(LOOKUPS * BATCH)
            ]
            looked = time.perf_counter()
            for start in range(0, len(unsent), BATCH):
                assert not index.sent(unsent[start : start + BATCH])
            done = time.perf_counter()
            results["runs"].append(
                {
                    "index_keys_after": sent,
                    "journal_us_per_key": (journaled - started) / per_run * 1e6,
                    "merge_us_per_key": (merged - journaled) / per_run * 1e6,
                    "lookup_us_per_key": (done - looked) / len(unsent) * 1e6,
                }
            )
            if not args.json:
                r = results["runs"][-1]
                print(
                    f"after run {run + 1}: {sent:,} keys; per key: digest+journal "
                    f"{r['journal_us_per_key']:.2f} us, merge {r['merge_us_per_key']:.2f} us, "
                    f"lookup {r['lookup_us_per_key']:.2f} us",
                    flush=True,
                )
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(Path(home) / DB_NAME)
        started = time.perf_counter()
        with store.transaction():  # a prune that finds nothing to delete still scans
            store.db.execute(
                "DELETE FROM sent_keys WHERE index_id = ? AND sent_at < ?", (index.id, 0)
            )
        results["prune_scan_seconds"] = time.perf_counter() - started
        store.close()
    results["database_bytes"] = size
    results["bytes_per_key"] = size / results["keys"]
    results["peak_mb"] = peak_mb()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{results['keys']:,} keys: database {size / 1e6:,.1f} MB, "
            f"{results['bytes_per_key']:.1f} bytes per key; prune scan "
            f"{results['prune_scan_seconds']:.2f} s; peak memory {results['peak_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
