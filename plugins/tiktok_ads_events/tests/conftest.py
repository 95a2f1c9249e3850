"""Fixtures for the TikTok plugin's tests: settings, credentials that record what the
host would persist, destinations, TikTok answer envelopes and an httpx session.

HTTP goes through pytest-httpx; nothing here reaches beyond the test process.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import orjson
import pytest

from amp_destinations import Batch, Credential, Host, RunResult, SecretStore
from amp_destinations.testing import MemoryKeyring
from tiktok_ads_events import (
    TikTokAdsEvents,
    TikTokCredentialType,
    TikTokSettingsSchema,
    _constants,
)

NAME = _constants.NAME
BASE = _constants.DEFAULT_API_BASE_URL
ADVERTISER_ID = "7654321098765432109"
EVENT_SET_ID = "7123456789012345678"
PIXEL_CODE = "C4ABCDEFGH12IJKLMN90"
CREDENTIAL_NAME = "prod-tiktok"
LONG_TERM_TOKEN = "lt-token-5f0c1d2e3a4b5c6d7e8f"
REFRESH_TOKEN = "rt-token-0a1b2c3d4e5f6a7b8c9d"
APP_ID = "7000000000000000001"
APP_SECRET = "app-secret-9z8y7x6w5v"
ACCESS_TOKEN = "at-token-aaaabbbbccccdddd"


def _answer(
    code: int = 0,
    message: str = "OK",
    data: dict | None = None,
    request_id: str = "2024010112000001",
) -> dict:
    return {"code": code, "message": message, "request_id": request_id, "data": data or {}}


@pytest.fixture
def tt():
    """Test constants and small builders, shared by every test module."""
    return SimpleNamespace(
        BASE=BASE,
        ADVERTISER_ID=ADVERTISER_ID,
        EVENT_SET_ID=EVENT_SET_ID,
        PIXEL_CODE=PIXEL_CODE,
        CREDENTIAL_NAME=CREDENTIAL_NAME,
        LONG_TERM_TOKEN=LONG_TERM_TOKEN,
        REFRESH_TOKEN=REFRESH_TOKEN,
        APP_ID=APP_ID,
        APP_SECRET=APP_SECRET,
        ACCESS_TOKEN=ACCESS_TOKEN,
        TRACK_URL=BASE + _constants.TRACK_PATH,
        REFRESH_URL=BASE + _constants.REFRESH_TOKEN_PATH,
        UPDATE_URL=BASE + _constants.OFFLINE_UPDATE_PATH,
        OFFLINE_GET_URL=httpx.URL(
            BASE + _constants.OFFLINE_GET_PATH,
            params={"advertiser_id": ADVERTISER_ID, "event_set_ids": f'["{EVENT_SET_ID}"]'},
        ),
        PIXEL_LIST_URL=httpx.URL(
            BASE + _constants.PIXEL_LIST_PATH,
            params={"advertiser_id": ADVERTISER_ID, "code": PIXEL_CODE},
        ),
        answer=_answer,
    )


@pytest.fixture
def make_settings():
    def make(**overrides):
        data = {"advertiser_id": ADVERTISER_ID, "event_set_id": EVENT_SET_ID}
        if overrides.get("event_source") == "web":
            data["event_set_id"] = PIXEL_CODE
        data.update(overrides)
        return TikTokSettingsSchema().load(data)

    return make


@pytest.fixture
def persisted():
    """What the host was asked to persist: (credential name, new secrets) pairs."""
    return []


@pytest.fixture
def make_credential(persisted):
    def make(*, app: bool = False, refresh_token: str | None = None, persist=None):
        values = {
            "refresh_token": refresh_token or (REFRESH_TOKEN if app else LONG_TERM_TOKEN),
            "app_id": APP_ID if app else None,
            "app_secret": APP_SECRET if app else None,
        }
        record = persist or (lambda name, secrets: persisted.append((name, secrets)))
        return Credential(CREDENTIAL_NAME, TikTokCredentialType(), values, persist=record)

    return make


@pytest.fixture
def make_destination(make_settings, make_credential):
    def make(*, app: bool = False, credential: Credential | None = None, **settings):
        return TikTokAdsEvents(make_settings(**settings), credential or make_credential(app=app))

    return make


@pytest.fixture
def make_batch():
    """A batch of hand-built (event_source_id, event) items, encoded as the host would."""

    def make(
        destination: TikTokAdsEvents,
        events: list[dict] | None = None,
        event_source_id: str = EVENT_SET_ID,
    ) -> Batch:
        events = (
            events
            if events is not None
            else [
                {
                    "event": "CompletePayment",
                    "event_id": f"evt-{i}",
                    "event_time": 1700000000 + i,
                    "user": {"email": "a" * 64},
                }
                for i in range(3)
            ]
        )
        parts = [destination.encode_item((event_source_id, event)) for event in events]
        return Batch.from_parts(
            destination, event_source_id, parts, ids=[event.get("event_id") for event in events]
        )

    return make


@pytest.fixture
def session():
    with httpx.Client() as client:
        yield client


@pytest.fixture
def dry_send(tmp_path):
    """Send a file (a path) or Python rows through a stored TikTok destination with the
    given settings, in a dry run: the host reads, prepares and encodes as for a real
    send and writes the request bodies out. Returns the run's result and the events of
    its request bodies, in order."""
    homes = iter(range(1_000))

    def send(source, **settings) -> tuple[RunResult, list[dict]]:
        home = tmp_path / f"dry-home-{next(homes)}"
        event_set_id = PIXEL_CODE if settings.get("event_source") == "web" else EVENT_SET_ID
        keyring = SecretStore(backend=MemoryKeyring(), environ={})
        with Host(home, secrets=keyring) as host:
            host.add_credential("tiktok", NAME, {}, {"refresh_token": LONG_TERM_TOKEN})
            host.add_destination(
                "dest",
                NAME,
                "tiktok",
                {"advertiser_id": ADVERTISER_ID, "event_set_id": event_set_id, **settings},
                test=False,
            )
            bodies = home / "bodies"
            if isinstance(source, (str, Path)):
                result = host.send("dest", input=source, dry_run=True, output=bodies)
            else:
                result = host.send("dest", source, dry_run=True, output=bodies)
        events = [
            event
            for path in sorted(bodies.glob("request-*.json"))
            for event in orjson.loads(path.read_bytes())["data"]
        ]
        return result, events

    return send
