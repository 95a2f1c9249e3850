"""Realistic TikTok conversion events for the demo, the end-to-end tests and benchmarks.

    python examples/make_events.py --rows 1200 --out examples/events.csv
    python examples/make_events.py --refresh examples/events.csv --out /tmp/events.csv

TikTok takes events from the last 28 days only, so a shipped file ages. ``--refresh``
copies a file with every timestamp shifted by the same amount, so that its newest
valid event is an hour old: rows that are bad on purpose (too old, in the future) stay
bad, and every other byte is unchanged.

Rows that are bad on purpose (see examples/README.md) come every ``BAD_EVERY`` rows, in
a fixed cycle, so their row numbers and reason codes are known in advance.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from datetime import UTC, datetime

COLUMNS = [
    "event",
    "event_id",
    "timestamp",
    "email",
    "phone",
    "external_id",
    "value",
    "currency",
    "order_id",
    "shop_id",
    "content_id",
    "content_name",
    "price",
    "quantity",
    "event_channel",
]
EVENTS = (
    ["CompletePayment"] * 6
    + ["PlaceAnOrder"] * 2
    + ["Contact", "Subscribe", "CompleteRegistration"]
)
CHANNELS = ["in_store", "in_store", "crm", "phone_call", "email"]
PRODUCTS = [
    ("SKU-1001", "Trail runner", 89.0),
    ("SKU-2040", "Rain jacket", 149.5),
    ("SKU-3310", "Wool socks", 12.99),
    ("SKU-4100", "Day pack", 64.0),
]
DAY = 86400
BAD_EVERY = 25

# (what is wrong, reason code or None for a warning only, how to spoil the row)
BAD_ROWS = [
    ("no email", "email.missing", lambda r: r.update(email="")),
    ("a placeholder instead of an email", "email.invalid", lambda r: r.update(email="N/A")),
    ("lower-case event name", "event.unknown", lambda r: r.update(event="purchase")),
    ("event older than 28 days", "timestamp.too_old", None),  # set in make_rows
    ("event two days in the future", "timestamp.in_future", None),
    ("unreadable timestamp", "timestamp.invalid", lambda r: r.update(timestamp="last tuesday")),
    ("no event_id", "event_id.missing", lambda r: r.update(event_id="")),
    ("currency that is not ISO 4217", "currency.invalid", lambda r: r.update(currency="DOLLARS")),
    ("negative value", "value.invalid", lambda r: r.update(value="-20.00")),
    ("phone that is not a number (sent without it)", None, lambda r: r.update(phone="n/a")),
]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_rows(count: int, now: float, seed: int = 7):
    rng = random.Random(seed)
    for number in range(1, count + 1):
        product_id, name, price = rng.choice(PRODUCTS)
        quantity = rng.choice([1, 1, 1, 2, 3])
        when = now - rng.uniform(3600, 20 * DAY)
        phone = ""
        roll = rng.random()
        if roll < 0.6:
            phone = f"+1206{rng.randrange(2000000, 9999999)}"
        elif roll < 0.7:
            phone = f"(206) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
        row = {
            "event": rng.choice(EVENTS),
            "event_id": f"{number:08d}{rng.getrandbits(96):024x}",
            "timestamp": _iso(when) if number % 3 else str(int(when)),
            "email": f"customer{number}.{rng.choice(['smith', 'garcia', 'chen'])}"
            f"@{rng.choice(['example.com', 'mail.example.org'])}",
            "phone": phone,
            "external_id": f"crm-{rng.randrange(10**6, 10**7)}" if rng.random() < 0.5 else "",
            "value": "",
            "currency": "USD",
            "order_id": f"ORD-{number:06d}",
            "shop_id": f"store-{rng.randrange(1, 40):03d}",
            "content_id": product_id,
            "content_name": name,
            "price": f"{price:.2f}",
            "quantity": str(quantity),
            "event_channel": rng.choice(CHANNELS),
        }
        if number % 4 == 0:
            row["value"] = f"{price * quantity:.2f}"
        if number % BAD_EVERY == 0:
            kind = (number // BAD_EVERY - 1) % len(BAD_ROWS)
            label, code, spoil = BAD_ROWS[kind]
            if code == "timestamp.too_old":
                row["timestamp"] = _iso(now - 40 * DAY)
            elif code == "timestamp.in_future":
                row["timestamp"] = _iso(now + 2 * DAY)
            else:
                spoil(row)
        yield row


def expected_rejects(count: int) -> dict[int, str]:
    """Row number -> reason code for the rows ``make_rows`` spoils on purpose."""
    out = {}
    for number in range(BAD_EVERY, count + 1, BAD_EVERY):
        code = BAD_ROWS[(number // BAD_EVERY - 1) % len(BAD_ROWS)][1]
        if code:
            out[number] = code
    return out


def write_rows(rows, out) -> None:
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _parse_time(value: str) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def refresh(source: str, out, now: float | None = None) -> None:
    """Copy ``source`` with all timestamps shifted so that its newest valid event lands
    an hour before ``now``."""
    now = time.time() if now is None else now
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    times = sorted(t for t in (_parse_time(r["timestamp"]) for r in rows) if t is not None)
    # The newest plausible event: future-dated rows (days past the 99th percentile) do
    # not count, so they stay in the future after the shift.
    typical = times[int(len(times) * 0.99) - 1] if times else now
    anchor = max((t for t in times if t <= typical + DAY), default=now)
    shift = (now - 3600) - anchor
    for row in rows:
        ts = _parse_time(row["timestamp"])
        if ts is not None:
            shifted = ts + shift
            row["timestamp"] = str(int(shifted)) if row["timestamp"].isdigit() else _iso(shifted)
    write_rows(rows, out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--refresh", metavar="CSV", help="shift this file's timestamps to now")
    parser.add_argument("--out", help="output file (default: stdout)")
    args = parser.parse_args(argv)
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        if args.refresh:
            refresh(args.refresh, out)
        else:
            write_rows(make_rows(args.rows, time.time(), args.seed), out)
    finally:
        if args.out:
            out.close()


if __name__ == "__main__":
    main()
