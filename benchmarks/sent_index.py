"""The sent-events index at size: bytes per key on disk, the cost of each stage, and
memory, for an index that grows to 10,000,000 keys.

    .venv/bin/python benchmarks/sent_index.py [--keys 10000000] [--runs 10] [--json]

The keys arrive as ``--runs`` runs would deliver them: each run journals its share in
batches of 1,000 (one transaction each, as a run commits a batch), then merges the
journal into the index, as a run does when it ends. After each run, 50 batches of
1,000 keys it did not send are looked up, as the next run's batches would be, and 10
batches of keys it did send (a file sent twice). At the end: the database file's size
after a checkpoint (bytes per key), one rewrite of every segment into one (what the
daily prune costs at worst), and this process's peak memory (VmHWM).

It runs in a temporary home, through the host's own ``SentIndex``, in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from amp_destinations._sent_gate import key_digest
from amp_destinations._sent_index import SentIndex, forget
from amp_destinations._sent_segments import listed
from amp_destinations._store import DB_NAME, Store

BATCH = 1000  # keys a batch journals, and a batch looks up
LOOKUPS = 50  # batches of new keys looked up after each run
REPEATS = 10  # batches of keys it sent
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
            repeated = [
                key_digest(("7100000000000000001", "CompletePayment", f"order-{n}"))
                for n in range(max(0, sent - REPEATS * BATCH), sent)
            ]
            looked = time.perf_counter()
            for start in range(0, len(unsent), BATCH):
                assert not index.sent(unsent[start : start + BATCH])
            done = time.perf_counter()
            for start in range(0, len(repeated), BATCH):
                batch = repeated[start : start + BATCH]
                assert len(index.sent(batch)) == len(batch)
            repeats_done = time.perf_counter()
            results["runs"].append(
                {
                    "index_keys_after": sent,
                    "segments": len(listed(store.db, index.id)),
                    "journal_us_per_key": (journaled - started) / per_run * 1e6,
                    "merge_us_per_key": (merged - journaled) / per_run * 1e6,
                    "lookup_us_per_key": (done - looked) / len(unsent) * 1e6,
                    "lookup_sent_us_per_key": (repeats_done - done) / len(repeated) * 1e6,
                    "peak_mb": peak_mb(),
                }
            )
            if not args.json:
                r = results["runs"][-1]
                print(
                    f"after run {run + 1}: {sent:,} keys in {r['segments']} segments; per "
                    f"key: digest+journal {r['journal_us_per_key']:.2f} us, merge "
                    f"{r['merge_us_per_key']:.2f} us, lookup {r['lookup_us_per_key']:.2f} us "
                    f"(of a key sent: {r['lookup_sent_us_per_key']:.2f} us); peak memory "
                    f"{r['peak_mb']:.1f} MB",
                    flush=True,
                )
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(Path(home) / DB_NAME)
        page_size = store.db.execute("PRAGMA page_size").fetchone()[0]
        free = store.db.execute("PRAGMA freelist_count").fetchone()[0] * page_size
        started = time.perf_counter()
        assert forget(store, "bench", before=0) == 0  # every segment rewritten as one
        results["rewrite_seconds"] = time.perf_counter() - started
        store.close()
    results["database_bytes"] = size
    results["bytes_per_key"] = size / results["keys"]
    # Pages freed by segments merged away: reused by the next merges, not returned.
    results["free_bytes"] = free
    results["bytes_per_key_in_use"] = (size - free) / results["keys"]
    results["peak_mb"] = peak_mb()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{results['keys']:,} keys: database {size / 1e6:,.1f} MB, "
            f"{results['bytes_per_key']:.1f} bytes per key ({results['bytes_per_key_in_use']:.1f} "
            "in pages in use); every segment rewritten as one "
            f"in {results['rewrite_seconds']:.2f} s; peak memory {results['peak_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
