"""A Spark task's part of a send: one partition's rows through the host's own engine.

Runs on an executor, in Spark's Python worker. The task builds a throw-away host in a
private temporary folder (its own SQLite database, run record and rejects, deleted
when the task ends), configures the destination there from the plan the driver
shipped, and calls ``Host.send`` with the partition's rows: prepare, batching,
concurrent delivery, retries, splitting and throttling are the single-process
engine's, unchanged. What it returns to the driver is a ``PartitionReport``: the
figures of that run and its rejects (row numbers count from 1 within the partition;
never a raw value).

The secrets travel inside the plan, which Spark pickles with the writer into the task
it ships (memory to memory, never an option, a conf or a log line), and reach the
throw-away host as the environment mapping of its ``SecretStore``: never the process's
environment, never a keyring, never a file.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import keyring.backends.fail
import orjson
from pyspark.sql.datasource import WriterCommitMessage

from ._base import Reader
from ._host import Host
from ._names import env_var_name
from ._plugins import Registry, load_plugins
from ._records import RunStatus
from ._secrets import SecretStore
from ._spark_plan import COMMITTED, SparkPlan

__all__ = ["PartitionReport", "PartitionRows", "Fingerprint", "deliver_partition"]


class Fingerprint:
    """A partition's row count and a hash of its rows, in order: what a re-run compares
    to skip a partition it committed before."""

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=16)
        self._rows = 0

    def add(self, values: list[Any]) -> None:
        self._rows += 1
        # default=str: a Decimal or a value orjson does not know hashes by its text.
        self._hash.update(orjson.dumps(values, default=str))
        self._hash.update(b"\n")

    def value(self) -> str:
        return f"{self._rows}:{self._hash.hexdigest()}"

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> str:
        fingerprint = cls()
        for row in rows:
            fingerprint.add(list(row))
        return fingerprint.value()


class PartitionRows(Reader):
    """A partition's Spark rows (tuples in the DataFrame's column order) as a Reader
    that knows its columns: the engine picks values by position, with no dict per row,
    as it does for a CSV file. The rows are fingerprinted as they are read."""

    name = "spark"

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], where: str):
        super().__init__(where)
        self._columns = list(columns)
        self._rows = rows
        self.fingerprint = Fingerprint()

    @property
    def columns(self) -> list[str]:
        return self._columns

    def values(self) -> Iterator[list[Any]]:
        add = self.fingerprint.add
        for row in self._rows:
            values = list(row)
            add(values)
            yield values

    def __iter__(self) -> Iterator[dict[str, Any]]:
        columns = self._columns
        for values in self.values():
            yield dict(zip(columns, values))


@dataclass
class PartitionReport(WriterCommitMessage):
    """What one task tells the driver about its partition: the commit message."""

    partition: int
    task_attempt: int
    fingerprint: str
    status: str  # COMMITTED, or the engine's status when rows are left pending
    error: str | None = None
    skipped: bool = False  # committed by an earlier job of the run, with the same rows
    rows_read: int = 0
    delivered: int = 0
    rejected: int = 0
    pending: int = 0
    # rejected_by_code, warnings_by_code, prepared, coverage (counts by label),
    # match_keys, retries, batches, requests, rate_limit_pauses, lowest_concurrency,
    # remote_notes, elapsed_seconds
    detail: dict[str, Any] = field(default_factory=dict)
    # (row, record id, code, field, message), rows counted from 1 within the partition
    rejects: list[tuple] = field(default_factory=list)


# Plugins are loaded once per Python worker (Spark reuses workers between tasks).
_registries: dict[str | None, Registry] = {}


def _registry(plugins_dir: str | None) -> Registry:
    if plugins_dir not in _registries:
        _registries[plugins_dir] = load_plugins(plugins_dir=plugins_dir)
    return _registries[plugins_dir]


def deliver_partition(
    plan: SparkPlan, partition: int, task_attempt: int, rows: Iterator[Sequence[Any]]
) -> PartitionReport:
    """Send one partition's rows as the plan says; its report for the driver.

    A partition the run committed before is read first, to compare its fingerprint:
    the same rows are skipped, others are sent (from memory: they were read)."""
    known = plan.committed.get(partition)
    if known is not None:
        held = list(rows)
        fingerprint = Fingerprint.of(held)
        if fingerprint == known:
            return PartitionReport(partition, task_attempt, fingerprint, COMMITTED, skipped=True)
        rows = iter(held)
    home = tempfile.mkdtemp(prefix="amp-dest-task-")
    try:
        return _send(plan, partition, task_attempt, rows, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _send(
    plan: SparkPlan, partition: int, task_attempt: int, rows: Iterator[Sequence[Any]], home: str
) -> PartitionReport:
    credential = plan.credential
    environ = {
        env_var_name(credential, key): value
        for key, value in plan.secrets.items()
        if credential is not None
    }
    secrets = SecretStore(backend=keyring.backends.fail.Keyring(), environ=environ)
    started = time.monotonic()
    with Host(home, registry=_registry(plan.plugins_dir), secrets=secrets) as host:
        if credential is not None:
            assert plan.credential_type is not None  # planned with its credential
            host.store.insert_credential(
                credential, plan.credential_type, plan.credential_fields, plan.credential_facts
            )
        host.store.insert_destination(
            plan.destination, plan.destination_type, credential, plan.settings
        )
        source = PartitionRows(plan.columns, rows, f"partition {partition}")
        result = host.send(
            plan.destination,
            source,  # a Reader: read by position, as a file is (see RowPlan)
            concurrency=plan.concurrency,
            batch_size=plan.batch_size,
            retry=plan.retry,
            timeout=plan.timeout,
        )
        attempt = host.run(result.id).attempts[0]  # type: ignore[index]  # run() has them
        rejects = host.store.rejects(result.id)
    summary = result.summary
    coverage = {label: attempt.coverage.get(label, 0) for label in summary["identifier_coverage"]}
    detail = {
        "rejected_by_code": summary["rejected_by_code"],
        "warnings_by_code": summary["warnings_by_code"],
        "prepared": attempt.prepared,
        "coverage": coverage,
        "match_keys": summary["match_keys"],
        "retries": summary["retries"],
        "batches": summary["batches"],
        "requests": summary["requests"],
        "rate_limit_pauses": summary.get("rate_limit_pauses", 0),
        "lowest_concurrency": summary.get("lowest_concurrency"),
        "remote_notes": summary["remote_notes"],
        "elapsed_seconds": round(time.monotonic() - started, 3),
    }
    return PartitionReport(
        partition,
        task_attempt,
        source.fingerprint.value(),
        COMMITTED if result.status is RunStatus.SUCCEEDED else result.status.value,
        result.error,
        rows_read=summary["rows_read"],
        delivered=summary["delivered"],
        rejected=summary["rejected"],
        pending=summary["pending"],
        detail=detail,
        rejects=rejects,
    )
