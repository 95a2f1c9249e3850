"""Native column types: Parquet files written by pyarrow, one per type, and Python rows.

Each file goes through the host as an operator's send would (the built-in Parquet
reader, the row plan, prepare, the request body), in a dry run; the events are read
back from the request bodies TikTok would receive.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from hashlib import sha256

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# A whole second an hour ago, so that every event is inside TikTok's window.
AT = datetime.fromtimestamp(int(time.time()) - 3600, UTC)
EPOCH = int(AT.timestamp())
BASE = {
    "event": ["Purchase"],
    "event_id": ["evt-1"],
    "timestamp": pa.array([AT], pa.timestamp("s", tz="UTC")),
    "email": ["alice@example.com"],
}


def parquet(tmp_path, **columns):
    """A one-row Parquet file of BASE's columns with ``columns`` added or replaced."""
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({**BASE, **columns}), path)
    return path


def sent(dry_send, path, **settings) -> tuple[dict, dict]:
    result, events = dry_send(path, **settings)
    assert result.summary["rejected"] == 0, result.summary["rejected_by_code"]
    assert len(events) == 1
    return events[0], result.summary


def rejected(dry_send, path, **settings) -> str:
    result, events = dry_send(path, **settings)
    assert events == []
    (code,) = result.summary["rejected_by_code"]
    return code


# -- timestamps -------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_utc_timestamp_column(dry_send, tmp_path, unit):
    path = parquet(tmp_path, timestamp=pa.array([AT], pa.timestamp(unit, tz="UTC")))
    assert sent(dry_send, path)[0]["event_time"] == EPOCH


def test_a_timestamp_with_another_time_zone_is_the_same_instant(dry_send, tmp_path):
    column = pa.array([AT], pa.timestamp("us", tz="America/New_York"))
    assert sent(dry_send, parquet(tmp_path, timestamp=column))[0]["event_time"] == EPOCH


def test_a_naive_timestamp_is_read_as_utc(dry_send, tmp_path):
    naive = AT.replace(tzinfo=None)
    path = parquet(tmp_path, timestamp=pa.array([naive], pa.timestamp("us")))
    assert sent(dry_send, path)[0]["event_time"] == EPOCH


def test_nanoseconds_as_pandas_writes_them(dry_send, tmp_path):
    column = pa.array([EPOCH * 10**9 + 123_456_789], pa.timestamp("ns"))
    assert sent(dry_send, parquet(tmp_path, timestamp=column))[0]["event_time"] == EPOCH


def test_a_date_column_is_midnight_utc(dry_send, tmp_path):
    today = datetime.now(UTC).date() - timedelta(days=1)
    path = parquet(tmp_path, timestamp=pa.array([today], pa.date32()))
    midnight = int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
    assert sent(dry_send, path)[0]["event_time"] == midnight


def test_unix_seconds_as_an_integer_column(dry_send, tmp_path):
    path = parquet(tmp_path, timestamp=pa.array([EPOCH], pa.int64()))
    assert sent(dry_send, path)[0]["event_time"] == EPOCH


def test_a_time_of_day_is_no_timestamp(dry_send, tmp_path):
    path = parquet(tmp_path, timestamp=pa.array([AT.time()], pa.time64("us")))
    assert rejected(dry_send, path) == "timestamp.invalid"


# -- decimals ---------------------------------------------------------------------------


def test_a_decimal_price_and_quantity(dry_send, tmp_path):
    path = parquet(
        tmp_path,
        price=pa.array([Decimal("9.99")], pa.decimal128(10, 2)),
        quantity=pa.array([Decimal("3")], pa.decimal128(5, 0)),
        currency=["USD"],
    )
    properties = sent(dry_send, path)[0]["properties"]
    assert properties["value"] == 29.97
    assert properties["contents"] == [{"price": 9.99, "quantity": 3}]


def test_a_decimal_value(dry_send, tmp_path):
    path = parquet(
        tmp_path, value=pa.array([Decimal("1234.50")], pa.decimal128(12, 2)), currency=["EUR"]
    )
    assert sent(dry_send, path)[0]["properties"] == {"value": 1234.5, "currency": "EUR"}


def test_a_decimal_id_is_sent_as_its_digits(dry_send, tmp_path):
    # A warehouse NUMBER(38,0) id column arrives as decimal128(38, 0).
    path = parquet(
        tmp_path,
        event_id=pa.array([Decimal("7000000000000000042")], pa.decimal128(38, 0)),
        order_id=pa.array([Decimal("991")], pa.decimal128(38, 0)),
    )
    event = sent(dry_send, path)[0]
    assert event["event_id"] == "7000000000000000042"
    assert event["properties"]["order_id"] == "991"


# -- integers and floats ----------------------------------------------------------------


@pytest.mark.parametrize("arrow_type", [pa.int64(), pa.int32(), pa.uint64()])
def test_integer_ids_are_sent_as_json_strings(dry_send, tmp_path, arrow_type):
    path = parquet(
        tmp_path,
        event_id=pa.array([1234567], arrow_type),
        order_id=pa.array([991], arrow_type),
        external_id=pa.array([42], arrow_type),
    )
    event = sent(dry_send, path)[0]
    # TikTok refuses a numeric event_id (40002, "not a valid string").
    assert event["event_id"] == "1234567"
    assert event["properties"]["order_id"] == "991"
    assert event["user"]["external_id"] == sha256(b"42").hexdigest()


def test_an_integer_phone_column(dry_send, tmp_path):
    path = parquet(tmp_path, phone=pa.array([2133734253], pa.int64()))
    phone = sha256(b"+12133734253").hexdigest()
    assert sent(dry_send, path)[0]["user"]["phone"] == phone


def test_float_columns(dry_send, tmp_path):
    # An id column with a missing value becomes float64 in pandas: 991.0 meant 991.
    path = parquet(
        tmp_path,
        order_id=pa.array([991.0], pa.float64()),
        value=pa.array([19.99], pa.float64()),
        price=pa.array([9.99], pa.float32()),
        quantity=pa.array([2.0], pa.float64()),
        currency=["USD"],
    )
    properties = sent(dry_send, path)[0]["properties"]
    assert properties["order_id"] == "991"
    assert properties["value"] == 19.99
    assert properties["contents"] == [{"price": 9.99, "quantity": 2}]


@pytest.mark.parametrize(
    "column, number, code",
    [
        ("value", float("nan"), "value.invalid"),
        ("value", float("inf"), "value.invalid"),
        ("price", float("-inf"), "price.invalid"),
        ("quantity", float("nan"), "quantity.invalid"),
        ("timestamp", float("nan"), "timestamp.invalid"),
        ("event_id", float("nan"), "event_id.invalid"),
    ],
)
def test_nan_and_infinities_never_reach_tiktok(dry_send, tmp_path, column, number, code):
    path = parquet(tmp_path, currency=["USD"], **{column: pa.array([number], pa.float64())})
    assert rejected(dry_send, path) == code


# -- booleans and nulls -----------------------------------------------------------------


@pytest.mark.parametrize(
    "column, code",
    [("event_id", "event_id.invalid"), ("value", "value.invalid"), ("email", "email.invalid")],
)
def test_a_boolean_is_no_value_of_any_column(dry_send, tmp_path, column, code):
    path = parquet(tmp_path, currency=["USD"], **{column: pa.array([True])})
    assert rejected(dry_send, path) == code


def test_a_boolean_in_an_optional_column_is_dropped_with_a_warning(dry_send, tmp_path):
    event, summary = sent(dry_send, parquet(tmp_path, order_id=pa.array([False])))
    assert "properties" not in event
    assert summary["warnings_by_code"] == {"order_id.invalid": 1}


def test_null_columns_are_left_out(dry_send, tmp_path):
    nulls = {column: pa.array([None], pa.null()) for column in ("phone", "value", "order_id")}
    nulls["external_id"] = pa.array([None], pa.string())
    event, summary = sent(dry_send, parquet(tmp_path, **nulls))
    assert set(event) == {"event", "event_time", "event_id", "user"}
    assert set(event["user"]) == {"email"} and summary["warnings_by_code"] == {}


@pytest.mark.parametrize(
    "column, code", [("event_id", "event_id.missing"), ("timestamp", "timestamp.missing")]
)
def test_a_null_required_value_is_missing(dry_send, tmp_path, column, code):
    path = parquet(tmp_path, **{column: pa.array([None], pa.null())})
    assert rejected(dry_send, path) == code


# -- Python rows ------------------------------------------------------------------------


def test_python_rows_carry_the_same_native_values(dry_send):
    row = {
        "event": "Purchase",
        "event_id": 1234567,
        "timestamp": AT.astimezone(timezone(timedelta(hours=-5))),
        "email": "alice@example.com",
        "value": Decimal("10.50"),
        "currency": "USD",
        "order_id": 991,
    }
    result, events = dry_send([row, {**row, "event_id": 7, "timestamp": AT.replace(tzinfo=None)}])
    assert result.summary["delivered"] == 2
    assert [event["event_id"] for event in events] == ["1234567", "7"]
    assert [event["event_time"] for event in events] == [EPOCH, EPOCH]
    assert events[0]["properties"] == {"value": 10.5, "currency": "USD", "order_id": "991"}


def test_a_python_date_is_midnight_utc(dry_send):
    day = date.today() - timedelta(days=2)
    row = {"event": "Lead", "event_id": "e", "timestamp": day, "email": "a@b.co"}
    result, events = dry_send([row])
    assert events[0]["event_time"] == int(datetime(*day.timetuple()[:3], tzinfo=UTC).timestamp())
