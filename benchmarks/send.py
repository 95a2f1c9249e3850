"""End to end: a CSV file through the host to the TikTok emulator, against a naive baseline.

    .venv/bin/python benchmarks/send.py [--rows 1000000] [--concurrency 24]
        [--latency MS] [--baseline-rows 100000] [--profile] [--json]
        [--sent-index on|off|warm]

The input is ``examples/make_events.py`` rows (15 columns, 10% national-format
phones), rejects included: every 25th row is bad on purpose, so 3.6% of rows end in
the rejects file and the ledger. The CSV is written once per row count and day (the
events must stay within TikTok's 28 days) under the system's temporary directory.

Three kinds of process, each pinned to one core:
- the emulator (core 1), with ``store_events`` off so a long run does not grow, and
  optionally a fixed delay before each answer (``--latency``);
- the host (core 0): ``Host.send(input=CSV)`` in a fresh AMP_DEST_HOME, the token in
  AMP_DEST_SECRET_..., once per ``--concurrency`` value (a comma-separated sweep);
- the naive baseline (core 0): csv.DictReader, a marshmallow ``Schema.load`` per row,
  the same normalisation and SHA-256 hashing (every phone through ``phonenumbers``),
  stdlib ``json.dumps``, and one ``httpx.post`` per batch of 1,000, one at a time.

``--sent-index`` sets the host's sent-events index: ``on`` (the default, as shipped:
the fresh home's index is empty, so nothing is looked up, and every delivered event's
key is journaled and merged), ``off`` (the plugin declares no window: no index, as
before there was one), or ``warm`` (the index holds as many other keys as --rows
before the send, so every event is looked up and none is found).

Events/s is rows read divided by the wall time of the send; CPU is the client's CPU
time over that wall time; peak memory is the client process's VmHWM, read by the
client itself. ``--profile`` adds where one send of at most 200,000 rows spends its
CPU time, stage by stage, and a cProfile listing of the engine thread. Everything talks
to 127.0.0.1 only; every process started is stopped on the way out, whatever happens.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import hashlib
import io
import itertools
import json
import os
import pstats
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import httpx
import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate, validates

import amp_destinations
from amp_destinations._defaults import DEFAULT_CONCURRENCY
from amp_destinations._engine import SendOptions, run_delivery
from amp_destinations._row_plan import RowPlan
from amp_destinations._run import RunRecorder
from tiktok_ads_events._constants import EVENT_CHANNELS, STANDARD_EVENTS, TRACK_PATH
from tiktok_ads_events._money import CURRENCY_CODES

ADVERTISER_ID = "7000000000000000001"
EVENT_SET_ID = "7100000000000000001"
TOKEN = "benchmark-token"
CREDENTIAL = "bench"
TOKEN_VARIABLE = "AMP_DEST_SECRET_BENCH_REFRESH_TOKEN"  # credential bench, field refresh_token
DESTINATION = "bench-tiktok"
BATCH_SIZE = 1000
EMULATOR_CPU, CLIENT_CPU = 1, 0
PROFILE_ROWS = 200_000
STAGE_PASSES = 3  # the profile keeps each stage's fastest pass
CLIENT_TIMEOUT = 600
EXAMPLES = str(Path(__file__).resolve().parent.parent / "examples")


def pin(cpu: int) -> None:
    """Pin this process to one core, where the machine has it (Linux)."""
    if hasattr(os, "sched_setaffinity") and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# -- the input ------------------------------------------------------------------------


def input_csv(rows: int) -> Path:
    """The benchmark CSV of ``rows`` rows, written once a day and reused."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    from make_events import make_rows, write_rows

    folder = Path(tempfile.gettempdir()) / "amp-dest-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"events-{rows}-{date.today():%Y%m%d}.csv"
    if path.exists():
        return path
    for stale in folder.glob(f"events-{rows}-*.csv"):
        stale.unlink()
    partial = path.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as out:
        write_rows(make_rows(rows, time.time()), out)
    os.replace(partial, path)
    return path


# -- the emulator ---------------------------------------------------------------------


class EmulatorProcess:
    """``python -m tiktok_ads_events.emulator`` on a free port of 127.0.0.1, pinned."""

    def __init__(self, folder: Path, latency: float = 0.0):
        self.folder = folder
        self.latency = latency
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> EmulatorProcess:
        seed = self.folder / "seed.json"
        # The "slow" fault holds each event/track/ answer back, as distance to TikTok would.
        faults = {"slow": {"fraction": 1.0, "seconds": self.latency}} if self.latency else {}
        seed.write_text(
            json.dumps(
                {
                    "access_tokens": [{"token": TOKEN, "advertiser_ids": [ADVERTISER_ID]}],
                    "advertisers": [
                        {
                            "advertiser_id": ADVERTISER_ID,
                            "event_sets": [{"event_set_id": EVENT_SET_ID, "name": "Benchmark"}],
                        }
                    ],
                    "faults": faults,
                    "options": {"store_events": False},
                }
            )
        )
        ready = self.folder / "emulator.url"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tiktok_ads_events.emulator",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--seed",
                str(seed),
                "--ready-file",
                str(ready),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: pin(EMULATOR_CPU),  # before its threads exist
        )
        try:
            deadline = time.monotonic() + 30
            while not ready.exists():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.05)
            self.base_url = ready.read_text().strip()
        except BaseException:
            self.stop()
            raise
        return self

    def reset(self) -> None:
        httpx.post(self.base_url + "/_emulator/reset").raise_for_status()

    def cpu_seconds(self) -> float:
        """The emulator's user and system CPU time so far, from /proc."""
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def accepted(self) -> int:
        stats = httpx.get(self.base_url + "/_emulator/stats").json()
        return stats["events"].get(EVENT_SET_ID, 0)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the host client ------------------------------------------------------------------


def open_host(spec: dict):
    """A host in a fresh home with the credential (token from the environment) and the
    destination pointing at the emulator."""
    os.environ["AMP_DEST_HOME"] = spec["home"]
    os.environ[TOKEN_VARIABLE] = TOKEN
    host = amp_destinations.Host()
    host.add_credential(CREDENTIAL, "tiktok-offline-events")
    host.add_destination(
        DESTINATION,
        "tiktok-offline-events",
        CREDENTIAL,
        {
            "advertiser_id": ADVERTISER_ID,
            "event_set_id": EVENT_SET_ID,
            "api_base_url": spec["base_url"],
        },
    )
    return host


def cpu_seconds() -> float:
    """User and system CPU time of this process so far."""
    times = os.times()
    return times.user + times.system


def page_faults() -> int:
    """Minor page faults of this process so far: each costs microseconds in a VM."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed_send(host, spec: dict) -> dict:
    before = peak_mb()
    cpu, faults = cpu_seconds(), page_faults()
    started = time.perf_counter()
    result = host.send(DESTINATION, input=spec["csv"], concurrency=spec["concurrency"])
    seconds = time.perf_counter() - started
    summary = result.summary
    return {
        "status": result.status,
        "rows": summary["rows_read"],
        "delivered": summary["delivered"],
        "rejected": summary["rejected"],
        "pending": summary["pending"],
        "seconds": seconds,
        "events_per_second": summary["rows_read"] / seconds,
        "cpu_seconds": cpu_seconds() - cpu,
        "page_faults": page_faults() - faults,
        "peak_mb": peak_mb(),
        "peak_mb_before_send": before,
    }


def fill_index(host, keys: int) -> None:
    """Give the destination's index ``keys`` random keys sent a day ago, none of them an
    event of the input, as earlier runs' would be: journaled a batch of 1,000 a row,
    then merged, as a run does."""
    from amp_destinations._sent_index import SentIndex
    from tiktok_ads_events import TikTokAdsEvents

    index = SentIndex(host.store, DESTINATION, TikTokAdsEvents.idempotency_window)
    with host.store.transaction():
        host.store.db.execute(
            "WITH RECURSIVE n(i) AS "
            "(SELECT 0 UNION ALL SELECT i + 1000 FROM n WHERE i + 1000 < ?) "
            "INSERT INTO sent_journal "
            "SELECT ?, unixepoch() - 86400, randomblob(16 * min(1000, ? - i)) FROM n",
            (keys, index.id, keys),
        )
    index.merge()


def host_client(spec: dict) -> dict:
    if spec["sent_index"] == "off":
        from tiktok_ads_events import TikTokAdsEvents

        TikTokAdsEvents.idempotency_window = None
    with open_host(spec) as host:
        if spec["sent_index"] == "warm":
            fill_index(host, spec["index_keys"])
        return timed_send(host, spec)


# -- the naive baseline ---------------------------------------------------------------


class _Timestamp(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            if value.isdigit():
                number = int(value)
                return number // 1000 if number >= 1e11 else number
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("not ISO 8601 or Unix time") from None
        return int(moment.timestamp())


class NaiveEventSchema(Schema):
    """The TikTok mapping as a marshmallow schema, the way one would first write it."""

    event = fields.Str(required=True, validate=validate.OneOf(STANDARD_EVENTS))
    event_id = fields.Str(required=True, validate=validate.Length(min=1))
    timestamp = _Timestamp(required=True)
    email = fields.Email(required=True)
    phone = fields.Str()
    external_id = fields.Str()
    value = fields.Float(validate=validate.Range(min=0))
    currency = fields.Str(validate=validate.OneOf(CURRENCY_CODES))
    order_id = fields.Str()
    shop_id = fields.Str()
    content_id = fields.Str()
    content_name = fields.Str()
    price = fields.Float(validate=validate.Range(min=0))
    quantity = fields.Int(validate=validate.Range(min=0))
    event_channel = fields.Str(validate=validate.OneOf(EVENT_CHANNELS))

    @validates("timestamp")
    def _recent(self, value, data_key):
        now = time.time()
        if not now - 28 * 86400 <= value <= now + 300:
            raise ValidationError("outside TikTok's window")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _naive_phone(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return _sha256(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class NaiveSender:
    def __init__(self, base_url: str):
        self.schema = NaiveEventSchema()
        self.url = base_url + TRACK_PATH
        self.events: list[dict] = []
        self.rows = self.delivered = self.rejected = self.failed_batches = 0

    def add(self, row: dict) -> None:
        self.rows += 1
        try:
            data = self.schema.load({key: value for key, value in row.items() if value != ""})
        except ValidationError:
            self.rejected += 1
            return
        user = {"email": _sha256(data["email"].strip().lower())}
        phone = _naive_phone(data["phone"]) if "phone" in data else None
        if phone:
            user["phone"] = phone
        if "external_id" in data:
            user["external_id"] = _sha256(data["external_id"].strip())
        content = {
            key: data[key]
            for key in ("content_id", "content_name", "price", "quantity")
            if key in data
        }
        properties = {
            key: data[key]
            for key in ("currency", "order_id", "shop_id", "event_channel")
            if key in data
        }
        value = data.get("value")
        if value is None and "price" in data and "quantity" in data:
            value = round(data["price"] * data["quantity"], 2)
        if value is not None:
            properties["value"] = value
        if content:
            properties["contents"] = [content]
        self.events.append(
            {
                "event": data["event"],
                "event_time": data["timestamp"],
                "event_id": data["event_id"],
                "user": user,
                "properties": properties,
            }
        )
        if len(self.events) == BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.events:
            return
        body = json.dumps(
            {
                "event_source": "offline",
                "event_source_id": EVENT_SET_ID,
                "partner_name": "AmpDestinations",
                "data": self.events,
            }
        )
        answer = httpx.post(
            self.url,
            content=body.encode(),
            timeout=30,
            headers={"Access-Token": TOKEN, "Content-Type": "application/json"},
        )
        if answer.status_code == 200 and answer.json()["code"] == 0:
            self.delivered += len(self.events)
        else:
            self.failed_batches += 1
        self.events = []


def baseline_client(spec: dict) -> dict:
    sender = NaiveSender(spec["base_url"])
    cpu = cpu_seconds()
    started = time.perf_counter()
    with open(spec["csv"], newline="", encoding="utf-8") as handle:
        for row in itertools.islice(csv.DictReader(handle), spec["rows"]):
            sender.add(row)
    sender.flush()
    seconds = time.perf_counter() - started
    return {
        "status": "succeeded" if not sender.failed_batches else "incomplete",
        "rows": sender.rows,
        "delivered": sender.delivered,
        "rejected": sender.rejected,
        "pending": sender.rows - sender.delivered - sender.rejected,
        "seconds": seconds,
        "events_per_second": sender.rows / seconds,
        "cpu_seconds": cpu_seconds() - cpu,
        "peak_mb": peak_mb(),
    }


# -- where the time goes ------------------------------------------------------------


def _add_thread_time(owner, name: str, totals: dict) -> None:
    """Wrap ``owner.name`` so that the CPU time of its calls adds up in ``totals[name]``.
    Only for methods called once a batch: the clock read costs about a microsecond."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.thread_time() - started

    setattr(owner, name, timed)


def _engine_stages(host, spec: dict) -> tuple[dict, int, str]:
    """CPU seconds of the engine thread's work, stage by stage, without the network:
    reading alone, then + prepare, + encode_item, then the whole engine in a dry run
    (coverage, batching into request bodies, ledger and rejects), which is also profiled."""
    destination = host.destination(DESTINATION)
    open_reader = host.registry.reader_for(spec["csv"])
    seconds: dict = {}
    rows = 0

    def keep_best(stage: str, taken: float) -> None:  # noise only ever adds time
        seconds[stage] = min(taken, seconds.get(stage, taken))

    for _ in range(STAGE_PASSES):
        for stage in ("read", "prepare", "encode_item"):
            reader = open_reader(spec["csv"])
            destination.start_run(reader.columns)
            plan = RowPlan(destination, reader)  # rows as the engine hands them over
            prepare, encode = destination.prepare, destination.encode_item
            warnings: list = []
            rows = 0
            started = time.process_time()
            for row in plan.source:
                rows += 1
                if stage == "read" or isinstance(row, amp_destinations.RecordError):
                    continue
                if plan.pad:
                    row.append(None)
                item = prepare(row if plan.fetch is None else plan.fetch(row), warnings)
                warnings.clear()
                if stage == "encode_item" and isinstance(item, tuple):
                    encode(item)
            keep_best(stage, time.process_time() - started)

    per_batch: dict = {}
    _add_thread_time(RunRecorder, "commit", per_batch)  # SQLite and the rejects file
    profiler = cProfile.Profile()
    for profiled in [False] * STAGE_PASSES + [True]:
        reader = open_reader(spec["csv"])
        destination.start_run(reader.columns)
        run_id = host.store.insert_run(
            destination=DESTINATION,
            destination_type=destination.name,
            input=spec["csv"],
            format="csv",
            dry_run=True,
        )
        attempt = host.store.start_attempt(run_id, os.getpid())
        options = SendOptions(
            dry_run=True,
            output_path=None,
            rejects_path=Path(spec["home"]) / f"rejects-{run_id}.csv",
        )
        per_batch.clear()
        started = time.process_time()
        if profiled:
            profiler.runcall(
                run_delivery,
                host.store,
                run_id,
                attempt,
                destination,
                reader,
                None,
                options,
                name=DESTINATION,
            )
        else:
            run_delivery(
                host.store, run_id, attempt, destination, reader, None, options, name=DESTINATION
            )
            keep_best("engine", time.process_time() - started)
            for stage, taken in per_batch.items():
                keep_best(stage, taken)
    listing = io.StringIO()
    pstats.Stats(profiler, stream=listing).sort_stats("tottime").print_stats(15)
    top = listing.getvalue().split("\n")
    first = next(i for i, line in enumerate(top) if line.lstrip().startswith("ncalls"))
    return seconds, rows, "\n".join(top[first : first + 16])


def profile_client(spec: dict) -> dict:
    """Where one send's CPU time goes, in microseconds a row on the client's core."""
    with open_host(spec) as host:
        stages, rows, top = _engine_stages(host, spec)
        sends = []
        for _ in range(STAGE_PASSES):
            engine_thread = time.thread_time()
            sent = timed_send(host, spec)
            sends.append((sent["cpu_seconds"], time.thread_time() - engine_thread, sent))
        _, engine_thread, sent = min(sends, key=lambda taken: taken[0])
    per_row = 1e6 / rows
    engine_alone = stages["engine"] - stages["encode_item"] - stages["commit"]
    parts = [
        ("CSV read (host reader)", stages["read"]),
        ("prepare (plugin)", stages["prepare"] - stages["read"]),
        ("encode_item (plugin)", stages["encode_item"] - stages["prepare"]),
        ("engine loop, coverage, request bodies", engine_alone),
        ("run record: SQLite, rejects file", stages["commit"]),
        ("HTTP: worker threads (httpx, kernel)", sent["cpu_seconds"] - engine_thread),
        # The engine thread's CPU in the real send less the same work in the dry run.
        ("threads: GIL hand-offs, waits", engine_thread - stages["engine"]),
    ]
    lines = [
        f"where the time goes: CPU us a row on the client's core "
        f"({rows:,} rows, concurrency {spec['concurrency']})"
    ]
    for label, seconds in parts:
        share = seconds / sent["cpu_seconds"]
        lines.append(f"  {label:<40} {seconds * per_row:6.2f}  {share:6.1%}")
    lines.append(
        f"  {'total CPU of the send':<40} {sent['cpu_seconds'] * per_row:6.2f}  "
        f"({sent['events_per_second']:,.0f} events/s, wall {sent['seconds']:.2f} s)"
    )
    lines.append(
        "top functions of the engine thread (cProfile of a dry run; call-heavy "
        "code looks costlier than it is):"
    )
    return {"sections": ["\n".join(lines), top]}


# -- running the clients --------------------------------------------------------------

CLIENTS = {"host": host_client, "baseline": baseline_client, "profile": profile_client}


def run_client(kind: str, spec: dict) -> dict:
    """Run one client in its own process, pinned, and return what it measured."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--client", kind, json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        out, _ = process.communicate(timeout=CLIENT_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise SystemExit(f"the {kind} client failed (exit {process.returncode})")
    return json.loads(out.splitlines()[-1])


def client_main(kind: str, spec_json: str) -> None:
    pin(CLIENT_CPU)
    print(json.dumps(CLIENTS[kind](json.loads(spec_json))))


def report(results: dict) -> None:
    def line(label: str, r: dict) -> str:
        return (
            f"{label:<20} {r['events_per_second']:>8,.0f} ev/s {r['seconds']:>5.1f} s  "
            f"CPU {r['cpu_seconds'] / r['seconds']:4.0%}  peak {r['peak_mb']:5.1f} MB  "
            f"delivered {r['delivered']:,} rejected {r['rejected']:,} "
            f"pending {r['pending']} ({r['status']})  emulator: accepted "
            f"{r['emulator_accepted']:,}, CPU {r['emulator_cpu_seconds'] / r['seconds']:4.0%}"
        )

    print(
        f"{results['rows']:,} rows from {results['csv']}, "
        f"emulator latency {results['latency_ms']:g} ms, sent-events index "
        f"{results['sent_index']}"
    )
    for concurrency, r in results["host"].items():
        print(line(f"host, concurrency {concurrency}", r))
    baseline = results.get("baseline")
    if baseline:
        print(line(f"naive, {baseline['rows']:,} rows", baseline))
        print(f"ratio, best host / naive: {results['ratio']:.1f}x")
    for section in results.get("profile", []):
        print()
        print(section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="rows in the CSV sent by the host (default 1,000,000)",
    )
    parser.add_argument(
        "--concurrency",
        default=str(DEFAULT_CONCURRENCY),
        help="values to sweep, comma-separated, e.g. 1,2,4,8 "
        f"(default {DEFAULT_CONCURRENCY}, the host's)",
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=100_000,
        help="rows for the naive baseline, at most --rows (0 skips it)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="milliseconds the emulator waits before each event/track/ "
        "answer, standing in for the distance to TikTok (default 0)",
    )
    parser.add_argument(
        "--sent-index",
        choices=("on", "off", "warm"),
        default="on",
        help="the sent-events index: on (as shipped, empty at first), off, or warm "
        "(holding --rows other keys before the send)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one send at the first concurrency value",
    )
    parser.add_argument("--client", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(*args.client)
        return
    if args.baseline_rows > args.rows:
        parser.error("--baseline-rows must not exceed --rows")
    sweep = [int(value) for value in args.concurrency.split(",")]

    csv_path = input_csv(args.rows)
    results: dict = {
        "date": date.today().isoformat(),
        "rows": args.rows,
        "latency_ms": args.latency,
        "sent_index": args.sent_index,
        "csv": str(csv_path),
        "host": {},
    }
    with (
        tempfile.TemporaryDirectory(prefix="amp-dest-bench-") as work,
        EmulatorProcess(Path(work), args.latency / 1000) as emulator,
    ):
        spec = {
            "csv": str(csv_path),
            "base_url": emulator.base_url,
            "sent_index": args.sent_index,
            "index_keys": args.rows,
        }

        def run(kind: str, **extra) -> dict:
            emulator.reset()
            emulator_cpu = emulator.cpu_seconds()
            result = run_client(kind, {**spec, **extra})
            result["emulator_cpu_seconds"] = emulator.cpu_seconds() - emulator_cpu
            result["emulator_accepted"] = emulator.accepted()
            return result

        for concurrency in sweep:
            results["host"][concurrency] = run(
                "host", home=f"{work}/home-{concurrency}", concurrency=concurrency
            )
        if args.baseline_rows:
            results["baseline"] = run("baseline", rows=args.baseline_rows)
            best = max(r["events_per_second"] for r in results["host"].values())
            results["ratio"] = best / results["baseline"]["events_per_second"]
        if args.profile:
            spec["csv"] = str(input_csv(min(args.rows, PROFILE_ROWS)))
            results["profile"] = run("profile", home=f"{work}/home-profile", concurrency=sweep[0])[
                "sections"
            ]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)


if __name__ == "__main__":
    main()
