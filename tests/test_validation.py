"""Validation runs, through a throw-away destination that can send test events: the
whole input prepared, a sample spread across it sent one row per request, a verdict,
and a run kind of its own. (The TikTok plugin's end-to-end test is in its own suite.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import Recorder, RecorderPlugin
from send_support import read_rejects, rows

import amp_destinations as amp


class SampleRecorder(Recorder):
    """The recorder, able to mark what it sends as test events."""

    name = "test-events-recorder"
    title = "Recorder with test events (tests)"

    def start_test_events(self, test_event_code):
        if not test_event_code:
            raise amp.AmpDestError("a test code is needed: give test_event_code")
        self.test_event_code = test_event_code

    def deliver(self, batch, session):
        with self.script.lock:
            self.script.codes.append(getattr(self, "test_event_code", None))
        return super().deliver(batch, session)


class SamplePlugin:
    __name__ = "test-events-plugin"

    @amp.hookimpl
    def register_destinations(self, register):
        register(SampleRecorder)


@pytest.fixture
def host(home, script):
    registry = amp.load_plugins(entry_points=False, extra=[RecorderPlugin(), SamplePlugin()])
    # conftest imported by name here is a second copy of the module pytest loaded:
    # its recorder reports to this test's script too.
    Recorder.script = script
    script.codes = []
    with amp.Host(home, registry=registry) as host:
        host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "good"})
        host.add_destination("probe", "test-events-recorder", "cred", {"label": "one"})
        host.add_destination("rec", "recorder", "cred", {"label": "one"})
        yield host


def every_tenth_invalid(count):
    return rows(count, {i: {"email": ""} for i in range(10, count + 1, 10)})


def test_the_sample_is_spread_across_the_input_and_sent_one_row_per_request(host, script):
    result = host.send(
        "probe", every_tenth_invalid(1000), validate=True, sample=10, test_event_code="T"
    )
    assert result.kind is amp.RunKind.VALIDATION and result.ok
    verdict = result.summary["verdict"]
    assert (verdict["would_deliver"], verdict["would_reject"]) == (900, 100)
    assert verdict["rejected_by_code"] == {"email.missing": 100}
    sampled = [row["row"] for row in verdict["sample"]["rows"]]
    gaps = [later - earlier for earlier, later in zip(sampled, sampled[1:])]
    assert len(sampled) == 10 and sampled[0] < 100 and sampled[-1] > 800
    assert max(gaps) < 2 * min(gaps)  # evenly spaced, give or take the invalid rows
    assert script.calls == 10 and script.codes == ["T"] * 10
    assert sorted(item["id"] for item in script.received) == sorted(f"E{row}" for row in sampled)
    s = result.summary
    assert (s["delivered"], s["rejected"], s["not_sent"], s["pending"]) == (10, 100, 890, 0)
    assert verdict["ready"] is True
    assert len(read_rejects(result.rejects_path)) == 100


def test_fewer_valid_rows_than_the_sample_sends_them_all(host, script):
    result = host.send("probe", rows(5), validate=True, test_event_code="T")
    assert result.summary["verdict"]["sample"]["sent"] == 5 and result.summary["not_sent"] == 0
    assert len(script.received) == 5


def test_no_valid_row_is_not_ready_and_sends_nothing(host, script):
    result = host.send(
        "probe", rows(3, {i: {"email": ""} for i in (1, 2, 3)}), validate=True, test_event_code="T"
    )
    verdict = result.summary["verdict"]
    assert result.ok and verdict["ready"] is False and verdict["would_deliver"] == 0
    assert script.calls == 0


def test_a_refused_sample_row_is_named_and_kept_apart_from_the_local_rejects(host, script):
    host.update_destination("probe", settings={"poison": ["user4@example.com"]})
    result = host.send("probe", rows(8), validate=True, sample=8, test_event_code="T")
    verdict = result.summary["verdict"]
    [refused] = [row for row in verdict["sample"]["rows"] if row["outcome"] != "accepted"]
    assert refused == {
        "row": 4,
        "record_id": "E4",
        "outcome": "refused",
        "code": "recorder.poisoned",
        "message": "a poisoned email",
    }
    assert verdict["would_reject"] == 0 and verdict["ready"] is False
    assert result.summary["rejected_by_code"] == {"recorder.poisoned": 1}


def test_a_run_the_remote_system_stops_leaves_the_rest_unanswered(host, script):
    host.update_destination("probe", settings={"fatal_after": 2})
    result = host.send(
        "probe", rows(6), validate=True, sample=6, concurrency=1, test_event_code="T"
    )
    assert result.status is amp.RunStatus.FAILED
    sample = result.summary["verdict"]["sample"]
    assert sample["accepted"] == 2 and sample["unanswered"] == 4
    assert result.summary["verdict"]["ready"] is False
    s = result.summary
    assert s["rows_read"] == s["delivered"] + s["rejected"] + s["not_sent"] + s["pending"]


def test_a_destination_without_test_events_cannot_be_validated(host, script):
    with pytest.raises(amp.AmpDestError, match="has no test events.*dry run"):
        host.send("rec", rows(3), validate=True)
    assert host.runs() == [] and script.calls == 0


def test_the_destination_refuses_before_a_run_is_recorded(host, script):
    with pytest.raises(amp.AmpDestError, match="a test code is needed"):
        host.send("probe", rows(3), validate=True)
    assert host.runs() == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"validate": True, "sample": 0}, "the sample is 1 to 1,000 rows, not 0"),
        ({"validate": True, "sample": 1001}, "the sample is 1 to 1,000 rows, not 1,001"),
        ({"validate": True, "dry_run": True}, "one of validate and dry_run"),
        ({"test_event_code": "T"}, "applies to a validation run"),
    ],
)
def test_arguments_that_do_not_fit_are_refused(host, arguments, message):
    with pytest.raises(amp.AmpDestError, match=message):
        host.send("probe", rows(3), **arguments)
    assert host.runs() == []


def test_runs_are_listed_by_kind(host):
    host.send("rec", rows(2))
    host.send("rec", rows(2), dry_run=True)
    host.send("probe", rows(2), validate=True, test_event_code="T")
    assert [run.kind for run in host.runs()] == ["validation", "dry_run", "send"]
    assert [run.id for run in host.runs(kind="validation")] == [3]
    assert host.run(3).to_dict()["kind"] == "validation"
    with pytest.raises(ValueError):
        host.runs(kind="rehearsal")
