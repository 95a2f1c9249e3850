"""The driver's part of a Spark send, before any task runs: the plan the tasks carry.

``plan_job`` runs where Spark plans the write (a Python worker on the driver): it opens
the host of ``home``, builds the destination as a single-process send would (so a
missing secret, a refused keyring or settings that no longer load stop the job with the
host's own one-line error), checks the DataFrame's columns against the ones the
destination requires, records the run (or the next attempt of the run re-run) and
resolves the credential's secrets from the keyring or the environment.

The plan holds those secrets in memory; its ``repr`` leaves them out, and nothing of
it becomes a DataSource option, a Spark conf or a log line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._base import Reader
from ._defaults import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from ._delivery import RetryPolicy
from ._errors import AmpDestError
from ._host import Host
from ._preflight import checked_input
from ._records import SPARK_FORMAT, RunKind, RunStatus

__all__ = [
    "COMMITTED",
    "SPARK_INPUT",
    "SparkPlan",
    "plan_job",
    "rerunnable",
    "task_concurrency",
]

# What the history records as a Spark run's input.
SPARK_INPUT = "(spark dataframe)"
# A partition's status once every row of it was delivered or rejected.
COMMITTED = "committed"


@dataclass(frozen=True)
class SparkPlan:
    """Everything a task needs to send its partition, and the driver to record it."""

    home: str  # the driver's host, where the run is recorded
    plugins_dir: str | None
    run_id: int
    attempt: int  # this job's attempt of the run (a re-run is the next one)
    destination: str
    destination_type: str
    settings: dict[str, Any]
    credential: str | None
    credential_type: str | None
    credential_fields: dict[str, Any]
    credential_facts: dict[str, Any]
    columns: list[str]
    committed: dict[int, str]  # partition id -> fingerprint, committed by earlier jobs
    concurrency: int  # requests in flight per task: the job's, divided among its tasks
    batch_size: int | None
    timeout: float
    retry: RetryPolicy
    rejects_path: str
    job: str | None  # the caller's token for finding the run again (spark.send)
    secrets: dict[str, str] = field(repr=False, default_factory=dict)


def task_concurrency(concurrency: int, parallelism: int) -> int:
    """Requests in flight per task when ``parallelism`` tasks run at once: the job's
    ``concurrency`` shared among them, at least one each."""
    return max(1, concurrency // max(1, parallelism))


class _Columns(Reader):
    """No rows, only the DataFrame's columns: what the preflight checks."""

    name = "spark"

    def __init__(self, columns: Sequence[str]):
        super().__init__("the DataFrame")
        self._columns = list(columns)

    @property
    def columns(self) -> list[str]:
        return self._columns

    def __iter__(self):
        return iter(())


def plan_job(
    host: Host,
    name: str,
    columns: Sequence[str],
    *,
    run: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    parallelism: int = 1,
    batch_size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    job: str | None = None,
    pid: int | None = None,
    plugins_dir: str | None = None,
) -> SparkPlan:
    """Plan a Spark job sending a DataFrame of ``columns`` through the destination
    ``name``: a new run, or a re-run of the Spark run ``run`` that skips its committed
    partitions. Raises the errors of ``Host.destination``, InputError for missing
    columns, and AmpDestError for a run that cannot be re-run. ``plugins_dir`` is the
    folder of plugin files the host loaded, which the tasks load too; ``pid`` the
    process whose life the run's "running" status follows (default: this one)."""
    destination = host.destination(name)  # resolves the credential, or says what is wrong
    checked_input(destination, _Columns(columns), name)
    record = host.store.destination(name)
    credential = destination.credential
    secrets: dict[str, str] = {}
    fields: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    if credential is not None:
        stored = host.store.credential(credential.name)
        fields, facts = stored["fields"], stored["facts"]
        secrets = host._current_secrets(credential.name, type(credential.type))
    pid = pid if pid is not None else os.getpid()
    committed: dict[int, str] = {}
    if run is None:
        run_id = host.store.insert_run(
            destination=name,
            destination_type=record["type"],
            input=SPARK_INPUT,
            format=SPARK_FORMAT,
            dry_run=False,
            kind=RunKind.SEND.value,
            pid=pid,
            summary={"spark_job": job} if job else {},
        )
    else:
        run_id = run
        committed = rerunnable(host, run, name)
    rejects_path = Path(host.home) / "runs" / str(run_id) / "rejects.csv"
    host.store.update_run(
        run_id,
        status=RunStatus.RUNNING.value,
        ended_at=None,
        error=None,
        pid=pid,
        rejects_path=str(rejects_path),
    )
    attempt = host.store.start_attempt(run_id, pid)
    return SparkPlan(
        home=str(host.home),
        plugins_dir=plugins_dir,
        run_id=run_id,
        attempt=attempt,
        destination=name,
        destination_type=record["type"],
        settings=record["settings"],
        credential=credential.name if credential else None,
        credential_type=credential.type.name if credential else None,
        credential_fields=fields,
        credential_facts=facts,
        columns=list(columns),
        committed=committed,
        concurrency=task_concurrency(concurrency, parallelism),
        batch_size=batch_size,
        timeout=timeout,
        retry=retry or RetryPolicy(),
        rejects_path=str(rejects_path),
        job=job,
        secrets=secrets,
    )


def rerunnable(host: Host, run_id: int, name: str) -> dict[int, str]:
    """The committed partitions of the Spark run ``run_id``, once it may be re-run."""
    run = host.run(run_id)
    if run.format != SPARK_FORMAT:
        raise AmpDestError(
            f"run {run_id} was not sent from Spark: resume it with `amp-dest send --resume "
            f"{run_id}`, or leave the run option out for a new run"
        )
    if run.destination != name:
        raise AmpDestError(
            f"run {run_id} sends to {run.destination}, not {name}: re-run it with "
            f"destination {run.destination}"
        )
    if run.status is RunStatus.SUCCEEDED:
        raise AmpDestError(f"run {run_id} already succeeded; there is nothing to re-run")
    if run.status is RunStatus.RUNNING:
        raise AmpDestError(
            f"run {run_id} is still running; re-running it now would send its rows twice: "
            "wait for its Spark job to end"
        )
    return {
        partition["partition_id"]: partition["fingerprint"]
        for partition in host.store.partitions(run_id)
        if partition["status"] == COMMITTED
    }
