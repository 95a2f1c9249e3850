"""A CRM send end to end: through the ``amp-dest`` CLI, a CRM destination is added
(and its connection test reads the emulator's seeded CRM event set), a CSV of lead
events is sent, and what the emulator stored is checked event by event: the lead id of
each row, the CRM named by the settings, custom event names, and counts that add up.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from tiktok_ads_events.emulator import Emulator

pytestmark = pytest.mark.e2e

CREDENTIAL = "tiktok-crm"
DESTINATION = "lead-pipeline"
TOKEN_ENV = "AMP_DEST_SECRET_TIKTOK_CRM_REFRESH_TOKEN"
CRM_SET_ID = "7400000000000000001"
CRM_SET_NAME = "Lead pipeline"
ROWS = 30
# Row numbers (1-based) with a problem on purpose, and what becomes of them.
NO_LEAD_ID = 7
WITH_IP = 11
COLUMNS = ("event", "event_id", "timestamp", "email", "lead_id", "ip")


def lead_rows(now: float) -> list[dict]:
    rows = []
    for number in range(1, ROWS + 1):
        rows.append(
            {
                "event": "Qualified lead" if number % 3 == 0 else "Lead",
                "event_id": f"crm-evt-{number:04d}",
                "timestamp": str(int(now) - 3600 - number),
                "email": f"Lead.{number}@Example.com",
                "lead_id": "" if number == NO_LEAD_ID else f"hs-{9000 + number}",
                "ip": "198.51.100.23" if number == WITH_IP else "",
            }
        )
    return rows


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def crm_send(emulator, tmp_path_factory):
    home = tmp_path_factory.mktemp("crm-home")
    env = e2e.cli_env(home, **{TOKEN_ENV: e2e.LONG_TERM_TOKEN})
    rows = lead_rows(time.time())
    source = tmp_path_factory.mktemp("crm-input") / "leads.csv"
    with open(source, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    steps = {"rows": rows}
    steps["credential"] = e2e.amp_dest(
        env, "credentials", "add", CREDENTIAL, "--type", e2e.DESTINATION_TYPE
    )
    steps["add"] = e2e.amp_dest(
        env,
        "destinations",
        "add",
        DESTINATION,
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        CREDENTIAL,
        "--set",
        f"advertiser_id={e2e.ADVERTISER_ID}",
        "--set",
        "event_source=crm",
        "--set",
        f"event_set_id={CRM_SET_ID}",
        "--set",
        f"event_set_name={CRM_SET_NAME}",
        "--set",
        "lead_event_source=HubSpot",
        "--set",
        f"api_base_url={emulator.base_url}",
    )
    steps["send"] = e2e.amp_dest(env, "send", DESTINATION, "--input", str(source))
    steps["runs"] = e2e.amp_dest(env, "runs", "list", "--json")
    runs = json.loads(steps["runs"].stdout) if steps["runs"].returncode == 0 else []
    steps["show"] = e2e.amp_dest(env, "runs", "show", str(runs[0]["id"]), "--json")
    steps["env"] = env
    return steps


def _ok(completed) -> None:
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_adding_the_crm_destination_tests_its_crm_event_set(crm_send):
    _ok(crm_send["add"])
    out = crm_send["add"].stdout
    assert f"connection test passed for {DESTINATION}" in out
    assert f"CRM event set {CRM_SET_ID} ('{CRM_SET_NAME}') found" in out
    assert "[FAIL]" not in out
    assert e2e.LONG_TERM_TOKEN not in out + crm_send["add"].stderr


def test_every_crm_event_carries_its_rows_lead_and_the_crm(crm_send, emulator):
    _ok(crm_send["send"])
    stored = emulator.state.events(CRM_SET_ID)
    expected = {
        row["event_id"]: row
        for number, row in enumerate(crm_send["rows"], start=1)
        if number != NO_LEAD_ID
    }
    assert sorted(event["event_id"] for event in stored) == sorted(expected)
    for event in stored:
        row = expected[event["event_id"]]
        assert event["lead"] == {"lead_id": row["lead_id"], "lead_event_source": "HubSpot"}
        assert event["event"] == row["event"]
        assert event["user"] == {"email": e2e.sha256_hex(row["email"].lower())}
        assert "page" not in event and "limited_data_use" not in event
    assert {event["event"] for event in stored} == {"Lead", "Qualified lead"}
    # Each request named the CRM source: the emulator files its events under the CRM set.
    assert emulator.state.events(e2e.EVENT_SET_ID) == []


def test_the_run_counts_add_up_with_the_lead_rejected_and_the_ip_dropped(crm_send):
    _ok(crm_send["show"])
    shown = json.loads(crm_send["show"].stdout)
    counts = {key: shown[key] for key in ("rows_read", "delivered", "rejected", "pending")}
    assert counts == {"rows_read": ROWS, "delivered": ROWS - 1, "rejected": 1, "pending": 0}
    e2e.assert_counts_add_up(counts)
    assert shown["summary"]["rejected_by_code"] == {"lead_id.missing": 1}
    assert shown["summary"]["warnings_by_code"] == {"ip.web_only": 1}
    rejects = list(csv.DictReader(Path(shown["rejects_path"]).read_text().splitlines()))
    assert [(int(r["row"]), r["code"]) for r in rejects] == [(NO_LEAD_ID, "lead_id.missing")]


def test_a_crm_destination_without_its_crm_is_refused_in_one_line(crm_send):
    refused = e2e.amp_dest(
        crm_send["env"],
        "destinations",
        "add",
        "no-crm",
        "--type",
        e2e.DESTINATION_TYPE,
        "--credential",
        CREDENTIAL,
        "--set",
        f"advertiser_id={e2e.ADVERTISER_ID}",
        "--set",
        "event_source=crm",
        "--set",
        f"event_set_id={CRM_SET_ID}",
    )
    error = e2e.the_error(refused)
    assert "lead_event_source" in error
    assert "required for CRM events" in error
