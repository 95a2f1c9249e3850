"""Send a Spark DataFrame through any configured destination (the ``[spark]`` extra).

    from amp_destinations import spark as amp_spark

    result = amp_spark.send(df, "store-sales")          # the run's RunResult

    # or through Spark's own API (Spark finds the format in pyspark_amp_destinations;
    # amp_spark.register(session) registers it explicitly):
    df.write.format("amp-destinations").option("destination", "store-sales") \\
        .mode("append").save()

A PySpark 4 Python data source. Spark plans the write on the driver (``writer``): the
destination is built there, its credential resolved from the keyring or the
environment, the run recorded. Each task then sends its partition with the host's own
engine and returns a commit message; the driver's ``commit`` (or ``abort``, when the
job fails) merges them into that one run, which ``amp-dest runs list`` and
``runs show`` show with a line per partition.

Semantics:

- At least once, with an idempotent effect: a task Spark retries sends its partition
  again with the same event ids, which the remote system deduplicates (TikTok on event
  set + event + event_id, for 48 hours).
- A failed job re-run for the same run (``run=RUN_ID``) skips each partition that run
  committed, recognised by its partition id and a fingerprint of its rows (their
  count and a hash of them, in order), and sends the others.
- The job's ``concurrency`` (requests in flight) is divided among the tasks that run at
  once (``parallelism``: ``send`` reads it from the session); each task's engine
  throttles on its own when the remote system says it is rate limited.

Options of the data source (strings, as Spark options are): ``destination``
(required), ``home`` (the host's folder; default ``AMP_DEST_HOME`` or the user data
directory), ``run`` (re-run that Spark run), ``concurrency``, ``parallelism``,
``batch_size``, ``timeout`` (seconds a request may take) and ``plugins_dir``. No secret
is ever an option: options show in Spark's UI and plans.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.datasource import DataSource, DataSourceWriter, WriterCommitMessage
from pyspark.sql.types import StructType

from ._defaults import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from ._errors import AmpDestError
from ._host import Host
from ._records import RunInfo, RunResult, RunStatus
from ._spark_plan import SparkPlan, plan_job, rerunnable
from ._spark_record import record_job
from ._spark_task import PartitionReport, deliver_partition

__all__ = ["FORMAT", "AmpDestinationsSource", "AmpDestinationsWriter", "register", "send"]

FORMAT = "amp-destinations"
# How many of the newest runs of a destination ``send`` looks through for its job's.
_RUNS_SEARCHED = 100


class AmpDestinationsSource(DataSource):
    """``df.write.format("amp-destinations").option("destination", NAME)``."""

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        if overwrite:
            raise AmpDestError("a destination is sent to, never overwritten: use mode('append')")
        options = self.options
        name = options.get("destination")
        if not name:
            raise AmpDestError("name the destination to send to: .option('destination', NAME)")
        with Host(options.get("home"), plugins_dir=options.get("plugins_dir")) as host:
            plan = plan_job(
                host,
                name,
                schema.fieldNames(),
                run=_number(options, "run"),
                concurrency=_number(options, "concurrency") or DEFAULT_CONCURRENCY,
                parallelism=_number(options, "parallelism") or os.cpu_count() or 1,
                batch_size=_number(options, "batch_size"),
                timeout=float(options.get("timeout") or DEFAULT_TIMEOUT),
                job=options.get("job"),
                # Spark plans in a Python worker; the run is "running" while its parent
                # (Spark's worker daemon, or the JVM) lives.
                pid=os.getppid(),
                plugins_dir=options.get("plugins_dir"),
            )
        return AmpDestinationsWriter(plan)


class AmpDestinationsWriter(DataSourceWriter):
    """Pickled by Spark with its plan into every task, and back to the driver to commit."""

    def __init__(self, plan: SparkPlan):
        self.plan = plan

    def write(self, iterator: Iterator[Any]) -> WriterCommitMessage:
        from pyspark import TaskContext

        context = TaskContext.get()
        assert context is not None  # write() runs in a Spark task
        return deliver_partition(
            self.plan, context.partitionId(), context.attemptNumber(), iterator
        )

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        record_job(self.plan, _reports(messages), aborted=False)

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        record_job(self.plan, _reports(messages), aborted=True)


def _reports(messages: Sequence[WriterCommitMessage | None]) -> list[PartitionReport | None]:
    return [message if isinstance(message, PartitionReport) else None for message in messages]


def _number(options: Mapping[str, str], key: str) -> int | None:
    value = options.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise AmpDestError(f"the option {key} is a whole number, not {value!r}") from None


def register(session: SparkSession) -> None:
    """Make ``format("amp-destinations")`` known to ``session``."""
    session.dataSource.register(AmpDestinationsSource)


def send(
    df: DataFrame,
    destination: str,
    *,
    host: Host | None = None,
    run: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    batch_size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    plugins_dir: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Send the rows of ``df`` through the configured destination ``destination`` and
    return the run's result, as ``Host.send`` does for rows in one process.

    ``host`` names the home (default: ``Host()``'s); Spark's side opens that home with
    the installed plugins (and ``plugins_dir``) and the system secret store. ``run``
    re-runs a Spark run that did not succeed, skipping its committed partitions.
    ``concurrency`` is the job's requests in flight, divided among the tasks that run
    at once. A job that fails is recorded as failed with what was delivered, and that
    result is returned; errors before the job starts raise as ``Host.destination``
    does, and AmpDestError for a run that cannot be re-run."""
    session = df.sparkSession
    register(session)
    owned = host is None
    host = host if host is not None else Host(plugins_dir=plugins_dir)
    try:
        host.destination(destination)  # the host's own error, before Spark starts
        if run is not None:
            rerunnable(host, run, destination)
        job = uuid.uuid4().hex
        writer = (
            df.write.format(FORMAT)
            .mode("append")
            .option("destination", destination)
            .option("home", str(host.home))
            .option("job", job)
            .option("concurrency", str(concurrency))
            .option("parallelism", str(session.sparkContext.defaultParallelism))
            .option("timeout", str(timeout))
        )
        for key, value in (("run", run), ("batch_size", batch_size), ("plugins_dir", plugins_dir)):
            if value is not None:
                writer = writer.option(key, str(value))
        try:
            writer.save()
        except Exception:
            recorded = _job_run(host, destination, job, run)
            if recorded is None:
                raise  # stopped while Spark planned the write: nothing was recorded
            if recorded.status is RunStatus.RUNNING:
                # Spark failed between planning and its tasks, and called no abort.
                host.store.update_run(
                    recorded.id,
                    status=RunStatus.FAILED.value,
                    ended_at=time.time(),
                    error="the Spark job failed before its tasks sent anything",
                )
                raise
            return _result(recorded)
        recorded = _job_run(host, destination, job, run)
        if recorded is None:
            raise AmpDestError(f"the Spark job's run was not found in {host.home}")
        return _result(recorded)
    finally:
        if owned:
            host.close()


def _job_run(host: Host, destination: str, job: str, run: int | None) -> RunInfo | None:
    if run is not None:
        return host.run(run)
    for found in host.runs(destination, _RUNS_SEARCHED):
        if found.summary.get("spark_job") == job:
            return found
    return None


def _result(run: RunInfo) -> RunResult:
    return RunResult(
        run.id,
        run.destination,
        run.status,
        run.summary,
        run.rejects_path,
        None,
        run.error,
        run.kind,
    )
