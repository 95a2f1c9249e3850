"""The emulator's CRM events: the seeded CRM event set, ``crm/list/``, and event/track/
with ``event_source`` crm validated by its own rules (a lead on every event, custom
names allowed, the browser fields refused), through real sockets on 127.0.0.1."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from tiktok_ads_events._constants import CRM_LIST_PATH, TRACK_PATH
from tiktok_ads_events.emulator import Emulator, EmulatorConfigError

ADVERTISER = "7000000000000000001"
CRM_SET = "7400000000000000001"
OFFLINE_SET = "7100000000000000001"
TOKEN = "emulator-token"


def crm_event(number: int = 0, **changes) -> dict:
    event = {
        "event": "Lead",
        "event_time": int(time.time()) - 3600,
        "event_id": f"lead-evt-{number:05d}",
        "user": {"email": hashlib.sha256(f"lead{number}@example.com".encode()).hexdigest()},
        "lead": {"lead_id": f"hs-{number}", "lead_event_source": "HubSpot"},
    }
    event.update(changes)
    return event


def body(events: list[dict], *, source: str = "crm", source_id: str = CRM_SET) -> dict:
    return {"event_source": source, "event_source_id": source_id, "data": events}


@pytest.fixture(scope="module")
def emu():
    with Emulator() as running:
        yield running


@pytest.fixture
def client(emu):
    emu.state.reset()
    with httpx.Client(base_url=emu.base_url, headers={"Access-Token": TOKEN}, timeout=10) as http:
        yield http


def refusal(client, sent: dict) -> str:
    answer = client.post(TRACK_PATH, json=sent).json()
    assert answer["code"] == 40002, answer
    return answer["message"]


def test_the_seeded_crm_event_set_is_listed(client):
    answer = client.get(CRM_LIST_PATH, params={"advertiser_id": ADVERTISER}).json()
    assert answer["code"] == 0
    assert answer["data"]["crm_event_sets"] == [{"event_set_id": CRM_SET, "name": "Lead pipeline"}]
    assert answer["data"]["page_info"]["total_page"] == 1


def test_the_list_filters_by_event_set_ids(client):
    params = {"advertiser_id": ADVERTISER, "event_set_ids": '["7400000000000000009"]'}
    assert client.get(CRM_LIST_PATH, params=params).json()["data"]["crm_event_sets"] == []
    bad = client.get(CRM_LIST_PATH, params={**params, "event_set_ids": "7400"}).json()
    assert bad["code"] == 40002
    assert bad["message"].startswith("event_set_ids:")


def test_the_list_is_for_advertisers_the_token_may_act_for(client):
    answer = client.get(CRM_LIST_PATH, params={"advertiser_id": "7000000000000000002"}).json()
    assert answer["code"] == 40300


def test_crm_events_with_a_lead_are_stored(client, emu):
    events = [crm_event(0), crm_event(1, event="Qualified lead")]
    answer = client.post(TRACK_PATH, json=body(events)).json()
    assert answer["code"] == 0, answer
    stored = emu.state.events(CRM_SET)
    assert [event["lead"]["lead_id"] for event in stored] == ["hs-0", "hs-1"]
    assert stored[1]["event"] == "Qualified lead"
    assert emu.state.event_count(CRM_SET) == 2


@pytest.mark.parametrize(
    "event, message",
    [
        (crm_event(lead=None), "data[0].lead: required"),
        (crm_event(lead="hs-0"), "data[0].lead: must be an object"),
        (crm_event(lead={"lead_event_source": "HubSpot"}), "data[0].lead.lead_id: required"),
        (crm_event(lead={"lead_id": 17}), "data[0].lead.lead_id: must be a non-empty string"),
        (
            crm_event(lead={"lead_id": "hs-0", "lead_event_source": " "}),
            "data[0].lead.lead_event_source: must be a non-empty string",
        ),
        (crm_event(lead={"lead_id": "hs-0", "stage": "won"}), "data[0].lead.stage: unknown field"),
        (
            crm_event(event="x" * 101),
            "data[0].event: must be a standard or custom event name, a non-empty string of "
            "at most 100 characters",
        ),
        (
            crm_event(page={"url": "https://shop.example.com/"}),
            "data[0].page: only allowed when event_source is web",
        ),
        (
            crm_event(limited_data_use=True),
            "data[0].limited_data_use: only allowed when event_source is web",
        ),
    ],
)
def test_a_bad_crm_event_rejects_the_batch_naming_the_field(client, emu, event, message):
    if event.get("lead") is None:
        del event["lead"]
    assert refusal(client, body([crm_event(1), event])) == message.replace("data[0]", "data[1]")
    assert emu.state.event_count(CRM_SET) == 0


def test_browser_user_fields_are_refused_on_crm(client):
    event = crm_event()
    event["user"]["ip"] = "203.0.113.9"
    assert (
        refusal(client, body([event])) == "data[0].user.ip: only allowed when event_source is web"
    )


def test_a_lead_is_refused_on_offline_events(client):
    sent = body([crm_event()], source="offline", source_id=OFFLINE_SET)
    assert refusal(client, sent) == "data[0].lead: only allowed when event_source is crm"


def test_custom_event_names_stay_refused_on_offline_events(client):
    event = crm_event(event="Qualified lead")
    del event["lead"]
    sent = body([event], source="offline", source_id=OFFLINE_SET)
    assert refusal(client, sent) == "data[0].event: must be a standard event name (case-sensitive)"


@pytest.mark.parametrize(
    "source_id", ["7400000000000000009", OFFLINE_SET], ids=["unknown", "offline set"]
)
def test_crm_events_go_to_a_seeded_crm_event_set(client, source_id):
    message = refusal(client, body([crm_event()], source_id=source_id))
    assert message == "event_source_id: no CRM event set with this id exists"


def test_a_crm_event_set_id_may_not_repeat_an_offline_one():
    seed = {
        "advertisers": [
            {
                "advertiser_id": "1",
                "event_sets": [{"event_set_id": "2", "name": "a"}],
                "crm_event_sets": [{"event_set_id": "2", "name": "b"}],
            }
        ]
    }
    with pytest.raises(EmulatorConfigError) as raised:
        Emulator(seed)
    assert str(raised.value) == "seed.advertisers: event_set_id appears twice"


def test_a_crm_batch_of_plain_events_without_leads_is_refused(client, emu):
    # The shape the column-wise fast path accepts for offline batches.
    events = [crm_event(number) for number in range(3)]
    for event in events:
        del event["lead"]
    assert refusal(client, body(events)) == "data[0].lead: required"
    assert emu.state.event_count(CRM_SET) == 0
