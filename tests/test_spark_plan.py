"""The driver's side of a Spark send, without Spark: the plan its tasks carry, the run it
records, and what it refuses (amp_destinations._spark_plan needs no PySpark)."""

from __future__ import annotations

import pytest

import amp_destinations as amp
from amp_destinations._spark_plan import SPARK_INPUT, plan_job, task_concurrency

COLUMNS = ["id", "email"]


def test_the_plan_carries_the_secret_but_never_shows_it(ready_host):
    plan = plan_job(ready_host, "rec", COLUMNS, concurrency=24, parallelism=4)

    assert plan.secrets == {"token": "good"}
    assert "good" not in repr(plan) and "good" not in str(plan)
    assert plan.credential_fields == {"account": "acme"}
    assert (plan.destination, plan.destination_type, plan.credential) == ("rec", "recorder", "cred")
    assert plan.concurrency == 6  # the job's 24 shared by 4 tasks at once
    assert plan.committed == {}


def test_planning_records_a_running_spark_run_with_its_first_attempt(ready_host):
    plan = plan_job(ready_host, "rec", COLUMNS)

    run = ready_host.run(plan.run_id)
    assert (run.status, run.format, run.input, run.kind) == (
        "running",
        "spark",
        SPARK_INPUT,
        "send",
    )
    assert [attempt.attempt for attempt in run.attempts] == [plan.attempt] == [1]
    assert run.rejects_path == plan.rejects_path


def test_a_dataframe_without_the_columns_the_destination_needs_is_refused_first(home):
    with amp.Host(home) as host:  # the installed plugins: TikTok's requires columns
        host.add_credential("tt", "tiktok-offline-events", {}, {"refresh_token": "t0k3n"})
        settings = {"advertiser_id": "7000000000000000001", "event_set_id": "7100000000000000001"}
        host.add_destination("sales", "tiktok-offline-events", "tt", settings, test=False)

        with pytest.raises(amp.InputError, match="the DataFrame lacks"):
            plan_job(host, "sales", ["email", "phone"])
        with pytest.raises(amp.NotFoundError):
            plan_job(host, "no-such-destination", COLUMNS)
        assert host.runs() == []


def test_a_run_that_succeeded_or_was_not_sent_from_spark_is_not_re_run(ready_host):
    single = ready_host.send("rec", rows=[{"id": "E1", "email": "a@example.com"}])
    with pytest.raises(amp.AmpDestError, match="was not sent from Spark"):
        plan_job(ready_host, "rec", COLUMNS, run=single.id)
    plan = plan_job(ready_host, "rec", COLUMNS)
    ready_host.store.update_run(plan.run_id, status="succeeded")
    with pytest.raises(amp.AmpDestError, match="already succeeded"):
        plan_job(ready_host, "rec", COLUMNS, run=plan.run_id)


def test_a_spark_run_is_re_run_from_spark_never_resumed(ready_host):
    plan = plan_job(ready_host, "rec", COLUMNS)
    ready_host.store.update_run(plan.run_id, status="failed")

    with pytest.raises(
        amp.AmpDestError, match=f"re-run its Spark job with the option run={plan.run_id}"
    ):
        ready_host.send("rec", rows=[], resume=plan.run_id)


def test_a_re_run_skips_only_the_partitions_it_committed(ready_host):
    plan = plan_job(ready_host, "rec", COLUMNS)
    store = ready_host.store
    store.put_partition(plan.run_id, 0, attempt=1, status="committed", fingerprint="3:aa")
    store.put_partition(plan.run_id, 1, attempt=1, status="incomplete", fingerprint="3:bb")
    store.put_partition(plan.run_id, 2, attempt=1, status="task failed")
    store.update_run(plan.run_id, status="failed")

    again = plan_job(ready_host, "rec", COLUMNS, run=plan.run_id)

    assert (again.run_id, again.attempt, again.committed) == (plan.run_id, 2, {0: "3:aa"})


@pytest.mark.parametrize(("concurrency", "tasks", "each"), [(24, 2, 12), (24, 5, 4), (3, 8, 1)])
def test_the_job_s_concurrency_is_divided_among_its_tasks(concurrency, tasks, each):
    assert task_concurrency(concurrency, tasks) == each
