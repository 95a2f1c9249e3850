"""Validation before a full send, against the emulator: the shipped file is prepared
here, a sample spread across it goes to TikTok as test events, one per request, and
the verdict says what a full send would do. TikTok's real event count stays 0."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from amp_destinations import AmpDestError, RunKind, RunStatus
from tiktok_ads_events.emulator import Emulator

pytestmark = pytest.mark.e2e

CODE = "TEST31337"
VALID_ROWS = 1156  # of the shipped 1,200: the demo delivers these and rejects 44


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def events_csv(tmp_path):
    return e2e.write_refreshed_events(tmp_path / "events.csv")


@pytest.fixture
def host(tmp_path, emulator):
    with e2e.new_host(tmp_path / "home") as host:
        e2e.add_tiktok(host, emulator.base_url)
        yield host


def test_validate_sends_only_the_sample_as_test_events_and_gives_a_verdict(
    host, emulator, events_csv
):
    result = host.send("tiktok", input=events_csv, validate=True, sample=20, test_event_code=CODE)
    assert result.kind is RunKind.VALIDATION and result.status is RunStatus.SUCCEEDED
    summary, verdict = result.summary, result.summary["verdict"]
    assert (verdict["would_deliver"], verdict["would_reject"]) == (VALID_ROWS, 44)
    assert sum(verdict["rejected_by_code"].values()) == 44
    sample = verdict["sample"]
    assert (sample["sent"], sample["accepted"], sample["refused"]) == (20, 20, 0)
    assert verdict["ready"] is True
    # Nothing real reached TikTok; the test events are there, marked with the code.
    assert emulator.state.event_count(e2e.EVENT_SET_ID) == 0
    received = emulator.state.test_events(e2e.EVENT_SET_ID)
    assert {event["test_event_code"] for event in received} == {CODE}
    assert sorted(event["event"]["event_id"] for event in received) == sorted(
        row["record_id"] for row in sample["rows"]
    )
    # One request per sample row, each answer attributed to its row.
    assert summary["requests"] == 20 and summary["batches"] == 20
    assert all(row["outcome"] == "accepted" for row in sample["rows"])
    # Counts add up: the valid rows left out are neither sent nor pending.
    assert summary["not_sent"] == VALID_ROWS - 20 and summary["pending"] == 0
    assert summary["rows_read"] == (
        summary["delivered"] + summary["rejected"] + summary["not_sent"] + summary["pending"]
    )
    assert summary["match_keys"] and summary["identifier_coverage"]
    # The sample comes from across the file, not from its head.
    rows = [row["row"] for row in sample["rows"]]
    assert rows == sorted(rows) and rows[0] < 100 and rows[-1] > 1100
    # The rejects file lists what a full send would reject.
    with open(result.rejects_path, newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 44
    [listed] = host.runs(kind="validation")
    assert listed.id == result.id and listed.kind is RunKind.VALIDATION


def test_the_same_input_gives_the_same_sample(host, events_csv):
    def sampled():
        result = host.send(
            "tiktok", input=events_csv, validate=True, sample=7, test_event_code=CODE
        )
        return [row["row"] for row in result.summary["verdict"]["sample"]["rows"]]

    first = sampled()
    assert len(first) == 7 and sampled() == first


def test_a_refused_test_event_is_named_row_by_row_and_the_verdict_is_not_ready(
    host, emulator, events_csv
):
    probe = host.send("tiktok", input=events_csv, validate=True, sample=10, test_event_code=CODE)
    poisoned = probe.summary["verdict"]["sample"]["rows"][3]
    emulator.state.configure_faults({"poison_event_ids": [poisoned["record_id"]]})
    result = host.send("tiktok", input=events_csv, validate=True, sample=10, test_event_code=CODE)
    verdict = result.summary["verdict"]
    assert result.status is RunStatus.SUCCEEDED and verdict["ready"] is False
    assert (verdict["sample"]["accepted"], verdict["sample"]["refused"]) == (9, 1)
    [refused] = [row for row in verdict["sample"]["rows"] if row["outcome"] == "refused"]
    assert (refused["row"], refused["record_id"]) == (poisoned["row"], poisoned["record_id"])
    assert refused["code"] == "tiktok.invalid_parameter" and "40002" in refused["message"]
    # A refusal of the sample is not one a full send would find here.
    assert verdict["would_reject"] == 44 and verdict["would_deliver"] == VALID_ROWS


def test_without_a_test_event_code_validation_refuses_before_any_run(host, emulator, events_csv):
    with pytest.raises(AmpDestError, match="Test Events tab"):
        host.send("tiktok", input=events_csv, validate=True)
    assert host.runs() == []
    assert emulator.state.request_count("/open_api/v1.3/event/track/") == 0


def test_the_destinations_own_test_event_code_serves(host, emulator, events_csv):
    host.update_destination("tiktok", settings={"test_event_code": "SETTING1"})
    result = host.send("tiktok", input=events_csv, validate=True, sample=3)
    assert result.summary["verdict"]["ready"]
    received = emulator.state.test_events(e2e.EVENT_SET_ID)
    assert [event["test_event_code"] for event in received] == ["SETTING1"] * 3


def test_a_validation_run_is_not_resumed(host, events_csv):
    result = host.send("tiktok", input=events_csv, validate=True, sample=3, test_event_code=CODE)
    with pytest.raises(AmpDestError, match="validation run, which is not resumed"):
        host.send(resume=result.id)
    with pytest.raises(AmpDestError, match="one of validate and dry_run"):
        host.send("tiktok", input=events_csv, validate=True, dry_run=True)


def test_the_cli_prints_the_verdict_and_lists_the_run_as_a_validation(
    tmp_path, emulator, events_csv
):
    home = tmp_path / "cli-home"
    env = e2e.cli_env(home, AMP_DEST_SECRET_T_REFRESH_TOKEN=e2e.LONG_TERM_TOKEN)
    added = e2e.amp_dest(env, "credentials", "add", "t", "--type", e2e.DESTINATION_TYPE)
    assert added.returncode == 0, added.stderr
    settings = (
        f"advertiser_id={e2e.ADVERTISER_ID}",
        f"event_set_id={e2e.EVENT_SET_ID}",
        f"api_base_url={emulator.base_url}",
    )
    added = e2e.amp_dest(
        env,
        "destinations",
        "add",
        "store",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        "t",
        *(arg for setting in settings for arg in ("--set", setting)),
    )
    assert added.returncode == 0, added.stderr
    validate = ("send", "store", "--input", str(events_csv), "--validate", "--sample", "5")
    refused = e2e.amp_dest(env, *validate)
    assert refused.returncode == 1 and "--test-event-code" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    done = e2e.amp_dest(env, *validate, "--test-event-code", CODE)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "validation run 1 succeeded: 1,200 rows read" in out
    assert f"a full send would deliver {VALID_ROWS:,} rows and reject 44" in out
    assert "sample: 5 test events sent, one per request: 5 accepted, 0 refused" in out
    ready = "verdict: ready: every test event was accepted; send it all with "
    assert f"{ready}`amp-dest send store --input {events_csv}`" in out
    listed = [line.split() for line in out.splitlines() if line.startswith("  ")]
    header = listed.index(["ROW", "RECORD", "ID", "OUTCOME", "CODE", "MESSAGE"])
    sampled = listed[header + 1 : header + 6]  # each sample row with its outcome
    assert [row[2] for row in sampled] == ["accepted"] * 5
    listing = e2e.amp_dest(env, "runs", "list").stdout.splitlines()
    assert listing[1].split()[:4] == ["1", "store", "validation", "succeeded"]
    shown = e2e.amp_dest(env, "runs", "show", "1").stdout
    assert "kind: validation" in shown and "verdict: ready" in shown
    as_json = json.loads(e2e.amp_dest(env, *validate, "--test-event-code", CODE, "--json").stdout)
    assert as_json["kind"] == "validation" and as_json["verdict"]["sample"]["accepted"] == 5
    alone = e2e.amp_dest(env, "send", "store", "--input", str(events_csv), "--sample", "5")
    assert alone.returncode != 0 and "go with --validate" in alone.stderr
    assert emulator.state.event_count(e2e.EVENT_SET_ID) == 0


def test_the_cli_exits_4_when_the_sample_is_not_all_accepted(tmp_path, emulator, events_csv):
    with e2e.new_host(tmp_path / "probe") as probe_host:
        e2e.add_tiktok(probe_host, emulator.base_url)
        probe = probe_host.send(
            "tiktok", input=events_csv, validate=True, sample=4, test_event_code=CODE
        )
    emulator.state.configure_faults(
        {"poison_event_ids": [probe.summary["verdict"]["sample"]["rows"][0]["record_id"]]}
    )
    home = tmp_path / "cli-home"
    env = e2e.cli_env(home, AMP_DEST_SECRET_T_REFRESH_TOKEN=e2e.LONG_TERM_TOKEN)
    e2e.amp_dest(env, "credentials", "add", "t", "--type", e2e.DESTINATION_TYPE)
    e2e.amp_dest(
        env,
        "destinations",
        "add",
        "store",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        "t",
        "--set",
        f"advertiser_id={e2e.ADVERTISER_ID}",
        "--set",
        f"event_set_id={e2e.EVENT_SET_ID}",
        "--set",
        f"api_base_url={emulator.base_url}",
    )
    done = e2e.amp_dest(
        env,
        "send",
        "store",
        "--input",
        str(events_csv),
        "--validate",
        "--sample",
        "4",
        "--test-event-code",
        CODE,
    )
    assert done.returncode == 4, done.stderr
    assert "3 accepted, 1 refused" in done.stdout
    assert "not ready: 1 of 4 test events were refused" in done.stdout
    assert "refused" in done.stdout and "tiktok.invalid_parameter" in done.stdout
