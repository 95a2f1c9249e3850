"""The driver's part of a Spark send once its tasks ended: one run in the history.

Spark calls the writer's ``commit`` with every task's report when all succeeded, and
``abort`` with those of the tasks that did when the job failed (None for the others).
Either way each reported partition is recorded (its latest delivery replaces an
earlier one of the same partition, rejects included), a partition whose task failed is
recorded as failed unless an earlier job committed it, and the run's figures are
worked out again from all its partitions, so a re-run adds up to the whole DataFrame.
The rejects file is written again from the database, partition by partition.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._local_failures import file_failure
from ._match_keys import BUCKETS
from ._private_files import make_private_dirs, open_private
from ._records import RunKind, RunResult, RunStatus
from ._run import REJECTS_HEADER
from ._spark_plan import COMMITTED, SparkPlan
from ._spark_task import PartitionReport
from ._store import Store

__all__ = ["record_job", "SPARK_REJECTS_HEADER"]

SPARK_REJECTS_HEADER = ("partition", *REJECTS_HEADER)
# A partition whose task failed every time Spark tried it: nothing of it is known.
TASK_FAILED = "task failed"
# The summary's ``engine`` of a run sent from Spark.
SPARK_ENGINE = "spark"
_MAX_NOTES = 20


def record_job(
    plan: SparkPlan, reports: Sequence[PartitionReport | None], aborted: bool
) -> RunResult:
    """Record the job's partitions and the run's figures; the run's result."""
    store = Store(plan.home)
    try:
        result = _record(store, plan, reports, aborted)
        _write_rejects(store, plan)
        return result
    finally:
        store.close()


def _record(
    store: Store, plan: SparkPlan, reports: Sequence[PartitionReport | None], aborted: bool
) -> RunResult:
    run_id = plan.run_id
    with store.transaction():
        known = {p["partition_id"]: p for p in store.partitions(run_id)}
        for index, report in enumerate(reports):
            if report is None:
                if known.get(index, {}).get("status") != COMMITTED:
                    store.put_partition(run_id, index, attempt=plan.attempt, status=TASK_FAILED)
            elif not report.skipped:
                store.put_partition(
                    run_id,
                    report.partition,
                    attempt=plan.attempt,
                    status=report.status,
                    fingerprint=report.fingerprint,
                    rows_read=report.rows_read,
                    delivered=report.delivered,
                    rejected=report.rejected,
                    pending=report.pending,
                    detail={
                        **report.detail,
                        "task_attempt": report.task_attempt,
                        "error": report.error,
                    },
                )
                store.add_rejects(run_id, report.rejects, report.partition)
        partitions = store.partitions(run_id)
        status, error = _status(plan, partitions, reports, aborted)
        now = time.time()
        this_job = [r for r in reports if r is not None and not r.skipped]
        job = _merged([vars(report) for report in this_job])
        store.update_attempt(
            run_id,
            plan.attempt,
            status=status.value,
            error=error,
            ended_at=now,
            rows_read=job["rows_read"],
            delivered=job["delivered"],
            rejected=job["rejected"],
            batches=job["batches"],
            requests=job["requests"],
            retries=job["retries"],
            warnings=job["warnings_by_code"],
            prepared=job["prepared"],
            coverage=job["coverage"],
            match_keys=job["match_keys"],
        )
        attempts = store.attempts(run_id)
        summary = _summary(_merged(partitions), partitions, attempts, len(reports), plan, now)
        store.update_run(
            run_id,
            status=status.value,
            ended_at=now,
            rows_read=summary["rows_read"],
            delivered=summary["delivered"],
            rejected=summary["rejected"],
            pending=summary["pending"],
            error=error,
            summary=summary,
        )
    return RunResult(
        run_id, plan.destination, status, summary, plan.rejects_path, None, error, RunKind.SEND
    )


def _status(
    plan: SparkPlan,
    partitions: list[dict[str, Any]],
    reports: Sequence[PartitionReport | None],
    aborted: bool,
) -> tuple[RunStatus, str | None]:
    rerun = f"re-run the Spark job with the option run={plan.run_id} to send the rest"
    if aborted:
        missing = sum(report is None for report in reports)
        return RunStatus.FAILED, (
            f"the Spark job failed: {missing} of {len(reports)} partitions were not delivered "
            f"(their tasks' errors are in the Spark driver's log); {rerun}"
        )
    unfinished = [p for p in partitions if p["status"] != COMMITTED]
    if not unfinished:
        return RunStatus.SUCCEEDED, None
    failed = [p for p in unfinished if p["status"] in (RunStatus.FAILED, TASK_FAILED)]
    status = RunStatus.FAILED if failed else RunStatus.INCOMPLETE
    first = (failed or unfinished)[0]
    why = first["detail"].get("error") or f"its rows are {first['status']}"
    return status, f"partition {first['partition_id']}: {why}; {rerun}"


def _merged(partitions: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of these partitions (records or reports) added up."""
    total: dict[str, Any] = {key: 0 for key in ("rows_read", "delivered", "rejected", "pending")}
    counters: dict[str, Counter[str]] = {
        key: Counter() for key in ("rejected_by_code", "warnings_by_code", "coverage", "match_keys")
    }
    sums = dict.fromkeys(("prepared", "retries", "batches", "requests", "rate_limit_pauses"), 0)
    labels: dict[str, None] = {}
    notes: list[str] = []
    lowest: int | None = None
    for partition in partitions:
        for key in total:
            total[key] += partition[key]
        detail = partition["detail"]
        for key, counter in counters.items():
            counter.update(detail.get(key, {}))
        labels.update(dict.fromkeys(detail.get("coverage", {})))
        for key in sums:
            sums[key] += detail.get(key) or 0
        for note in detail.get("remote_notes", ()):
            if len(notes) < _MAX_NOTES and note not in notes:
                notes.append(note)
        if detail.get("lowest_concurrency") is not None:
            low = detail["lowest_concurrency"]
            lowest = low if lowest is None else min(lowest, low)
    prepared = sums["prepared"]
    return {
        **total,
        **sums,
        "rejected_by_code": dict(sorted(counters["rejected_by_code"].items())),
        "warnings_by_code": dict(sorted(counters["warnings_by_code"].items())),
        "coverage": {label: counters["coverage"][label] for label in labels},
        "identifier_coverage": {
            label: round(counters["coverage"][label] / prepared, 4) if prepared else 0.0
            for label in labels
        },
        "match_keys": (
            {bucket: counters["match_keys"][bucket] for bucket in BUCKETS} if labels else {}
        ),
        "remote_notes": notes,
        "lowest_concurrency": lowest,
    }


def _summary(
    merged: dict[str, Any],
    partitions: list[dict[str, Any]],
    attempts: list[dict[str, Any]],
    job_partitions: int,
    plan: SparkPlan,
    now: float,
) -> dict[str, Any]:
    """The run's summary: the keys of a single-process send's, and the partitions."""
    elapsed = sum(max(0.0, (a["ended_at"] or now) - a["started_at"]) for a in attempts) or 1e-9
    summary = {
        key: merged[key]
        for key in (
            "rows_read",
            "delivered",
            "rejected",
            "pending",
            "rejected_by_code",
            "warnings_by_code",
            "retries",
            "batches",
            "requests",
        )
    }
    summary.update(
        attempts=len(attempts),
        elapsed_seconds=round(elapsed, 3),
        rows_per_second=round(merged["rows_read"] / elapsed, 1),
        identifier_coverage=merged["identifier_coverage"],
        match_keys=merged["match_keys"],
        remote_notes=merged["remote_notes"],
        dry_run=False,
        rate_limit_pauses=merged["rate_limit_pauses"],
        engine=SPARK_ENGINE,
        partitions=[_partition_line(p) for p in partitions],
    )
    if merged["lowest_concurrency"] is not None:
        summary["lowest_concurrency"] = merged["lowest_concurrency"]
    if plan.job:
        summary["spark_job"] = plan.job
    summary["job_partitions"] = job_partitions
    return summary


def _partition_line(partition: dict[str, Any]) -> dict[str, Any]:
    """One partition as runs show lists it."""
    return {
        "partition": partition["partition_id"],
        "status": partition["status"],
        "attempt": partition["attempt"],
        "task_attempt": partition["detail"].get("task_attempt"),
        "rows_read": partition["rows_read"],
        "delivered": partition["delivered"],
        "rejected": partition["rejected"],
        "pending": partition["pending"],
        "fingerprint": partition["fingerprint"],
    }


def _write_rejects(store: Store, plan: SparkPlan) -> None:
    path = Path(plan.rejects_path)
    try:
        make_private_dirs(path.parent)
        with open_private(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(SPARK_REJECTS_HEADER)
            writer.writerows(store.partition_rejects(plan.run_id))
    except OSError as exc:
        raise file_failure("the rejects file", path, exc) from None
