"""Sending a Spark DataFrame (amp_destinations.spark) through the TikTok emulator.

One local Spark session for the module (starting one takes seconds): two cores, and
``local[2,2]`` so that Spark tries a failed task a second time (plain ``local[2]``
never retries). Its Python workers run this interpreter, so they import the project;
its event log and scratch space go to a folder the leak test reads. The credential's
secret is in the environment before Spark starts, as Spark's own processes inherit it.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, udf

import amp_destinations as amp
from amp_destinations import spark as amp_spark
from amp_destinations._cli import build_cli
from amp_destinations._sent_index import entries
from amp_destinations.testing import MemoryKeyring
from tiktok_ads_events.emulator import Emulator

pytestmark = [pytest.mark.spark, pytest.mark.e2e, pytest.mark.slow]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import make_events  # noqa: E402

TOKEN = "tok-spark-5e1d-DO-NOT-LEAK"
CREDENTIAL = "spark-tiktok"
TOKEN_VARIABLE = "AMP_DEST_SECRET_SPARK_TIKTOK_REFRESH_TOKEN"
ADVERTISER_ID = "7000000000000000001"
EVENT_SET_ID = "7100000000000000001"
DESTINATION = "store-sales"
ROWS = 1200
PARTITIONS = 4
PER_PARTITION = ROWS // PARTITIONS
SEED = {
    "access_tokens": [{"token": TOKEN, "advertiser_ids": [ADVERTISER_ID]}],
    "advertisers": [
        {
            "advertiser_id": ADVERTISER_ID,
            "event_sets": [{"event_set_id": EVENT_SET_ID, "name": "Store sales"}],
        }
    ],
}


@pytest.fixture(scope="module")
def spark_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="module")
def spark(spark_dir):
    saved = {key: os.environ.get(key) for key in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    saved[TOKEN_VARIABLE] = os.environ.get(TOKEN_VARIABLE)
    os.environ.update(
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        **{TOKEN_VARIABLE: TOKEN},
    )
    (spark_dir / "events").mkdir()
    session = (
        SparkSession.builder.master("local[2,2]")
        .appName("amp-destinations-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.local.dir", str(spark_dir / "local"))
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", (spark_dir / "events").as_uri())
        .config("spark.eventLog.compress", "false")  # the leak test reads it
        # Small batches between Spark and the writer: a task that fails part-way has
        # already delivered some of its rows, as a long partition would.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "50")
        .getOrCreate()
    )
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def emulator():
    with Emulator(SEED) as running:
        yield running


@pytest.fixture
def tiktok_host(home, emulator, spark):
    with amp.Host(home, secrets=amp.SecretStore(backend=MemoryKeyring())) as host:
        host.add_credential(CREDENTIAL, "tiktok-offline-events", {}, {})  # token from the env
        host.add_destination(
            DESTINATION,
            "tiktok-offline-events",
            CREDENTIAL,
            {
                "advertiser_id": ADVERTISER_ID,
                "event_set_id": EVENT_SET_ID,
                "api_base_url": emulator.base_url,
            },
        )
        yield host


@pytest.fixture(scope="module")
def rows():
    import time

    return list(make_events.make_rows(ROWS, time.time()))


def frame(spark: SparkSession, rows: list[dict], partitions: int = PARTITIONS) -> DataFrame:
    """The rows in ``partitions`` partitions of consecutive rows, every column a string."""
    columns = make_events.COLUMNS
    data = spark.sparkContext.parallelize(
        [tuple(row[column] for column in columns) for row in rows], partitions
    )
    return spark.createDataFrame(data, ", ".join(f"{column} string" for column in columns))


def valid_ids(rows: list[dict]) -> set[str]:
    bad = make_events.expected_rejects(len(rows))
    return {row["event_id"] for number, row in enumerate(rows, 1) if number not in bad}


def stored_ids(emulator) -> list[str]:
    return [event["event_id"] for event in emulator.state.events(EVENT_SET_ID)]


def read_rejects(path: str) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def failing_once(partition: int, at_row: str, emulator_url: str, stored: int):
    """A column of padding that fails the first try of ``partition``'s task on the row
    whose event id is ``at_row``, once the emulator holds ``stored`` events (so that
    this try delivered some of its rows first): Spark tries the task again. Padding,
    because Spark's Python worker sends a UDF's results on in buffers of 64 KiB: with
    a few bytes a row, the writer would see none of them before the failure."""

    def pad(event_id):
        import json
        import time
        import urllib.request

        from pyspark import TaskContext

        context = TaskContext.get()
        first_try = context.attemptNumber() == 0
        if event_id == at_row and context.partitionId() == partition and first_try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with urllib.request.urlopen(emulator_url + "/_emulator/stats") as answer:
                    if sum(json.load(answer)["events"].values()) >= stored:
                        break
                time.sleep(0.1)
            raise RuntimeError("the first try of this task fails here")
        return "." * 2000

    return pad


def failing_while(at_row: str, flag: Path, emulator_url: str, stored: int):
    """A filter that keeps every row but fails on the row whose event id is
    ``at_row``, on every try, as long as ``flag`` exists: the job fails. It waits until
    the emulator holds ``stored`` events, and a little longer, so that the other
    partitions' tasks finished first."""

    def keep(event_id):
        import json
        import os
        import time
        import urllib.request

        if event_id == at_row and os.path.exists(flag):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with urllib.request.urlopen(emulator_url + "/_emulator/stats") as answer:
                    if sum(json.load(answer)["events"].values()) >= stored:
                        break
                time.sleep(0.1)
            time.sleep(3)  # their tasks return their reports to the driver
            raise RuntimeError("this job cannot finish")
        return True

    return keep


def filtered(df: DataFrame, keep) -> DataFrame:
    return df.filter(udf(keep, "boolean", useArrow=False)(col("event_id")))


def test_the_format_name_and_the_destination_option_send_through_spark_s_own_api(
    spark, tiktok_host, emulator, rows
):
    # First in this module: no send() has registered the format yet; Spark found it
    # in the pyspark_amp_destinations module by itself.
    (
        frame(spark, rows[:300], 2)
        .write.format("amp-destinations")
        .option("destination", DESTINATION)
        .option("home", str(tiktok_host.home))
        .mode("append")
        .save()
    )
    run = tiktok_host.runs(DESTINATION, 1)[0]
    assert (run.status, run.format, run.rows_read) == ("succeeded", "spark", 300)
    assert set(stored_ids(emulator)) == valid_ids(rows[:300])


def test_every_valid_row_arrives_once_and_the_run_adds_up(spark, tiktok_host, emulator, rows):
    result = amp_spark.send(frame(spark, rows), DESTINATION, host=tiktok_host)

    assert result.ok, result.error
    ids = stored_ids(emulator)
    assert len(ids) == len(set(ids))
    assert set(ids) == valid_ids(rows)
    s = result.summary
    assert (s["rows_read"], s["delivered"], s["pending"]) == (ROWS, len(ids), 0)
    assert s["rows_read"] == s["delivered"] + s["rejected"]
    assert s["engine"] == "spark" and s["identifier_coverage"]["email"] == 1.0
    partitions = s["partitions"]
    assert [p["partition"] for p in partitions] == list(range(PARTITIONS))
    assert {p["status"] for p in partitions} == {"committed"}
    assert sum(p["delivered"] for p in partitions) == s["delivered"]
    # The job's 24 requests in flight are shared by the two tasks running at once.
    assert s["lowest_concurrency"] == 12

    expected = make_events.expected_rejects(ROWS)
    rejects = read_rejects(result.rejects_path)
    assert list(rejects[0]) == ["partition", "row", "record_id", "code", "field", "message"]
    found = {int(r["partition"]) * PER_PARTITION + int(r["row"]): r["code"] for r in rejects}
    assert found == expected
    assert sum(s["rejected_by_code"].values()) == len(expected) == s["rejected"]
    text = Path(result.rejects_path).read_text()
    assert not any(row["email"] and row["email"] in text for row in rows)  # no raw value

    run = tiktok_host.run(result.id)
    assert (run.status, run.format, run.delivered) == ("succeeded", "spark", len(ids))


def indexed_keys(host) -> int:
    return sum(1 for _ in entries(host.store))


def test_a_spark_run_neither_skips_nor_feeds_the_sent_events_index(
    spark, tiktok_host, emulator, rows
):
    # As the README says: the index lives in the driver's database, which tasks do not
    # reach. What one process sent is sent again from Spark (TikTok drops the repeats),
    # and what Spark sent is not in the index.
    first = tiktok_host.send(DESTINATION, rows=rows)
    assert first.ok and first.summary["already_sent"] == 0
    keys = indexed_keys(tiktok_host)
    assert keys == first.summary["delivered"] > 0

    result = amp_spark.send(frame(spark, rows), DESTINATION, host=tiktok_host)

    assert result.ok, result.error
    assert result.summary["delivered"] == first.summary["delivered"]
    assert result.summary.get("already_sent", 0) == 0
    assert emulator.state.duplicates == keys
    assert indexed_keys(tiktok_host) == keys


def test_runs_list_and_show_have_the_spark_run_with_its_partitions(
    spark, tiktok_host, emulator, rows
):
    result = amp_spark.send(frame(spark, rows[:400], 2), DESTINATION, host=tiktok_host)
    cli = CliRunner()
    env = {"AMP_DEST_HOME": str(tiktok_host.home)}
    listed = cli.invoke(build_cli(), ["runs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith(f"{result.id} "))
    assert DESTINATION in line and "succeeded" in line

    shown = cli.invoke(build_cli(), ["runs", "show", str(result.id)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "format: spark" in shown.output
    assert "partitions:" in shown.output
    lines = shown.output.split("partitions:")[1].splitlines()
    assert "PARTITION" in lines[1]
    assert lines[2].split()[:2] == ["0", "committed"] and lines[3].split()[:2] == ["1", "committed"]

    resumed = cli.invoke(build_cli(), ["send", "--resume", str(result.id)], env=env)
    assert resumed.exit_code != 0
    assert "re-run its Spark job with the option run=" in resumed.output
    assert "Traceback" not in resumed.output and len(resumed.output.strip().splitlines()) == 1


def test_a_task_that_fails_once_is_tried_again_and_loses_nothing(
    spark, tiktok_host, emulator, rows
):
    # Partition 1 holds rows 301 to 600; its first try fails at row 550, once more
    # events arrived than partition 0 has: some of partition 1's among them.
    pad = failing_once(1, rows[549]["event_id"], emulator.base_url, PER_PARTITION + 50)
    df = frame(spark, rows).withColumn("padding", udf(pad, "string", useArrow=False)("event_id"))
    result = amp_spark.send(df, DESTINATION, host=tiktok_host, batch_size=20)

    assert result.ok, result.error
    ids = stored_ids(emulator)
    assert len(ids) == len(set(ids)) and set(ids) == valid_ids(rows)
    # The failed try had delivered some of the partition: sent again, deduplicated.
    assert emulator.state.duplicates > 0
    partition = result.summary["partitions"][1]
    assert (partition["task_attempt"], partition["rows_read"]) == (1, PER_PARTITION)
    s = result.summary
    assert s["rows_read"] == ROWS == s["delivered"] + s["rejected"]
    assert len(read_rejects(result.rejects_path)) == len(make_events.expected_rejects(ROWS))


def test_a_failed_job_is_recorded_and_its_re_run_skips_the_committed_partitions(
    spark, tiktok_host, emulator, rows, tmp_path
):
    flag = tmp_path / "broken"
    flag.touch()
    # The last partition (rows 901 to 1200) fails at row 1150 on every try, once the
    # other three delivered.
    before = len(valid_ids(rows[: 3 * PER_PARTITION]))
    keep = failing_while(rows[1149]["event_id"], flag, emulator.base_url, before)
    df = filtered(frame(spark, rows), keep)
    failed = amp_spark.send(df, DESTINATION, host=tiktok_host, batch_size=20)

    assert failed.status == "failed"
    assert f"option run={failed.id}" in failed.error
    by_partition = {p["partition"]: p for p in failed.summary["partitions"]}
    committed = {n for n, p in by_partition.items() if p["status"] == "committed"}
    assert committed == {0, 1, 2}
    assert by_partition[3]["status"] == "task failed"
    delivered_first = failed.summary["delivered"]
    assert delivered_first == sum(by_partition[n]["delivered"] for n in committed) > 0
    s = failed.summary
    assert s["rows_read"] == s["delivered"] + s["rejected"] + s["pending"]
    requests_before = emulator.state.request_count("/open_api/v1.3/event/track/")

    flag.unlink()
    result = amp_spark.send(df, DESTINATION, host=tiktok_host, run=failed.id, batch_size=20)

    assert result.ok, result.error
    assert result.id == failed.id
    ids = stored_ids(emulator)
    assert len(ids) == len(set(ids)) and set(ids) == valid_ids(rows)
    partitions = {p["partition"]: p for p in result.summary["partitions"]}
    assert {n for n, p in partitions.items() if p["attempt"] == 1} == committed
    assert all(partitions[n]["attempt"] == 2 for n in set(range(PARTITIONS)) - committed)
    # Only the partitions not committed were sent again.
    second = tiktok_host.run(result.id).attempts[1]
    sent_again = emulator.state.request_count("/open_api/v1.3/event/track/") - requests_before
    assert sent_again == second.requests
    assert second.rows_read == PER_PARTITION * (PARTITIONS - len(committed))
    s = result.summary
    assert (s["rows_read"], s["pending"], s["attempts"]) == (ROWS, 0, 2)
    assert len(read_rejects(result.rejects_path)) == len(make_events.expected_rejects(ROWS))

    with pytest.raises(amp.AmpDestError, match="already succeeded"):
        amp_spark.send(df, DESTINATION, host=tiktok_host, run=result.id)


def test_spark_sends_the_same_request_bodies_as_one_process(spark, tiktok_host, emulator, rows):
    sample = rows[:250]
    single = tiktok_host.send(DESTINATION, rows=sample, batch_size=50, concurrency=1)
    assert single.ok
    bodies = [body for body, _ in emulator.state._events[EVENT_SET_ID]]
    emulator.state.reset()

    sent = amp_spark.send(frame(spark, sample, 1), DESTINATION, host=tiktok_host, batch_size=50)

    assert sent.ok and sent.summary["delivered"] == single.summary["delivered"]
    # Byte for byte, batch for batch; concurrent requests arrive in any order.
    assert sorted(body for body, _ in emulator.state._events[EVENT_SET_ID]) == sorted(bodies)


def test_the_secret_reaches_no_spark_log_option_file_or_error(
    spark, spark_dir, tiktok_host, emulator, rows, capfd
):
    result = amp_spark.send(frame(spark, rows[:100], 2), DESTINATION, host=tiktok_host)
    assert result.ok
    # A refused token: the run fails with the host's message, which never quotes it.
    emulator.state.revoke(token=TOKEN)
    refused = amp_spark.send(frame(spark, rows[:100], 2), DESTINATION, host=tiktok_host)
    assert refused.status == "failed" and TOKEN not in (refused.error or "")

    written = capfd.readouterr()
    assert TOKEN not in written.out + written.err
    for folder in (spark_dir, Path(tiktok_host.home)):
        for path in folder.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path
    # The scan read Spark's event log, with the plans of the writes.
    logged = b"".join(
        path.read_bytes() for path in (spark_dir / "events").rglob("*") if path.is_file()
    )
    assert b"SparkListenerSQLExecutionStart" in logged
