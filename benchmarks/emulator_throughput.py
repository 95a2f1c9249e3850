"""How many full event/track/ requests the TikTok emulator answers a second on one core.

    python benchmarks/emulator_throughput.py [--seconds 5] [--threads 6] [--events 1000]
                                             [--store-events]

Starts the emulator command in its own process pinned to one core (when the OS allows
it), then sends valid offline batches with unique event ids from several client
threads, each with its own keep-alive httpx client, pinned to the other cores. Prints
requests/s, events/s and the server's CPU use. By default the server keeps counts and
dedup keys but not the events themselves (seed option ``store_events: false``), so its
memory stays flat; --store-events keeps them as tests do (about 0.5 KB per event).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import orjson

from tiktok_ads_events._constants import TRACK_PATH

ADVERTISER_ID = "7000000000000000001"
EVENT_SET_ID = "7100000000000000001"
TOKEN = "benchmark-token"
ID_PLACEHOLDER = b"REQ00000000"

# Pin before anything starts threads, then run the real command.
SERVER_BOOT = """
import os, runpy, sys
cpu = int(sys.argv.pop(1))
if cpu >= 0:
    os.sched_setaffinity(0, {cpu})
sys.argv[0] = "tiktok_ads_events.emulator"
runpy.run_module("tiktok_ads_events.emulator", run_name="__main__")
"""


def write_seed(directory: str, store_events: bool) -> str:
    seed = {
        "access_tokens": [{"token": TOKEN}],
        "advertisers": [
            {
                "advertiser_id": ADVERTISER_ID,
                "event_sets": [{"event_set_id": EVENT_SET_ID, "name": "Benchmark"}],
            }
        ],
        "options": {"store_events": store_events},
    }
    path = os.path.join(directory, "seed.json")
    with open(path, "w", encoding="utf-8") as out:
        json.dump(seed, out)
    return path


def body_template(count: int) -> bytes:
    """A valid batch whose event ids all start with ID_PLACEHOLDER, replaced per request."""
    event_time = int(time.time()) - 3600

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    events = [
        {
            "event": "Purchase",
            "event_time": event_time,
            "event_id": f"{ID_PLACEHOLDER.decode()}-{n:05d}",
            "user": {
                "email": digest(f"user{n}@example.com"),
                "phone": digest(f"+1555{n:07d}"),
                "external_id": digest(f"customer-{n}"),
            },
            "properties": {
                "currency": "USD",
                "value": 42.5,
                "order_id": f"order-{n}",
                "event_channel": "in_store",
                "contents": [{"content_id": "sku-1", "price": 21.25, "quantity": 2}],
            },
        }
        for n in range(count)
    ]
    return orjson.dumps(
        {
            "event_source": "offline",
            "event_source_id": EVENT_SET_ID,
            "partner_name": "AmpDestinations",
            "data": events,
        }
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux); 0 elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(seed_path: str, cpu: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER_BOOT, str(cpu), "--seed", seed_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = process.stdout.readline().strip()
    if not base_url:
        process.kill()
        raise SystemExit("the emulator did not start:\n" + process.stderr.read())
    return process, base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--store-events", action="store_true")
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[-1] if len(cpus) > 1 else -1
    template = body_template(args.events)

    with tempfile.TemporaryDirectory() as directory:
        process, base_url = start_server(write_seed(directory, args.store_events), server_cpu)
        if server_cpu >= 0:
            os.sched_setaffinity(0, set(cpus) - {server_cpu})
        sequence = iter(range(10**8))
        counts = {"ok": 0, "errors": 0}
        counting = threading.Event()
        stopping = threading.Event()
        lock = threading.Lock()

        def client_loop() -> None:
            headers = {"Access-Token": TOKEN, "Content-Type": "application/json"}
            with httpx.Client(base_url=base_url, timeout=30) as client:
                while not stopping.is_set():
                    with lock:
                        number = next(sequence)
                    body = template.replace(ID_PLACEHOLDER, f"R{number:010d}".encode())
                    answer = client.post(TRACK_PATH, content=body, headers=headers)
                    ok = answer.status_code == 200 and answer.json()["code"] == 0
                    if counting.is_set():
                        with lock:
                            counts["ok" if ok else "errors"] += 1

        threads = [threading.Thread(target=client_loop) for _ in range(args.threads)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(args.warmup)
            cpu_before = cpu_seconds(process.pid)
            started = time.perf_counter()
            counting.set()
            time.sleep(args.seconds)
            counting.clear()
            elapsed = time.perf_counter() - started
            cpu_used = cpu_seconds(process.pid) - cpu_before
            stopping.set()
            for thread in threads:
                thread.join()
            stats = httpx.get(base_url + "/_emulator/stats").json()
        finally:
            stopping.set()
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)

    requests_per_second = counts["ok"] / elapsed
    print(
        f"server pinned to cpu {server_cpu if server_cpu >= 0 else '(not pinned)'}; "
        f"{args.threads} client threads; {args.events} events per request; "
        f"store_events={args.store_events}; body {len(template) / 1024:.0f} KiB"
    )
    print(f"requests/s: {requests_per_second:,.0f}")
    print(f"events/s:   {requests_per_second * args.events:,.0f}")
    print(f"errors:     {counts['errors']}")
    print(f"server CPU: {cpu_used / elapsed:.0%} of one core")
    print(
        f"events accepted by the server in total: {sum(stats['events'].values()):,}; "
        f"duplicates: {stats['duplicates']}"
    )


if __name__ == "__main__":
    main()
